//! What the prefix holds besides the library: `bin/dmp` working on a ring,
//! its man pages, and every binary stripped with its debug info split into
//! a `.debug` file that gdb finds by itself.

use super::*;

fn sections(path: &Path) -> String {
    let out = Command::new("readelf")
        .args(["-S", "-W"])
        .arg(path)
        .output()
        .expect("readelf runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn installed_dmp_runs_stat_on_a_ring_and_has_man_pages() {
    let pkg = package();
    let tool = pkg.prefix.join("bin/dmp");
    let ring = ShmName::new("bin-dmp");
    let mut create = Command::new(&tool);
    create.args(["create", &ring.0, "--capacity", "128", "--slot-size", "32"]);
    must(create, "bin/dmp create", RUN);
    let mut produce = Command::new(&tool);
    produce.args(["produce", &ring.0, "--count", "300", "--batch", "10"]);
    must(produce, "bin/dmp produce", RUN);
    let mut stat = Command::new(&tool);
    stat.arg("stat").arg(&ring.0).env_remove("LD_LIBRARY_PATH");
    let out = must(stat, "bin/dmp stat", RUN);
    assert!(
        out.contains("299"),
        "dmp stat does not show cursor 299:\n{out}"
    );

    let man1 = pkg.prefix.join("share/man/man1");
    let page = fs::read_to_string(man1.join("dmp.1")).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH dmp 1"),
        "{page}"
    );
    assert!(
        page.contains("dmp\\-stat(1)"),
        "dmp.1 lists no dmp-stat(1):\n{page}"
    );
    let stat_page = fs::read_to_string(man1.join("dmp-stat.1")).unwrap();
    assert!(
        stat_page.contains(".TH dmp-stat 1") && stat_page.contains("\\-\\-json"),
        "{stat_page}"
    );
    // No `cargo install` bookkeeping anywhere in the prefix.
    for f in tree(&pkg.prefix) {
        assert!(!f.contains(".crates"), "the prefix holds {f}");
    }
}

#[test]
fn installed_binaries_are_stripped_with_a_debuglink_gdb_follows() {
    let pkg = package();
    let v = disruptor_mp::VERSION;
    let real = format!("libdisruptor_mp.so.{v}");
    for (dir, file) in [("lib", real.as_str()), ("bin", "dmp")] {
        let path = pkg.prefix.join(dir).join(file);
        let s = sections(&path);
        assert!(
            !s.contains(".debug_info"),
            "{file} keeps its debug info:\n{s}"
        );
        assert!(
            s.contains(".gnu_debuglink"),
            "{file} has no debug link:\n{s}"
        );
        let link = Command::new("readelf")
            .arg("--string-dump=.gnu_debuglink")
            .arg(&path)
            .output()
            .expect("readelf runs");
        assert!(
            String::from_utf8_lossy(&link.stdout).contains(&format!("{file}.debug")),
            "{file}: {}",
            String::from_utf8_lossy(&link.stdout)
        );
        let debug = pkg
            .prefix
            .join(dir)
            .join(".debug")
            .join(format!("{file}.debug"));
        assert!(
            sections(&debug).contains(".debug_info"),
            "{}",
            debug.display()
        );
    }
    // The archive keeps its symbols (programs link it) but no DWARF.
    let a = sections(&pkg.prefix.join("lib/libdisruptor_mp.a"));
    assert!(a.contains(".text") && !a.contains(".debug_info"));

    // gdb, given only the installed file, finds the source lines through
    // the link: the same query says nothing once the .debug file is gone.
    let gdb = find_or_install("gdb", "gdb", None);
    let copy = pkg.work.join("gdb-prefix");
    let _ = fs::remove_dir_all(&copy);
    let mut cp = command("cp", &["-a"]);
    cp.arg(&pkg.prefix).arg(&copy);
    must(cp, "cp -a prefix", RUN);
    let line_of_dmp_claim = || {
        let mut g = Command::new(&gdb);
        g.args(["-batch", "-nx", "-ex", "info line dmp_claim"])
            .arg(copy.join("lib").join(&real));
        must(g, "gdb -batch -ex 'info line dmp_claim'", RUN)
    };
    let out = line_of_dmp_claim();
    assert!(out.contains("Line ") && out.contains(".rs\""), "{out}");
    fs::remove_dir_all(copy.join("lib/.debug")).unwrap();
    let out = line_of_dmp_claim();
    assert!(!out.contains(".rs\""), "{out}");
}
