//! The log's writer thread: compresses full chunks and inserts them into sled
//! while the simulation goes on with the next chunk.
//!
//! Why a thread: compressing and inserting a chunk cost about a third of a
//! persisted run, and none of it decides anything the simulation needs. One
//! thread inserts in submit order, so the stored log is what a synchronous
//! writer would store; the digest is taken before a chunk is handed over.
//!
//! Why a tree per [`CHUNKS_PER_TREE`] chunks: sled 0.34 keeps values inside
//! their leaf and rewrites the whole leaf when it consolidates (every tenth
//! change) or splits (past 16 entries). One tree of 64 KiB chunks wrote each
//! byte about three times (192 MB for 68 MB of compressed records in the
//! 2 h churn-xl cut); a tree that never sees ten changes is written once
//! (66 MB), and the run's system time drops by two thirds.
//!
//! Buffers go round: the simulation fills a chunk, hands it over and takes an
//! emptied one back, so a run allocates only the few chunks in flight.

use super::codec;
use super::log::records_tree_name;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Chunks per records tree: below sled's ten-change consolidation threshold
/// (counting the empty leaf) and its 16-entry split.
pub const CHUNKS_PER_TREE: u64 = 8;

/// Chunks handed over but not yet written; the simulation waits when the
/// writer falls this far behind (bounded memory, not an unbounded queue).
const IN_FLIGHT: usize = 16;

struct Full {
    first_seq: u64,
    chunk: Vec<u8>,
}

pub struct ChunkWriter {
    full: Option<SyncSender<Full>>,
    emptied: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<Result<(), sled::Error>>>,
    chunk_capacity: usize,
}

impl ChunkWriter {
    /// Starts the writer thread for the records trees of `db`.
    pub fn spawn(db: sled::Db, chunk_capacity: usize) -> std::io::Result<Self> {
        let (full, to_write) = sync_channel::<Full>(IN_FLIGHT);
        let (give_back, emptied) = sync_channel::<Vec<u8>>(IN_FLIGHT + 1);
        let thread = std::thread::Builder::new()
            .name("pacsim-log-writer".into())
            .spawn(move || write_chunks(&db, &to_write, &give_back))?;
        Ok(ChunkWriter {
            full: Some(full),
            emptied,
            thread: Some(thread),
            chunk_capacity,
        })
    }

    /// Hands `chunk` (records from `first_seq` on) to the writer and leaves
    /// an empty buffer in its place.
    pub fn submit(&mut self, first_seq: u64, chunk: &mut Vec<u8>) {
        let spare = self
            .emptied
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(self.chunk_capacity));
        let chunk = std::mem::replace(chunk, spare);
        if let Some(full) = &self.full {
            // A send fails only once the writer has stopped on an error,
            // which `finish` reports; later chunks have nowhere to go.
            let _ = full.send(Full { first_seq, chunk });
        }
    }

    /// Waits until every submitted chunk is in sled; the first write error,
    /// if any.
    pub fn finish(mut self) -> Result<(), sled::Error> {
        match self.stop() {
            None => Ok(()),
            Some(Ok(written)) => written,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
        }
    }

    fn stop(&mut self) -> Option<std::thread::Result<Result<(), sled::Error>>> {
        drop(self.full.take());
        self.thread.take().map(JoinHandle::join)
    }
}

impl Drop for ChunkWriter {
    /// A log dropped without `finish` (an error path) still lets its writer
    /// end rather than leaving the thread behind.
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn write_chunks(
    db: &sled::Db,
    to_write: &Receiver<Full>,
    give_back: &SyncSender<Vec<u8>>,
) -> Result<(), sled::Error> {
    let mut compressed = Vec::new();
    let mut tree: Option<sled::Tree> = None;
    for (written, full) in (0u64..).zip(to_write) {
        let Full {
            first_seq,
            mut chunk,
        } = full;
        if written % CHUNKS_PER_TREE == 0 {
            tree = Some(db.open_tree(records_tree_name(first_seq))?);
        }
        let tree = tree.as_ref().expect("opened at the first chunk");
        codec::compress_chunk_into(&chunk, &mut compressed);
        tree.insert(first_seq.to_be_bytes(), compressed.as_slice())?;
        chunk.clear();
        let _ = give_back.try_send(chunk);
    }
    Ok(())
}
