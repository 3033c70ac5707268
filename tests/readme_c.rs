//! README's C program compiles with `-Wall -Wextra -Werror` against the
//! installed header and the built library, and `DMP_MUST_USE` does what
//! docs/C_API.md says: where it is an attribute (C23 here), a dropped
//! status fails the build and a `(void)` cast silences it. README's
//! `cc app.c $(pkg-config ...)` line, run as printed against an installed
//! prefix, builds that program, which then runs without LD_LIBRARY_PATH.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The first C block of README.md.
fn readme_program() -> String {
    let readme = std::fs::read_to_string(support::repo_root().join("README.md")).unwrap();
    let start = readme.find("```c\n").expect("README has a C block") + "```c\n".len();
    let len = readme[start..].find("```").expect("the C block ends");
    readme[start..start + len].to_string()
}

fn write(name: &str, text: &str) -> PathBuf {
    let dir = support::target_dir().join("readme-c");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `cc -std=<std> -Wall -Wextra -Werror -fsyntax-only`: whether it
/// compiles, and what the compiler said.
fn syntax_check(std: &str, source: &Path) -> (bool, String) {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args([
            &format!("-std={std}"),
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
        ])
        .arg("-I")
        .arg(support::repo_root().join("include"))
        .arg(source)
        .output()
        .unwrap_or_else(|e| panic!("run {cc}: {e}"));
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), said)
}

#[test]
fn the_readme_c_program_builds_with_warnings_as_errors() {
    let source = write("readme.c", &readme_program());
    // Compiled and linked as a user would (C11, the library built here).
    let exe = support::compile_c(&[&source], "readme_c", false);
    assert!(exe.exists());
    // And as C23, where DMP_MUST_USE is [[nodiscard]].
    let (ok, said) = syntax_check("c2x", &source);
    assert!(ok, "README's C program under -std=c2x:\n{said}");
}

#[test]
fn a_dropped_status_warns_and_a_void_cast_silences_it() {
    let body = |call: &str| {
        format!(
            "#include \"disruptor_mp.h\"\nint main(void) {{\n    {call}dmp_publish((dmp_producer *)0, 0, 0);\n    return 0;\n}}\n"
        )
    };
    let dropped = write("dropped.c", &body(""));
    let (ok, said) = syntax_check("c2x", &dropped);
    assert!(!ok, "a dropped status compiled without a warning under C23");
    assert!(said.contains("dmp_publish"), "{said}");
    let cast = write("cast.c", &body("(void)"));
    let (ok, said) = syntax_check("c2x", &cast);
    assert!(ok, "a (void) cast did not silence DMP_MUST_USE:\n{said}");
    // Under GCC's C11 there is no attribute, so both compile.
    let (ok, said) = syntax_check("c11", &dropped);
    assert!(ok, "{said}");
}

/// The first line of README.md starting with `cc app.c`, without its
/// trailing comment.
fn readme_cc_line() -> String {
    let readme = std::fs::read_to_string(support::repo_root().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("cc app.c "))
        .expect("README has a `cc app.c` line");
    line.split(" #").next().unwrap().trim().to_string()
}

#[test]
fn the_readme_pkg_config_line_builds_a_program_that_runs_as_it_is() {
    if Command::new("pkg-config")
        .arg("--version")
        .output()
        .is_err()
    {
        support::skip_or_fail("pkg-config is not installed (Debian: apt-get install pkg-config)");
        return;
    }
    let dir = support::target_dir().join("readme-c");
    let prefix = dir.join("prefix");
    let _ = std::fs::remove_dir_all(&prefix);
    let mut install = Command::new("bash");
    install
        .arg(support::repo_root().join("scripts/install.sh"))
        .arg("--prefix")
        .arg(&prefix)
        .arg("--artefacts")
        .arg(support::shared_library().parent().unwrap())
        .arg("--dmp")
        .arg(env!("CARGO_BIN_EXE_dmp"));
    let (ok, out) = support::run(install, "scripts/install.sh", Duration::from_secs(300));
    assert!(ok, "{out}");

    let work = dir.join("pkg-config-run");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("app.c"), readme_program()).unwrap();
    let line = readme_cc_line();
    let mut cc = Command::new("sh");
    cc.arg("-c")
        .arg(&line)
        .current_dir(&work)
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"));
    let (ok, out) = support::run(cc, &line, Duration::from_secs(120));
    assert!(ok, "`{line}` as printed in README failed:\n{out}");

    // The program creates the ring "quotes" (README's name); nothing else
    // in the tests uses it.
    let _serial = support::serial();
    let quotes = std::path::Path::new("/dev/shm/quotes");
    // Ring::unlink: the ring and its wake-up directory.
    let remove = || disruptor_mp::Ring::unlink(&disruptor_mp::Location::shm("quotes"));
    let _ = remove();
    let mut run = Command::new(work.join("a.out"));
    run.env_remove("LD_LIBRARY_PATH");
    let (ok, out) = support::run(run, "./a.out", Duration::from_secs(60));
    let existed = quotes.exists();
    let _ = remove();
    assert!(ok, "the program built by `{line}` failed:\n{out}");
    assert!(existed, "the program did not create its ring");
}
