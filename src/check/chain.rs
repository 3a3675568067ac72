//! A record sink that keeps the last records in a ring, so a violation can
//! be reported with the chain of events that caused it (`cause` links).

use crate::event::{Record, RecordRef};
use crate::sim::RecordSink;
use std::collections::VecDeque;

/// How many recent records a causal chain can reach back through.
pub const RING: usize = 1 << 14;

pub struct Recorder<'a, L> {
    pub inner: &'a mut L,
    ring: VecDeque<Record>,
}

impl<'a, L: RecordSink> Recorder<'a, L> {
    pub fn new(inner: &'a mut L) -> Self {
        Recorder {
            inner,
            ring: VecDeque::with_capacity(RING),
        }
    }

    /// The receiver of the last record.
    pub fn last_to(&self) -> Option<crate::model::ActorId> {
        self.ring.back().map(|r| r.to)
    }

    /// The record at `seq` and its causes, newest first, at most 64.
    pub fn chain(&self, seq: u64) -> Vec<Record> {
        let mut out = Vec::new();
        let mut next = Some(seq);
        while let Some(s) = next {
            let Some(first) = self.ring.front().map(|r| r.seq) else {
                break;
            };
            let Some(r) = s.checked_sub(first).and_then(|i| self.ring.get(i as usize)) else {
                break;
            };
            out.push(r.clone());
            next = r.cause;
            if out.len() == 64 {
                break;
            }
        }
        out
    }
}

impl<L: RecordSink> RecordSink for Recorder<'_, L> {
    fn record(&mut self, r: &RecordRef<'_>) {
        self.inner.record(r);
        if self.ring.len() == RING {
            self.ring.pop_front();
        }
        self.ring.push_back(r.to_record());
    }
}
