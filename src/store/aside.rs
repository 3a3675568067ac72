//! An in-memory run's records, encoded and hashed on a thread of their
//! own: the simulation hands over copies of the records, in batches, and
//! the thread encodes them and feeds the bytes to the digest.
//!
//! Why: in memory nothing is stored, so the simulation's second core has
//! room, and encoding was the largest single cost on the simulation's
//! thread. A persisted run keeps encoding on the simulation's thread: its
//! second core is full with compressing and storing, and copies moved
//! between the cores cost more there than they saved.
//!
//! The digest is the same: blake3 of the records' encodings in seq order,
//! however the bytes are split between updates.

use super::codec;
use crate::event::{Event, Record, RecordRef};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Records per batch handed over.
const BATCH: usize = 1024;

/// Batches handed over but not yet encoded; the simulation waits when the
/// thread falls this far behind.
const IN_FLIGHT: usize = 8;

pub struct EncodeAside {
    batch: Vec<Record>,
    jobs: Option<SyncSender<Vec<Record>>>,
    emptied: Receiver<Vec<Record>>,
    thread: Option<JoinHandle<[u8; 32]>>,
}

impl EncodeAside {
    pub fn spawn() -> std::io::Result<Self> {
        let (jobs, to_encode) = sync_channel::<Vec<Record>>(IN_FLIGHT);
        let (give_back, emptied) = sync_channel::<Vec<Record>>(IN_FLIGHT + 1);
        let thread = std::thread::Builder::new()
            .name("pacsim-log-hasher".into())
            .spawn(move || encode_and_hash(&to_encode, &give_back))?;
        Ok(EncodeAside {
            batch: Vec::with_capacity(BATCH),
            jobs: Some(jobs),
            emptied,
            thread: Some(thread),
        })
    }

    #[inline]
    pub fn push(&mut self, record: &RecordRef<'_>) {
        self.batch.push(Record {
            seq: record.seq,
            at: record.at,
            from: record.from,
            to: record.to,
            cause: record.cause,
            event: copy_event(record.event),
        });
        if self.batch.len() == BATCH {
            self.hand_over();
        }
    }

    fn hand_over(&mut self) {
        let spare = (self.emptied.try_recv()).unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let batch = std::mem::replace(&mut self.batch, spare);
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(batch);
        }
    }

    /// The digest of every record pushed.
    pub fn finish(mut self) -> [u8; 32] {
        if !self.batch.is_empty() {
            self.hand_over();
        }
        drop(self.jobs.take());
        let thread = self.thread.take().expect("joined only here");
        match thread.join() {
            Ok(digest) => digest,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl Drop for EncodeAside {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A copy of `event`: the four events of a VM's life field by field,
/// inline; the derived clone is a call to a match over every kind.
#[inline(always)]
fn copy_event(event: &Event) -> Event {
    match *event {
        Event::VmRequested { vm, size } => Event::VmRequested { vm, size },
        Event::VmDeleteRequested { vm } => Event::VmDeleteRequested { vm },
        Event::VmPowerOn {
            vm,
            size,
            incarnation,
        } => Event::VmPowerOn {
            vm,
            size,
            incarnation,
        },
        Event::VmPowerOff { vm } => Event::VmPowerOff { vm },
        ref other => other.clone(),
    }
}

fn encode_and_hash(
    batches: &Receiver<Vec<Record>>,
    give_back: &SyncSender<Vec<Record>>,
) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    let mut bytes = Vec::with_capacity(BATCH * 64);
    for mut batch in batches {
        for record in &batch {
            codec::encode_into(&mut bytes, &record.borrowed());
        }
        hasher.update(&bytes);
        bytes.clear();
        batch.clear();
        let _ = give_back.try_send(batch);
    }
    *hasher.finalize().as_bytes()
}
