//! The log's writer thread: hashes full chunks into the digest, frames and
//! compresses them ([`super::frame`]) and inserts them into sled, while
//! the simulation goes on with the next chunk.
//!
//! Why a thread: hashing, compressing and inserting a chunk cost about a
//! third of a persisted run, and none of it decides anything the
//! simulation needs. One thread takes the chunks in submit order, so the
//! stored log and the digest are what a synchronous writer would produce.
//! A persisted run's simulation encodes the records itself: handing them
//! over to be encoded here moved more bytes between the cores than it
//! saved (churn-small persisted 12 % slower), as its second core is full
//! with compressing and storing. An in-memory run's second core has room:
//! its simulation hands over the records in the hand-off form
//! ([`super::handoff`]), written with a few stores each, and this thread
//! encodes them before hashing.
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
//!
//! [`ChunkWriter::sync`] waits until everything handed over is stored and
//! flushed to disk: the live runtime's write-ahead, before it delivers.

use super::codec::{Encoder, Encoding};
use super::{frame, handoff};
use crate::model::SimTime;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Records trees are named this prefix and the big-endian seq of their first
/// record.
pub(super) const RECORDS_TREE_PREFIX: &[u8] = b"records/";

pub(super) fn records_tree_name(first_seq: u64) -> Vec<u8> {
    [RECORDS_TREE_PREFIX, &first_seq.to_be_bytes()].concat()
}

/// Chunks per records tree: below sled's ten-change consolidation threshold
/// (counting the empty leaf) and its 16-entry split.
pub const CHUNKS_PER_TREE: u64 = 8;

/// Chunks handed over but not yet written; the simulation waits when the
/// writer falls this far behind (bounded memory, not an unbounded queue).
const IN_FLIGHT: usize = 16;

/// What the writer thread is handed, in order.
enum Job {
    Store {
        first_seq: u64,
        base_at: SimTime,
        count: u32,
        chunk: Vec<u8>,
    },
    /// Flush to disk, then answer (everything before is stored by then).
    Sync(SyncSender<Result<(), sled::Error>>),
}

/// Where the writer thread puts compressed chunks, in submit order: sled's
/// records trees ([`SledChunks`]), nowhere ([`Nowhere`]), or in tests a
/// store that fails on cue.
pub trait ChunkStore: Send + 'static {
    /// Whether chunks are stored at all; a store that keeps nothing
    /// ([`Nowhere`]) is not handed frames, so none are compressed.
    const STORES: bool = true;

    fn put(&mut self, first_seq: u64, compressed: &[u8]) -> Result<(), sled::Error>;
    /// Makes what was put durable.
    fn sync(&mut self) -> Result<(), sled::Error>;
}

/// The records trees of a log's sled database: a new tree every
/// [`CHUNKS_PER_TREE`] chunks, named after its first record.
pub struct SledChunks {
    db: sled::Db,
    tree: Option<sled::Tree>,
    stored: u64,
}

impl SledChunks {
    pub fn new(db: sled::Db) -> Self {
        SledChunks {
            db,
            tree: None,
            stored: 0,
        }
    }
}

impl ChunkStore for SledChunks {
    fn put(&mut self, first_seq: u64, compressed: &[u8]) -> Result<(), sled::Error> {
        if self.stored.is_multiple_of(CHUNKS_PER_TREE) {
            self.tree = Some(self.db.open_tree(records_tree_name(first_seq))?);
        }
        let tree = self
            .tree
            .as_ref()
            .expect("opened at the tree's first chunk");
        tree.insert(first_seq.to_be_bytes(), compressed)?;
        self.stored += 1;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), sled::Error> {
        self.db.flush().map(drop)
    }
}

/// A store that keeps nothing: the writer thread only hashes (an
/// in-memory run with a spare core, [`super::EventLog::hashed_aside`]).
pub struct Nowhere;

impl ChunkStore for Nowhere {
    const STORES: bool = false;

    fn put(&mut self, _: u64, _: &[u8]) -> Result<(), sled::Error> {
        Ok(())
    }

    fn sync(&mut self) -> Result<(), sled::Error> {
        Ok(())
    }
}

/// The first chunk the writer could not store, and why. The chunks before
/// it are stored; none after it is tried.
#[derive(Debug)]
pub struct WriteFailed {
    pub first_seq: u64,
    pub source: sled::Error,
}

pub struct ChunkWriter {
    jobs: Option<SyncSender<Job>>,
    emptied: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<Result<[u8; 32], WriteFailed>>>,
    chunk_capacity: usize,
}

/// What the chunks handed to the writer hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkForm {
    /// Records in the log's encoding, hashed and stored as they are.
    Encoded,
    /// Records in the hand-off form, encoded here before they are hashed
    /// (with [`Nowhere`] only: this form is never stored).
    HandedOff,
}

impl ChunkWriter {
    /// Starts the writer thread, which stores into `store` chunks in the
    /// log's encoding.
    pub fn spawn<S: ChunkStore>(store: S, chunk_capacity: usize) -> std::io::Result<Self> {
        Self::spawn_for(store, ChunkForm::Encoded, chunk_capacity)
    }

    /// Starts a thread that only hashes, handed chunks in the hand-off form.
    pub fn spawn_hasher_of_hand_offs(chunk_capacity: usize) -> std::io::Result<Self> {
        Self::spawn_for(Nowhere, ChunkForm::HandedOff, chunk_capacity)
    }

    fn spawn_for<S: ChunkStore>(
        store: S,
        form: ChunkForm,
        chunk_capacity: usize,
    ) -> std::io::Result<Self> {
        assert!(
            form == ChunkForm::Encoded || !S::STORES,
            "the hand-off form is never stored"
        );
        let (jobs, to_write) = sync_channel::<Job>(IN_FLIGHT);
        let (give_back, emptied) = sync_channel::<Vec<u8>>(IN_FLIGHT + 1);
        let thread = std::thread::Builder::new()
            .name("pacsim-log-writer".into())
            .spawn(move || write_chunks(store, form, &to_write, &give_back))?;
        Ok(ChunkWriter {
            jobs: Some(jobs),
            emptied,
            thread: Some(thread),
            chunk_capacity,
        })
    }

    /// Hands `chunk` (`count` records from `first_seq` on, the first one's
    /// time a step from `base_at`) to the writer and leaves an empty buffer
    /// in its place.
    pub fn submit(&mut self, first_seq: u64, base_at: SimTime, count: u32, chunk: &mut Vec<u8>) {
        let spare = self
            .emptied
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(self.chunk_capacity));
        let chunk = std::mem::replace(chunk, spare);
        if let Some(jobs) = &self.jobs {
            // A send fails only once the writer has stopped on an error,
            // which `finish` reports; later chunks have nowhere to go.
            let _ = jobs.send(Job::Store {
                first_seq,
                base_at,
                count,
                chunk,
            });
        }
    }

    /// Waits until every chunk handed over is stored and on disk. A failed
    /// writer's error is kept for `finish`; here it is only a refusal.
    pub fn sync(&mut self) -> Result<(), sled::Error> {
        let stopped = || sled::Error::ReportableBug("the log writer stopped on an error".into());
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        let (answer, answered) = sync_channel(1);
        jobs.send(Job::Sync(answer)).map_err(|_| stopped())?;
        answered.recv().map_err(|_| stopped())?
    }

    /// Waits until every submitted chunk is stored; the digest of them
    /// all, or the first failure.
    pub fn finish(mut self) -> Result<[u8; 32], WriteFailed> {
        match self.stop() {
            None => unreachable!("the thread is joined only here and on drop"),
            Some(Ok(written)) => written,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
        }
    }

    fn stop(&mut self) -> Option<std::thread::Result<Result<[u8; 32], WriteFailed>>> {
        drop(self.jobs.take());
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

/// The writer thread: chunks in, in order; the digest of them all out.
fn write_chunks<S: ChunkStore>(
    mut store: S,
    form: ChunkForm,
    to_write: &Receiver<Job>,
    give_back: &SyncSender<Vec<u8>>,
) -> Result<[u8; 32], WriteFailed> {
    let mut hasher = blake3::Hasher::new();
    let mut framed = Vec::new();
    // The hand-off form's records in the log's encoding, and the encoder
    // that carries on from one chunk to the next.
    let mut encoded = Vec::new();
    let mut encoder = Encoder::new(Encoding::CURRENT);
    for job in to_write {
        let (first_seq, base_at, count, mut chunk) = match job {
            Job::Store {
                first_seq,
                base_at,
                count,
                chunk,
            } => (first_seq, base_at, count, chunk),
            Job::Sync(answer) => {
                let _ = answer.send(store.sync());
                continue;
            }
        };
        match form {
            ChunkForm::Encoded => hasher.update(&chunk),
            ChunkForm::HandedOff => {
                encoded.clear();
                handoff::transcode(&chunk, first_seq, &mut encoder, &mut encoded);
                hasher.update(&encoded)
            }
        };
        if S::STORES {
            frame::chunk_into(first_seq, base_at, count, &chunk, &mut framed);
            store
                .put(first_seq, &framed)
                .map_err(|source| WriteFailed { first_seq, source })?;
        }
        chunk.clear();
        let _ = give_back.try_send(chunk);
    }
    Ok(*hasher.finalize().as_bytes())
}

/// A store that fails from its `fail_at`-th chunk on (0-based) with a full
/// disk, as a test's stand-in for a failing sled.
#[cfg(test)]
pub struct FailingAt<S> {
    pub inner: S,
    pub fail_at: u64,
    pub puts: u64,
}

#[cfg(test)]
impl<S: ChunkStore> ChunkStore for FailingAt<S> {
    fn put(&mut self, first_seq: u64, compressed: &[u8]) -> Result<(), sled::Error> {
        self.puts += 1;
        if self.puts > self.fail_at {
            let full =
                std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left on device");
            return Err(sled::Error::Io(full));
        }
        self.inner.put(first_seq, compressed)
    }

    fn sync(&mut self) -> Result<(), sled::Error> {
        self.inner.sync()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Remembers the first seq of every chunk it stores.
    struct Recording(Arc<Mutex<Vec<u64>>>);

    impl ChunkStore for Recording {
        fn put(&mut self, first_seq: u64, _compressed: &[u8]) -> Result<(), sled::Error> {
            self.0.lock().expect("not poisoned").push(first_seq);
            Ok(())
        }

        fn sync(&mut self) -> Result<(), sled::Error> {
            Ok(())
        }
    }

    #[test]
    fn sync_returns_once_every_chunk_handed_over_is_stored() {
        let stored = Arc::new(Mutex::new(Vec::new()));
        let mut writer = ChunkWriter::spawn(Recording(stored.clone()), 64).expect("spawns");
        let mut hasher = blake3::Hasher::new();
        for round in 0..3u64 {
            for i in 0..5 {
                let chunk = vec![(round * 10 + i) as u8; 64];
                hasher.update(&chunk);
                writer.submit(round * 10 + i, SimTime::ZERO, 1, &mut chunk.clone());
            }
            writer.sync().expect("syncs");
            assert_eq!(
                stored.lock().expect("not poisoned").len() as u64,
                (round + 1) * 5
            );
        }
        let digest = writer.finish().expect("finishes");
        assert_eq!(digest, *hasher.finalize().as_bytes(), "the chunks in order");
    }

    #[test]
    fn a_failed_write_stops_the_writer_and_finish_names_the_chunk() {
        let stored = Arc::new(Mutex::new(Vec::new()));
        let store = FailingAt {
            inner: Recording(stored.clone()),
            fail_at: 2,
            puts: 0,
        };
        let mut writer = ChunkWriter::spawn(store, 64).expect("spawns");
        // More chunks than the channel holds: submitting after the failure
        // must neither block nor panic.
        for i in 0..(IN_FLIGHT as u64 * 3) {
            let mut chunk = vec![1u8; 64];
            writer.submit(i * 100, SimTime::ZERO, 1, &mut chunk);
            assert!(chunk.is_empty(), "an empty buffer is left in its place");
        }
        assert!(writer.sync().is_err(), "a stopped writer refuses to sync");
        let failed = writer.finish().expect_err("the third chunk fails");
        assert_eq!(failed.first_seq, 200);
        assert!(
            failed
                .source
                .to_string()
                .contains("no space left on device")
        );
        assert_eq!(*stored.lock().expect("not poisoned"), [0, 100]);
    }
}
