//! One exit code per kind of failure, documented in `dmp --help` and
//! OPERATIONS.md; README's command table against the tool's own help.

use crate::support::{self, repo_root, ShmName};
use crate::*;

#[test]
fn each_kind_of_failure_has_its_exit_code() {
    let _serial = support::serial();
    let name = ShmName::new("ops-codes");
    ok(&["create", &name.0, "--capacity", "16"]);
    let text = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(text.path(), "text").unwrap();
    let txt = text.path().to_str().unwrap();
    let _live = consumer(&[&name.0], "w", &["--count", "1"]);
    let missing = "dmp-test-ops-no-such-ring";
    let cases: Vec<(i32, Vec<&str>)> = vec![
        (
            1,
            vec!["create", &name.0, "--capacity", "32", "--open-existing"],
        ),
        (2, vec!["stat", &name.0, "--no-such-option"]),
        (2, vec!["create", missing, "--capacity", "3"]),
        (3, vec!["stat", missing]),
        (3, vec!["rm", missing]),
        (4, vec!["stat", "--file", txt]),
        (4, vec!["rm", "--force", "--file", txt]),
        (5, vec!["rm", &name.0]),
        (5, vec!["create", &name.0]),
        (
            6,
            vec!["produce", missing, "--timeout-ms", "50", "--count", "1"],
        ),
    ];
    for (want, args) in &cases {
        let (code, out) = dmp_code(args, &[]);
        assert_eq!(code, *want, "dmp {}:\n{out}", args.join(" "));
    }
    // The codes are documented where operators look.
    let help = ok(&["--help"]);
    let doc = std::fs::read_to_string(repo_root().join("docs/OPERATIONS.md")).unwrap();
    for (code, word) in [
        (1, "other"),
        (2, "usage"),
        (3, "not found"),
        (4, "not a (usable) ring"),
        (5, "refused"),
        (6, "timeout"),
    ] {
        assert!(help.contains(&format!("{code} {word}")), "{help}");
        assert!(
            doc.contains(&format!("| {code} | {word}")),
            "OPERATIONS.md: {code}"
        );
    }
}

/// The rows of README's command table: (subcommand, row text).
fn readme_rows() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let at = readme
        .find("| command | what it does |")
        .expect("the command table");
    readme[at..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cmd = l
                .trim_start_matches("| `dmp ")
                .split([' ', '`'])
                .next()
                .unwrap();
            (cmd.to_string(), l.to_string())
        })
        .collect()
}

/// The long options of `dmp SUB --help`.
fn long_options(sub: &str) -> Vec<String> {
    let help = ok(&[sub, "--help"]);
    help.lines()
        .filter_map(|l| l.trim_start().split_once("--"))
        .filter(|(before, _)| before.is_empty() || before.ends_with(", "))
        .map(|(_, rest)| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            format!("--{name}")
        })
        .filter(|o| o != "--help" && o != "--version")
        .collect()
}

#[test]
fn readme_lists_every_command_and_the_observing_commands_options() {
    let help = ok(&["--help"]);
    let commands: Vec<String> = help
        .split_once("Commands:\n")
        .unwrap()
        .1
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.contains(&"ls".to_string()), "{help}");
    let rows = readme_rows();
    for c in &commands {
        let row = rows
            .iter()
            .find(|(r, _)| r == c)
            .unwrap_or_else(|| panic!("README's command table has no `dmp {c}` row"));
        let options = long_options(c);
        // Every option the row names exists.
        for word in row
            .1
            .split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-'))
        {
            if word.starts_with("--") {
                assert!(
                    options.contains(&word.to_string()),
                    "{c}: no {word} in {options:?}"
                );
            }
        }
        // The observing and creating commands: every option is named.
        if ["create", "stat", "inspect", "ls", "rm"].contains(&c.as_str()) {
            for o in &options {
                assert!(
                    row.1.contains(o.as_str()),
                    "README's `dmp {c}` row lacks {o}"
                );
            }
        }
    }
    for (r, _) in &rows {
        assert!(
            commands.contains(r),
            "README lists `dmp {r}`, which is not a command"
        );
    }
}
