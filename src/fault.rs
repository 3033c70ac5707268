//! Fault injection at named points, for the deterministic fault harness
//! (`tests/fault_harness.rs`, docs/TESTING.md). Compiled in only with the
//! `fault-injection` cargo feature, which no default or release build
//! enables: without it, [`fault_point!`](crate::fault_point) expands to
//! nothing and this module holds only that macro.
//!
//! With the feature, `DMP_FAULTS` configures each process, as a comma
//! separated list of `point=action[@N]`:
//!
//! - `kill`: the process SIGKILLs itself (on the first hit without `@N`);
//! - `delay:<n>ms` (or `us`): sleeps that long (on every hit without `@N`);
//! - `drop`: the call fails with an I/O error "fault injected" (on the
//!   first hit without `@N`).
//!
//! `@N` fires on the Nth hit of the point only (1-based). Every firing is
//! reported on stderr as `fault: <point> <action> hit <n>`.

#[cfg(feature = "fault-injection")]
mod imp {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    use std::time::Duration;

    #[derive(Debug)]
    enum Action {
        Kill,
        Delay(Duration),
        Drop,
    }

    #[derive(Debug)]
    struct Rule {
        point: String,
        action: Action,
        /// The hit (1-based) it fires on; `None`: every hit.
        at: Option<u64>,
        hits: AtomicU64,
    }

    fn parse(spec: &str) -> Vec<Rule> {
        let mut rules = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((point, rest)) = item.split_once('=') else {
                eprintln!("fault: ignoring {item:?} (no '=')");
                continue;
            };
            let (action, at) = match rest.split_once('@') {
                Some((a, n)) => (a, n.parse::<u64>().ok()),
                None => (rest, None),
            };
            let action = if action == "kill" {
                Action::Kill
            } else if action == "drop" {
                Action::Drop
            } else if let Some(d) = action.strip_prefix("delay:") {
                let (num, unit) =
                    d.split_at(d.find(|c: char| !c.is_ascii_digit()).unwrap_or(d.len()));
                let n: u64 = num.parse().unwrap_or(0);
                Action::Delay(match unit {
                    "us" => Duration::from_micros(n),
                    "s" => Duration::from_secs(n),
                    _ => Duration::from_millis(n),
                })
            } else {
                eprintln!("fault: ignoring {item:?} (unknown action)");
                continue;
            };
            let at = match (&action, at) {
                (_, Some(n)) => Some(n.max(1)),
                (Action::Delay(_), None) => None,
                (_, None) => Some(1),
            };
            rules.push(Rule {
                point: point.to_string(),
                action,
                at,
                hits: AtomicU64::new(0),
            });
        }
        rules
    }

    fn rules() -> &'static [Rule] {
        static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
        RULES.get_or_init(|| parse(&std::env::var("DMP_FAULTS").unwrap_or_default()))
    }

    /// Runs the actions configured for `name`; `Err` for `drop`.
    pub fn hit(name: &'static str) -> crate::Result<()> {
        for r in rules().iter().filter(|r| r.point == name) {
            let n = r.hits.fetch_add(1, Ordering::Relaxed) + 1;
            if r.at.is_some_and(|at| at != n) {
                continue;
            }
            eprintln!("fault: {name} {:?} hit {n}", r.action);
            match r.action {
                Action::Kill => {
                    // SAFETY: getpid(2) has no preconditions.
                    let me = unsafe { libc::getpid() };
                    // SAFETY: kill(2) with our own pid and a valid signal
                    // number has no memory-safety preconditions.
                    unsafe { libc::kill(me, libc::SIGKILL) };
                    // SIGKILL is not deliverable late; never reached.
                    std::process::abort();
                }
                Action::Delay(d) => std::thread::sleep(d),
                Action::Drop => {
                    return Err(crate::Error::Io {
                        op: "fault injected at",
                        path: name.into(),
                        source: std::io::Error::other("dropped"),
                    })
                }
            }
        }
        Ok(())
    }
}

#[cfg(feature = "fault-injection")]
pub use imp::hit;

/// A named fault point (see the module docs): with the `fault-injection`
/// feature it runs the configured action (`?` on a `drop`, so use it in
/// functions returning [`crate::Result`]); without it, nothing at all.
#[cfg(feature = "fault-injection")]
macro_rules! fault_point {
    ($name:literal) => {
        $crate::fault::hit($name)?
    };
}

/// A named fault point: compiled away without the `fault-injection` feature.
#[cfg(not(feature = "fault-injection"))]
macro_rules! fault_point {
    ($name:literal) => {
        ()
    };
}

pub(crate) use fault_point;
