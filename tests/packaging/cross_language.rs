//! Several languages on one ring, every payload verified.

use super::*;

pub(crate) fn consumed(out: &str, count: u64) {
    assert!(
        out.contains(&format!("consumed {count} events"))
            && out.contains(&format!("last event {}", count - 1)),
        "expected {count} verified events (numbered from 0):\n{out}"
    );
}

#[test]
fn rust_producer_feeds_a_cpp_consumer() {
    let pkg = package();
    let _serial = support::serial();
    let ring = ShmName::new("rust2cpp");
    let mut create = dmp();
    create.args(["create", &ring.0, "--capacity", "256", "--slot-size", "64"]);
    must(create, "dmp create", RUN);
    let count = 300_000u64;
    let mut c = Command::new(pkg.cpp.join("consumer"));
    c.args([&ring.0, "--name", "cpp", "--count", &count.to_string()]);
    let mut consumer = Proc::spawn(c, "C++ consumer");
    consumer.wait_line("ready", READY);
    let mut p = dmp();
    p.args([
        "produce",
        &ring.0,
        "--count",
        &count.to_string(),
        "--batch",
        "7",
    ]);
    Proc::spawn(p, "dmp produce").succeed(RUN);
    consumed(&consumer.succeed(RUN), count);
}

#[test]
fn c_producer_feeds_rust_and_python_consumers_at_once() {
    let pkg = package();
    let python = venv_python();
    install_python_package(pkg, python);
    let _serial = support::serial();
    let ring = ShmName::new("c2rustpy");
    // The ring is created by C.
    let mut create = Command::new(pkg.c.join("producer"));
    create.args([
        &ring.0,
        "--create",
        "--count",
        "0",
        "--capacity",
        "512",
        "--slot-size",
        "48",
    ]);
    assert!(must(create, "C producer --create", RUN).contains("created ring"));
    let count = 100_000u64;
    let mut r = dmp();
    r.args([
        "consume",
        &ring.0,
        "--name",
        "rust",
        "--count",
        &count.to_string(),
    ]);
    let mut rust = Proc::spawn(r, "dmp consume");
    rust.wait_line("ready", READY);
    let mut py = Command::new(python);
    py.args([
        "-m",
        "disruptor_mp",
        "consume",
        &ring.0,
        "--name",
        "python",
        "--count",
    ])
    .arg(count.to_string())
    .current_dir(&pkg.work)
    .env("DISRUPTOR_MP_LIB", python_lib(pkg));
    let mut python_consumer = Proc::spawn(py, "Python consumer");
    python_consumer.wait_line("ready", READY);
    let mut p = Command::new(pkg.c.join("producer"));
    p.args([&ring.0, "--count", &count.to_string(), "--batch", "16"]);
    must(p, "C producer", RUN);
    consumed(&rust.succeed(RUN), count);
    consumed(&python_consumer.succeed(RUN), count);
}

#[test]
fn cpp_producer_feeds_a_c_consumer_and_a_dependent_static_cpp_consumer() {
    let pkg = package();
    let _serial = support::serial();
    let ring = ShmName::new("cpp2c");
    let mut create = Command::new(pkg.cpp.join("producer"));
    create.args([&ring.0, "--create", "--count", "0", "--capacity", "128"]);
    assert!(must(create, "C++ producer --create", RUN).contains("created ring"));
    let count = 300_000u64;
    let mut c = Command::new(pkg.c.join("consumer"));
    c.args([&ring.0, "--name", "c-stage", "--count", &count.to_string()]);
    let mut c_consumer = Proc::spawn(c, "C consumer");
    c_consumer.wait_line("ready", READY);
    // A pipeline across languages: the C++ stage reads after the C stage.
    let mut s = Command::new(pkg.cpp.join("consumer_static"));
    s.args([
        &ring.0,
        "--name",
        "cpp-stage",
        "--after",
        "c-stage",
        "--count",
    ])
    .arg(count.to_string());
    let mut cpp_consumer = Proc::spawn(s, "C++ consumer (static)");
    cpp_consumer.wait_line("ready", READY);
    let mut p = Command::new(pkg.cpp.join("producer"));
    p.args([&ring.0, "--count", &count.to_string(), "--batch", "32"]);
    must(p, "C++ producer", RUN);
    consumed(&c_consumer.succeed(RUN), count);
    consumed(&cpp_consumer.succeed(RUN), count);
}
