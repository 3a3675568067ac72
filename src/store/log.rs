//! The event log: every delivered record, encoded once, hashed into a running
//! blake3 digest and (unless in-memory) written to sled.
//!
//! Write path: records are encoded into a chunk buffer; when the chunk passes
//! [`CHUNK_BYTES`] it is hashed, lz4-compressed and inserted into the
//! `records` tree under the big-endian seq of its first record (so sled's key
//! order is log order and one lookup finds the chunk holding any seq). `finish` writes the last
//! chunk, then the meta tree (record count, digest), then flushes sled to
//! disk. The digest is of the concatenated record encodings, so it does not
//! depend on chunking, on the output folder or on whether anything was
//! persisted.

use super::codec;
use crate::event::{Record, RecordRef};
use crate::sim::RecordSink;
use std::path::{Path, PathBuf};

/// Chunks are hashed and persisted once they reach this size.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Written into the meta tree; bumped when the record encoding changes.
pub const LOG_FORMAT: &str = "pacsim-log/2";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open event log at {path}: {source}")]
    Open { path: PathBuf, source: sled::Error },
    #[error("event log at {path} is not a pacsim log (no `{key}` in its meta tree)")]
    NotALog { path: PathBuf, key: &'static str },
    #[error("event log at {path} has format `{found}`, this pacsim reads `{LOG_FORMAT}`")]
    Format { path: PathBuf, found: String },
    #[error("event log write failed: {0}")]
    Write(#[from] sled::Error),
    #[error("event log at {path}: record {seq} is damaged: {reason}")]
    Corrupt {
        path: PathBuf,
        seq: u64,
        reason: String,
    },
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
    pub records: u64,
    pub digest: String,
    pub pacsim_version: String,
}

struct Persist {
    db: sled::Db,
    records: sled::Tree,
}

pub struct EventLog {
    hasher: blake3::Hasher,
    chunk: Vec<u8>,
    chunk_first_seq: u64,
    count: u64,
    persist: Option<Persist>,
    error: Option<sled::Error>,
}

impl EventLog {
    /// A log that only hashes (for sweeps and `--no-persist`).
    pub fn in_memory() -> Self {
        EventLog {
            hasher: blake3::Hasher::new(),
            chunk: Vec::with_capacity(CHUNK_BYTES + 1024),
            chunk_first_seq: 0,
            count: 0,
            persist: None,
            error: None,
        }
    }

    /// A log persisted to a new sled database in `dir`.
    pub fn create(dir: &Path, scenario: &str, seed: u64) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: dir.to_path_buf(),
            source,
        };
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(64 << 20)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(open_err)?;
        let meta = db.open_tree("meta").map_err(open_err)?;
        meta.insert("format", LOG_FORMAT)?;
        meta.insert("scenario", scenario)?;
        meta.insert("seed", &seed.to_be_bytes())?;
        meta.insert("pacsim_version", env!("CARGO_PKG_VERSION"))?;
        let records = db.open_tree("records").map_err(open_err)?;
        let mut log = EventLog::in_memory();
        log.persist = Some(Persist { db, records });
        Ok(log)
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    fn flush_chunk(&mut self) {
        if self.chunk.is_empty() {
            return;
        }
        self.hasher.update(&self.chunk);
        if let Some(p) = &self.persist
            && let Err(e) = p.records.insert(
                self.chunk_first_seq.to_be_bytes(),
                codec::compress_chunk(&self.chunk),
            )
        {
            self.error.get_or_insert(e);
        }
        self.chunk.clear();
        self.chunk_first_seq = self.count;
    }

    /// Writes what is buffered and the meta, flushes to disk, returns the digest.
    pub fn finish(mut self) -> Result<Digest, StoreError> {
        self.flush_chunk();
        let digest = Digest(*self.hasher.finalize().as_bytes());
        if let Some(e) = self.error.take() {
            return Err(StoreError::Write(e));
        }
        if let Some(p) = &self.persist {
            let meta = p.db.open_tree("meta")?;
            meta.insert("records", &self.count.to_be_bytes())?;
            meta.insert("digest", digest.to_string().as_bytes())?;
            p.db.flush()?;
        }
        Ok(digest)
    }
}

impl RecordSink for EventLog {
    #[inline]
    fn record(&mut self, record: &RecordRef<'_>) {
        codec::encode_into(&mut self.chunk, record);
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
    records: sled::Tree,
}

impl LogReader {
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
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
        let db = sled::Config::new().path(dir).open().map_err(open_err)?;
        let meta = db.open_tree("meta").map_err(open_err)?;
        let get = |key: &'static str| -> Result<sled::IVec, StoreError> {
            meta.get(key)?.ok_or(StoreError::NotALog {
                path: path.clone(),
                key,
            })
        };
        let format = String::from_utf8_lossy(&get("format")?).into_owned();
        if format != LOG_FORMAT {
            return Err(StoreError::Format {
                path,
                found: format,
            });
        }
        let be_u64 = |v: sled::IVec| v.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
        let meta = LogMeta {
            scenario: String::from_utf8_lossy(&get("scenario")?).into_owned(),
            seed: be_u64(get("seed")?),
            records: be_u64(get("records")?),
            digest: String::from_utf8_lossy(&get("digest")?).into_owned(),
            pacsim_version: String::from_utf8_lossy(&get("pacsim_version")?).into_owned(),
        };
        let records = db.open_tree("records").map_err(open_err)?;
        Ok(LogReader {
            path,
            meta,
            records,
        })
    }

    pub fn meta(&self) -> &LogMeta {
        &self.meta
    }

    /// Every record in seq order; a damaged chunk ends the iteration with
    /// an error naming the first record that could not be read.
    pub fn records(&self) -> impl Iterator<Item = Result<Record, StoreError>> + '_ {
        let mut expected = 0u64;
        let mut failed = false;
        self.records.iter().flat_map(move |item| {
            let mut out = Vec::new();
            if failed {
                return out;
            }
            let stored = match item {
                Ok((_, v)) => v,
                Err(e) => {
                    failed = true;
                    out.push(Err(StoreError::Write(e)));
                    return out;
                }
            };
            let chunk = match codec::decompress_chunk(&stored) {
                Ok(c) => c,
                Err(reason) => {
                    failed = true;
                    out.push(Err(self.corrupt(expected, reason)));
                    return out;
                }
            };
            let mut rest: &[u8] = &chunk;
            while !rest.is_empty() {
                match codec::decode_one(rest) {
                    Ok((r, used)) if r.seq == expected => {
                        rest = &rest[used..];
                        expected += 1;
                        out.push(Ok(r));
                    }
                    Ok((r, _)) => {
                        failed = true;
                        out.push(Err(self.corrupt(
                            expected,
                            format!("found seq {} where {expected} was due", r.seq),
                        )));
                        break;
                    }
                    Err(e) => {
                        failed = true;
                        out.push(Err(self.corrupt(expected, e.to_string())));
                        break;
                    }
                }
            }
            out
        })
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
        let mut seq = 0;
        for item in self.records.iter() {
            let (key, stored) = item?;
            seq = key
                .as_ref()
                .try_into()
                .map(u64::from_be_bytes)
                .unwrap_or(seq);
            let chunk =
                codec::decompress_chunk(&stored).map_err(|reason| self.corrupt(seq, reason))?;
            hasher.update(&chunk);
        }
        Ok(Digest(*hasher.finalize().as_bytes()))
    }
}
