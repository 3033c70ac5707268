//! Hostile peers: a process that writes garbage into a LIVE segment (every
//! region: header, control block, consumer table, producer table with the
//! claim records, slots and stamps, counters, availability array) can make
//! the ring report errors, but never make another participant crash
//! (signal), panic, read or write outside its mapping, or hang.
//!
//! Each scenario creates a ring, starts `dmp consume` and `dmp produce`,
//! corrupts one region from this process (its own read-write mapping of the
//! file) in rounds while they run, runs `dmp stat --json` and `dmp inspect`
//! as observers between rounds, and then requires every participant to
//! exit, successfully or with a clean error status and message, within a
//! bound. The garbage comes from a seeded generator: fixed seeds here, and
//! `DMP_HOSTILE_SEED=<n>` runs every scenario once more with seed `n`.
//! Failures name the scenario and its seed.

mod support;

use std::fs::OpenOptions;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;
use support::{dmp, Proc, Rng, ShmName};

/// Bound on any participant's exit once the corruption stops: far above
/// the few seconds the participants' own timeouts allow.
const BOUND: Duration = Duration::from_secs(60);

/// Garbage for the words of a segment, drawn from the tests' generator.
trait Garbage {
    fn garbage(&mut self, current: u64) -> u64;
}

impl Garbage for Rng {
    /// A garbage value for a word that holds `current`: the extremes, small
    /// numbers, near misses of the current value, or random bits.
    fn garbage(&mut self, current: u64) -> u64 {
        match self.below(12) {
            0 => 0,
            1 => u64::MAX,
            2 => i64::MAX as u64,
            3 => i64::MIN as u64,
            4 => self.below(70),
            5 => current.wrapping_add(1 + self.below(1 << 20)),
            6 => current.wrapping_sub(1 + self.below(1 << 20)),
            7 => current.wrapping_neg(),
            8 => current ^ (1 << self.below(64)),
            9 => (i64::MAX / 2) as u64 + self.below(1000),
            10 => 0xffff_ffff,
            _ => self.next(),
        }
    }
}

/// One region of a segment as recorded in its header, and the offsets of
/// the fields in it worth aiming at (8-byte words).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Header,
    Control,
    Consumers,
    Producers,
    Slots,
    Counters,
    Availability,
    Everything,
}

const TARGETS: [Target; 8] = [
    Target::Header,
    Target::Control,
    Target::Consumers,
    Target::Producers,
    Target::Slots,
    Target::Counters,
    Target::Availability,
    Target::Everything,
];

struct Segment {
    map: memmap2::MmapMut,
}

impl Segment {
    fn map(path: &Path) -> Segment {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        // SAFETY: the mapping is only accessed through atomics below; the
        // other processes sharing it are the point of the test.
        let map = unsafe { memmap2::MmapMut::map_mut(&file) }.expect("map the segment");
        Segment { map }
    }

    fn word(&self, off: usize) -> &AtomicU64 {
        assert!(off % 8 == 0 && off + 8 <= self.map.len());
        // SAFETY: in bounds and aligned (the mapping is page aligned).
        unsafe { &*(self.map.as_ptr().add(off) as *const AtomicU64) }
    }

    fn u32_at(&self, off: usize) -> u32 {
        u32::from_ne_bytes(self.map[off..off + 4].try_into().unwrap())
    }

    /// (offset, size) of header region-table entry `i`.
    fn region(&self, i: usize) -> (usize, usize) {
        let at = 96 + 16 * i;
        let off = u64::from_ne_bytes(self.map[at..at + 8].try_into().unwrap());
        let size = u64::from_ne_bytes(self.map[at + 8..at + 16].try_into().unwrap());
        (off as usize, size as usize)
    }

    /// Candidate word offsets (absolute) of `target`: the fields the
    /// format defines, which garbage hurts most.
    fn fields(&self, target: Target) -> Vec<usize> {
        let mut v = Vec::new();
        let mut entries = |region: usize, entry: usize, fields: &[usize]| {
            let (off, size) = self.region(region);
            for e in 0..size / entry {
                v.extend(fields.iter().map(|f| off + e * entry + f));
            }
        };
        match target {
            // The validated part of the header, its checksum, the state.
            Target::Header => return (0..34).map(|w| w * 8).collect(),
            Target::Control => entries(0, 512, &[0, 8, 128, 256, 264, 272, 384, 392]),
            Target::Consumers => entries(
                1,
                256,
                &[0, 8, 128, 136, 144, 152, 160, 168, 176, 184, 192, 224],
            ),
            Target::Producers => entries(2, 256, &[0, 8, 16, 24, 128, 136, 144]),
            Target::Counters => entries(5, 128, &[0, 64, 72, 80, 88, 120]),
            Target::Availability => entries(4, 8, &[0]),
            Target::Slots => {
                let stride = self.u32_at(36) as usize;
                let stamp = self.u32_at(52) as usize;
                let (off, size) = self.region(3);
                for s in 0..size / stride {
                    v.push(off + s * stride + stamp);
                    v.push(off + s * stride);
                }
            }
            Target::Everything => {
                for t in TARGETS {
                    if t != Target::Everything && t != Target::Header {
                        v.extend(self.fields(t));
                    }
                }
            }
        }
        v
    }

    /// Writes `writes` garbage words into `target`: aimed at fields most of
    /// the time, anywhere in the region otherwise.
    fn corrupt(&self, target: Target, rng: &mut Rng, writes: usize) {
        let fields = self.fields(target);
        if fields.is_empty() {
            return;
        }
        let (lo, hi) = (
            *fields.iter().min().unwrap(),
            *fields.iter().max().unwrap() + 8,
        );
        for _ in 0..writes {
            let off = if rng.below(4) == 0 {
                (lo + rng.below((hi - lo) as u64) as usize) & !7
            } else {
                fields[rng.below(fields.len() as u64) as usize]
            };
            let w = self.word(off);
            let v = rng.garbage(w.load(Ordering::Relaxed));
            w.store(v, Ordering::Relaxed);
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Mode {
    name: &'static str,
    args: &'static [&'static str],
    multi: bool,
    packed: bool,
}

const MODES: [Mode; 4] = [
    Mode {
        name: "single",
        args: &[],
        multi: false,
        packed: false,
    },
    Mode {
        name: "single-packed",
        args: &["--packed"],
        multi: false,
        packed: true,
    },
    Mode {
        name: "multi",
        args: &["--multi", "--max-producers", "4", "--unblock-ms", "100"],
        multi: true,
        packed: false,
    },
    Mode {
        name: "multi-packed",
        args: &[
            "--multi",
            "--packed",
            "--max-producers",
            "4",
            "--unblock-ms",
            "100",
        ],
        multi: true,
        packed: true,
    },
];

/// How a participant ended.
fn verdict(what: &str, ctx: &str, status: ExitStatus, out: &str) -> String {
    assert!(
        status.signal().is_none(),
        "{ctx}: {what} was killed by signal {:?} (core dumped: {}):\n{out}",
        status.signal(),
        status.core_dumped()
    );
    assert!(
        !out.contains("panicked") && status.code() != Some(101),
        "{ctx}: {what} panicked:\n{out}"
    );
    if status.success() {
        "ok".into()
    } else {
        let msg = out
            .lines()
            .rev()
            .find(|l| l.starts_with("dmp: ") || l.starts_with("hostile_abi"))
            .unwrap_or_else(|| panic!("{ctx}: {what} failed without a message:\n{out}"));
        let short: String = msg.chars().take(110).collect();
        format!("error ({short})")
    }
}

fn observe(name: &ShmName, ctx: &str, notes: &mut Vec<String>) {
    for args in [&["stat", "--json"][..], &["inspect"][..]] {
        let mut c = dmp();
        c.args(args).arg(&name.0);
        let (status, out) = Proc::spawn(c, args[0]).finish_status(BOUND);
        let v = verdict(args[0], ctx, status, &out);
        if !notes
            .iter()
            .any(|n| n.starts_with(args[0]) && n.ends_with(&v))
        {
            notes.push(format!("{} {v}", args[0]));
        }
    }
}

/// One scenario; returns a one-line report.
fn scenario(mode: Mode, target: Target, seed: u64) -> String {
    let ctx = format!("scenario {}/{target:?} seed {seed:#x}", mode.name);
    eprintln!("{ctx}: start");
    let name = ShmName::new("hostile");
    let mut c = dmp();
    c.args(["create", &name.0, "--capacity", "64", "--slot-size", "24"])
        .args(["--max-consumers", "4"])
        .args(mode.args);
    let (status, out) = Proc::spawn(c, "create").finish_status(BOUND);
    assert!(status.success(), "{ctx}: create: {out}");

    let mut rng = Rng::new(seed);
    let strategy = ["yield", "sleep", "block"][rng.below(3) as usize];
    let count = "40000";
    let mut cc = dmp();
    cc.args(["consume", &name.0, "--name", "victim", "--count", count])
        .args(["--timeout-ms", "1500", "--wait", strategy]);
    let mut consumer = Proc::spawn(cc, "consumer");
    consumer.wait_line("ready", BOUND);

    let seg = Segment::map(&name.path());
    let mut notes = Vec::new();
    // The first garbage lands before the producer attaches (it reads the
    // tables as it joins), the rest while it publishes.
    seg.corrupt(target, &mut rng, 4);
    let mut pc = dmp();
    pc.args(["produce", &name.0, "--count", count, "--batch", "4"])
        .args([
            "--timeout-ms",
            "1500",
            "--wait",
            strategy,
            "--pause-us",
            "20",
        ]);
    let producer = Proc::spawn(pc, "producer");
    for round in 0..24 {
        std::thread::sleep(Duration::from_millis(10));
        let writes = 1 + rng.below(6) as usize;
        seg.corrupt(target, &mut rng, writes);
        if round % 8 == 7 {
            observe(&name, &ctx, &mut notes);
        }
    }
    let (ps, pout) = producer.finish_status(BOUND);
    let p = verdict("producer", &ctx, ps, &pout);
    let (cs, cout) = consumer.finish_status(BOUND);
    let c = verdict("consumer", &ctx, cs, &cout);
    observe(&name, &ctx, &mut notes);
    // The C ABI against the same, now thoroughly corrupted, segment.
    let abi = c_abi_run(&name, &seg, target, &mut rng, &ctx);
    format!(
        "{:<13} {:<12} seed {seed:#018x} {strategy:<5}: producer {p}; consumer {c}; {}; C ABI {abi}",
        mode.name,
        format!("{target:?}"),
        notes.join("; ")
    )
}

fn hostile_abi_exe() -> &'static PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let src = support::repo_root().join("tests/c/hostile_abi.c");
        support::compile_c(&[&src], "hostile_abi", false)
    })
}

/// Runs the C program against the segment while it is corrupted further:
/// every call it makes must answer with a status.
fn c_abi_run(name: &ShmName, seg: &Segment, target: Target, rng: &mut Rng, ctx: &str) -> String {
    let mut cmd = Command::new(hostile_abi_exe());
    cmd.args([name.0.as_str(), "200"]).stdin(Stdio::null());
    let p = Proc::spawn(cmd, "hostile_abi");
    for _ in 0..8 {
        std::thread::sleep(Duration::from_millis(5));
        seg.corrupt(target, rng, 2);
    }
    let (status, out) = p.finish_status(BOUND);
    let v = verdict("hostile_abi (C)", ctx, status, &out);
    match out.lines().find(|l| l.starts_with("calls ok")) {
        Some(l) => format!("{v}, {l}"),
        None => v,
    }
}

fn seeds() -> Vec<u64> {
    let mut v = vec![0x5eed_0001];
    if let Ok(s) = std::env::var("DMP_HOSTILE_SEED") {
        let s = s.trim();
        let n = s
            .strip_prefix("0x")
            .map_or_else(|| s.parse(), |h| u64::from_str_radix(h, 16))
            .expect("DMP_HOSTILE_SEED: a number");
        v.push(n);
    }
    v
}

#[test]
fn garbage_in_every_region_of_a_live_segment_never_crashes_or_hangs_anyone() {
    let _serial = support::serial();
    let mut report = Vec::new();
    // DMP_HOSTILE_ONLY=multi/Control runs the scenarios whose label
    // contains that text.
    let only = std::env::var("DMP_HOSTILE_ONLY").ok();
    for base in seeds() {
        for (m, mode) in MODES.iter().enumerate() {
            for (t, target) in TARGETS.iter().enumerate() {
                if *target == Target::Availability && !(mode.multi && mode.packed) {
                    continue;
                }
                let seed = base ^ ((m as u64) << 8 | t as u64).wrapping_mul(0x9e37_79b9);
                let label = format!("{}/{target:?}", mode.name);
                if only.as_ref().is_some_and(|o| !label.contains(o.as_str())) {
                    continue;
                }
                let line = scenario(*mode, *target, seed);
                eprintln!("  {line}");
                report.push(line);
            }
        }
    }
    assert!(
        !report.is_empty(),
        "no scenario ran: DMP_HOSTILE_ONLY={only:?} matches no label (labels are mode/Target, e.g. multi/Control)"
    );
    eprintln!("hostile peers, every participant exited cleanly:");
    for line in &report {
        eprintln!("  {line}");
    }
}

/// The multi-producer ring these in-process cases use: 16 slots, a short
/// unblock timeout, and the absolute offset of its claim counter.
fn multi_ring(name: &ShmName) -> (disruptor_mp::Ring, usize) {
    use disruptor_mp::{ProducerMode, Ring, RingOptions};
    let opts = RingOptions::new()
        .capacity(16)
        .slot_size(8)
        .producer_mode(ProducerMode::Multi)
        .max_producers(2)
        .unblock_timeout(Duration::from_millis(20));
    let ring = Ring::create(&name.location(), &opts).expect("create");
    let control = ring
        .layout()
        .region(disruptor_mp::layout::RegionKind::Control)
        .0;
    (
        ring,
        (control + disruptor_mp::layout::control::CLAIM) as usize,
    )
}

#[test]
fn a_claim_counter_no_producer_could_have_written_is_reported_not_skipped() {
    use disruptor_mp::{Status, WaitStrategy};
    let name = ShmName::new("hostile-claim");
    let (ring, claim) = multi_ring(&name);
    let seg = Segment::map(&name.path());
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    // Beyond what a producer can claim while `c` holds them back at -1:
    // once the first sequence has waited its unblock timeout, the consumer
    // reports corruption (it used to abandon one phantom sequence per
    // unblock timeout, for ever).
    seg.word(claim).store(1 << 40, Ordering::SeqCst);
    let e = c.wait_for(0, Duration::from_secs(20)).unwrap_err();
    assert_eq!(e.status(), Status::Corrupt, "{e}");
    assert!(e.to_string().contains("claim counter"), "{e}");
    // A consumer joining now would start beyond any real sequence.
    seg.word(claim).store(i64::MAX as u64, Ordering::SeqCst);
    let e = ring.consumer("late", &[], WaitStrategy::Yield).unwrap_err();
    assert_eq!(e.status(), Status::Corrupt, "{e}");
    assert!(ring
        .consumers()
        .iter()
        .all(|r| r.name != "late" || r.state != disruptor_mp::layout::state::ACTIVE));
}

#[test]
fn claimed_sequences_no_record_covers_are_abandoned_in_one_run() {
    use disruptor_mp::WaitStrategy;
    let name = ShmName::new("hostile-unrecorded");
    let (ring, claim) = multi_ring(&name);
    let seg = Segment::map(&name.path());
    let mut c = ring.consumer("c", &[], WaitStrategy::Yield).unwrap();
    // A peer moves the counter without recording a claim: nobody will ever
    // publish 0..=9, and they are skipped together after one timeout.
    seg.word(claim).store(9, Ordering::SeqCst);
    let avail = c.wait_for(0, Duration::from_secs(20)).unwrap();
    assert_eq!(avail, 9);
    assert!((0..=9).all(|s| c.is_abandoned(s)));
    assert_eq!(ring.abandoned(), 10);
    c.commit(9).unwrap();
}
