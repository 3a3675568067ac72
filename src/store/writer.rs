//! The log's writer thread: encodes the records the simulation hands over,
//! hashes them into the digest, and (for a persisted log) frames and
//! compresses each full chunk ([`super::frame`]) and inserts it into sled,
//! while the simulation goes on.
//!
//! Why a thread: encoding, hashing, compressing and inserting cost about
//! half of a persisted run, and none of it decides anything the simulation
//! needs. The simulation hands records over as [`Raw`] copies in batches
//! (copying the hot kinds costs less than encoding them). One thread does
//! everything in order, so the stored log and the digest are what a
//! synchronous writer would produce ([`super::chunker`] is the same code
//! either way).
//!
//! Why a tree per [`CHUNKS_PER_TREE`] chunks: sled 0.34 keeps values inside
//! their leaf and rewrites the whole leaf when it consolidates (every tenth
//! change) or splits (past 16 entries). One tree of 64 KiB chunks wrote each
//! byte about three times (192 MB for 68 MB of compressed records in the
//! 2 h churn-xl cut); a tree that never sees ten changes is written once
//! (66 MB), and the run's system time drops by two thirds.
//!
//! Buffers go round: the simulation fills a batch, hands it over and takes
//! an emptied one back, so a run allocates only the few batches in flight.
//!
//! [`ChunkWriter::sync`] waits until everything handed over is stored and
//! flushed to disk: the live runtime's write-ahead, before it delivers.

use super::chunker::Chunker;
use super::codec::Raw;
use super::frame;
use crate::event::RecordRef;
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

/// Batches handed over but not yet written; the simulation waits when the
/// writer falls this far behind (bounded memory, not an unbounded queue).
const IN_FLIGHT: usize = 16;

/// Records per batch: 128 KiB of [`Raw`]s, few enough to stay cached
/// between the two threads, many enough that handing over is rare.
pub const BATCH_RECORDS: usize = 2048;

/// Records handed over together, in log order: the raws, and the
/// encodings of the kinds [`Raw`] does not copy.
#[derive(Default)]
pub struct Batch {
    raws: Vec<Raw>,
    spill: Vec<u8>,
}

impl Batch {
    fn with_capacity() -> Self {
        Batch {
            raws: Vec::with_capacity(BATCH_RECORDS),
            spill: Vec::new(),
        }
    }

    /// Adds `record`; true once the batch is full.
    #[inline]
    pub fn push(&mut self, record: &RecordRef<'_>) -> bool {
        self.raws.push(Raw::of(record, &mut self.spill));
        self.raws.len() >= BATCH_RECORDS
    }

    pub fn is_empty(&self) -> bool {
        self.raws.is_empty()
    }
}

/// What the writer thread is handed, in order.
enum Job {
    Records(Batch),
    /// Cut the chunk, flush to disk, then answer (everything before is
    /// stored by then).
    Sync(SyncSender<Result<(), sled::Error>>),
}

/// Where the writer thread puts compressed chunks, in submit order: sled's
/// records trees ([`SledChunks`]), or in tests a store that fails on cue.
pub trait ChunkStore: Send + 'static {
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

/// The first chunk the writer could not store, and why. The chunks before
/// it are stored; none after it is tried.
#[derive(Debug)]
pub struct WriteFailed {
    pub first_seq: u64,
    pub source: sled::Error,
}

pub struct ChunkWriter {
    jobs: Option<SyncSender<Job>>,
    emptied: Receiver<Batch>,
    thread: Option<JoinHandle<Result<[u8; 32], WriteFailed>>>,
}

impl ChunkWriter {
    /// Starts the writer thread, which stores into `store`; with none it
    /// only hashes (an in-memory log that keeps the simulation's core for
    /// the simulation).
    pub fn spawn<S: ChunkStore>(store: Option<S>) -> std::io::Result<Self> {
        let (jobs, to_write) = sync_channel::<Job>(IN_FLIGHT);
        let (give_back, emptied) = sync_channel::<Batch>(IN_FLIGHT + 1);
        let thread = std::thread::Builder::new()
            .name("pacsim-log-writer".into())
            .spawn(move || write_chunks(store, &to_write, &give_back))?;
        Ok(ChunkWriter {
            jobs: Some(jobs),
            emptied,
            thread: Some(thread),
        })
    }

    /// Hands `batch` to the writer and leaves an empty one in its place.
    pub fn submit(&mut self, batch: &mut Batch) {
        let spare = self
            .emptied
            .try_recv()
            .unwrap_or_else(|_| Batch::with_capacity());
        let batch = std::mem::replace(batch, spare);
        if let Some(jobs) = &self.jobs {
            // A send fails only once the writer has stopped on an error,
            // which `finish` reports; later records have nowhere to go.
            let _ = jobs.send(Job::Records(batch));
        }
    }

    /// Waits until every record handed over is stored and on disk. A failed
    /// writer's error is kept for `finish`; here it is only a refusal.
    pub fn sync(&mut self) -> Result<(), sled::Error> {
        let stopped = || sled::Error::ReportableBug("the log writer stopped on an error".into());
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        let (answer, answered) = sync_channel(1);
        jobs.send(Job::Sync(answer)).map_err(|_| stopped())?;
        answered.recv().map_err(|_| stopped())?
    }

    /// Waits until every record handed over is stored; the digest of them
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

/// The writer thread: records in, chunks out, the digest at the end.
fn write_chunks<S: ChunkStore>(
    store: Option<S>,
    to_write: &Receiver<Job>,
    give_back: &SyncSender<Batch>,
) -> Result<[u8; 32], WriteFailed> {
    let mut chunker = Chunker::default();
    let mut out = Output {
        store,
        framed: Vec::new(),
    };
    for job in to_write {
        match job {
            Job::Records(mut batch) => {
                let mut spill = batch.spill.as_slice();
                for raw in &batch.raws {
                    if chunker.raw(raw, &mut spill) {
                        out.cut(&mut chunker)?;
                    }
                }
                batch.raws.clear();
                batch.spill.clear();
                let _ = give_back.try_send(batch);
            }
            Job::Sync(answer) => {
                out.cut(&mut chunker)?;
                let synced = out.store.as_mut().map_or(Ok(()), ChunkStore::sync);
                let _ = answer.send(synced);
            }
        }
    }
    out.cut(&mut chunker)?;
    Ok(chunker.digest())
}

/// Where the writer thread's chunks go: framed into the store, or nowhere
/// (a log that only hashes).
struct Output<S> {
    store: Option<S>,
    framed: Vec<u8>,
}

impl<S: ChunkStore> Output<S> {
    /// Cuts the chunk so far (hashing it) and stores it.
    fn cut(&mut self, chunker: &mut Chunker) -> Result<(), WriteFailed> {
        let Some(store) = self.store.as_mut() else {
            chunker.cut_unstored();
            return Ok(());
        };
        let framed = &mut self.framed;
        chunker
            .cut(|cut| {
                frame::chunk_into(cut.first_seq, cut.count, cut.bytes, framed);
                store
                    .put(cut.first_seq, framed)
                    .map_err(|source| WriteFailed {
                        first_seq: cut.first_seq,
                        source,
                    })
            })
            .unwrap_or(Ok(()))
    }
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
    use crate::event::Event;
    use crate::model::{ActorId, SimTime, VmId};
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

    /// Hands records `from..to` over, a batch at a time.
    fn submit(writer: &mut ChunkWriter, from: u64, to: u64) {
        let mut batch = Batch::default();
        for seq in from..to {
            let event = Event::VmPowerOff { vm: VmId(seq) };
            let record = RecordRef {
                seq,
                at: SimTime(seq),
                from: ActorId(1),
                to: ActorId(2),
                cause: None,
                event: &event,
            };
            if batch.push(&record) {
                writer.submit(&mut batch);
                assert!(batch.is_empty(), "an empty batch is left in its place");
            }
        }
        writer.submit(&mut batch);
    }

    #[test]
    fn sync_returns_once_every_record_handed_over_is_stored() {
        let stored = Arc::new(Mutex::new(Vec::new()));
        let mut writer = ChunkWriter::spawn(Some(Recording(stored.clone()))).expect("spawns");
        for round in 0..3u64 {
            submit(&mut writer, round * 100, round * 100 + 100);
            writer.sync().expect("syncs");
            // Each sync cuts the chunk: one per round, from its first record.
            let seqs: Vec<u64> = (0..=round).map(|r| r * 100).collect();
            assert_eq!(*stored.lock().expect("not poisoned"), seqs);
        }
        writer.finish().expect("finishes");
    }

    #[test]
    fn a_failed_write_stops_the_writer_and_finish_names_the_chunk() {
        let stored = Arc::new(Mutex::new(Vec::new()));
        let store = FailingAt {
            inner: Recording(stored.clone()),
            fail_at: 2,
            puts: 0,
        };
        let mut writer = ChunkWriter::spawn(Some(store)).expect("spawns");
        // More batches than the channel holds after the failure: handing
        // over must neither block nor panic.
        for round in 0..2 {
            submit(&mut writer, round * 10, round * 10 + 10);
            writer.sync().expect("stored");
        }
        submit(
            &mut writer,
            20,
            20 + BATCH_RECORDS as u64 * IN_FLIGHT as u64 * 3,
        );
        assert!(writer.sync().is_err(), "a stopped writer refuses to sync");
        let failed = writer.finish().expect_err("the third chunk fails");
        assert_eq!(failed.first_seq, 20);
        assert!(
            failed
                .source
                .to_string()
                .contains("no space left on device")
        );
        assert_eq!(*stored.lock().expect("not poisoned"), [0, 10]);
    }
}
