//! The C++ wrapper's own tests.

use super::*;

pub(crate) fn cxx_compiler() -> cc::Tool {
    let target = env!("DMP_BUILD_TARGET");
    cc::Build::new()
        .cargo_metadata(false)
        .target(target)
        .host(target)
        .opt_level(1)
        .cpp(true)
        .get_compiler()
}

#[test]
fn cpp_wrapper_passes_its_tests_in_two_translation_units() {
    let exe = support::compile_c(
        &[
            &repo().join("tests/cpp/wrapper_test.cpp"),
            &repo().join("tests/cpp/second_tu.cpp"),
        ],
        "wrapper_test",
        true,
    );
    let prefix = WrapperRings(ShmName::new("hpp"));
    let mut c = Command::new(exe);
    c.arg(&prefix.0 .0);
    let out = must(c, "wrapper_test", RUN);
    assert!(out.contains(" passed, 0 failed"), "{out}");
}

/// Every feature beyond the basics, in one process (and a forked child
/// that dies holding a required consumer): options builders, spans,
/// unclaim, abandoned sequences, snapshots, adopt and release, eviction
/// with the lost count, rejoin, lost_on_join, on_stall, the readiness gate.
#[test]
fn cpp_wrapper_reaches_every_feature_of_the_c_abi() {
    let exe = support::compile_c(
        &[&repo().join("tests/cpp/features_test.cpp")],
        "features_test",
        true,
    );
    let prefix = WrapperRings(ShmName::new("hppf"));
    let mut c = Command::new(exe);
    c.arg(&prefix.0 .0);
    let out = must(c, "features_test", RUN);
    assert!(out.contains(" passed, 0 failed"), "{out}");
}

/// Each part of the wrapper compiles alone (it includes what it uses).
#[test]
fn cpp_wrapper_parts_each_compile_alone() {
    let compiler = cxx_compiler();
    for part in super::install::wrapper_parts() {
        let mut cmd = compiler.to_command();
        cmd.args(WARNINGS.split(' '))
            .args(["-std=c++17", "-fsyntax-only", "-x", "c++"])
            .arg(repo().join("include").join(&part));
        let (ok, out) = run_logged(cmd, &format!("compile {part} alone"), BUILD);
        assert!(ok, "{part} does not compile alone:\n{out}");
    }
}

/// The C++ liveness snippet of docs/LANGUAGES.md compiles as printed
/// (inside a function given a `dmp::Ring &ring`).
#[test]
fn the_cpp_liveness_snippet_of_languages_md_compiles() {
    let doc = fs::read_to_string(repo().join("docs/LANGUAGES.md")).unwrap();
    let section = &doc[doc.find("### Liveness from C++").expect("the section")..];
    let start = section.find("```cpp\n").expect("a C++ block") + "```cpp\n".len();
    let snippet = &section[start..start + section[start..].find("```").unwrap()];
    let dir = work_root().join("doc-snippets");
    fs::create_dir_all(&dir).unwrap();
    let src = dir.join("liveness_snippet.cpp");
    fs::write(
        &src,
        format!(
            "#include <disruptor_mp.hpp>\n#include <cstdio>\nusing namespace std::chrono_literals;\n\
             struct Quote {{ uint32_t instrument; uint32_t qty; double price; }};\n\
             void example(dmp::Ring &ring) {{\n{snippet}\n(void)missed;\n}}\n"
        ),
    )
    .unwrap();
    let mut cmd = cxx_compiler().to_command();
    cmd.args(WARNINGS.split(' '))
        .args(["-std=c++17", "-fsyntax-only", "-I"])
        .arg(repo().join("include"))
        .arg(&src);
    let (ok, out) = run_logged(cmd, "compile the LANGUAGES.md liveness snippet", BUILD);
    assert!(ok, "{}:\n{out}", src.display());
}

/// The rings wrapper_test and features_test name after their argument,
/// removed on drop (also when the test fails).
pub(crate) struct WrapperRings(pub(crate) ShmName);

impl Drop for WrapperRings {
    fn drop(&mut self) {
        for suffix in [
            "-basics",
            "-typed",
            "-typed-packed",
            "-typed-typed",
            "-errors",
            "-second",
            "-dead",
            "-spans",
            "-abandoned",
            "-adopt",
            "-lifecycle",
            "-evict",
            "-stall",
            "-messages",
        ] {
            // The ring's wake-up directory goes with it.
            let name = format!("{}{suffix}", self.0 .0);
            let _ = disruptor_mp::Ring::unlink(&disruptor_mp::Location::shm(name));
        }
    }
}

#[test]
fn cpp_wrapper_rejects_unsuitable_slot_types_at_compile_time() {
    let dir = work_root().join("compile-fail");
    fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "not_trivially_copyable",
            "(void)sizeof(dmp::Producer<std::string>);",
            "T must be trivially copyable",
        ),
        (
            "over_aligned",
            "struct alignas(128) Big { char c; }; (void)sizeof(dmp::Consumer<Big>);",
            "at most 64-byte aligned",
        ),
        (
            "event_type_checked",
            "dmp::RingOptions o; o.event_type<std::string>(1);",
            "T must be trivially copyable",
        ),
        (
            "claim_is_nodiscard",
            "extern dmp::Producer<int> &p; p.claim(1);",
            "nodiscard",
        ),
        // The control case compiles: the harness itself is sound.
        (
            "control",
            "extern dmp::Producer<int> &p; p.claim(1).publish();",
            "",
        ),
    ];
    let compiler = cxx_compiler();
    for (name, body, message) in cases {
        let src = dir.join(format!("{name}.cpp"));
        fs::write(
            &src,
            format!("#include \"disruptor_mp.hpp\"\n#include <string>\nvoid f() {{ {body} }}\n"),
        )
        .unwrap();
        let mut cmd = compiler.to_command();
        cmd.args(WARNINGS.split(' '))
            .args(["-std=c++17", "-fsyntax-only", "-I"])
            .arg(repo().join("include"))
            .arg(&src);
        let (ok, out) = run_logged(cmd, &format!("compile {name}"), BUILD);
        if message.is_empty() {
            assert!(ok, "{name} must compile:\n{out}");
        } else {
            assert!(
                !ok && out.contains(message),
                "{name}: expected an error with {message:?}:\n{out}"
            );
        }
    }
}
