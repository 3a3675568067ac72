//! A log folder where a command reads a trace file (`replay`, `plan`): the
//! folder (a run's `--out`, or a served session's data folder) is first
//! written as a trace in the temporary folder, exactly as `export` writes
//! it, and that trace is removed once the command is done with it.

use super::Failure;
use super::trace_cmd::failure;
use pacsim::trace::source::RecordSource;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The trace a command reads: the file it was given, or a temporary
/// export of the log folder it was given.
pub struct TraceInput {
    path: PathBuf,
    temporary: bool,
    /// What a salvaging export of a damaged folder could not read.
    pub salvage_note: Option<String>,
}

impl TraceInput {
    /// `input` as a trace; a log folder is exported first (with `salvage`,
    /// what of it can be read).
    pub fn open(input: &Path, salvage: bool) -> Result<Self, Failure> {
        let source = RecordSource::at(input);
        if let RecordSource::Trace(path) = source {
            return Ok(TraceInput {
                path,
                temporary: false,
                salvage_note: None,
            });
        }
        let info = source.info(salvage).map_err(failure)?;
        remove_orphans(&std::env::temp_dir());
        // Unique within the process; the pid keeps processes apart.
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "pacsim-{}-{}.pstrace",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let exported =
            super::export_cmd::write_pstrace(&source, &info, &path, salvage).map_err(|e| {
                let _ = std::fs::remove_file(&path);
                failure(e)
            })?;
        Ok(TraceInput {
            path,
            temporary: true,
            salvage_note: exported.note,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Removes the temporary traces of pacsim processes that are gone (an
/// interrupted `replay` or `plan` of a folder leaves its export behind).
/// Linux only: there a process is alive while `/proc/PID` exists.
fn remove_orphans(dir: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = orphan_pid(&name.to_string_lossy()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The pid in `pacsim-PID-N.pstrace`, the name [`TraceInput::open`] gives.
fn orphan_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("pacsim-")?.strip_suffix(".pstrace")?;
    let (pid, n) = rest.split_once('-')?;
    n.parse::<u32>().ok()?;
    pid.parse().ok()
}

impl Drop for TraceInput {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_its_own_temporary_names_are_taken_for_orphans() {
        assert_eq!(orphan_pid("pacsim-4242-0.pstrace"), Some(4242));
        assert_eq!(orphan_pid("pacsim-4242.pstrace"), None);
        assert_eq!(orphan_pid("pacsim-x-0.pstrace"), None);
        assert_eq!(orphan_pid("session.pstrace"), None);
    }

    #[test]
    fn a_dead_processs_trace_is_removed_and_a_live_ones_kept() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        // No process has pid 4294967 (above Linux's pid_max).
        let dead = dir.path().join("pacsim-4294967-0.pstrace");
        let live = dir
            .path()
            .join(format!("pacsim-{}-9.pstrace", std::process::id()));
        let other = dir.path().join("keep.pstrace");
        for f in [&dead, &live, &other] {
            std::fs::write(f, b"x").unwrap();
        }
        remove_orphans(dir.path());
        assert!(!dead.exists());
        assert!(live.exists() && other.exists());
    }
}
