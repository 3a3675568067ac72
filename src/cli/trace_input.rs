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

impl Drop for TraceInput {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
