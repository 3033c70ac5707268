//! README's C program compiles with `-Wall -Wextra -Werror` against the
//! installed header and the built library, and `DMP_MUST_USE` does what
//! docs/C_API.md says: where it is an attribute (C23 here), a dropped
//! status fails the build and a `(void)` cast silences it.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

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
