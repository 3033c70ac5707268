//! The C and C++ examples and the wrapper tests under ASan and UBSan.

use super::*;

pub(crate) const SANITIZE: &str =
    "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer";

pub(crate) fn sanitized(mut cmd: Command, what: &str) -> String {
    cmd.env(
        "ASAN_OPTIONS",
        "halt_on_error=1:detect_leaks=1:abort_on_error=0",
    )
    .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    .env_remove("LD_PRELOAD");
    let (ok, out) = run_logged(cmd, what, RUN);
    assert!(
        ok && !out.contains("Sanitizer") && !out.contains("runtime error"),
        "{what} under ASan/UBSan:\n{out}"
    );
    out
}

/// Starts a sanitized consumer and waits for its "ready" line.
pub(crate) fn sanitized_consumer(exe: &Path, args: &[&str]) -> Proc {
    let mut c = Command::new(exe);
    c.args(args)
        .env(
            "ASAN_OPTIONS",
            "halt_on_error=1:detect_leaks=1:abort_on_error=0",
        )
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
    let mut p = Proc::spawn(c, &format!("{} (sanitized)", exe.display()));
    p.wait_line("ready", READY);
    p
}

#[test]
fn c_and_cpp_examples_and_the_wrapper_tests_are_clean_under_asan_and_ubsan() {
    let pkg = package();
    let asan_c = pkg.work.join("asan-c");
    let asan_cpp = pkg.work.join("asan-cpp");
    cmake_build("c_examples", &asan_c, &pkg.prefix, SANITIZE);
    cmake_build("cpp_examples", &asan_cpp, &pkg.prefix, SANITIZE);
    let wrapper = pkg.work.join("wrapper_test_asan");
    let mut cxx = cxx_compiler().to_command();
    cxx.args(WARNINGS.split(' '))
        .args(SANITIZE.split(' '))
        .args(["-std=c++17", "-g", "-I"])
        .arg(pkg.prefix.join("include"))
        .arg(repo().join("tests/cpp/wrapper_test.cpp"))
        .arg(repo().join("tests/cpp/second_tu.cpp"))
        .arg("-o")
        .arg(&wrapper)
        .arg(format!("-L{}", pkg.prefix.join("lib").display()))
        .arg(format!("-Wl,-rpath,{}", pkg.prefix.join("lib").display()))
        .args(["-ldisruptor_mp", "-lpthread"]);
    must(cxx, "wrapper_test with sanitizers", BUILD);
    let features = pkg.work.join("features_test_asan");
    let mut cxx = cxx_compiler().to_command();
    cxx.args(WARNINGS.split(' '))
        .args(SANITIZE.split(' '))
        .args(["-std=c++17", "-g", "-I"])
        .arg(pkg.prefix.join("include"))
        .arg(repo().join("tests/cpp/features_test.cpp"))
        .arg("-o")
        .arg(&features)
        .arg(format!("-L{}", pkg.prefix.join("lib").display()))
        .arg(format!("-Wl,-rpath,{}", pkg.prefix.join("lib").display()))
        .args(["-ldisruptor_mp", "-lpthread"]);
    must(cxx, "features_test with sanitizers", BUILD);

    let _serial = support::serial();
    for (dir, consumer_static) in [(&asan_c, None), (&asan_cpp, Some("consumer_static"))] {
        let ring = ShmName::new("asan");
        let mut create = Command::new(dir.join("producer"));
        create.args([&ring.0, "--create", "--count", "0", "--capacity", "256"]);
        sanitized(create, "producer --create");
        let mut consumers = vec![sanitized_consumer(
            &dir.join("consumer"),
            &[&ring.0, "--name", "a", "--count", "50000"],
        )];
        if let Some(s) = consumer_static {
            consumers.push(sanitized_consumer(
                &dir.join(s),
                &[&ring.0, "--name", "b", "--after", "a", "--count", "50000"],
            ));
        }
        let mut p = Command::new(dir.join("producer"));
        p.args([&ring.0, "--count", "50000", "--batch", "10"]);
        sanitized(p, "producer");
        for c in consumers {
            let (ok, out) = c.finish(RUN);
            assert!(
                ok && !out.contains("Sanitizer") && !out.contains("runtime error"),
                "{out}"
            );
            consumed(&out, 50000);
        }
        let mut s = Command::new(dir.join("stat"));
        s.arg(&ring.0);
        assert!(sanitized(s, "stat").contains("cursor          49999"));
        let pipe = ShmName::new("asan-pipeline");
        let mut p = Command::new(dir.join("pipeline"));
        p.args([&pipe.0, "--count", "50000"]);
        assert!(sanitized(p, "pipeline").contains("sums agree"));
    }
    let mut static_producer = Command::new(asan_c.join("producer_static"));
    let ring = ShmName::new("asan-static");
    static_producer.args([&ring.0, "--create", "--count", "1000"]);
    sanitized(static_producer, "producer_static");
    let prefix = WrapperRings(ShmName::new("asan-hpp"));
    let mut w = Command::new(&wrapper);
    w.arg(&prefix.0 .0);
    assert!(sanitized(w, "wrapper_test").contains(" passed, 0 failed"));
    let prefix = WrapperRings(ShmName::new("asan-hppf"));
    let mut f = Command::new(&features);
    f.arg(&prefix.0 .0);
    assert!(sanitized(f, "features_test").contains(" passed, 0 failed"));
}
