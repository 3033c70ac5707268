//! The layer table of docs/ARCHITECTURE.md is the import graph: every
//! module of the library is in it, and every `crate::` path in a module's
//! code names a module listed below it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The modules of the layer table, bottom up.
fn table() -> Vec<String> {
    let doc = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let layers = doc
        .split("\n## Layers\n")
        .nth(1)
        .expect("ARCHITECTURE.md has a Layers section");
    let section = layers.split("\n## ").next().unwrap();
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None`: lib.rs).
fn module_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(root().join("src")).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    match first.strip_suffix(".rs") {
        Some("lib") => None,
        Some(m) => Some(m.to_string()),
        None => Some(first),
    }
}

/// The top-level modules named by `crate::` paths in the code of `text`
/// (comment lines skipped: doc links may point anywhere).
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

#[test]
fn every_import_points_down_the_layer_table() {
    let table = table();
    assert!(table.len() > 10, "layer table not found: {table:?}");
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    let mut modules = BTreeSet::new();
    let mut wrong = Vec::new();
    for file in &files {
        let Some(module) = module_of(file) else {
            continue;
        };
        let Some(level) = table.iter().position(|m| *m == module) else {
            wrong.push(format!(
                "{}: module {module} is not in the layer table",
                file.display()
            ));
            continue;
        };
        modules.insert(module.clone());
        let text = std::fs::read_to_string(file).unwrap();
        for import in imports(&text) {
            if import == module {
                continue;
            }
            match table.iter().position(|m| *m == import) {
                Some(i) if i < level => {}
                Some(_) => wrong.push(format!(
                    "{}: {module} uses crate::{import}, which the layer table puts above it",
                    file.display()
                )),
                // Macros exported at the crate root (`crate::fault_point!`).
                None if text.contains(&format!("macro_rules! {import}"))
                    || import.ends_with('!') => {}
                None => wrong.push(format!(
                    "{}: {module} uses crate::{import}, which is not in the layer table",
                    file.display()
                )),
            }
        }
    }
    for m in &table {
        if !modules.contains(m) {
            wrong.push(format!(
                "the layer table lists {m}, which src/ does not have"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/ARCHITECTURE.md, Layers:\n{}",
        wrong.join("\n")
    );
}
