//! The examples as built programs: shared and static, CMake and pkg-config.

use super::*;

#[test]
fn examples_link_the_shared_or_static_library_and_run_without_ld_library_path() {
    let pkg = package();
    let needs_so = |exe: &Path| read_elf(exe).contains("[libdisruptor_mp.so.");
    for dir in [&pkg.c, &pkg.pc] {
        for p in [
            "producer", "consumer", "pipeline", "stat", "liveness", "epoll",
        ] {
            assert!(needs_so(&dir.join(p)), "{}/{p}", dir.display());
        }
        assert!(!needs_so(&dir.join("producer_static")), "{}", dir.display());
    }
    for p in [
        "producer", "consumer", "pipeline", "stat", "liveness", "epoll",
    ] {
        assert!(needs_so(&pkg.cpp.join(p)), "cpp {p}");
    }
    assert!(!needs_so(&pkg.cpp.join("consumer_static")));

    let _serial = support::serial();
    // The pkg-config builds: the static producer feeds the shared consumer.
    let ring = ShmName::new("pc-static");
    let mut create = Command::new(pkg.pc.join("producer_static"));
    create.args([
        &ring.0,
        "--create",
        "--count",
        "0",
        "--capacity",
        "64",
        "--slot-size",
        "40",
    ]);
    create.env_remove("LD_LIBRARY_PATH");
    assert!(must(create, "producer_static --create", RUN).contains("created ring"));
    let mut c = Command::new(pkg.pc.join("consumer"));
    c.args([&ring.0, "--name", "pc", "--count", "100000"])
        .env_remove("LD_LIBRARY_PATH");
    let mut consumer = Proc::spawn(c, "pkg-config consumer");
    consumer.wait_line("ready", READY);
    let mut p = Command::new(pkg.pc.join("producer_static"));
    p.args([&ring.0, "--count", "100000", "--batch", "9"])
        .env_remove("LD_LIBRARY_PATH");
    must(p, "producer_static", RUN);
    let out = consumer.succeed(RUN);
    assert!(
        out.contains("consumed 100000 events") && out.contains("last event 99999"),
        "{out}"
    );

    // The in-process pipelines, C and C++: the journal stage never sees an
    // event before the parse stage finished it.
    for dir in [&pkg.c, &pkg.cpp] {
        let ring = ShmName::new("pipeline");
        let mut p = Command::new(dir.join("pipeline"));
        p.args([&ring.0, "--count", "200000"])
            .env_remove("LD_LIBRARY_PATH");
        let out = must(p, "pipeline", RUN);
        assert!(
            out.contains("200000 events through parse then journal, sums agree"),
            "{out}"
        );
        assert!(!ring.path().exists(), "the pipeline removes its ring");
    }

    // stat from C and C++ on a ring after traffic.
    let ring = ShmName::new("stat");
    let mut p = Command::new(pkg.cpp.join("producer"));
    p.args([&ring.0, "--create", "--count", "777", "--capacity", "256"]);
    must(p, "C++ producer", RUN);
    for dir in [&pkg.c, &pkg.cpp] {
        let mut s = Command::new(dir.join("stat"));
        s.args([&ring.0, "--samples", "1", "--interval-ms", "10"]);
        let out = must(s, "stat", RUN);
        for needle in [
            "layout          stamped",
            "capacity        256 slots",
            "slot size       64 bytes",
            "producer mode   single",
            "cursor          776",
            "cursor          776 (0 events/s)",
        ] {
            assert!(
                out.contains(needle),
                "{} stat: missing {needle:?}:\n{out}",
                dir.display()
            );
        }
    }
}
