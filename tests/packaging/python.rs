//! The Python package: pip install into a virtual environment, pytest.

use super::*;

pub(crate) fn python_lib(pkg: &Package) -> PathBuf {
    pkg.prefix
        .join(format!("lib/libdisruptor_mp.so.{}", support::version().0))
}

/// `pip install`s python/ (from a copy, so no build files land in the
/// source tree) into the test's virtual environment, once per run.
pub(crate) fn install_python_package(pkg: &Package, python: &Path) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let src = pkg.work.join("python-src");
        let _ = fs::remove_dir_all(&src);
        fs::create_dir_all(&src).unwrap();
        for f in ["pyproject.toml", "README.md"] {
            fs::copy(repo().join("python").join(f), src.join(f)).unwrap();
        }
        fs::create_dir_all(src.join("disruptor_mp")).unwrap();
        for e in fs::read_dir(repo().join("python/disruptor_mp")).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "py") {
                fs::copy(&p, src.join("disruptor_mp").join(p.file_name().unwrap())).unwrap();
            }
        }
        let mut pip = Command::new(python);
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--force-reinstall",
        ])
        .arg(&src);
        must(pip, "pip install python/", BUILD);
    });
}

#[test]
fn python_package_installs_with_pip_and_its_pytest_suite_passes() {
    let pkg = package();
    let python = venv_python();
    install_python_package(pkg, python);
    // The installed copy is what gets imported, not the source tree.
    let mut which = Command::new(python);
    which
        .args(["-c", "import disruptor_mp; print(disruptor_mp.__file__)"])
        .current_dir(&pkg.work)
        .env("DISRUPTOR_MP_LIB", python_lib(pkg));
    let file = must(which, "import disruptor_mp", RUN);
    assert!(file.contains("site-packages"), "{file}");

    let _serial = support::serial();
    let mut pytest = Command::new(python);
    pytest
        .args(["-m", "pytest", "-p", "no:cacheprovider", "-rs", "-q"])
        .arg(repo().join("python/tests"))
        .current_dir(&pkg.work)
        .env("DISRUPTOR_MP_LIB", python_lib(pkg))
        .env("DMP_TOOL", env!("CARGO_BIN_EXE_dmp"))
        .env("DMP_C_EXAMPLES", &pkg.c)
        .env("DMP_REPO", repo())
        .env("DMP_REQUIRE_ALL", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = must(pytest, "pytest python/tests", BUILD);
    assert!(out.contains(" passed"), "{out}");
    assert!(
        !out.contains("skipped") && !out.contains("failed") && !out.contains("error"),
        "{out}"
    );
}
