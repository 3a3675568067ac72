//! The log's records as the digest and the store see them: encodings
//! appended to a chunk, and each chunk hashed into the running digest as it
//! is cut. The same code runs on the simulation's thread (an in-memory log
//! that hashes inline) and on the writer thread (every other log), so where
//! the work happens cannot change a byte.

use super::codec::{self, Raw};
use crate::event::RecordRef;

/// Chunks are cut (hashed, and stored when persisted) once they reach this
/// size.
pub const CHUNK_BYTES: usize = 64 * 1024;

pub struct Chunker {
    hasher: blake3::Hasher,
    chunk: Vec<u8>,
    first_seq: u64,
    next_seq: u64,
}

/// A cut chunk: the encodings of `count` records from `first_seq` on.
pub struct Cut<'a> {
    pub first_seq: u64,
    pub count: u32,
    pub bytes: &'a [u8],
}

impl Default for Chunker {
    fn default() -> Self {
        Chunker {
            hasher: blake3::Hasher::new(),
            chunk: Vec::with_capacity(CHUNK_BYTES + 1024),
            first_seq: 0,
            next_seq: 0,
        }
    }
}

impl Chunker {
    /// Appends `record`; true once the chunk is due to be cut.
    #[inline]
    pub fn record(&mut self, record: &RecordRef<'_>) -> bool {
        codec::encode_into(&mut self.chunk, record);
        self.next_seq += 1;
        self.chunk.len() >= CHUNK_BYTES
    }

    /// Appends a record handed over as `raw` (see [`Raw::encode_into`]);
    /// true once the chunk is due to be cut.
    #[inline]
    pub fn raw(&mut self, raw: &Raw, spill: &mut &[u8]) -> bool {
        raw.encode_into(&mut self.chunk, self.next_seq, spill);
        self.next_seq += 1;
        self.chunk.len() >= CHUNK_BYTES
    }

    /// Hashes the chunk so far and hands it to `put`, then starts the next
    /// one; `None` (and no call) when it holds no record.
    pub fn cut<R>(&mut self, put: impl FnOnce(Cut<'_>) -> R) -> Option<R> {
        if self.chunk.is_empty() {
            return None;
        }
        self.hasher.update(&self.chunk);
        let cut = Cut {
            first_seq: self.first_seq,
            count: (self.next_seq - self.first_seq) as u32,
            bytes: &self.chunk,
        };
        let result = put(cut);
        self.chunk.clear();
        self.first_seq = self.next_seq;
        Some(result)
    }

    /// Cuts the chunk so far into the digest only (nothing stores it).
    pub fn cut_unstored(&mut self) {
        self.cut(|_| ());
    }

    /// The digest of every record, once the last chunk is cut.
    pub fn digest(&self) -> [u8; 32] {
        debug_assert!(self.chunk.is_empty(), "the last chunk is cut first");
        *self.hasher.finalize().as_bytes()
    }
}
