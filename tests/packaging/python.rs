//! The Python package: pip install into a virtual environment, pytest.

use super::*;
use crate::install::path_with_cargo;

pub(crate) fn python_lib(pkg: &Package) -> PathBuf {
    pkg.prefix
        .join(format!("lib/libdisruptor_mp.so.{}", support::version().0))
}

/// Environment of a `pip install ./python`: cargo on PATH and a target
/// directory of its own, kept across runs (the running `cargo test` holds
/// the lock of its own).
pub(crate) fn pip_build_env(cmd: &mut Command) {
    cmd.env("CARGO_TARGET_DIR", work_root().join("python-cargo"))
        .env("PATH", path_with_cargo())
        .env_remove("DISRUPTOR_MP_LIB")
        .env_remove("PYTHONPATH");
}

/// `pip install ./python` at the top of the repository, as README says:
/// setup.py builds the library with cargo and bundles it into the wheel.
/// Into the test's virtual environment, once per run.
pub(crate) fn install_python_package(_pkg: &Package, python: &Path) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let mut pip = Command::new(python);
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--force-reinstall",
            "./python",
        ])
        .current_dir(repo());
        pip_build_env(&mut pip);
        must(pip, "pip install ./python", BUILD);
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
        .env_remove("DISRUPTOR_MP_LIB");
    let file = must(which, "import disruptor_mp", RUN);
    assert!(file.contains("site-packages"), "{file}");

    let _serial = support::serial();
    let mut pytest = Command::new(python);
    pytest
        .args(["-m", "pytest", "-p", "no:cacheprovider", "-rs", "-q"])
        .arg(repo().join("python/tests"))
        .current_dir(&pkg.work)
        .env_remove("DISRUPTOR_MP_LIB")
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

/// What a new user does: a fresh virtual environment, `pip install
/// ./python` (setuptools from PyPI in pip's isolated build, the library
/// built by cargo), no environment variable, and a consumer fed across
/// processes by the installed `bin/dmp produce`; then the batch-buffer
/// benchmark against the same tool.
#[test]
fn a_fresh_venv_pip_install_consumes_from_the_installed_dmp_with_no_environment_variable() {
    let pkg = package();
    let venv = pkg.work.join("fresh-venv");
    let _ = fs::remove_dir_all(&venv);
    must(
        command("python3", &["-m", "venv", venv.to_str().unwrap()]),
        "python3 -m venv",
        BUILD,
    );
    let python = venv.join("bin/python");
    let mut pip = Command::new(&python);
    pip.args(["-m", "pip", "install", "--quiet", "./python"])
        .current_dir(repo());
    pip_build_env(&mut pip);
    must(
        pip,
        "pip install ./python (fresh venv, isolated build)",
        BUILD,
    );

    let mut which = Command::new(&python);
    which
        .args([
            "-c",
            "import disruptor_mp; print(disruptor_mp._lib.BUNDLED)",
        ])
        .current_dir(&pkg.work)
        .env_remove("DISRUPTOR_MP_LIB");
    let bundled = must(which, "import disruptor_mp (fresh venv)", RUN);
    assert!(
        bundled.trim().starts_with(venv.to_str().unwrap()),
        "{bundled}"
    );

    let _serial = support::serial();
    let tool = pkg.prefix.join("bin/dmp");
    let ring = ShmName::new("fresh-venv");
    let mut create = Command::new(&tool);
    create.args(["create", &ring.0, "--capacity", "256", "--slot-size", "48"]);
    must(create, "bin/dmp create", RUN);
    let count = 50_000u64;
    let mut py = Command::new(&python);
    py.args([
        "-m",
        "disruptor_mp",
        "consume",
        &ring.0,
        "--name",
        "py",
        "--count",
    ])
    .arg(count.to_string())
    .current_dir(&pkg.work)
    .env_remove("DISRUPTOR_MP_LIB")
    .env_remove("PYTHONPATH");
    let mut consumer = Proc::spawn(py, "Python consumer (fresh venv)");
    consumer.wait_line("ready", READY);
    let mut p = Command::new(&tool);
    p.args([
        "produce",
        &ring.0,
        "--count",
        &count.to_string(),
        "--batch",
        "16",
    ]);
    must(p, "bin/dmp produce", RUN);
    consumed(&consumer.succeed(RUN), count);

    let mut bench = Command::new(&python);
    bench
        .args([
            "-m",
            "disruptor_mp",
            "bench",
            "--count",
            "20000",
            "--rounds",
            "1",
            "--dmp",
        ])
        .arg(&tool)
        .current_dir(&pkg.work)
        .env_remove("DISRUPTOR_MP_LIB");
    let out = must(bench, "python -m disruptor_mp bench", RUN);
    assert!(
        out.contains("round 1: per-event") && out.contains("batch-buffer / per-event: "),
        "{out}"
    );
}
