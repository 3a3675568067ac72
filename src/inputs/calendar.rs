//! A time-ordered multiset of (time, VM) for pending deletions, cheaper than
//! a binary heap when it holds many entries: entries are appended to
//! one-second buckets and a bucket is sorted once, when it becomes the
//! earliest. Pops are in (time, VM id) order, exactly as a heap's would be.

use crate::model::{SimTime, VmId};
use std::collections::BTreeMap;

const BUCKET_NANOS: u64 = 1_000_000_000;

#[derive(Default)]
pub struct Calendar {
    /// Later buckets, unsorted.
    later: BTreeMap<u64, Vec<(SimTime, VmId)>>,
    /// The earliest bucket, sorted descending so the next entry is last.
    current: Vec<(SimTime, VmId)>,
    current_bucket: Option<u64>,
    /// Emptied bucket vectors, reused for new buckets: a fresh `Vec` per
    /// bucket re-grew from nothing every second of simulated time.
    spare: Vec<Vec<(SimTime, VmId)>>,
}

impl Calendar {
    pub fn push(&mut self, at: SimTime, vm: VmId) {
        let bucket = at.0 / BUCKET_NANOS;
        match self.current_bucket {
            // Same second as the sorted bucket: a sorted insert (rare, and
            // the bucket holds one second of entries at most).
            Some(c) if bucket == c => {
                let pos = self.current.partition_point(|e| *e > (at, vm));
                self.current.insert(pos, (at, vm));
            }
            // Earlier than the sorted bucket (it lies in the future, e.g.
            // at the start of a run): hand the sorted bucket back, so that
            // this entry's bucket is loaded first.
            Some(c) if bucket < c => {
                let demoted = std::mem::take(&mut self.current);
                if !demoted.is_empty() {
                    self.later.insert(c, demoted);
                }
                self.current_bucket = None;
                self.later_bucket(bucket).push((at, vm));
            }
            _ => self.later_bucket(bucket).push((at, vm)),
        }
    }

    fn later_bucket(&mut self, bucket: u64) -> &mut Vec<(SimTime, VmId)> {
        let spare = &mut self.spare;
        self.later
            .entry(bucket)
            .or_insert_with(|| spare.pop().unwrap_or_default())
    }

    pub fn peek(&mut self) -> Option<(SimTime, VmId)> {
        if self.current.is_empty() {
            let (bucket, mut entries) = self.later.pop_first()?;
            entries.sort_unstable_by(|a, b| b.cmp(a));
            let emptied = std::mem::replace(&mut self.current, entries);
            if emptied.capacity() > 0 {
                self.spare.push(emptied);
            }
            self.current_bucket = Some(bucket);
        }
        self.current.last().copied()
    }

    pub fn pop(&mut self) -> Option<(SimTime, VmId)> {
        self.peek()?;
        self.current.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::StreamRng;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn pops_in_the_same_order_as_a_binary_heap() {
        let mut rng = StreamRng::derive(11, "calendar");
        let mut calendar = Calendar::default();
        let mut heap = BinaryHeap::new();
        let mut now = 0u64;
        for i in 0..50_000u64 {
            if rng.chance(1, 2) {
                let at = SimTime(now + rng.below(5 * BUCKET_NANOS));
                calendar.push(at, VmId(i));
                heap.push(Reverse((at, VmId(i))));
            } else {
                let got = calendar.pop();
                assert_eq!(got, heap.pop().map(|Reverse(e)| e));
                if let Some((at, _)) = got {
                    now = at.0;
                }
            }
        }
        while let Some(Reverse(e)) = heap.pop() {
            assert_eq!(calendar.pop(), Some(e));
        }
        assert_eq!(calendar.pop(), None);
    }
}
