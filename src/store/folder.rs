//! Claiming a folder for a new event log. A log is never written over
//! silently: a folder that already holds one is refused unless the caller
//! forces it, and then the old log goes as a whole before the new one
//! starts; a folder that holds anything else is never touched; a log
//! another process still writes is never removed.

use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Why a folder cannot take a new log.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error(
        "{path} already holds a pacsim event log; choose another --out, or add --force to replace it"
    )]
    HoldsLog { path: PathBuf },
    #[error(
        "{path} exists and is neither empty nor a pacsim event log; pacsim writes its log only into a new or empty folder"
    )]
    Occupied { path: PathBuf },
    #[error("{path} is in use by another pacsim process (its event log is open there)")]
    InUse { path: PathBuf },
    #[error("cannot prepare the event log folder {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Makes `dir` ready for a new log: created if missing (with its parents),
/// kept if empty, emptied if it holds a log and `force` is given.
pub fn claim(dir: &Path, force: bool) -> Result<(), FolderError> {
    let io = |source| FolderError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(e)),
    }
    if !dir.is_dir() {
        return Err(FolderError::Occupied {
            path: dir.to_path_buf(),
        });
    }
    if fs::read_dir(dir).map_err(io)?.next().is_none() {
        return Ok(());
    }
    if !holds_log(dir) {
        return Err(FolderError::Occupied {
            path: dir.to_path_buf(),
        });
    }
    if in_use(dir).map_err(io)? {
        return Err(FolderError::InUse {
            path: dir.to_path_buf(),
        });
    }
    if !force {
        return Err(FolderError::HoldsLog {
            path: dir.to_path_buf(),
        });
    }
    fs::remove_dir_all(dir).map_err(io)?;
    fs::create_dir(dir).map_err(io)
}

/// Whether `dir` looks like a sled database: its config and data file and
/// nothing that sled does not write.
pub fn holds_log(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    let mut has_db = false;
    for entry in entries.flatten() {
        match entry.file_name().to_str() {
            Some("db") => has_db = true,
            Some("conf" | "blobs" | "snap.tmp") => {}
            Some(name) if name.starts_with("snap.") => {}
            _ => return false,
        }
    }
    has_db
}

/// Whether another process holds the log's lock (sled locks its `db` file
/// exclusively while open). A log this process has just closed can stay
/// locked for a moment, while sled's background threads let go of the
/// file, so a held lock is asked again for up to a second before it counts.
pub fn in_use(dir: &Path) -> std::io::Result<bool> {
    const TRIES: u32 = 50;
    for _ in 1..TRIES {
        if !locked(dir)? {
            return Ok(false);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    locked(dir)
}

fn locked(dir: &Path) -> std::io::Result<bool> {
    let file = match File::open(dir.join("db")) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    match file.try_lock() {
        Ok(()) => {
            file.unlock()?;
            Ok(false)
        }
        Err(fs::TryLockError::WouldBlock) => Ok(true),
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EventLog;

    fn finished_log(dir: &Path) {
        let log = EventLog::create(dir, "scenario text", 7).unwrap();
        log.finish().unwrap();
    }

    #[test]
    fn a_new_or_empty_folder_is_claimed() {
        let root = tempfile::tempdir().unwrap();
        claim(&root.path().join("a/b/new"), false).unwrap();
        assert!(root.path().join("a/b/new").is_dir());
        claim(&root.path().join("a/b/new"), false).unwrap();
    }

    #[test]
    fn a_folder_with_a_log_is_refused_and_forced_whole() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("run");
        finished_log(&dir);
        let err = claim(&dir, false).unwrap_err();
        assert!(matches!(err, FolderError::HoldsLog { .. }), "{err}");
        assert!(err.to_string().contains("--force"));
        assert!(dir.join("db").exists(), "a refusal touches nothing");
        claim(&dir, true).unwrap();
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[test]
    fn a_folder_with_other_files_is_never_touched() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("mine");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("notes.txt"), "keep").unwrap();
        for force in [false, true] {
            let err = claim(&dir, force).unwrap_err();
            assert!(matches!(err, FolderError::Occupied { .. }), "{err}");
        }
        assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "keep");
        let file = root.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(matches!(
            claim(&file, true),
            Err(FolderError::Occupied { .. })
        ));
    }

    #[test]
    fn a_log_open_elsewhere_is_in_use_even_when_forced() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("busy");
        let open = EventLog::create(&dir, "scenario text", 7).unwrap();
        let err = claim(&dir, true).unwrap_err();
        assert!(matches!(err, FolderError::InUse { .. }), "{err}");
        drop(open);
        claim(&dir, true).unwrap();
    }
}
