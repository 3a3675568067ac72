//! The served session's journal: the only inputs a served Supervisor has
//! that its scenario does not determine. Everything else (the event log,
//! the store, every reply) follows from the scenario, its seed and these
//! entries, so they are what must survive a crash.
//!
//! ```text
//! file     magic "PSJOURN\0" (8) | version u16 | entries...
//! entry    len u32 | crc u32 | payload (`Entry`, the log's bincode options)
//!          crc = crc32 of the 4 len bytes then the payload (as traces)
//! ```
//!
//! A batch of requests is appended and made durable with one `fdatasync`
//! (group commit) before any of them reaches the kernel, so nothing the
//! server acknowledged, or showed to a reader, is missing after a `kill -9`.
//! A torn tail (the entry being written when the process died) is cut off
//! when the journal is opened.

use crate::api::Verb;
use crate::api::msg::CallId;
use crate::api::objects::{Object, ObjectKey};
use crate::model::SimTime;
use crate::trace::format::frame_crc;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"PSJOURN\0";
/// 2: requests name their guest cluster. Version 1 journals are read too.
const VERSION: u16 = 2;
const HEAD_BYTES: u64 = 10;
/// No entry is this large (a batch of requests of at most 3 MiB each is
/// split long before); a larger length is damage.
const ENTRY_MAX_BYTES: u32 = 256 << 20;

/// One API call as the gateway injects it: who (resolved from the token;
/// the token itself is never written), what and on which object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: CallId,
    pub user: String,
    pub verb: Verb,
    pub object: Object,
    /// The TanzuKubernetesCluster whose guest cluster the call is for;
    /// None: the Supervisor's own API.
    pub guest: Option<ObjectKey>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Entry {
    /// Requests delivered together at virtual time `at`, after every event
    /// due before `at` and before any event due at or after it.
    Batch { at: SimTime, requests: Vec<Request> },
    /// Virtual time reached `at`: where the clock resumes after a restart.
    Clock { at: SimTime },
}

impl Entry {
    pub fn at(&self) -> SimTime {
        match self {
            Entry::Batch { at, .. } | Entry::Clock { at } => *at,
        }
    }
}

/// The open journal, positioned at its end.
pub struct Journal {
    file: File,
    buf: Vec<u8>,
}

/// What opening found.
pub struct Recovered {
    pub journal: Journal,
    pub entries: Vec<Entry>,
    /// Bytes of a torn or damaged tail that were cut off.
    pub cut: u64,
}

impl Journal {
    /// Opens (or creates) the journal at `path`, reading every whole entry
    /// and cutting off what follows the last one.
    pub fn open(path: &Path) -> io::Result<Recovered> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        if bytes.is_empty() {
            let mut head = Vec::with_capacity(HEAD_BYTES as usize);
            head.extend_from_slice(MAGIC);
            head.extend_from_slice(&VERSION.to_le_bytes());
            file.write_all(&head)?;
            file.sync_all()?;
            return Ok(Recovered {
                journal: Journal::at_end(file),
                entries: Vec::new(),
                cut: 0,
            });
        }
        if bytes.len() < HEAD_BYTES as usize || &bytes[..8] != MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not a pacsim journal", path.display()),
            ));
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != VERSION && version != 1 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is journal format {version}; this pacsim reads {VERSION}",
                    path.display()
                ),
            ));
        }
        let (entries, good) = read_entries(&bytes, version);
        if version == 1 {
            return Journal::upgrade(path, entries, bytes.len() as u64 - good);
        }
        let cut = bytes.len() as u64 - good;
        if cut > 0 {
            file.set_len(good)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::End(0))?;
        Ok(Recovered {
            journal: Journal::at_end(file),
            entries,
            cut,
        })
    }

    /// Rewrites a version 1 journal's entries as version 2, beside it, and
    /// renames the copy over it once durable: a crash leaves one or the
    /// other whole.
    fn upgrade(path: &Path, entries: Vec<Entry>, cut: u64) -> io::Result<Recovered> {
        let new = path.with_extension("v2");
        let _ = std::fs::remove_file(&new);
        let mut journal = Journal::open(&new)?.journal;
        for e in &entries {
            journal.push(e);
        }
        journal.commit(true)?;
        std::fs::rename(&new, path)?;
        if let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(Recovered {
            journal,
            entries,
            cut,
        })
    }

    fn at_end(file: File) -> Journal {
        Journal {
            file,
            buf: Vec::new(),
        }
    }

    /// Queues `entry`; nothing is written until [`Journal::commit`].
    pub fn push(&mut self, entry: &Entry) {
        let payload = crate::store::codec::encode_value(entry);
        let len = payload.len() as u32;
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf
            .extend_from_slice(&frame_crc(len, &payload).to_le_bytes());
        self.buf.extend_from_slice(&payload);
    }

    /// Writes the queued entries and, with `durable`, waits until they are
    /// on the disk (`fdatasync`): one flush for the whole batch.
    pub fn commit(&mut self, durable: bool) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.file.write_all(&self.buf)?;
        self.buf.clear();
        if durable {
            self.file.sync_data()?;
        }
        Ok(())
    }
}

/// The whole entries of a journal's bytes, and where the last one ends.
fn read_entries(bytes: &[u8], version: u16) -> (Vec<Entry>, u64) {
    let mut entries = Vec::new();
    let mut at = HEAD_BYTES as usize;
    while bytes.len() - at >= 8 {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let crc = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes"));
        if len > ENTRY_MAX_BYTES || bytes.len() - at - 8 < len as usize {
            break;
        }
        let payload = &bytes[at + 8..at + 8 + len as usize];
        if frame_crc(len, payload) != crc {
            break;
        }
        let decoded = match version {
            1 => crate::store::codec::decode_value::<v1::Entry>(payload).map(Entry::from),
            _ => crate::store::codec::decode_value::<Entry>(payload),
        };
        let Ok(entry) = decoded else {
            break;
        };
        entries.push(entry);
        at += 8 + len as usize;
    }
    (entries, at as u64)
}

/// Version 1: every request was for the Supervisor's API. Opening one
/// rewrites it as version 2 (see `Journal::open`).
mod v1 {
    use crate::api::Verb;
    use crate::api::msg::CallId;
    use crate::api::objects::Object;
    use crate::model::SimTime;
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Request {
        id: CallId,
        user: String,
        verb: Verb,
        object: Object,
    }

    #[derive(Deserialize)]
    pub enum Entry {
        Batch { at: SimTime, requests: Vec<Request> },
        Clock { at: SimTime },
    }

    impl From<Entry> for super::Entry {
        fn from(e: Entry) -> Self {
            match e {
                Entry::Batch { at, requests } => super::Entry::Batch {
                    at,
                    requests: requests
                        .into_iter()
                        .map(|r| super::Request {
                            id: r.id,
                            user: r.user,
                            verb: r.verb,
                            object: r.object,
                            guest: None,
                        })
                        .collect(),
                },
                Entry::Clock { at } => super::Entry::Clock { at },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::objects::{Body, Meta, NamespaceObj};

    fn request(id: u64) -> Request {
        Request {
            id,
            user: "dev".into(),
            verb: Verb::Create,
            object: Object {
                meta: Meta {
                    name: format!("n{id}"),
                    ..Meta::default()
                },
                body: Body::Namespace(NamespaceObj {}),
            },
            guest: None,
        }
    }

    #[test]
    fn a_version_1_journal_is_read_and_rewritten_as_version_2() {
        #[derive(Serialize)]
        struct V1Request {
            id: CallId,
            user: String,
            verb: Verb,
            object: Object,
        }
        #[derive(Serialize)]
        enum V1Entry {
            Batch {
                at: SimTime,
                requests: Vec<V1Request>,
            },
            Clock {
                at: SimTime,
            },
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let old = request(3);
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&1u16.to_le_bytes());
        let v1 = [
            V1Entry::Batch {
                at: SimTime(5),
                requests: vec![V1Request {
                    id: old.id,
                    user: old.user.clone(),
                    verb: old.verb.clone(),
                    object: old.object.clone(),
                }],
            },
            V1Entry::Clock { at: SimTime(7) },
        ];
        for e in &v1 {
            let payload = crate::store::codec::encode_value(e);
            let len = payload.len() as u32;
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&frame_crc(len, &payload).to_le_bytes());
            bytes.extend_from_slice(&payload);
        }
        std::fs::write(&path, &bytes).unwrap();

        let expected = vec![
            Entry::Batch {
                at: SimTime(5),
                requests: vec![old],
            },
            Entry::Clock { at: SimTime(7) },
        ];
        let mut r = Journal::open(&path).unwrap();
        assert_eq!(r.entries, expected);
        r.journal.push(&Entry::Clock { at: SimTime(8) });
        r.journal.commit(true).unwrap();
        drop(r);
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(&on_disk[8..10], &VERSION.to_le_bytes());
        let again = Journal::open(&path).unwrap().entries;
        assert_eq!(again.len(), 3);
        assert_eq!(again[..2], expected[..]);
    }

    #[test]
    fn entries_survive_reopening_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let mut j = Journal::open(&path).unwrap().journal;
        let batch = Entry::Batch {
            at: SimTime(5),
            requests: vec![request(0), request(1)],
        };
        j.push(&batch);
        j.push(&Entry::Clock { at: SimTime(9) });
        j.commit(true).unwrap();
        drop(j);
        let whole = std::fs::metadata(&path).unwrap().len();
        // A crash in the middle of the next entry.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[40, 0, 0, 0, 1, 2, 3]).unwrap();
        drop(f);

        let r = Journal::open(&path).unwrap();
        assert_eq!(r.entries, vec![batch, Entry::Clock { at: SimTime(9) }]);
        assert_eq!(r.cut, 7);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
    }

    #[test]
    fn a_damaged_entry_ends_the_journal_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        let mut j = Journal::open(&path).unwrap().journal;
        j.push(&Entry::Clock { at: SimTime(1) });
        j.push(&Entry::Clock { at: SimTime(2) });
        j.commit(true).unwrap();
        drop(j);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xFF;
        std::fs::write(&path, &bytes).unwrap();
        let r = Journal::open(&path).unwrap();
        assert_eq!(r.entries, vec![Entry::Clock { at: SimTime(1) }]);
    }

    #[test]
    fn a_file_that_is_not_a_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        std::fs::write(&path, b"hello world, not a journal").unwrap();
        let e = Journal::open(&path).err().unwrap();
        assert!(e.to_string().contains("is not a pacsim journal"), "{e}");
    }
}
