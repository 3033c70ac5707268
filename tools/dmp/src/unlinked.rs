//! Rings whose name is gone but which processes still use: after `dmp rm
//! --force` (or a `--reclaim-stale` that replaced a ring under a process
//! that had just opened it) the participants go on with a segment no
//! command can open by name. The kernel still shows it: a process holds
//! the segment open (participants keep the descriptor for their lease
//! locks) and maps it, and both show up in /proc as the old path followed
//! by " (deleted)". This file finds them, confirms through the open
//! descriptor that the file starts with the ring magic, and names the
//! processes (those of the user running dmp; every process as root).

use disruptor_mp::layout::MAGIC;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

const DELETED: &str = " (deleted)";

/// One unlinked ring and the processes that still use it.
#[derive(Debug, Clone)]
pub struct Unlinked {
    /// The path it had.
    pub path: PathBuf,
    pub ino: u64,
    /// (pid, command name), by pid.
    pub processes: Vec<(u32, String)>,
}

impl Unlinked {
    /// "pid 123 (dmp), pid 456 (risk)".
    pub fn who(&self) -> String {
        self.processes
            .iter()
            .map(|(pid, comm)| format!("pid {pid} ({comm})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim_end().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// The path before " (deleted)", if it is in `dir`.
fn deleted_in(target: &str, dir: &Path) -> Option<PathBuf> {
    let path = Path::new(target.strip_suffix(DELETED)?);
    (path.parent() == Some(dir)).then(|| path.to_path_buf())
}

/// Whether the open file behind `/proc/PID/fd/N` starts with the magic;
/// its inode.
fn ring_behind(fd: &Path) -> Option<u64> {
    let mut file = std::fs::File::open(fd).ok()?;
    let ino = file.metadata().ok()?.ino();
    let mut head = [0u8; MAGIC.len()];
    file.read_exact(&mut head).ok()?;
    (head == MAGIC).then_some(ino)
}

/// Every unlinked ring that had its name in `dir` and that a process we
/// may look at still holds open or maps, by path then inode.
pub fn scan(dir: &Path) -> Vec<Unlinked> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    // (path, inode) -> pids. Rings are found through open descriptors
    // (whose content can be read); mappings add the processes that closed
    // theirs.
    let mut found: BTreeMap<(PathBuf, u64), Vec<u32>> = BTreeMap::new();
    let all = pids();
    for &pid in &all {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.filter_map(|e| e.ok()) {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(path) = target.to_str().and_then(|t| deleted_in(t, &dir)) else {
                continue;
            };
            if let Some(ino) = ring_behind(&fd.path()) {
                let pids = found.entry((path, ino)).or_default();
                if !pids.contains(&pid) {
                    pids.push(pid);
                }
            }
        }
    }
    for &pid in &all {
        let Ok(maps) = std::fs::read_to_string(format!("/proc/{pid}/maps")) else {
            continue;
        };
        for line in maps.lines() {
            // address perms offset dev inode path
            let mut f = line.splitn(6, ' ');
            let (Some(ino), Some(target)) = (f.nth(4), f.next()) else {
                continue;
            };
            let Ok(ino) = ino.parse::<u64>() else {
                continue;
            };
            let Some(path) = deleted_in(target.trim_start(), &dir) else {
                continue;
            };
            if let Some(pids) = found.get_mut(&(path, ino)) {
                if !pids.contains(&pid) {
                    pids.push(pid);
                }
            }
        }
    }
    found
        .into_iter()
        .map(|((path, ino), mut pids)| {
            pids.sort_unstable();
            Unlinked {
                path,
                ino,
                processes: pids.into_iter().map(|p| (p, comm(p))).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_deleted_files_of_the_directory_count() {
        let dir = Path::new("/dev/shm");
        assert_eq!(
            deleted_in("/dev/shm/q (deleted)", dir),
            Some(PathBuf::from("/dev/shm/q"))
        );
        assert_eq!(deleted_in("/dev/shm/q", dir), None);
        assert_eq!(deleted_in("/tmp/q (deleted)", dir), None);
        assert_eq!(deleted_in("/dev/shm/a/q (deleted)", dir), None);
    }
}
