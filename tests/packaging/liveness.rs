//! The liveness examples (c_examples/liveness.c, cpp_examples/liveness.cpp)
//! against Rust processes (`dmp produce`, `dmp consume`) on real rings: an
//! optional consumer evicted, learning what it lost, rejoining, and its
//! name's loss on the next join; a required consumer killed in the middle
//! of a batch and restarted, resuming from its commit; a producer that
//! waits for its consumers (and names the one that never came).

use super::*;
use std::os::unix::process::ExitStatusExt;

fn create(ring: &ShmName) {
    let mut c = dmp();
    c.args(["create", &ring.0, "--capacity", "64", "--slot-size", "64"]);
    must(c, "dmp create", RUN);
}

fn produce(ring: &ShmName, count: u64, extra: &[&str]) -> Proc {
    let mut p = dmp();
    p.args([
        "produce",
        &ring.0,
        "--count",
        &count.to_string(),
        "--batch",
        "8",
    ])
    .args(extra);
    Proc::spawn(p, "dmp produce")
}

fn liveness(dir: &Path, ring: &ShmName, args: &[&str]) -> Command {
    let mut c = Command::new(dir.join("liveness"));
    c.arg(&ring.0).args(args).env_remove("LD_LIBRARY_PATH");
    c
}

fn dirs(pkg: &Package) -> [(&'static str, &Path); 2] {
    [("C", &pkg.c), ("C++", &pkg.cpp)]
}

#[test]
fn an_optional_consumer_is_evicted_learns_what_it_lost_rejoins_and_its_name_loses_the_gap() {
    let pkg = package();
    let _serial = support::serial();
    for (lang, dir) in dirs(pkg) {
        let ring = ShmName::new("live-opt");
        create(&ring);
        // It stalls until evicted and the cursor reached 999: the numbers are exact.
        let args = [
            "optional",
            "dash",
            "--max-block-ms",
            "10",
            "--until",
            "1000",
        ];
        let mut c = Proc::spawn(liveness(dir, &ring, &args), &format!("{lang} optional"));
        c.wait_line("ready", READY);
        produce(&ring, 1000, &[]).succeed(RUN);
        let out = c.succeed(RUN);
        let evicted = if lang == "C" {
            "was evicted after sequence -1; 1000 events published since are lost to it"
        } else {
            "evicted after sequence -1, lost 1000"
        };
        assert!(out.contains(evicted), "{lang}:\n{out}");
        assert!(
            out.contains("rejoined at sequence 1000, lost 1000"),
            "{lang}:\n{out}"
        );
        // The name left at 999; 500 more events; the next holder lost them.
        produce(&ring, 500, &[]).succeed(RUN);
        let again = must(
            liveness(dir, &ring, &["optional", "dash"]),
            &format!("{lang} optional again"),
            RUN,
        );
        assert!(
            again.contains("joined at sequence 1500 (lost on join 500)"),
            "{lang}:\n{again}"
        );
    }
}

#[test]
fn a_required_consumer_killed_in_a_batch_and_restarted_resumes_from_its_commit() {
    let pkg = package();
    let _serial = support::serial();
    for (lang, dir) in dirs(pkg) {
        let ring = ShmName::new("live-req");
        create(&ring);
        let args = [
            "required",
            "audit",
            "--count",
            "5000",
            "--die-after",
            "1000",
        ];
        let mut c = Proc::spawn(liveness(dir, &ring, &args), &format!("{lang} required"));
        c.wait_line("ready", READY);
        let p = produce(&ring, 5000, &["--consumer-dead-ms", "60000"]);
        let (status, out) = c.finish_status(RUN);
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{lang}:\n{out}");
        let killed = out
            .lines()
            .find_map(|l| l.strip_prefix("killed with sequences ["))
            .unwrap_or_else(|| panic!("{lang}: no kill line:\n{out}"));
        let first: i64 = killed.split(',').next().unwrap().parse().unwrap();
        assert!(first >= 1000, "{lang}: killed at {first}");
        // Restarted under its name: the uncommitted batch comes again.
        let args = ["required", "audit", "--count", "5000"];
        let out = must(
            liveness(dir, &ring, &args),
            &format!("{lang} restarted"),
            RUN,
        );
        assert!(
            out.contains(&format!("joined at sequence {first} (lost on join 0)")),
            "{lang}:\n{out}"
        );
        assert!(
            out.contains(&format!(
                "consumed {} events, sequences {first} to 4999",
                5000 - first
            )),
            "{lang}:\n{out}"
        );
        p.succeed(RUN);
    }
}

#[test]
fn a_producer_waits_for_its_consumers_and_names_the_one_that_never_came() {
    let pkg = package();
    let _serial = support::serial();
    for (lang, dir) in dirs(pkg) {
        let ring = ShmName::new("live-gate");
        create(&ring);
        let args = ["produce", "--count", "1", "--ready", "nobody"];
        let mut late = liveness(dir, &ring, &args);
        late.args(["--ready-timeout-ms", "200"]);
        let (ok, out) = run_logged(late, &format!("{lang} gated producer"), RUN);
        assert!(
            !ok && out.contains("dmp_producer_open") && out.contains("nobody"),
            "{lang}:\n{out}"
        );
        // Started before its consumers (a Rust one and one of this
        // language): both see every event from the first.
        let args = [
            "produce", "--count", "500", "--ready", "billing", "--ready", "risk",
        ];
        let mut p = Proc::spawn(liveness(dir, &ring, &args), &format!("{lang} producer"));
        p.wait_line("waiting for 2 consumers", READY);
        let mut r = dmp();
        r.args(["consume", &ring.0, "--name", "billing", "--count", "500"]);
        let rust = Proc::spawn(r, "dmp consume");
        let args = ["required", "risk", "--count", "500"];
        let own = Proc::spawn(liveness(dir, &ring, &args), &format!("{lang} consumer"));
        assert!(p.succeed(RUN).contains("produced 500 events"), "{lang}");
        consumed(&rust.succeed(RUN), 500);
        let out = own.succeed(RUN);
        assert!(
            out.contains("joined at sequence 0 (lost on join 0)")
                && out.contains("consumed 500 events, sequences 0 to 499"),
            "{lang}:\n{out}"
        );
    }
}
