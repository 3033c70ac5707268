//! `dmp man DIR` (hidden): writes the tool's man pages, `dmp.1` and one
//! `dmp-<command>.1` per command, generated from the clap definition, so
//! the pages are the `--help` text of the same build. scripts/install.sh
//! and `cmake --install` put them in `share/man/man1`.

use clap::Args;
use std::path::PathBuf;

/// Arguments of `dmp man`.
#[derive(Args)]
pub struct ManArgs {
    /// Directory to write the pages into (created if missing).
    pub dir: PathBuf,
}

/// Writes the pages of `cmd` (the whole `dmp` command) into `a.dir`.
pub fn run(cmd: clap::Command, a: &ManArgs) -> crate::CmdResult {
    std::fs::create_dir_all(&a.dir)
        .map_err(|e| format!("man: cannot create {}: {e}", a.dir.display()))?;
    clap_mangen::generate_to(cmd, &a.dir)
        .map_err(|e| format!("man: cannot write the pages into {}: {e}", a.dir.display()))?;
    Ok(())
}
