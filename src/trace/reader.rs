//! Reading a trace back: the header, then frame by frame, each checked
//! (length, checksum, kind, record count) before any of its records is
//! handed out, so a damaged frame never yields a partial batch. The first
//! damage ends the reading with an error naming the byte offset, the frame
//! and the record; [`Salvage`] describes what a `--salvage` reader kept.
//!
//! Nothing is sized by a length or count read from the file: buffers grow
//! with the bytes that actually arrive, and a record count is checked
//! against the bytes that hold the records before anything is reserved.

use super::format::{
    Damage, FOOTER_PAYLOAD_BYTES, FORMAT_VERSION, FRAME_HEAD_BYTES, FRAME_MAX_BYTES,
    HEADER_MAX_BYTES, HEADER_PREFIX_BYTES, KIND_FOOTER, KIND_RECORDS, MAGIC, MIN_RECORD_BYTES,
    RECORDS_PAYLOAD_HEAD, TraceError, TraceHeader, frame_crc,
};
use crate::event::Record;
use crate::model::SimTime;
use crate::store::Digest;
use crate::store::codec::{Decoder, Encoding};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The footer's claims, checked against what was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footer {
    pub records: u64,
    pub digest: Digest,
}

/// One checked records frame: its encoded records, not yet decoded.
pub struct RawFrame<'a> {
    pub offset: u64,
    pub frame: u64,
    pub first_seq: u64,
    pub count: u32,
    pub bytes: &'a [u8],
}

pub struct TraceReader<R: Read> {
    input: R,
    path: PathBuf,
    header: TraceHeader,
    /// Bytes consumed so far.
    offset: u64,
    /// End of the last good frame (header end before any).
    good_end: u64,
    frame: u64,
    next_seq: u64,
    /// Where decoding stands: after the last frame `next_records` decoded
    /// (a reader is read either raw, by the verifier, or decoded).
    decoder: Decoder,
    hasher: blake3::Hasher,
    footer: Option<Footer>,
    buf: Vec<u8>,
}

impl TraceReader<BufReader<File>> {
    pub fn open(path: &Path) -> Result<Self, TraceError> {
        let file = File::open(path).map_err(|source| TraceError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        TraceReader::new(BufReader::with_capacity(1 << 20, file), path)
    }
}

impl<R: Read> TraceReader<R> {
    /// Reads and checks the header; `path` only names the input in errors.
    pub fn new(mut input: R, path: &Path) -> Result<Self, TraceError> {
        let path = path.to_path_buf();
        let mut prefix = [0u8; HEADER_PREFIX_BYTES];
        let got = read_full(&mut input, &mut prefix).map_err(|source| TraceError::Read {
            path: path.clone(),
            source,
        })?;
        if got < MAGIC.len() || &prefix[..8] != MAGIC {
            return Err(TraceError::NotATrace { path });
        }
        let header_err = |offset: u64, reason: String| TraceError::Header {
            path: path.clone(),
            offset,
            reason,
        };
        if got < HEADER_PREFIX_BYTES {
            return Err(header_err(
                got as u64,
                "the file ends inside the header".into(),
            ));
        }
        let version = u16::from_le_bytes([prefix[8], prefix[9]]);
        if version != FORMAT_VERSION {
            return Err(TraceError::Version {
                path,
                found: version,
            });
        }
        let body_len = u32::from_le_bytes(prefix[10..14].try_into().expect("4 bytes"));
        let body_crc = u32::from_le_bytes(prefix[14..18].try_into().expect("4 bytes"));
        if body_len > HEADER_MAX_BYTES {
            return Err(header_err(
                10,
                format!("header length {body_len} is not plausible"),
            ));
        }
        let mut body = Vec::new();
        let got =
            read_up_to(&mut input, body_len, &mut body).map_err(|source| TraceError::Read {
                path: path.clone(),
                source,
            })?;
        if got < body_len as usize {
            return Err(header_err(
                (HEADER_PREFIX_BYTES + got) as u64,
                "the file ends inside the header".into(),
            ));
        }
        if crc32fast::hash(&body) != body_crc {
            return Err(header_err(10, "header checksum mismatch".into()));
        }
        let header = TraceHeader::decode_body(&body)
            .map_err(|reason| header_err(HEADER_PREFIX_BYTES as u64, reason))?;
        let Some(encoding) = Encoding::named(&header.record_encoding) else {
            return Err(header_err(
                HEADER_PREFIX_BYTES as u64,
                format!(
                    "records are encoded as `{}`; this pacsim reads `{}` and `{}`",
                    header.record_encoding,
                    Encoding::Delta.name(),
                    Encoding::Bincode.name()
                ),
            ));
        };
        let end = (HEADER_PREFIX_BYTES + body.len()) as u64;
        Ok(TraceReader {
            input,
            path,
            header,
            offset: end,
            good_end: end,
            frame: 0,
            next_seq: 0,
            decoder: Decoder::new(encoding, 0, SimTime::ZERO),
            hasher: blake3::Hasher::new(),
            footer: None,
            buf: Vec::with_capacity(1 << 17),
        })
    }

    pub fn header(&self) -> &TraceHeader {
        &self.header
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The encoding its records are in, by its header.
    pub fn encoding(&self) -> Encoding {
        self.decoder.encoding()
    }

    /// Records in the good frames read so far.
    pub fn records_read(&self) -> u64 {
        self.next_seq
    }

    /// The encoded records of the frame `next_raw` returned last.
    pub fn current_records(&self) -> &[u8] {
        self.buf.get(RECORDS_PAYLOAD_HEAD..).unwrap_or(&[])
    }

    /// The footer, once reading reached it (and it matched).
    pub fn footer(&self) -> Option<Footer> {
        self.footer
    }

    fn damaged(&self, offset: u64, damage: Damage, reason: String) -> TraceError {
        TraceError::Damaged {
            path: self.path.clone(),
            offset,
            frame: self.frame,
            record: self.next_seq,
            damage,
            reason,
        }
    }

    fn read_err(&self, source: std::io::Error) -> TraceError {
        TraceError::Read {
            path: self.path.clone(),
            source,
        }
    }

    /// The next records frame, checked; `None` after a footer that matched.
    pub fn next_raw(&mut self) -> Result<Option<RawFrame<'_>>, TraceError> {
        if self.footer.is_some() {
            return Ok(None);
        }
        let start = self.offset;
        let mut head = [0u8; FRAME_HEAD_BYTES];
        let got = read_full(&mut self.input, &mut head).map_err(|e| self.read_err(e))?;
        self.offset += got as u64;
        if got < FRAME_HEAD_BYTES {
            let what = if got == 0 {
                "the file ends before the footer".to_string()
            } else {
                format!("the file ends inside a frame head ({got} of 8 bytes)")
            };
            return Err(self.damaged(start, Damage::Truncated, what));
        }
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes"));
        let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        if len > FRAME_MAX_BYTES || (len as usize) < RECORDS_PAYLOAD_HEAD {
            return Err(self.damaged(start, Damage::Length, format!("frame length {len}")));
        }
        let got = read_up_to(&mut self.input, len, &mut self.buf).map_err(|e| self.read_err(e))?;
        self.offset += got as u64;
        if got < len as usize {
            return Err(self.damaged(
                start,
                Damage::Truncated,
                format!("the file ends inside a frame ({got} of {len} payload bytes)"),
            ));
        }
        if frame_crc(len, &self.buf) != crc {
            return Err(self.damaged(start, Damage::Checksum, "checksum mismatch".into()));
        }
        match self.buf[0] {
            KIND_RECORDS => self.accept_records(start).map(Some),
            KIND_FOOTER => {
                self.accept_footer(start)?;
                Ok(None)
            }
            kind => Err(self.damaged(start, Damage::Content, format!("unknown frame kind {kind}"))),
        }
    }

    fn accept_records(&mut self, start: u64) -> Result<RawFrame<'_>, TraceError> {
        let count = u32::from_le_bytes(self.buf[1..5].try_into().expect("4 bytes"));
        if count == 0 || self.buf.len() == RECORDS_PAYLOAD_HEAD {
            return Err(self.damaged(start, Damage::Content, "an empty records frame".into()));
        }
        let room = (self.buf.len() - RECORDS_PAYLOAD_HEAD) / MIN_RECORD_BYTES;
        if count as usize > room {
            let reason = format!(
                "the frame claims {count} records, but its {} bytes hold at most {room}",
                self.buf.len() - RECORDS_PAYLOAD_HEAD
            );
            return Err(self.damaged(start, Damage::Content, reason));
        }
        let first_seq = self.next_seq;
        let frame = self.frame;
        self.hasher.update(&self.buf[RECORDS_PAYLOAD_HEAD..]);
        self.next_seq += count as u64;
        self.frame += 1;
        self.good_end = self.offset;
        Ok(RawFrame {
            offset: start,
            frame,
            first_seq,
            count,
            bytes: &self.buf[RECORDS_PAYLOAD_HEAD..],
        })
    }

    fn accept_footer(&mut self, start: u64) -> Result<(), TraceError> {
        if self.buf.len() != FOOTER_PAYLOAD_BYTES {
            let reason = format!("a footer of {} bytes", self.buf.len());
            return Err(self.damaged(start, Damage::Content, reason));
        }
        let records = u64::from_le_bytes(self.buf[1..9].try_into().expect("8 bytes"));
        let digest = Digest(self.buf[9..41].try_into().expect("32 bytes"));
        if records != self.next_seq {
            let reason = format!(
                "the footer counts {records} records, the frames hold {}",
                self.next_seq
            );
            return Err(self.damaged(start, Damage::Footer, reason));
        }
        let actual = Digest(*self.hasher.finalize().as_bytes());
        if digest != actual {
            let reason = format!("the footer's digest is {digest}, the records hash to {actual}");
            return Err(self.damaged(start, Damage::Footer, reason));
        }
        let mut extra = [0u8; 1];
        let after = self.offset;
        if read_full(&mut self.input, &mut extra).map_err(|e| self.read_err(e))? > 0 {
            self.frame += 1;
            return Err(self.damaged(after, Damage::Trailing, "bytes after the footer".into()));
        }
        self.frame += 1;
        self.good_end = self.offset;
        self.footer = Some(Footer { records, digest });
        Ok(())
    }

    /// Decodes the next records frame into `out` (cleared first); false at
    /// the end. A frame that does not decode whole is damage: none of its
    /// records is kept.
    pub fn next_records(&mut self, out: &mut Vec<Record>) -> Result<bool, TraceError> {
        out.clear();
        let mut decoder = self.decoder;
        let Some(raw) = self.next_raw()? else {
            return Ok(false);
        };
        let (offset, frame, first_seq, count) = (raw.offset, raw.frame, raw.first_seq, raw.count);
        match decode_frame(&mut decoder, raw.bytes, count, out) {
            Ok(()) => {
                self.decoder = decoder;
                Ok(true)
            }
            Err((seq, reason)) => {
                out.clear();
                // Undo the frame's acceptance: it was not good after all.
                self.next_seq = first_seq;
                self.frame = frame;
                self.good_end = offset;
                Err(TraceError::Damaged {
                    path: self.path.clone(),
                    offset,
                    frame,
                    record: seq,
                    damage: Damage::Content,
                    reason,
                })
            }
        }
    }

    /// Every record, frame by frame; stops after the first error.
    pub fn records(&mut self) -> Records<'_, R> {
        Records {
            reader: self,
            batch: Vec::new().into_iter(),
            done: false,
        }
    }

    /// What a salvaging reader keeps after `error`: the good frames.
    pub fn salvage(&self, error: TraceError, file_bytes: Option<u64>) -> Salvage {
        Salvage {
            records_kept: self.next_seq,
            frames_kept: self.frame,
            bytes_kept: self.good_end,
            file_bytes,
            footer_records: None,
            error,
        }
    }
}

/// Decodes `count` records from `bytes` with `decoder`; on failure, the seq
/// that failed. `count` was checked against `bytes.len()`
/// (`accept_records`), so the reservation is bounded by the frame's size.
fn decode_frame(
    decoder: &mut Decoder,
    mut bytes: &[u8],
    count: u32,
    out: &mut Vec<Record>,
) -> Result<(), (u64, String)> {
    out.reserve(count as usize);
    for _ in 0..count {
        let seq = decoder.next_seq();
        let (record, used) = decoder.decode_one(bytes).map_err(|e| (seq, e))?;
        bytes = &bytes[used..];
        out.push(record);
    }
    if !bytes.is_empty() {
        let seq = decoder.next_seq();
        return Err((
            seq,
            format!("{} bytes after the frame's last record", bytes.len()),
        ));
    }
    Ok(())
}

pub struct Records<'r, R: Read> {
    reader: &'r mut TraceReader<R>,
    batch: std::vec::IntoIter<Record>,
    done: bool,
}

impl<R: Read> Iterator for Records<'_, R> {
    type Item = Result<Record, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.batch.next() {
                return Some(Ok(r));
            }
            if self.done {
                return None;
            }
            let mut out = std::mem::take(&mut self.batch).collect::<Vec<_>>();
            match self.reader.next_records(&mut out) {
                Ok(true) => self.batch = out.into_iter(),
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// What `--salvage` kept from a damaged trace, and what it could not.
#[derive(Debug)]
pub struct Salvage {
    pub records_kept: u64,
    pub frames_kept: u64,
    /// Header and good frames: everything before the first damage.
    pub bytes_kept: u64,
    pub file_bytes: Option<u64>,
    /// The record count of a footer still intact at the end of the file.
    pub footer_records: Option<u64>,
    pub error: TraceError,
}

impl Salvage {
    /// Fills in the sizes from the file itself (the footer may have survived).
    pub fn with_file(mut self, path: &Path) -> Self {
        self.file_bytes = std::fs::metadata(path).ok().map(|m| m.len());
        self.footer_records = tail_footer(path);
        self
    }

    /// One line: kept, lost, why.
    pub fn describe(&self) -> String {
        // Junk after an intact footer: every record and the footer were read.
        if let (Some(Damage::Trailing), Some(at), Some(len)) =
            (self.error.damage(), self.error.offset(), self.file_bytes)
        {
            return format!(
                "salvaged all {} records in {} frames, and the footer; lost the {} bytes after it; first damage: {}",
                self.records_kept,
                self.frames_kept,
                len.saturating_sub(at),
                self.error
            );
        }
        let lost_bytes = self
            .file_bytes
            .map(|f| format!("{} bytes", f.saturating_sub(self.bytes_kept)))
            .unwrap_or_else(|| "an unknown number of bytes".into());
        let lost_records = match self.footer_records {
            Some(n) => format!("{} records", n.saturating_sub(self.records_kept)),
            None => "an unknown number of records (no intact footer)".into(),
        };
        format!(
            "salvaged {} records in {} frames ({} bytes); lost {lost_bytes}, {lost_records}; first damage: {}",
            self.records_kept, self.frames_kept, self.bytes_kept, self.error
        )
    }
}

/// The record count of an intact footer at the very end of the file, if
/// there is one (the footer has a fixed size, so it can be found from the
/// end even when a frame before it is damaged).
pub fn tail_footer(path: &Path) -> Option<u64> {
    let size = (FRAME_HEAD_BYTES + FOOTER_PAYLOAD_BYTES) as u64;
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.checked_sub(size)?)).ok()?;
    let mut bytes = [0u8; FRAME_HEAD_BYTES + FOOTER_PAYLOAD_BYTES];
    file.read_exact(&mut bytes).ok()?;
    let frame_len = u32::from_le_bytes(bytes[..4].try_into().ok()?);
    let crc = u32::from_le_bytes(bytes[4..8].try_into().ok()?);
    let payload = &bytes[FRAME_HEAD_BYTES..];
    let ok = frame_len as usize == FOOTER_PAYLOAD_BYTES
        && frame_crc(frame_len, payload) == crc
        && payload[0] == KIND_FOOTER;
    ok.then(|| u64::from_le_bytes(payload[1..9].try_into().expect("8 bytes")))
}

/// Reads up to `len` bytes into `buf` (cleared first); returns how many
/// came. `buf` grows with what arrives, so a damaged length in a short file
/// costs no more memory than the file holds.
fn read_up_to(input: &mut impl Read, len: u32, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    buf.clear();
    input.by_ref().take(u64::from(len)).read_to_end(buf)
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
