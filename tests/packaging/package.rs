//! The installed package and the examples built against it, once per run.

use super::*;

pub(crate) struct Package {
    pub(crate) work: PathBuf,
    pub(crate) prefix: PathBuf,
    /// c_examples configured by CMake.
    pub(crate) c: PathBuf,
    /// cpp_examples configured by CMake.
    pub(crate) cpp: PathBuf,
    /// c_examples built by its Makefile through pkg-config.
    pub(crate) pc: PathBuf,
}

pub(crate) const WARNINGS: &str = "-Wall -Wextra -Werror";

/// Configures and builds an example folder against `prefix`.
pub(crate) fn cmake_build(source: &str, build: &Path, prefix: &Path, extra_flags: &str) {
    let lang_flags = format!("{WARNINGS} {extra_flags}");
    let mut c = Command::new(cmake());
    c.arg("-S")
        .arg(repo().join(source))
        .arg("-B")
        .arg(build)
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
        .arg("-DCMAKE_BUILD_TYPE=RelWithDebInfo")
        .arg(format!("-DCMAKE_C_FLAGS={lang_flags}"))
        .arg(format!("-DCMAKE_CXX_FLAGS={lang_flags}"))
        .arg(format!("-DCMAKE_EXE_LINKER_FLAGS={extra_flags}"));
    must(c, &format!("cmake configure {source}"), BUILD);
    let mut b = Command::new(cmake());
    b.arg("--build").arg(build).args(["--parallel", "2"]);
    must(b, &format!("cmake build {source}"), BUILD);
}

pub(crate) fn package() -> &'static Package {
    static P: OnceLock<Package> = OnceLock::new();
    P.get_or_init(|| {
        let work = work_root().join("run");
        let _ = fs::remove_dir_all(&work);
        fs::create_dir_all(&work).unwrap();
        // The artefacts this `cargo test` built (it does not copy them up
        // to target/<profile>: see support::shared_library).
        let artefacts = support::shared_library().parent().unwrap().to_path_buf();
        for f in ["libdisruptor_mp.so", "libdisruptor_mp.a"] {
            assert!(
                artefacts.join(f).exists(),
                "{f} not built in {}",
                artefacts.display()
            );
        }
        let prefix = work.join("prefix");
        let mut install = command("bash", &[]);
        install
            .arg(repo().join("scripts/install.sh"))
            .arg("--prefix")
            .arg(&prefix)
            .arg("--artefacts")
            .arg(&artefacts)
            .arg("--dmp")
            .arg(env!("CARGO_BIN_EXE_dmp"));
        must(install, "scripts/install.sh --artefacts", BUILD);

        let c = work.join("build-c");
        cmake_build("c_examples", &c, &prefix, "");
        let cpp = work.join("build-cpp");
        cmake_build("cpp_examples", &cpp, &prefix, "");

        let pc = work.join("build-pkg-config");
        fs::create_dir_all(&pc).unwrap();
        let mut m = Command::new(make());
        m.arg("-C")
            .arg(repo().join("c_examples"))
            .arg(format!("OUT={}", pc.display()))
            .arg(format!("CFLAGS=-O2 -g {WARNINGS}"))
            .env("PATH", tool_path())
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"));
        must(m, "make -C c_examples (pkg-config)", BUILD);
        Package {
            work,
            prefix,
            c,
            cpp,
            pc,
        }
    })
}

pub(crate) fn read_elf(path: &Path) -> String {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(path)
        .output()
        .expect("readelf runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Files, directories and link targets under `dir`, sorted.
pub(crate) fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                out.push(format!("{rel} -> {}", fs::read_link(&p).unwrap().display()));
            } else if meta.is_dir() {
                out.push(format!("{rel}/"));
                walk(base, &p, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
