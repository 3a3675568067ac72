//! Output files that appear whole or not at all (traces, JSON Lines,
//! imported scenarios): written under a temporary name in the target's
//! folder, then renamed over the target by [`AtomicFile::commit`]. A writer
//! that fails or panics before that leaves the target as it was, and its
//! temporary file is removed when it is dropped; two writers of one path
//! each fill their own file, and the last to commit wins, whole.
//!
//! A target that exists but is not a regular file (`/dev/stdout`, a FIFO)
//! cannot be replaced by a rename, so it is written directly.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Write buffer: traces arrive in frames of about 64 KiB.
const BUFFER_BYTES: usize = 1 << 20;

pub struct AtomicFile {
    out: BufWriter<Target>,
    /// Where the file appears on commit.
    path: PathBuf,
}

enum Target {
    Temp(tempfile::NamedTempFile),
    Direct(File),
}

impl AtomicFile {
    /// Starts writing `path`; nothing appears there before `commit`.
    pub fn create(path: &Path) -> io::Result<Self> {
        let (target, path) = match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                return Err(io::Error::new(
                    io::ErrorKind::IsADirectory,
                    "it is a folder",
                ));
            }
            // Through a symbolic link to the file it names, so the link stays.
            Ok(m) if m.is_file() => {
                let real = std::fs::canonicalize(path)?;
                (Target::Temp(temp_beside(&real)?), real)
            }
            Ok(_) => (Target::Direct(File::create(path)?), path.to_path_buf()),
            Err(_) => (Target::Temp(temp_beside(path)?), path.to_path_buf()),
        };
        Ok(AtomicFile {
            out: BufWriter::with_capacity(BUFFER_BYTES, target),
            path,
        })
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(self) -> io::Result<()> {
        match self.out.into_inner().map_err(|e| e.into_error())? {
            Target::Direct(_) => Ok(()),
            Target::Temp(temp) => {
                // On disk before it has the name, so a crash right after the
                // rename cannot leave an empty file under it.
                temp.as_file().sync_all()?;
                temp.persist(&self.path).map(drop).map_err(|e| e.error)
            }
        }
    }
}

/// `.<name>.<random>.tmp` in the folder of `path`, so the rename never
/// crosses file systems and a leftover (after a kill) says what it was.
fn temp_beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // What `File::create` gives (0666 less the umask), not tempfile's 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    builder.tempfile_in(dir).map_err(without_temporary_path)
}

/// tempfile's errors end "at path <the temporary file>", a name the user
/// never gave; the caller names the target instead. (Its error keeps the
/// OS error only in that text.)
fn without_temporary_path(e: io::Error) -> io::Error {
    match e.to_string().rsplit_once(" at path ") {
        Some((plain, _)) => io::Error::new(e.kind(), plain.to_string()),
        None => e,
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Write for Target {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Target::Temp(t) => t.write(buf),
            Target::Direct(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Target::Temp(t) => t.flush(),
            Target::Direct(f) => f.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_committed_file_appears_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"whole").unwrap();
        assert!(!path.exists(), "nothing under the name before commit");
        f.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
        assert_eq!(names_in(dir.path()), ["out.txt"]);
    }

    #[test]
    fn a_writer_dropped_before_commit_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, b"old").unwrap();
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(&[7u8; 3 * BUFFER_BYTES]).unwrap();
        assert_eq!(names_in(dir.path()).len(), 2, "a temporary file beside");
        drop(f);
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(names_in(dir.path()), ["out.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_kept_and_its_file_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (real, link) = (dir.path().join("real.txt"), dir.path().join("link.txt"));
        std::fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut f = AtomicFile::create(&link).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        // The mode `File::create` gives, not tempfile's owner-only 0600.
        let plain = dir.path().join("plain.txt");
        File::create(&plain).unwrap();
        let mode = |p: &Path| p.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&real), mode(&plain));
    }

    #[test]
    fn a_folder_is_refused_and_a_device_is_written_directly() {
        let dir = tempfile::tempdir().unwrap();
        let e = AtomicFile::create(dir.path()).err().expect("a folder");
        assert_eq!(e.kind(), io::ErrorKind::IsADirectory);
        let e = AtomicFile::create(&dir.path().join("no/such.txt"))
            .err()
            .expect("no folder");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(!e.to_string().contains(".tmp"), "{e}");
        if Path::new("/dev/null").exists() {
            let mut f = AtomicFile::create(Path::new("/dev/null")).unwrap();
            f.write_all(b"gone").unwrap();
            f.commit().unwrap();
        }
    }
}
