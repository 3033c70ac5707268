//! C programs (compiled here with -Wall -Wextra -Werror, as C11 and as
//! C++17) against the shared library: ABI misuse answers, and C and Rust
//! processes on one ring in both directions.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use support::{dmp, run, Proc, ShmName};

const T: Duration = Duration::from_secs(120);

fn c_source(name: &str) -> PathBuf {
    support::repo_root().join("tests/c").join(name)
}

/// The C programs, built once per test process.
fn stat_program() -> &'static PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| support::compile_c(&[&c_source("ring_stat.c")], "ring_stat", false))
}

fn programs() -> &'static (PathBuf, PathBuf, PathBuf, PathBuf) {
    static P: OnceLock<(PathBuf, PathBuf, PathBuf, PathBuf)> = OnceLock::new();
    P.get_or_init(|| {
        let misuse = support::compile_c(&[&c_source("abi_misuse.c")], "abi_misuse", false);
        let misuse_cxx = support::compile_c(&[&c_source("abi_misuse.c")], "abi_misuse_cxx", true);
        let consumer = support::compile_c(&[&c_source("ring_consumer.c")], "ring_consumer", false);
        let producer = support::compile_c(&[&c_source("ring_producer.c")], "ring_producer", true);
        (misuse, misuse_cxx, consumer, producer)
    })
}

#[test]
fn abi_misuse_is_answered_with_status_codes_in_c_and_cxx() {
    let (misuse, misuse_cxx, _, _) = programs();
    for exe in [misuse, misuse_cxx] {
        let name = ShmName::new("misuse");
        let mut c = Command::new(exe);
        c.arg(&name.0);
        let (ok, out) = run(c, "abi_misuse", T);
        assert!(ok && out.contains(" passed, 0 failed"), "{out}");
    }
}

#[test]
fn c_consumer_reads_a_ring_created_and_fed_by_rust() {
    let (_, _, consumer, _) = programs();
    let name = ShmName::new("rust2c");
    let mut c = dmp();
    c.args(["create", &name.0, "--capacity", "64", "--slot-size", "40"]);
    assert!(run(c, "create", T).0);
    let count = 500_000u64;
    let mut cc = Command::new(consumer);
    cc.args([name.0.as_str(), "c-consumer", &count.to_string()]);
    let mut c_consumer = Proc::spawn(cc, "C consumer");
    c_consumer.wait_line("ready", Duration::from_secs(20));
    let mut p = dmp();
    p.args([
        "produce",
        &name.0,
        "--count",
        &count.to_string(),
        "--batch",
        "9",
        "--first",
        "0",
    ]);
    Proc::spawn(p, "Rust producer").succeed(T);
    let out = c_consumer.succeed(T);
    assert!(
        out.contains(&format!(
            "consumed {count} events, last event {}",
            count - 1
        )),
        "{out}"
    );
}

#[test]
fn rust_consumer_reads_a_ring_created_and_fed_by_c() {
    let (_, _, _, producer) = programs();
    let name = ShmName::new("c2rust");
    let count = 500_000u64;
    let mut pc = Command::new(producer);
    pc.args([name.0.as_str(), &count.to_string(), "13", "create"])
        .stdin(std::process::Stdio::piped());
    let mut c_producer = Proc::spawn(pc, "C producer");
    c_producer.wait_line("created", Duration::from_secs(20));
    let mut cc = dmp();
    cc.args([
        "consume",
        &name.0,
        "--name",
        "rust",
        "--count",
        &count.to_string(),
    ]);
    let mut rust_consumer = Proc::spawn(cc, "Rust consumer");
    rust_consumer.wait_line("ready", Duration::from_secs(20));
    c_producer.send_line("go");
    c_producer.succeed(T);
    let out = rust_consumer.succeed(T);
    assert!(out.contains(&format!("consumed {count} events")), "{out}");
    assert!(out.contains(&format!("last event {}", count - 1)), "{out}");
}

#[test]
fn a_c_producer_and_a_rust_producer_feed_one_multi_producer_ring() {
    let _serial = support::serial();
    let (_, _, _, producer) = programs();
    let name = ShmName::new("mpc");
    let count = 300_000u64;
    let mut pc = Command::new(producer);
    pc.args([
        name.0.as_str(),
        &count.to_string(),
        "7",
        "create-multi",
        "1",
    ])
    .stdin(std::process::Stdio::piped());
    let mut c_producer = Proc::spawn(pc, "C producer");
    c_producer.wait_line("created", Duration::from_secs(20));
    let mut cc = dmp();
    cc.args(["consume", &name.0, "--name", "rust"]).args([
        "--count",
        &(2 * count).to_string(),
        "--wait",
        "yield",
    ]);
    let mut rust_consumer = Proc::spawn(cc, "Rust consumer");
    rust_consumer.wait_line("ready", Duration::from_secs(20));
    let mut rp = dmp();
    rp.args(["produce", &name.0, "--count", &count.to_string()])
        .args(["--batch", "16", "--mixed-batches", "--producer-id", "2"]);
    let rust_producer = Proc::spawn(rp, "Rust producer");
    c_producer.send_line("go");
    c_producer.succeed(T);
    rust_producer.succeed(T);
    let out = rust_consumer.succeed(T);
    assert!(
        out.contains(&format!("consumed {} events", 2 * count)),
        "{out}"
    );
    assert!(out.contains("abandoned 0"), "{out}");
    for id in [1, 2] {
        assert!(
            out.contains(&format!("producer {id}: next {count}")),
            "{out}"
        );
    }
}

#[test]
fn a_c_program_reads_exact_counters_of_a_run_it_took_no_part_in() {
    let _serial = support::serial();
    let name = ShmName::new("cstat");
    let mut create = dmp();
    create.args(["create", &name.0, "--capacity", "64", "--slot-size", "16"]);
    let (ok, out) = run(create, "dmp create", T);
    assert!(ok, "{out}");
    let mut cc = dmp();
    cc.args(["consume", &name.0, "--name", "audit", "--count", "10000"])
        .args(["--max-batch", "10"]);
    let mut consumer = Proc::spawn(cc, "consumer");
    consumer.wait_line("ready", Duration::from_secs(20));
    let mut pc = dmp();
    pc.args(["produce", &name.0, "--count", "10000", "--batch", "8"]);
    let (ok, out) = run(pc, "producer", T);
    assert!(ok, "{out}");
    let out = consumer.succeed(T);
    // "consumed 10000 events in K batches": the consumer's own count.
    let batches: u64 = out
        .split(" events in ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    let (ok, stat) = run(Command::new(stat_program()), "ring_stat", T);
    let mut stat_cmd = Command::new(stat_program());
    stat_cmd.arg(&name.0);
    let (ok2, stat2) = run(stat_cmd, "ring_stat", T);
    assert!(!ok, "ring_stat without a name must fail: {stat}");
    assert!(ok2, "{stat2}");
    for line in [
        "published 10000".to_string(),
        "cursor 9999".to_string(),
        "attaches 2".to_string(),
        "detaches 2".to_string(),
        "abandoned 0".to_string(),
        format!("consumer audit sequence 9999 events 10000 batches {batches} alive 0"),
        "producer 0 events 10000 batches 1250 alive 0".to_string(),
        "ok".to_string(),
    ] {
        assert!(
            stat2.lines().any(|l| l == line),
            "{line:?} missing in:\n{stat2}"
        );
    }
}

/// `valgrind`: found on PATH, or installed with apt-get when running as
/// root (as the packaging tests install cmake); `None` when neither works.
fn valgrind() -> Option<PathBuf> {
    if let Some(exe) = valgrind_on_path() {
        return Some(exe);
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    for args in [
        &["install", "-y", "--no-install-recommends", "valgrind"][..],
        &["update"][..],
        &["install", "-y", "--no-install-recommends", "valgrind"][..],
    ] {
        let ok = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .is_ok_and(|o| o.status.success());
        if ok && args[0] == "install" {
            if let Some(exe) = valgrind_on_path() {
                return Some(exe);
            }
        }
    }
    None
}

fn valgrind_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let exe = std::env::split_paths(&path)
        .map(|d| d.join("valgrind"))
        .find(|p| p.is_file())?;
    let works = Command::new(&exe)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    works.then_some(exe)
}

/// A C program run under memcheck: any error (invalid read or write, use of
/// uninitialised memory, a definite leak) makes it exit with status 99.
fn memcheck(valgrind: &Path, exe: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(valgrind);
    c.args([
        "--quiet",
        "--error-exitcode=99",
        "--leak-check=full",
        "--show-leak-kinds=definite",
        "--errors-for-leak-kinds=definite",
    ])
    .arg(exe)
    .args(args);
    c
}

#[test]
fn c_programs_run_clean_under_valgrind_memcheck() {
    let Some(vg) = valgrind() else {
        support::skip_or_fail("valgrind is not installed and could not be (not root, or apt-get failed): apt-get install valgrind");
        return;
    };
    let _serial = support::serial();
    let (misuse, misuse_cxx, consumer, producer) = programs();
    let hostile = support::compile_c(&[&c_source("hostile_abi.c")], "hostile_abi", false);
    let mut report = Vec::new();
    for exe in [misuse, misuse_cxx] {
        let name = ShmName::new("vg-misuse");
        let (ok, out) = run(memcheck(&vg, exe, &[&name.0]), "abi_misuse", T);
        assert!(ok && out.contains(" passed, 0 failed"), "{out}");
        report.push(format!("{}: {}", exe.display(), out.trim()));
    }

    // A C producer and a C consumer on one ring, both under memcheck, then
    // the snapshot reader and every data-path call of hostile_abi.c.
    let name = ShmName::new("vg-ring");
    let count = "3000";
    let mut pc = memcheck(&vg, producer, &[&name.0, count, "7", "create"]);
    pc.stdin(std::process::Stdio::piped());
    let mut c_producer = Proc::spawn(pc, "C producer (memcheck)");
    c_producer.wait_line("created", T);
    let mut c_consumer = Proc::spawn(
        memcheck(&vg, consumer, &[&name.0, "vg", count]),
        "C consumer (memcheck)",
    );
    c_consumer.wait_line("ready", T);
    c_producer.send_line("go");
    report.push(c_producer.succeed(T).trim().to_string());
    let out = c_consumer.succeed(T);
    assert!(out.contains(&format!("consumed {count} events")), "{out}");
    report.push(out.trim().to_string());
    let (ok, out) = run(memcheck(&vg, stat_program(), &[&name.0]), "ring_stat", T);
    assert!(ok, "{out}");
    let (ok, out) = run(memcheck(&vg, &hostile, &[&name.0, "100"]), "hostile_abi", T);
    assert!(ok, "{out}");
    report.push(out.trim().to_string());
    eprintln!("memcheck found nothing in:\n  {}", report.join("\n  "));
}

/// The C ABI test programs built with AddressSanitizer and
/// UndefinedBehaviorSanitizer (the library itself is Rust; the sanitizers
/// watch every access the C side makes through the pointers it hands out).
#[test]
fn c_programs_run_clean_under_asan_and_ubsan() {
    const SANITIZE: [&str; 3] = [
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=all",
        "-fno-omit-frame-pointer",
    ];
    let build = |src: &str, exe: &str, cxx: bool| {
        support::compile_c_with(&[&c_source(src)], exe, cxx, &SANITIZE)
    };
    let misuse = build("abi_misuse.c", "abi_misuse_asan", false);
    let misuse_cxx = build("abi_misuse.c", "abi_misuse_cxx_asan", true);
    let producer = build("ring_producer.c", "ring_producer_asan", true);
    let consumer = build("ring_consumer.c", "ring_consumer_asan", false);
    let stat = build("ring_stat.c", "ring_stat_asan", false);
    let hostile = build("hostile_abi.c", "hostile_abi_asan", false);
    let sanitized = |exe: &Path, args: &[&str]| {
        let mut c = Command::new(exe);
        c.args(args)
            .env("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1")
            .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
        c
    };
    let clean = |ok: bool, out: &str, what: &str| {
        assert!(
            ok && !out.contains("Sanitizer") && !out.contains("runtime error"),
            "{what} under ASan/UBSan:\n{out}"
        );
    };
    let _serial = support::serial();
    for exe in [&misuse, &misuse_cxx] {
        let name = ShmName::new("asan-misuse");
        let (ok, out) = run(sanitized(exe, &[&name.0]), "abi_misuse", T);
        clean(ok, &out, "abi_misuse");
        assert!(out.contains(" passed, 0 failed"), "{out}");
    }
    let name = ShmName::new("asan-ring");
    let count = "20000";
    let mut pc = sanitized(&producer, &[&name.0, count, "7", "create"]);
    pc.stdin(std::process::Stdio::piped());
    let mut c_producer = Proc::spawn(pc, "C producer (ASan)");
    c_producer.wait_line("created", T);
    let mut c_consumer = Proc::spawn(
        sanitized(&consumer, &[&name.0, "asan", count]),
        "C consumer (ASan)",
    );
    c_consumer.wait_line("ready", T);
    c_producer.send_line("go");
    let (ok, out) = c_producer.finish(T);
    clean(ok, &out, "C producer");
    let (ok, out) = c_consumer.finish(T);
    clean(ok, &out, "C consumer");
    assert!(out.contains(&format!("consumed {count} events")), "{out}");
    let (ok, out) = run(sanitized(&stat, &[&name.0]), "ring_stat", T);
    clean(ok, &out, "ring_stat");
    let (ok, out) = run(sanitized(&hostile, &[&name.0, "100"]), "hostile_abi", T);
    clean(ok, &out, "hostile_abi");
}

/// The one-event calls of the C ABI against the Rust ones, both ways: a C
/// producer publishing with `dmp_publish_one` to a Rust consumer on
/// `consume_with`, and a Rust producer on `publish_with` to a C consumer on
/// `dmp_consume_one`. Every payload and the order are checked.
#[test]
fn one_event_calls_cross_between_c_and_rust() {
    let (_, _, consumer, producer) = programs();
    let count = 200_000u64;
    // C publishes one at a time (BATCH 0), Rust consumes one at a time.
    let name = ShmName::new("one-c2rust");
    let mut pc = Command::new(producer);
    pc.args([name.0.as_str(), &count.to_string(), "0", "create"])
        .stdin(std::process::Stdio::piped());
    let mut c_producer = Proc::spawn(pc, "C one-event producer");
    c_producer.wait_line("created", Duration::from_secs(20));
    let mut cc = dmp();
    cc.args(["consume", &name.0, "--name", "rust", "--one-event"])
        .args(["--count", &count.to_string()]);
    let mut rust_consumer = Proc::spawn(cc, "Rust one-event consumer");
    rust_consumer.wait_line("ready", Duration::from_secs(20));
    c_producer.send_line("go");
    let out = c_producer.succeed(T);
    assert!(out.contains(&format!("produced {count} events")), "{out}");
    let out = rust_consumer.succeed(T);
    assert!(out.contains(&format!("consumed {count} events")), "{out}");
    assert!(out.contains(&format!("last event {}", count - 1)), "{out}");

    // Rust publishes one at a time, C consumes one at a time.
    let name = ShmName::new("one-rust2c");
    let mut c = dmp();
    c.args(["create", &name.0, "--capacity", "64", "--slot-size", "40"]);
    assert!(run(c, "create", T).0);
    let mut cc = Command::new(consumer);
    cc.args([name.0.as_str(), "c-one", &count.to_string(), "one"]);
    let mut c_consumer = Proc::spawn(cc, "C one-event consumer");
    c_consumer.wait_line("ready", Duration::from_secs(20));
    let mut p = dmp();
    p.args(["produce", &name.0, "--one-event", "--first", "0"])
        .args(["--count", &count.to_string()]);
    Proc::spawn(p, "Rust one-event producer").succeed(T);
    let out = c_consumer.succeed(T);
    assert!(
        out.contains(&format!(
            "consumed {count} events, last event {}",
            count - 1
        )),
        "{out}"
    );
}

/// Every call that writes a size-versioned out-struct writes only the
/// `struct_size` bytes its caller declared: each gets an older caller's
/// 8-byte struct at the end of a page followed by a `PROT_NONE` page (one
/// byte more faults), plainly, under ASan and UBSan, and under memcheck.
#[test]
fn size_versioned_outputs_write_only_what_the_caller_declared() {
    let _serial = support::serial();
    let src = c_source("versioned_out.c");
    let plain = support::compile_c(&[&src], "versioned_out", false);
    let asan = support::compile_c_with(
        &[&src],
        "versioned_out_asan",
        false,
        &["-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
    );
    let done = |ok: bool, out: &str, what: &str| {
        assert!(
            ok && out.contains("0 failed") && !out.contains("FAILED") && !out.contains("Sanitizer"),
            "versioned_out {what}:\n{out}"
        );
    };
    for (exe, what) in [(&plain, "plain"), (&asan, "under ASan/UBSan")] {
        let name = ShmName::new("versioned");
        let mut c = Command::new(exe);
        c.arg(&name.0)
            .env("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1");
        let (ok, out) = run(c, "versioned_out", T);
        done(ok, &out, what);
    }
    match valgrind() {
        Some(vg) => {
            let name = ShmName::new("versioned-vg");
            let (ok, out) = run(memcheck(&vg, &plain, &[&name.0]), "versioned_out", T);
            done(ok, &out, "under memcheck");
        }
        None => support::skip_or_fail("valgrind is not installed: apt-get install valgrind"),
    }
}
