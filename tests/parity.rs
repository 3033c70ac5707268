//! Every language gets the whole C ABI: each `dmp_*` function that
//! `include/disruptor_mp.h` exports is called by the C++ wrapper
//! (`include/disruptor_mp.hpp` and its parts) and declared in the Python
//! bindings (`FUNCTIONS` in `python/disruptor_mp/_lib.py`), or is listed,
//! with a reason, in `tests/parity_exceptions.txt`. A gap not listed fails,
//! and so does a listed exception that is no gap (any more), so the file
//! stays small and true.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// `text` without C and C++ comments (string literals are not special:
/// the headers hold none with comment markers).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('/') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(body) = tail.strip_prefix("/*") {
            rest = body.find("*/").map_or("", |j| &body[j + 2..]);
            out.push(' ');
        } else if tail.starts_with("//") {
            rest = tail.find('\n').map_or("", |j| &tail[j..]);
        } else {
            out.push('/');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Identifiers `dmp_…` directly followed (after blanks) by `(`: the
/// functions a C or C++ text declares or calls.
fn called(code: &str) -> BTreeSet<String> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("dmp_") {
        if code[..i].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let name: String = code[i..].chars().take_while(|&c| is_ident(c)).collect();
        if code[i + name.len()..].trim_start().starts_with('(') {
            out.insert(name);
        }
    }
    out
}

fn header_functions() -> BTreeSet<String> {
    called(&strip_comments(&read("include/disruptor_mp.h")))
}

fn cpp_calls() -> BTreeSet<String> {
    let mut files: Vec<PathBuf> = vec![repo().join("include/disruptor_mp.hpp")];
    let parts = repo().join("include/disruptor_mp");
    if let Ok(dir) = fs::read_dir(&parts) {
        files.extend(
            dir.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "hpp")),
        );
    }
    files
        .iter()
        .flat_map(|f| called(&strip_comments(&fs::read_to_string(f).unwrap())))
        .collect()
}

/// The keys of the `FUNCTIONS = { "dmp_…": (…), … }` table.
fn python_declarations() -> BTreeSet<String> {
    let lib = read("python/disruptor_mp/_lib.py");
    let start = lib
        .find("\nFUNCTIONS")
        .and_then(|i| lib[i..].find('{').map(|j| i + j))
        .expect("python/disruptor_mp/_lib.py has a FUNCTIONS table");
    let end = lib[start..]
        .find("\n}")
        .map(|j| start + j)
        .expect("the FUNCTIONS table ends with a `}` line");
    lib[start..end]
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix('"'))
        .filter_map(|l| l.split_once("\":").map(|(name, _)| name.to_string()))
        .filter(|n| n.starts_with("dmp_"))
        .collect()
}

/// (function, language) pairs of the exceptions file, with their line.
fn exceptions() -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    for (n, line) in read("tests/parity_exceptions.txt").lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (f, lang) = (words.next().unwrap(), words.next().unwrap_or(""));
        let reason = words.collect::<Vec<_>>().join(" ");
        assert!(
            matches!(lang, "cpp" | "python") && !reason.is_empty(),
            "tests/parity_exceptions.txt:{}: expected FUNCTION cpp|python REASON, found {line:?}",
            n + 1
        );
        out.push((f.to_string(), lang.to_string(), n + 1));
    }
    out
}

#[test]
fn the_parser_finds_declarations_and_calls_but_not_comments() {
    let code = strip_comments(
        "/* dmp_a(x) */ int32_t dmp_b(int x);\n// dmp_c(1)\nx = dmp_d (1); my_dmp_e(2); dmp_f;",
    );
    let names: Vec<String> = called(&code).into_iter().collect();
    assert_eq!(names, ["dmp_b", "dmp_d"]);
}

#[test]
fn every_c_function_is_reached_from_cpp_and_declared_in_python_or_excepted() {
    let header = header_functions();
    assert!(
        header.len() >= 39 && header.contains("dmp_claim"),
        "{header:?}"
    );
    let have = [("cpp", cpp_calls()), ("python", python_declarations())];
    let listed = exceptions();
    let mut problems = Vec::new();
    for f in &header {
        for (lang, reached) in &have {
            let excepted = listed.iter().any(|(g, l, _)| g == f && l == lang);
            if !reached.contains(f) && !excepted {
                problems.push(format!(
                    "{f}: not {} ({lang}); add it there, or a line `{f} {lang} REASON` to tests/parity_exceptions.txt",
                    if *lang == "cpp" {
                        "called by include/disruptor_mp.hpp or its parts"
                    } else {
                        "declared in FUNCTIONS of python/disruptor_mp/_lib.py"
                    }
                ));
            }
        }
    }
    for (f, lang, line) in &listed {
        let reached = &have.iter().find(|(l, _)| l == lang).unwrap().1;
        if !header.contains(f) {
            problems.push(format!(
                "tests/parity_exceptions.txt:{line}: {f} is not a function of include/disruptor_mp.h: remove the line"
            ));
        } else if reached.contains(f) {
            problems.push(format!(
                "tests/parity_exceptions.txt:{line}: {f} is reached from {lang} now: remove the stale exception"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
