//! Writing a trace while a run goes (or from a stored log): a `RecordSink`
//! that packs encoded records into frames of about 64 KiB, hashes them into
//! the run digest and writes the footer on `finish`. A trace file is
//! written under a temporary name and appears only on `commit`
//! (`atomic.rs`), so a failed or killed run leaves no partial trace.

use super::atomic::AtomicFile;
use super::format::{
    FRAME_HEAD_BYTES, FRAME_TARGET_BYTES, KIND_RECORDS, RECORDS_PAYLOAD_HEAD, TraceError,
    TraceHeader, footer_frame, frame_crc,
};
use crate::event::RecordRef;
use crate::sim::RecordSink;
use crate::store::Digest;
use crate::store::codec::{Encoder, Encoding};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bytes in front of the first record of a frame: frame head + payload head.
const RECORDS_START: usize = FRAME_HEAD_BYTES + RECORDS_PAYLOAD_HEAD;

pub struct TraceWriter<W: Write> {
    out: W,
    path: PathBuf,
    /// The frame being filled: head placeholder, payload head, records.
    frame: Vec<u8>,
    frame_records: u32,
    frame_target: usize,
    encoder: Encoder,
    hasher: blake3::Hasher,
    count: u64,
    /// The first write error; a sink cannot fail mid-run, `finish` reports it.
    error: Option<std::io::Error>,
}

impl TraceWriter<AtomicFile> {
    /// A new trace file at `path`, which appears there (replacing any file
    /// of that name) only once committed: by [`Self::commit`], or by
    /// committing the file that `finish` returns.
    pub fn create(path: &Path, header: &TraceHeader) -> Result<Self, TraceError> {
        let file = AtomicFile::create(path).map_err(|source| TraceError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        TraceWriter::new(file, path, header)
    }

    /// `finish`, then the file is put in place; returns the digest.
    pub fn commit(self) -> Result<Digest, TraceError> {
        let path = self.path.clone();
        let (file, digest) = self.finish()?;
        file.commit()
            .map_err(|source| TraceError::Write { path, source })?;
        Ok(digest)
    }
}

impl<W: Write> TraceWriter<W> {
    /// A trace written to `out`; `path` only names it in errors. Its
    /// records are in the current encoding, whatever `header` says.
    pub fn new(mut out: W, path: &Path, header: &TraceHeader) -> Result<Self, TraceError> {
        let header = TraceHeader {
            record_encoding: Encoding::CURRENT.name().to_string(),
            ..header.clone()
        };
        out.write_all(&header.encode())
            .map_err(|source| TraceError::Write {
                path: path.to_path_buf(),
                source,
            })?;
        let mut frame = Vec::with_capacity(FRAME_TARGET_BYTES + 4096);
        frame.resize(RECORDS_START, 0);
        Ok(TraceWriter {
            out,
            path: path.to_path_buf(),
            frame,
            frame_records: 0,
            frame_target: FRAME_TARGET_BYTES,
            encoder: Encoder::new(Encoding::CURRENT),
            hasher: blake3::Hasher::new(),
            count: 0,
            error: None,
        })
    }

    /// Closes frames once they pass `bytes` (default 64 KiB); small frames
    /// let tests damage many frames of a small trace.
    pub fn with_frame_bytes(mut self, bytes: usize) -> Self {
        self.frame_target = bytes.max(1);
        self
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    fn flush_frame(&mut self) {
        if self.frame_records == 0 {
            return;
        }
        self.hasher.update(&self.frame[RECORDS_START..]);
        let len = (self.frame.len() - FRAME_HEAD_BYTES) as u32;
        self.frame[FRAME_HEAD_BYTES] = KIND_RECORDS;
        self.frame[FRAME_HEAD_BYTES + 1..RECORDS_START]
            .copy_from_slice(&self.frame_records.to_le_bytes());
        let crc = frame_crc(len, &self.frame[FRAME_HEAD_BYTES..]);
        self.frame[..4].copy_from_slice(&len.to_le_bytes());
        self.frame[4..8].copy_from_slice(&crc.to_le_bytes());
        if self.error.is_none()
            && let Err(e) = self.out.write_all(&self.frame)
        {
            self.error = Some(e);
        }
        self.frame.truncate(RECORDS_START);
        self.frame_records = 0;
    }

    /// Writes the last frame and the footer; returns the sink and the digest.
    pub fn finish(mut self) -> Result<(W, Digest), TraceError> {
        self.flush_frame();
        let digest = Digest(*self.hasher.finalize().as_bytes());
        let footer = footer_frame(self.count, &digest.0);
        let result = match self.error.take() {
            Some(e) => Err(e),
            None => self.out.write_all(&footer).and_then(|()| self.out.flush()),
        };
        result.map_err(|source| TraceError::Write {
            path: self.path.clone(),
            source,
        })?;
        Ok((self.out, digest))
    }
}

impl<W: Write> RecordSink for TraceWriter<W> {
    #[inline]
    fn record(&mut self, record: &RecordRef<'_>) {
        self.encoder.encode_into(&mut self.frame, record);
        self.frame_records += 1;
        self.count += 1;
        if self.frame.len() >= self.frame_target {
            self.flush_frame();
        }
    }
}
