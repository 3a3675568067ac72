//! The event log: every delivered record, encoded once, hashed into a running
//! blake3 digest and (unless in-memory) written to sled.
//!
//! Write path: records are encoded into a chunk buffer; when the chunk passes
//! [`CHUNK_BYTES`] it is handed to the writer thread ([`super::writer`]),
//! which hashes it, lz4-compresses it and inserts it under the
//! big-endian seq of its first record into a records tree named by the
//! first seq of its group of chunks (so name order, then key order, is log
//! order, and two lookups find the chunk holding any seq). `finish` writes
//! the last chunk, waits for the writer and its digest, then writes the
//! meta tree (record count, digest) and flushes sled to disk. An in-memory
//! log hashes its chunks itself, or hands them to a thread that only hashes
//! them. The digest is of the
//! concatenated record encodings, so it does not depend on chunking, on the
//! output folder or on whether anything was persisted.

use super::codec::{self, Decoder, Encoder, Encoding};
use super::frame::{self, EndBody, MetaBody};
use super::handoff;
use super::salvage::{self, Carved};
use super::writer::{ChunkStore, ChunkWriter, RECORDS_TREE_PREFIX, SledChunks, WriteFailed};
use crate::event::{Record, RecordRef};
use crate::model::SimTime;
use crate::sim::RecordSink;
use std::path::{Path, PathBuf};

/// Chunks are hashed and persisted once they reach this size. With the
/// delta encoding a 64 KiB chunk compressed to about 43 KB, and sled's
/// leaves of eight such values raised churn-xl's persisted peak RSS from
/// 289 to 361 MB (transparent huge pages; 296 MB without them); 48 KiB
/// chunks store about 32 KB, and the peak is 280 MB at the same speed.
pub const CHUNK_BYTES: usize = 48 * 1024;

/// Written into the meta tree; bumped when the record encoding or the
/// layout changes.
pub const LOG_FORMAT: &str = "pacsim-log/5";

/// Frames of bincode records, without a base time. Still read.
const LOG_FORMAT_BINCODE_FRAMES: &str = "pacsim-log/4";

/// The layout before stored values were frames ([`super::frame`]): chunks
/// are bare lz4 with the length prepended. Still read.
const LOG_FORMAT_UNFRAMED: &str = "pacsim-log/3";

/// The layout before records trees were split: unframed chunks, all in one
/// tree named `records`. Still read.
const LOG_FORMAT_ONE_TREE: &str = "pacsim-log/2";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open event log at {path}: {}", in_words(source))]
    Open { path: PathBuf, source: sled::Error },
    #[error("event log at {path} is not a pacsim log (no `{key}` in its meta tree)")]
    NotALog { path: PathBuf, key: &'static str },
    #[error(
        "event log at {path} has format `{found}`, this pacsim reads `{LOG_FORMAT}` and the earlier `pacsim-log/4`, `/3` and `/2`"
    )]
    Format { path: PathBuf, found: String },
    #[error("event log write failed: {}", in_words(.0))]
    Write(#[from] sled::Error),
    #[error(
        "event log write failed at the records from #{first_seq} on: {}; the records before them are stored, and the log is left unfinished",
        in_words(source)
    )]
    Records { first_seq: u64, source: sled::Error },
    #[error(
        "event log at {path} is unfinished: its run stopped before writing the record count and digest (a failed write, or the process was killed); {}",
        if *served {
            "it is a served session's: start `pacsim serve` on the session's folder again, which makes it whole, or read the records it holds with `pacsim inspect --salvage` and `pacsim export --salvage`"
        } else {
            "`pacsim inspect --salvage` and `pacsim export --salvage` read the records it holds"
        }
    )]
    Unfinished {
        path: PathBuf,
        /// A served session's log (`DATA/log` beside `DATA/journal`),
        /// which the session's next start finishes.
        served: bool,
    },
    #[error("event log at {path}: record {seq} is damaged: {reason}")]
    Corrupt {
        path: PathBuf,
        seq: u64,
        reason: String,
    },
    #[error("cannot salvage the event log at {path}: {reason}")]
    Salvage { path: PathBuf, reason: String },
}

impl From<WriteFailed> for StoreError {
    fn from(WriteFailed { first_seq, source }: WriteFailed) -> Self {
        StoreError::Records { first_seq, source }
    }
}

/// A sled error in pacsim's words: an I/O error as the system says it
/// (sled prints its debug form), with what to do about a full disk.
fn in_words(e: &sled::Error) -> String {
    match e {
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull => {
            format!("{io}: free some space, or write the log to another disk with --out")
        }
        // Another process (a run, `pacsim serve`) holds the database.
        sled::Error::Io(io) if io.to_string().starts_with("could not acquire lock") => {
            "it is in use by another pacsim process (a run or `pacsim serve` has it open); try again when that process has stopped".into()
        }
        // sled wraps some OS errors in their debug form: say the kind.
        sled::Error::Io(io) if io.to_string().starts_with("Os {") => io.kind().to_string(),
        sled::Error::Io(io) => io.to_string(),
        sled::Error::Corruption { .. } => "sled found its database damaged".into(),
        other => other.to_string(),
    }
}

/// A blake3 digest of a run's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest(pub [u8; 32]);

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// What a log folder says about itself.
#[derive(Clone, Debug)]
pub struct LogMeta {
    pub scenario: String,
    pub seed: u64,
    /// The record count and digest; 0 and empty while not `finished`.
    pub records: u64,
    pub digest: String,
    pub pacsim_version: String,
    /// Whether the run finished the log (wrote its count and digest).
    pub finished: bool,
}

pub struct EventLog {
    encoder: Encoder,
    /// Whether records are written in the hand-off form, for a thread
    /// that encodes and hashes them ([`EventLog::hashed_aside`]).
    hands_off: bool,
    chunk: Vec<u8>,
    chunk_first_seq: u64,
    /// The time the chunk's first record is a step from.
    chunk_base_at: SimTime,
    count: u64,
    chunks: Chunks,
}

/// Where full chunks go.
enum Chunks {
    /// Hashed here, on the simulation's thread (boxed: the hasher is 2 KB).
    Hashed(Box<blake3::Hasher>),
    /// Hashed by a thread of their own, and not stored.
    HashedAside(ChunkWriter),
    /// To the writer thread, which hashes and stores them.
    Written { writer: ChunkWriter, db: sled::Db },
}

impl EventLog {
    /// A log that only hashes, on the caller's thread: for sweeps, which
    /// fill every core with runs.
    pub fn in_memory() -> Self {
        Self::with(Chunks::Hashed(Box::default()))
    }

    /// A log that only hashes, on a thread of its own: for a single
    /// in-memory run (`run --no-persist`) on a machine with a spare core,
    /// where that core also draws the run's inputs. The simulation writes
    /// its records in the hand-off form ([`super::handoff`]), and that
    /// thread encodes them, then hashes. Falls back to [`Self::in_memory`]
    /// when no thread can be started.
    pub fn hashed_aside() -> Self {
        match ChunkWriter::spawn_hasher_of_hand_offs(CHUNK_BYTES + 1024) {
            Ok(writer) => EventLog {
                hands_off: true,
                ..Self::with(Chunks::HashedAside(writer))
            },
            Err(_) => Self::in_memory(),
        }
    }

    fn with(chunks: Chunks) -> Self {
        EventLog {
            encoder: Encoder::new(Encoding::CURRENT),
            hands_off: false,
            chunk: Vec::with_capacity(CHUNK_BYTES + 1024),
            chunk_first_seq: 0,
            chunk_base_at: SimTime::ZERO,
            count: 0,
            chunks,
        }
    }

    /// A log persisted to a new sled database in `dir`.
    pub fn create(dir: &Path, scenario: &str, seed: u64) -> Result<Self, StoreError> {
        Self::create_with(dir, scenario, seed, |chunks| chunks)
    }

    /// As [`Self::create`], with the records going through `store` (tests
    /// wrap sled in a store that fails).
    fn create_with<S: ChunkStore>(
        dir: &Path,
        scenario: &str,
        seed: u64,
        store: impl FnOnce(SledChunks) -> S,
    ) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: dir.to_path_buf(),
            source,
        };
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(64 << 20)
            .mode(sled::Mode::HighThroughput);
        let db = open_sled(&config).map_err(open_err)?;
        let meta = db.open_tree("meta").map_err(open_err)?;
        meta.insert("format", LOG_FORMAT)?;
        meta.insert("scenario", scenario)?;
        meta.insert("seed", &seed.to_be_bytes())?;
        meta.insert("pacsim_version", env!("CARGO_PKG_VERSION"))?;
        // The same, framed, for a salvage that cannot open sled.
        let body = MetaBody {
            format: LOG_FORMAT.into(),
            scenario: scenario.into(),
            seed,
            pacsim_version: env!("CARGO_PKG_VERSION").into(),
        };
        meta.insert("frame", frame::meta_frame(&body))?;
        let chunks = store(SledChunks::new(db.clone()));
        let writer =
            ChunkWriter::spawn(chunks, CHUNK_BYTES + 1024).map_err(|e| open_err(e.into()))?;
        Ok(Self::with(Chunks::Written { writer, db }))
    }

    /// Whether records go to disk (a writer thread takes them).
    pub fn is_stored(&self) -> bool {
        matches!(self.chunks, Chunks::Written { .. })
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    fn flush_chunk(&mut self) {
        if self.chunk.is_empty() {
            return;
        }
        match &mut self.chunks {
            Chunks::Hashed(hasher) => {
                hasher.update(&self.chunk);
                self.chunk.clear();
            }
            Chunks::HashedAside(writer) | Chunks::Written { writer, .. } => {
                let count = (self.count - self.chunk_first_seq) as u32;
                let (first, base_at) = (self.chunk_first_seq, self.chunk_base_at);
                writer.submit(first, base_at, count, &mut self.chunk)
            }
        }
        self.chunk_first_seq = self.count;
        self.chunk_base_at = self.encoder.base_at();
    }

    /// Stores every record so far and flushes it to disk before returning:
    /// what the live runtime calls before it delivers what it recorded.
    /// The chunk boundaries this adds do not change the digest (a hash of
    /// the records' bytes in order). In memory, nothing to do.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        if matches!(self.chunks, Chunks::Hashed(_) | Chunks::HashedAside(_)) {
            return Ok(());
        }
        self.flush_chunk();
        let Chunks::Written { writer, .. } = &mut self.chunks else {
            unreachable!("matched above")
        };
        Ok(writer.sync()?)
    }

    /// Writes what is buffered and the meta, flushes to disk, returns the digest.
    pub fn finish(mut self) -> Result<Digest, StoreError> {
        self.flush_chunk();
        let (writer, db) = match self.chunks {
            Chunks::Hashed(hasher) => return Ok(Digest(*hasher.finalize().as_bytes())),
            Chunks::HashedAside(writer) => return Ok(Digest(writer.finish()?)),
            Chunks::Written { writer, db } => (writer, db),
        };
        let digest = Digest(writer.finish()?);
        let meta = db.open_tree("meta")?;
        meta.insert("records", &self.count.to_be_bytes())?;
        let end = EndBody {
            records: self.count,
            digest: digest.0,
        };
        meta.insert("end", frame::end_frame(&end))?;
        meta.insert("digest", digest.to_string().as_bytes())?;
        db.flush()?;
        Ok(digest)
    }
}

/// Opens a sled database, asking again for up to a second while its lock
/// is held: a log this process has just finished stays locked a moment,
/// until sled's background threads let go of the file. A lock held longer
/// (another process) is the error.
fn open_sled(config: &sled::Config) -> sled::Result<sled::Db> {
    const TRIES: u32 = 50;
    let locked = |e: &sled::Error| e.to_string().contains("could not acquire lock");
    for _ in 1..TRIES {
        match config.open() {
            Err(e) if locked(&e) => std::thread::sleep(std::time::Duration::from_millis(20)),
            other => return other,
        }
    }
    config.open()
}

impl RecordSink for EventLog {
    // Always: with two forms to write, the compiler kept it out of line,
    // and the call cost a persisted run's simulation thread about 15
    // instructions a record.
    #[inline(always)]
    fn record(&mut self, record: &RecordRef<'_>) {
        if self.hands_off {
            handoff::write(&mut self.chunk, record);
        } else {
            self.encoder.encode_into(&mut self.chunk, record);
        }
        self.count += 1;
        if self.chunk.len() >= CHUNK_BYTES {
            self.flush_chunk();
        }
    }
}

/// Reads a persisted log back, record by record, in seq order.
pub struct LogReader {
    path: PathBuf,
    meta: LogMeta,
    backing: Backing,
}

/// A stored chunk's header and the records' encodings, or why not.
type ChunkRead = Result<(ChunkInfo, Vec<u8>), StoreError>;

/// What a reader knows of a chunk before decoding it.
#[derive(Clone, Copy, Debug)]
struct ChunkInfo {
    first_seq: u64,
    base_at: SimTime,
    /// The records it holds, by its frame (unframed chunks do not say).
    count: Option<u32>,
    encoding: Encoding,
}

impl From<frame::ChunkHead> for ChunkInfo {
    fn from(head: frame::ChunkHead) -> Self {
        ChunkInfo {
            first_seq: head.first_seq,
            base_at: head.base_at,
            count: Some(head.count),
            encoding: head.encoding,
        }
    }
}

enum Backing {
    /// The records trees in log order; `framed` from pacsim-log/4 on.
    Sled {
        trees: Vec<sled::Tree>,
        framed: bool,
    },
    /// What `--salvage` found by scanning the files ([`salvage`]).
    Carved(Carved),
}

impl LogReader {
    /// A finished log; an unfinished one is refused with
    /// [`StoreError::Unfinished`].
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let reader = Self::open_unfinished(dir)?;
        if !reader.meta.finished {
            let served = (reader.path.parent()).is_some_and(|d| d.join("journal").is_file());
            return Err(StoreError::Unfinished {
                path: reader.path,
                served,
            });
        }
        Ok(reader)
    }

    /// A log, finished or not: the records of a run that stopped early (a
    /// failed write, a killed process) are what it stored.
    pub fn open_unfinished(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.to_path_buf();
        if !dir.join("conf").exists() && !dir.join("db").exists() {
            return Err(StoreError::NotALog {
                path,
                key: "format",
            });
        }
        let open_err = |source| StoreError::Open {
            path: dir.to_path_buf(),
            source,
        };
        let db = open_sled(&sled::Config::new().path(dir)).map_err(open_err)?;
        let meta = db.open_tree("meta").map_err(open_err)?;
        let get = |key: &'static str| -> Result<sled::IVec, StoreError> {
            meta.get(key)?.ok_or(StoreError::NotALog {
                path: path.clone(),
                key,
            })
        };
        let format = String::from_utf8_lossy(&get("format")?).into_owned();
        let formats = [
            LOG_FORMAT,
            LOG_FORMAT_BINCODE_FRAMES,
            LOG_FORMAT_UNFRAMED,
            LOG_FORMAT_ONE_TREE,
        ];
        if !formats.contains(&format.as_str()) {
            return Err(StoreError::Format {
                path,
                found: format,
            });
        }
        let be_u64 = |v: sled::IVec| v.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
        // The count and digest are written last, by `finish`.
        let finished = meta.get("digest")?.is_some();
        let meta = LogMeta {
            scenario: String::from_utf8_lossy(&get("scenario")?).into_owned(),
            seed: be_u64(get("seed")?),
            records: if finished { be_u64(get("records")?) } else { 0 },
            digest: if finished {
                String::from_utf8_lossy(&get("digest")?).into_owned()
            } else {
                String::new()
            },
            pacsim_version: String::from_utf8_lossy(&get("pacsim_version")?).into_owned(),
            finished,
        };
        // `tree_names` comes from a hash map: sorted, the names are in
        // log order (fixed-width big-endian seqs).
        let mut names: Vec<sled::IVec> = if format == LOG_FORMAT_ONE_TREE {
            vec!["records".into()]
        } else {
            db.tree_names()
                .into_iter()
                .filter(|name| name.starts_with(RECORDS_TREE_PREFIX))
                .collect()
        };
        names.sort();
        let trees = names
            .iter()
            .map(|name| db.open_tree(name))
            .collect::<Result<_, _>>()
            .map_err(open_err)?;
        let framed = [LOG_FORMAT, LOG_FORMAT_BINCODE_FRAMES].contains(&format.as_str());
        Ok(LogReader {
            path,
            meta,
            backing: Backing::Sled { trees, framed },
        })
    }

    /// For `--salvage`: the log's files scanned read-only, without sled,
    /// for every intact frame. Logs written before frames (pacsim-log/3
    /// and older) have none to find; read them without `--salvage`. When
    /// only the meta frame is lost, the records are still given, with an
    /// empty scenario (actors are then shown by id).
    pub fn salvage(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.to_path_buf();
        if !dir.join("db").is_file() {
            return Err(StoreError::NotALog {
                path,
                key: "format",
            });
        }
        let carved = salvage::carve(dir).map_err(|e| StoreError::Salvage {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if carved.meta.is_none() && carved.chunks.is_empty() {
            return Err(StoreError::Salvage {
                path,
                reason: format!(
                    "no intact frame in its files: written before {LOG_FORMAT} (read it without --salvage), or damaged throughout"
                ),
            });
        }
        let body = carved.meta.clone().unwrap_or(MetaBody {
            format: LOG_FORMAT.into(),
            scenario: String::new(),
            seed: 0,
            pacsim_version: "unknown (its meta frame is damaged)".into(),
        });
        let meta = LogMeta {
            scenario: body.scenario,
            seed: body.seed,
            records: carved.end.map_or(0, |e| e.records),
            digest: carved
                .end
                .map_or_else(String::new, |e| Digest(e.digest).to_string()),
            pacsim_version: body.pacsim_version,
            finished: carved.end.is_some(),
        };
        Ok(LogReader {
            path,
            meta,
            backing: Backing::Carved(carved),
        })
    }

    pub fn meta(&self) -> &LogMeta {
        &self.meta
    }

    /// Every stored chunk as (its header, the records' encodings), in log
    /// order; a chunk that cannot be read ends the sequence with an error
    /// naming the first record it holds.
    fn chunks(&self) -> Box<dyn Iterator<Item = ChunkRead> + '_> {
        match &self.backing {
            Backing::Sled { trees, framed } => {
                let framed = *framed;
                Box::new(trees.iter().flat_map(sled::Tree::iter).map(move |item| {
                    let (key, stored) = item?;
                    let first_seq = key.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
                    let read = if framed {
                        frame::open_chunk(&stored).map(|(head, raw)| (head.into(), raw))
                    } else {
                        let bare = ChunkInfo {
                            first_seq,
                            base_at: SimTime::ZERO,
                            count: None,
                            encoding: Encoding::Bincode,
                        };
                        codec::decompress_chunk(&stored).map(|raw| (bare, raw))
                    };
                    read.map_err(|reason| self.corrupt(first_seq, reason))
                }))
            }
            Backing::Carved(carved) => {
                let (found, gap) = carved.contiguous();
                let read = found.into_iter().map(|f| {
                    salvage::read_chunk(f)
                        .map(|raw| (f.head.into(), raw))
                        .map_err(|reason| self.corrupt(f.head.first_seq, reason))
                });
                let lost = gap.map(|seq| {
                    let after = carved.records_after_gap(seq);
                    Err(self.corrupt(
                        seq,
                        format!(
                            "no intact chunk holds it (a damaged page); {after} intact records after it cannot be read in order"
                        ),
                    ))
                });
                Box::new(read.chain(lost))
            }
        }
    }

    /// Every record in seq order; a damaged chunk ends the iteration with
    /// an error naming the first record that could not be read.
    pub fn records(&self) -> impl Iterator<Item = Result<Record, StoreError>> + '_ {
        let mut expected = 0u64;
        let mut failed = false;
        self.chunks().flat_map(move |item| {
            let mut out = Vec::new();
            if failed {
                return out;
            }
            let (info, chunk) = match item {
                Ok(read) => read,
                Err(e) => {
                    failed = true;
                    out.push(Err(e));
                    return out;
                }
            };
            match self.decode_chunk(info, &chunk, expected, &mut out) {
                Ok(next) => expected = next,
                Err(e) => {
                    failed = true;
                    out.push(Err(e));
                }
            }
            out
        })
    }

    /// Decodes `chunk`, which must begin at seq `expected`, into `out`;
    /// the seq after its last record, or the first one that is damaged.
    fn decode_chunk(
        &self,
        info: ChunkInfo,
        chunk: &[u8],
        expected: u64,
        out: &mut Vec<Result<Record, StoreError>>,
    ) -> Result<u64, StoreError> {
        if info.first_seq != expected {
            let found = format!("found seq {} where {expected} was due", info.first_seq);
            return Err(self.corrupt(expected, found));
        }
        let mut decoder = Decoder::new(info.encoding, expected, info.base_at);
        let mut rest = chunk;
        while !rest.is_empty() {
            let (record, used) = (decoder.decode_one(rest))
                .map_err(|reason| self.corrupt(decoder.next_seq(), reason))?;
            rest = &rest[used..];
            out.push(Ok(record));
        }
        let next = decoder.next_seq();
        match info.count {
            Some(count) if u64::from(count) != next - expected => Err(self.corrupt(
                next,
                format!(
                    "its chunk holds {} records, its frame says {count}",
                    next - expected
                ),
            )),
            _ => Ok(next),
        }
    }

    fn corrupt(&self, seq: u64, reason: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            seq,
            reason,
        }
    }

    /// The digest recomputed from the stored records (must equal the meta's).
    pub fn recompute_digest(&self) -> Result<Digest, StoreError> {
        let mut hasher = blake3::Hasher::new();
        for item in self.chunks() {
            let (_, raw) = item?;
            hasher.update(&raw);
        }
        Ok(Digest(*hasher.finalize().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::writer::CHUNKS_PER_TREE;
    use super::*;
    use crate::event::Event;
    use crate::model::{ActorId, SimTime, VmId};

    /// Records `0..records` of a made-up log, to `visit` one by one.
    fn each_record(records: u64, mut visit: impl FnMut(&RecordRef<'_>)) {
        for seq in 0..records {
            let event = Event::VmPowerOff { vm: VmId(seq / 3) };
            visit(&RecordRef {
                seq,
                at: SimTime(seq * 1_000_003),
                from: ActorId((seq % 7) as u32),
                to: ActorId((seq % 11) as u32),
                cause: seq.checked_sub(1),
                event: &event,
            });
        }
    }

    fn write(log: &mut EventLog, records: u64) {
        each_record(records, |r| log.record(r));
    }

    /// Hashed inline, on a thread that only hashes, or on the writer thread
    /// and stored with syncs cutting chunks at odd places: one digest, and
    /// the stored records read back as they were recorded.
    #[test]
    fn hashing_here_or_on_the_writer_gives_the_same_digest() {
        let records: Vec<Record> = (0..30_000u64)
            .map(|seq| Record {
                seq,
                at: SimTime(seq * 977),
                from: ActorId((seq % 5) as u32),
                to: ActorId((seq % 13) as u32),
                cause: (seq % 4 != 0).then_some(seq / 2),
                event: match seq % 3 {
                    0 => Event::VmPowerOff { vm: VmId(seq) },
                    1 => Event::FailureTimer {
                        generation: seq as u32,
                    },
                    _ => Event::VmDeleteRequested { vm: VmId(seq / 2) },
                },
            })
            .collect();
        let feed = |log: &mut EventLog, sync_every: Option<usize>| {
            for (i, r) in records.iter().enumerate() {
                log.record(&r.borrowed());
                if sync_every.is_some_and(|n| i % n == n - 1) {
                    log.sync().unwrap();
                }
            }
        };
        let mut inline = EventLog::in_memory();
        feed(&mut inline, None);
        let digest = inline.finish().unwrap();
        let mut aside = EventLog::hashed_aside();
        assert!(matches!(aside.chunks, Chunks::HashedAside(_)));
        feed(&mut aside, Some(9_001));
        assert_eq!(aside.finish().unwrap(), digest, "hashed on a thread");
        let dir = tempfile::tempdir().unwrap();
        let mut stored = EventLog::create(dir.path(), "test", 7).unwrap();
        feed(&mut stored, Some(7_001));
        assert_eq!(stored.finish().unwrap(), digest);
        let reader = LogReader::open(dir.path()).unwrap();
        let back: Vec<Record> = reader.records().map(Result::unwrap).collect();
        assert_eq!(back, records);
        assert_eq!(reader.recompute_digest().unwrap(), digest);
    }

    #[test]
    fn a_log_spread_over_several_trees_reads_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let records = 300_000;
        let mut log = EventLog::create(dir.path(), "test", 7).unwrap();
        write(&mut log, records);
        let digest = log.finish().unwrap();

        let mut memory = EventLog::in_memory();
        write(&mut memory, records);
        assert_eq!(memory.finish().unwrap(), digest);

        let reader = LogReader::open(dir.path()).unwrap();
        let chunks = reader.chunks().count() as u64;
        let Backing::Sled { trees, .. } = &reader.backing else {
            panic!("read through sled")
        };
        assert!(
            trees.len() as u64 >= 3 && chunks > 2 * CHUNKS_PER_TREE,
            "{} trees, {chunks} chunks: too few to test the grouping",
            trees.len()
        );
        assert_eq!(trees.len() as u64, chunks.div_ceil(CHUNKS_PER_TREE));
        let mut next = 0;
        for record in reader.records() {
            let record = record.unwrap();
            assert_eq!(record.seq, next);
            assert_eq!(record.event, Event::VmPowerOff { vm: VmId(next / 3) });
            next += 1;
        }
        assert_eq!(next, records);
        assert_eq!(reader.meta().records, records);
        assert_eq!(reader.meta().digest, digest.to_string());
        assert_eq!(reader.recompute_digest().unwrap(), digest);
    }

    #[test]
    fn a_log_dropped_unfinished_lets_its_writer_go_and_the_folder_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = EventLog::create(dir.path(), "test", 7).unwrap();
        write(&mut log, 50_000);
        drop(log);
        // sled locks its folder while any handle (the writer's too) lives.
        let reopened = sled::open(dir.path()).expect("no handle left behind");
        assert!(
            reopened
                .tree_names()
                .iter()
                .any(|n| n.starts_with(RECORDS_TREE_PREFIX))
        );
    }

    /// A write failing mid-run (a full disk): `finish` says where, the
    /// chunks before it stay stored whole, and the folder reads back as an
    /// unfinished log rather than a short one with a digest.
    #[test]
    fn a_failed_write_is_reported_and_leaves_an_unfinished_log() {
        use super::super::writer::FailingAt;
        let dir = tempfile::tempdir().unwrap();
        let fail_at = 3;
        let store = |chunks| FailingAt {
            inner: chunks,
            fail_at,
            puts: 0,
        };
        let mut log = EventLog::create_with(dir.path(), "test", 7, store).unwrap();
        write(&mut log, 100_000);
        let err = log.finish().expect_err("the fourth chunk fails");
        let StoreError::Records { first_seq, .. } = &err else {
            panic!("{err}")
        };
        let message = err.to_string();
        assert!(
            message.contains(&format!("records from #{first_seq} on"))
                && message.contains("no space left on device"),
            "{message}"
        );
        match LogReader::open(dir.path()) {
            Err(e @ StoreError::Unfinished { .. }) => {
                assert!(e.to_string().contains("is unfinished"), "{e}")
            }
            other => panic!("not reported unfinished: {:?}", other.map(|r| r.meta)),
        }
        // The stored chunks are the first ones, whole, ending where the
        // failed one begins.
        let db = sled::open(dir.path()).unwrap();
        let mut names = db.tree_names();
        names.retain(|n| n.starts_with(RECORDS_TREE_PREFIX));
        names.sort();
        let mut next = 0;
        for name in names {
            for item in db.open_tree(name).unwrap().iter() {
                let (key, stored) = item.unwrap();
                assert_eq!(u64::from_be_bytes(key.as_ref().try_into().unwrap()), next);
                let (head, chunk) = frame::open_chunk(&stored).unwrap();
                let mut decoder = Decoder::new(head.encoding, next, head.base_at);
                let mut rest = chunk.as_slice();
                while !rest.is_empty() {
                    let (record, used) = decoder.decode_one(rest).unwrap();
                    assert_eq!(record.seq, next);
                    assert_eq!(record.event, Event::VmPowerOff { vm: VmId(next / 3) });
                    rest = &rest[used..];
                    next += 1;
                }
            }
        }
        assert_eq!(next, *first_seq);
        assert!(next > 0);
    }

    /// What pacsim-log/4 wrote: bincode records in frames without a base
    /// time. Read through sled and by a salvaging scan.
    #[test]
    fn a_log_of_bincode_frames_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let records = 20_000;
        let mut hasher = blake3::Hasher::new();
        {
            let db = sled::open(dir.path()).unwrap();
            let tree = db
                .open_tree(super::super::writer::records_tree_name(0))
                .unwrap();
            let (mut chunk, mut first) = (Vec::new(), 0);
            let mut encoder = Encoder::new(Encoding::Bincode);
            each_record(records, |r| {
                encoder.encode_into(&mut chunk, r);
                if chunk.len() >= CHUNK_BYTES || r.seq + 1 == records {
                    hasher.update(&chunk);
                    let count = (r.seq + 1 - first) as u32;
                    tree.insert(
                        u64::to_be_bytes(first),
                        frame::chunk_v4(first, count, &chunk),
                    )
                    .unwrap();
                    chunk.clear();
                    first = r.seq + 1;
                }
            });
            let digest = Digest(*hasher.finalize().as_bytes());
            let meta = db.open_tree("meta").unwrap();
            let body = MetaBody {
                format: LOG_FORMAT_BINCODE_FRAMES.into(),
                scenario: "test".into(),
                seed: 7,
                pacsim_version: "0.1.0".into(),
            };
            meta.insert("format", LOG_FORMAT_BINCODE_FRAMES).unwrap();
            meta.insert("scenario", "test").unwrap();
            meta.insert("seed", &7u64.to_be_bytes()).unwrap();
            meta.insert("pacsim_version", "0.1.0").unwrap();
            meta.insert("frame", frame::meta_frame(&body)).unwrap();
            meta.insert("records", &records.to_be_bytes()).unwrap();
            let end = EndBody {
                records,
                digest: digest.0,
            };
            meta.insert("end", frame::end_frame(&end)).unwrap();
            meta.insert("digest", digest.to_string().as_bytes())
                .unwrap();
            db.flush().unwrap();
        }
        let mut expected = Vec::new();
        each_record(records, |r| expected.push(r.to_record()));
        for reader in [LogReader::open(dir.path()), LogReader::salvage(dir.path())] {
            let reader = reader.unwrap();
            assert!(reader.meta().finished);
            let back: Vec<Record> = reader.records().map(Result::unwrap).collect();
            assert_eq!(back, expected);
            assert_eq!(
                reader.recompute_digest().unwrap().to_string(),
                reader.meta().digest
            );
        }
    }

    #[test]
    fn a_log_in_the_one_tree_layout_still_reads() {
        // What pacsim-log/2 wrote: the same chunks, keyed the same way, all
        // in one `records` tree.
        let dir = tempfile::tempdir().unwrap();
        let records = 20_000;
        // Its digest is of the bincode records it holds.
        let mut hasher = blake3::Hasher::new();
        {
            let db = sled::open(dir.path()).unwrap();
            let tree = db.open_tree("records").unwrap();
            let (mut chunk, mut compressed, mut first) = (Vec::new(), Vec::new(), 0);
            let mut encoder = Encoder::new(Encoding::Bincode);
            each_record(records, |r| {
                encoder.encode_into(&mut chunk, r);
                if chunk.len() >= CHUNK_BYTES || r.seq + 1 == records {
                    hasher.update(&chunk);
                    codec::compress_chunk_into(&chunk, &mut compressed);
                    tree.insert(u64::to_be_bytes(first), compressed.as_slice())
                        .unwrap();
                    chunk.clear();
                    first = r.seq + 1;
                }
            });
            let meta = db.open_tree("meta").unwrap();
            for (key, value) in [
                ("format", LOG_FORMAT_ONE_TREE.as_bytes().to_vec()),
                ("scenario", b"test".to_vec()),
                ("seed", 7u64.to_be_bytes().to_vec()),
                ("pacsim_version", b"0.1.0".to_vec()),
                ("records", records.to_be_bytes().to_vec()),
                (
                    "digest",
                    Digest(*hasher.finalize().as_bytes())
                        .to_string()
                        .into_bytes(),
                ),
            ] {
                meta.insert(key, value).unwrap();
            }
            db.flush().unwrap();
        }
        let reader = LogReader::open(dir.path()).unwrap();
        assert!(
            matches!(&reader.backing, Backing::Sled { trees, framed: false } if trees.len() == 1)
        );
        let mut expected = Vec::new();
        each_record(records, |r| expected.push(r.to_record()));
        let back: Vec<Record> = reader.records().map(Result::unwrap).collect();
        assert_eq!(back, expected);
        assert_eq!(
            reader.recompute_digest().unwrap().to_string(),
            reader.meta().digest
        );
    }

    #[test]
    fn records_tree_names_sort_in_log_order() {
        let seqs = [0, 1, 255, 256, 65_536, u32::MAX as u64 + 1, u64::MAX];
        let mut names: Vec<Vec<u8>> = seqs
            .iter()
            .rev()
            .map(|&s| super::super::writer::records_tree_name(s))
            .collect();
        names.sort();
        let back: Vec<u64> = names
            .iter()
            .map(|n| u64::from_be_bytes(n[RECORDS_TREE_PREFIX.len()..].try_into().unwrap()))
            .collect();
        assert_eq!(back, seqs);
    }
}
