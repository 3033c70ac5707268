//! The install layout, pkg-config, the CMake package and the top-level
//! CMake build.

use super::*;

/// The C++ wrapper's parts, `disruptor_mp/NAME.hpp`, as in the repository.
pub(crate) fn wrapper_parts() -> Vec<String> {
    let mut parts: Vec<String> = fs::read_dir(repo().join("include/disruptor_mp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".hpp"))
        .map(|n| format!("disruptor_mp/{n}"))
        .collect();
    parts.sort();
    parts
}

#[test]
fn install_layout_has_the_soname_chain_headers_and_package_files() {
    let pkg = package();
    let v = disruptor_mp::VERSION;
    let major = support::version().0;
    let expected = vec![
        "include/".to_string(),
        "include/disruptor_mp.h".into(),
        "include/disruptor_mp.hpp".into(),
        "lib/".into(),
        "lib/.debug/".into(),
        format!("lib/.debug/libdisruptor_mp.so.{v}.debug"),
        "lib/cmake/".into(),
        "lib/cmake/disruptor_mp/".into(),
        "lib/cmake/disruptor_mp/disruptor_mpConfig.cmake".into(),
        "lib/cmake/disruptor_mp/disruptor_mpConfigVersion.cmake".into(),
        "lib/libdisruptor_mp.a".into(),
        format!("lib/libdisruptor_mp.so -> libdisruptor_mp.so.{major}"),
        format!("lib/libdisruptor_mp.so.{major} -> libdisruptor_mp.so.{v}"),
        format!("lib/libdisruptor_mp.so.{v}"),
        "lib/pkgconfig/".into(),
        "lib/pkgconfig/disruptor_mp-static.pc".into(),
        "lib/pkgconfig/disruptor_mp.pc".into(),
    ];
    let mut expected: Vec<String> = ["bin/", "bin/.debug/", "bin/.debug/dmp.debug", "bin/dmp"]
        .iter()
        .map(|s| s.to_string())
        .chain(expected)
        .collect();
    expected.extend(["share/", "share/man/", "share/man/man1/"].map(String::from));
    // The man pages: dmp.1 and one per command, whatever the commands are
    // (installed_files.rs checks what they say).
    let found = tree(&pkg.prefix);
    let pages: Vec<String> = found
        .iter()
        .filter(|f| f.starts_with("share/man/man1/") && f.ends_with(".1"))
        .cloned()
        .collect();
    assert!(
        pages.contains(&"share/man/man1/dmp.1".to_string())
            && pages.contains(&"share/man/man1/dmp-stat.1".to_string()),
        "{pages:?}"
    );
    expected.extend(pages);
    // The C++ wrapper's parts: every include/disruptor_mp/*.hpp.
    expected.push("include/disruptor_mp/".into());
    expected.extend(wrapper_parts().iter().map(|p| format!("include/{p}")));
    expected.sort();
    assert_eq!(found, expected);

    let lib = pkg.prefix.join(format!("lib/libdisruptor_mp.so.{v}"));
    assert!(
        read_elf(&lib).contains(&format!("Library soname: [libdisruptor_mp.so.{major}]")),
        "{}",
        read_elf(&lib)
    );
    let nm = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .expect("nm runs");
    let text = String::from_utf8_lossy(&nm.stdout);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert!(names.contains(&"dmp_claim") && names.len() >= 20, "{text}");
    let foreign: Vec<&&str> = names.iter().filter(|n| !n.starts_with("dmp_")).collect();
    assert!(foreign.is_empty(), "the shared library exports {foreign:?}");
    let nm_a = Command::new("nm")
        .args(["--defined-only", "--print-file-name"])
        .arg(pkg.prefix.join("lib/libdisruptor_mp.a"))
        .output()
        .expect("nm runs");
    assert!(String::from_utf8_lossy(&nm_a.stdout).contains(" T dmp_claim"));

    let headers = ["disruptor_mp.h".to_string(), "disruptor_mp.hpp".into()];
    for h in headers.iter().chain(wrapper_parts().iter()) {
        assert_eq!(
            fs::read(pkg.prefix.join("include").join(h)).unwrap(),
            fs::read(repo().join("include").join(h)).unwrap(),
            "{h}"
        );
    }
    let native = fs::read_to_string(repo().join("cmake/native-static-libs.txt")).unwrap();
    let pc = fs::read_to_string(pkg.prefix.join("lib/pkgconfig/disruptor_mp.pc")).unwrap();
    assert!(
        pc.contains(&format!("Libs.private: {}", native.trim())),
        "{pc}"
    );
    assert!(pc.contains(&format!("Version: {v}")), "{pc}");
}

#[test]
fn pkg_config_reports_the_installed_package_and_follows_a_moved_prefix() {
    let pkg = package();
    // A copy of the prefix somewhere else: .pc and CMake files are relocatable.
    let moved = pkg.work.join("moved-prefix");
    let _ = fs::remove_dir_all(&moved);
    let mut cp = command("cp", &["-a"]);
    cp.arg(&pkg.prefix).arg(&moved);
    must(cp, "cp -a prefix", RUN);
    let query = |prefix: &Path, args: &[&str]| {
        let mut c = Command::new(pkg_config());
        c.args(args)
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"));
        must(c, &format!("pkg-config {}", args.join(" ")), RUN)
    };
    assert_eq!(
        query(&moved, &["--modversion", "disruptor_mp"]).trim(),
        disruptor_mp::VERSION
    );
    let cflags = query(&moved, &["--cflags", "disruptor_mp"]);
    let include = fs::canonicalize(moved.join("include")).unwrap();
    let shown = cflags.trim().trim_start_matches("-I");
    assert_eq!(fs::canonicalize(shown).unwrap(), include, "{cflags}");
    let statics = query(&moved, &["--libs", "--static", "disruptor_mp"]);
    assert!(
        statics.contains("-ldisruptor_mp") && statics.contains("-lpthread"),
        "{statics}"
    );

    // One program built with nothing but the compiler and pkg-config, from
    // the moved prefix, run without LD_LIBRARY_PATH.
    let libs = query(&moved, &["--libs", "disruptor_mp"]);
    let libdir = query(&moved, &["--variable=libdir", "disruptor_mp"]);
    let exe = pkg.work.join("stat-from-moved-prefix");
    let mut cc = Command::new("cc");
    cc.args(WARNINGS.split(' '))
        .arg("-std=c11")
        .args(cflags.split_whitespace())
        .arg(repo().join("c_examples/stat.c"))
        .arg("-o")
        .arg(&exe)
        .args(libs.split_whitespace())
        .arg(format!("-Wl,-rpath,{}", libdir.trim()));
    must(
        cc,
        "cc stat.c $(pkg-config --cflags --libs disruptor_mp)",
        BUILD,
    );
    let ring = ShmName::new("pc-stat");
    let mut create = dmp();
    create.args(["create", &ring.0, "--capacity", "128", "--slot-size", "24"]);
    must(create, "dmp create", RUN);
    let mut stat = Command::new(&exe);
    stat.arg(&ring.0).env_remove("LD_LIBRARY_PATH");
    let out = must(stat, "stat (pkg-config build)", RUN);
    assert!(
        out.contains("capacity        128 slots") && out.contains("slot size       24 bytes"),
        "{out}"
    );
}

/// A CMake project that only calls find_package(disruptor_mp REQ) and
/// prints what it found.
pub(crate) fn find_package_probe(prefix: &Path, requested: &str) -> String {
    let dir = work_root().join(format!("probe-{requested}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("src")).unwrap();
    fs::write(
        dir.join("src/CMakeLists.txt"),
        "cmake_minimum_required(VERSION 3.14)\nproject(probe LANGUAGES NONE)\n\
         find_package(disruptor_mp ${REQ} QUIET)\n\
         message(STATUS \"found=${disruptor_mp_FOUND} version=${disruptor_mp_VERSION}\")\n\
         if(disruptor_mp_FOUND)\n\
           get_target_property(loc disruptor_mp::disruptor_mp IMPORTED_LOCATION)\n\
           get_target_property(soname disruptor_mp::disruptor_mp IMPORTED_SONAME)\n\
           get_target_property(static disruptor_mp::disruptor_mp_static INTERFACE_LINK_LIBRARIES)\n\
           message(STATUS \"location=${loc} soname=${soname} static-libs=${static}\")\n\
           foreach(t disruptor_mp::static disruptor_mp::cxx)\n\
             if(TARGET ${t})\n\
               message(STATUS \"target ${t}\")\n\
             endif()\n\
           endforeach()\n\
         endif()\n",
    )
    .unwrap();
    let mut c = Command::new(cmake());
    c.arg("-S")
        .arg(dir.join("src"))
        .arg("-B")
        .arg(dir.join("build"))
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
        .arg(format!("-DREQ={requested}"));
    must(c, &format!("find_package probe {requested}"), BUILD)
}

#[test]
fn cmake_package_has_its_targets_and_applies_the_0x_version_rule() {
    let pkg = package();
    let (major, minor, patch) = support::version();
    let v = disruptor_mp::VERSION;

    let out = find_package_probe(&pkg.prefix, &format!("{major}.{minor}"));
    assert!(out.contains(&format!("found=1 version={v}")), "{out}");
    let lib = pkg.prefix.join(format!("lib/libdisruptor_mp.so.{v}"));
    assert!(
        out.contains(&format!("location={}", lib.display()))
            && out.contains(&format!("soname=libdisruptor_mp.so.{major}")),
        "{out}"
    );
    let native = fs::read_to_string(repo().join("cmake/native-static-libs.txt")).unwrap();
    assert!(
        out.contains(&format!("static-libs={}", native.trim().replace(' ', ";"))),
        "{out}"
    );
    assert!(
        out.contains("target disruptor_mp::static") && out.contains("target disruptor_mp::cxx"),
        "{out}"
    );

    // Same major (and, while it is 0, same minor): accepted. A newer
    // patch, the next major, and at 0.x another minor: refused.
    let out = find_package_probe(&pkg.prefix, &format!("{major}.{minor}.0"));
    assert!(out.contains("found=1"), "{out}");
    let mut refused = vec![
        format!("{major}.{minor}.{}", patch + 1),
        format!("{}.0", major + 1),
    ];
    if major == 0 {
        refused.push(format!("0.{}", minor + 1));
        if minor > 0 {
            refused.push(format!("0.{}", minor - 1));
        }
    }
    for req in &refused {
        let out = find_package_probe(&pkg.prefix, req);
        assert!(
            out.contains("found=0"),
            "find_package(disruptor_mp {req}) must fail: {out}"
        );
    }
}

#[test]
fn cmake_superbuild_and_install_script_build_install_the_same_package() {
    let pkg = package();
    let root = pkg.work.join("superbuild");
    let _ = fs::remove_dir_all(&root);
    let build = root.join("build");
    let prefix = root.join("prefix");
    // The top-level CMakeLists.txt: cargo in its own target directory (no
    // wait for this test run's cargo lock), then `cmake --install`.
    let mut configure = Command::new(cmake());
    configure
        .arg("-S")
        .arg(repo())
        .arg("-B")
        .arg(&build)
        .arg(format!("-DCMAKE_INSTALL_PREFIX={}", prefix.display()))
        .env_remove("CARGO_TARGET_DIR");
    must(configure, "cmake configure (top level)", BUILD);
    let mut b = Command::new(cmake());
    b.arg("--build").arg(&build).env("PATH", path_with_cargo());
    must(b, "cmake --build (cargo build --release)", BUILD);
    let mut i = Command::new(cmake());
    i.arg("--install").arg(&build);
    must(i, "cmake --install", BUILD);
    assert_eq!(tree(&prefix), tree(&pkg.prefix));
    for f in [
        "lib/cmake/disruptor_mp/disruptor_mpConfig.cmake",
        "lib/cmake/disruptor_mp/disruptor_mpConfigVersion.cmake",
        "lib/pkgconfig/disruptor_mp.pc",
        "lib/pkgconfig/disruptor_mp-static.pc",
        "include/disruptor_mp.h",
        "include/disruptor_mp.hpp",
    ] {
        assert_eq!(
            fs::read_to_string(prefix.join(f)).unwrap(),
            fs::read_to_string(pkg.prefix.join(f)).unwrap(),
            "{f} differs between cmake --install and scripts/install.sh"
        );
    }

    // scripts/install.sh building for itself, in the target directory the
    // superbuild filled: cargo recompiles the library (other arguments),
    // prints the system libraries the static archive needs, and the script
    // fails if they are not the ones recorded in cmake/native-static-libs.txt.
    let script_prefix = root.join("script-prefix");
    let mut script = command("bash", &[]);
    script
        .arg(repo().join("scripts/install.sh"))
        .arg("--prefix")
        .arg(&script_prefix)
        .env("CARGO_TARGET_DIR", build.join("cargo"))
        .env("PATH", path_with_cargo());
    let out = must(script, "scripts/install.sh (its own cargo build)", BUILD);
    assert!(out.contains("native-static-libs:"), "{out}");
    assert_eq!(tree(&script_prefix), tree(&pkg.prefix));

    // Delete the build tree: the installed package stands alone. A user's
    // project finds it and its program runs without LD_LIBRARY_PATH.
    fs::remove_dir_all(&build).unwrap();
    let user = root.join("user-build");
    cmake_build("c_examples", &user, &prefix, "");
    let ring = ShmName::new("superbuild");
    let mut p = Command::new(user.join("producer"));
    p.args([&ring.0, "--create", "--count", "1000", "--capacity", "1024"])
        .env_remove("LD_LIBRARY_PATH");
    must(p, "producer (against the superbuild install)", RUN);
    let mut s = Command::new(user.join("stat"));
    s.arg(&ring.0).env_remove("LD_LIBRARY_PATH");
    let out = must(s, "stat", RUN);
    assert!(out.contains("cursor          999"), "{out}");
}

/// PATH with the directory of the cargo running this test in front (in
/// case it is not on PATH).
pub(crate) fn path_with_cargo() -> std::ffi::OsString {
    let mut paths = Vec::new();
    if let Ok(cargo) = std::env::var("CARGO") {
        paths.push(Path::new(&cargo).parent().unwrap().to_path_buf());
    }
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}
