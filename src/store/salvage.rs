//! `--salvage` for a log folder, without sled: the database's files are
//! scanned read-only for the frames of [`super::frame`] (each checked by its
//! CRC), so a log that sled refuses to open (a damaged page, a full disk)
//! still gives back every record up to its first lost chunk. sled may hold
//! a chunk more than once (an old copy not yet collected); any intact copy
//! serves.

use super::frame::{
    self, ChunkHead, END_MAGIC, EndBody, MAX_CHUNK_HEAD, META_MAGIC, MetaBody, TAGGED_HEAD,
};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// How far ahead of the scan position the buffer is kept filled.
const WINDOW: usize = 1 << 20;
/// Bytes read at a time.
const BLOCK: usize = 8 << 20;

/// Where an intact chunk frame lies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub file: PathBuf,
    pub offset: u64,
    pub head: ChunkHead,
}

/// Everything intact the scan found in a folder.
#[derive(Debug, Default)]
pub struct Carved {
    pub meta: Option<MetaBody>,
    pub end: Option<EndBody>,
    /// By first seq; one intact copy each.
    pub chunks: BTreeMap<u64, Found>,
}

impl Carved {
    /// The chunks that continue one another from seq 0, and the first seq
    /// no intact chunk holds when a gap ends them early.
    pub fn contiguous(&self) -> (Vec<&Found>, Option<u64>) {
        let mut next = 0u64;
        let mut out = Vec::new();
        for found in self.chunks.values() {
            match found.head.first_seq.cmp(&next) {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => {
                    next += u64::from(found.head.count);
                    out.push(found);
                }
                std::cmp::Ordering::Greater => return (out, Some(next)),
            }
        }
        (out, None)
    }

    /// Records in intact chunks past the first gap (lost to a reader that
    /// needs them in order).
    pub fn records_after_gap(&self, gap: u64) -> u64 {
        self.chunks
            .range(gap..)
            .map(|(_, f)| u64::from(f.head.count))
            .sum()
    }
}

/// Scans `db` and `blobs/*` in `dir`, reading only.
pub fn carve(dir: &Path) -> std::io::Result<Carved> {
    let mut files = vec![dir.join("db")];
    if let Ok(blobs) = std::fs::read_dir(dir.join("blobs")) {
        let mut paths: Vec<PathBuf> = blobs.flatten().map(|e| e.path()).collect();
        paths.sort();
        files.extend(paths);
    }
    let mut carved = Carved::default();
    for file in files.iter().filter(|f| f.is_file()) {
        scan(file, &mut carved)?;
    }
    Ok(carved)
}

/// Reads the frame at `found` back (its CRC is checked again).
pub fn read_chunk(found: &Found) -> Result<Vec<u8>, String> {
    let mut file = File::open(&found.file).map_err(|e| e.to_string())?;
    file.seek(SeekFrom::Start(found.offset))
        .map_err(|e| e.to_string())?;
    let mut bytes = vec![0u8; found.head.frame_len()];
    file.read_exact(&mut bytes).map_err(|e| e.to_string())?;
    frame::open_chunk(&bytes).map(|(_, raw)| raw)
}

/// A byte buffer over a file that keeps the bytes from the scan position
/// on, refilled as the scan moves or a frame needs more.
struct Window {
    file: File,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
}

impl Window {
    /// Makes `buf[at..]` hold `want` bytes if the file has them; drops
    /// what is before `at`. Returns the new index of `at` (0).
    fn ensure(&mut self, at: usize, want: usize) -> std::io::Result<usize> {
        if self.buf.len() - at >= want || self.eof {
            return Ok(at);
        }
        self.buf.drain(..at);
        self.base += at as u64;
        while self.buf.len() < want && !self.eof {
            let more = BLOCK.max(want - self.buf.len()) as u64;
            let n = (&mut self.file).take(more).read_to_end(&mut self.buf)?;
            self.eof = n == 0;
        }
        Ok(0)
    }
}

fn scan(path: &Path, carved: &mut Carved) -> std::io::Result<()> {
    let mut w = Window {
        file: File::open(path)?,
        buf: Vec::new(),
        base: 0,
        eof: false,
    };
    let finder = memchr::memmem::Finder::new(b"PSL");
    let mut pos = 0usize;
    loop {
        pos = w.ensure(pos, WINDOW)?;
        let Some(k) = finder.find(&w.buf[pos..]) else {
            if w.eof {
                return Ok(());
            }
            // Keep the last two bytes: a magic may straddle the refill.
            pos = w.buf.len().saturating_sub(2);
            continue;
        };
        let at = w.ensure(pos + k, MAX_CHUNK_HEAD.max(TAGGED_HEAD))?;
        pos = take_frame(&mut w, at, path, carved)?;
    }
}

/// Takes the frame at `buf[at..]` if there is an intact one; returns the
/// buffer index the scan goes on from (past the frame, or one byte on).
fn take_frame(
    w: &mut Window,
    at: usize,
    path: &Path,
    carved: &mut Carved,
) -> std::io::Result<usize> {
    if let Some(head) = frame::chunk_head(&w.buf[at..]) {
        let len = head.frame_len();
        let at = w.ensure(at, len)?;
        if frame::chunk_intact(&head, &w.buf[at..]) {
            carved.chunks.entry(head.first_seq).or_insert(Found {
                file: path.to_path_buf(),
                offset: w.base + at as u64,
                head,
            });
            return Ok(at + len);
        }
        return Ok(at + 1);
    }
    for magic in [META_MAGIC, END_MAGIC] {
        let Some(body) = frame::tagged_len(&w.buf[at..], magic) else {
            continue;
        };
        let len = TAGGED_HEAD + body;
        let at = w.ensure(at, len)?;
        let bytes = &w.buf[at..];
        let taken = if magic == META_MAGIC {
            frame::open_meta(bytes)
                .map(|m| carved.meta.get_or_insert(m))
                .is_some()
        } else {
            frame::open_end(bytes)
                .map(|e| carved.end.get_or_insert(e))
                .is_some()
        };
        return Ok(if taken { at + len } else { at + 1 });
    }
    Ok(at + 1)
}
