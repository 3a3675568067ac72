//! A time-ordered multiset of (time, VM) for pending deletions, cheaper than
//! a binary heap when it holds many entries: entries are appended to
//! one-second buckets and a bucket is sorted once, when it becomes the
//! earliest. Pops are in (time, VM id) order, exactly as a heap's would be.
//!
//! The next [`RING`] seconds live in a ring of buckets indexed by second, so
//! a push is an index and an append (the ordered map this replaced spent
//! half of the generator's time searching its nodes); buckets further out
//! wait in an ordered map and move into the ring as it reaches them.

use crate::model::{SimTime, VmId};
use std::collections::BTreeMap;

const BUCKET_NANOS: u64 = 1_000_000_000;

/// Buckets in the ring: about 68 minutes of one-second buckets, which holds
/// nearly every deletion of typical lifetimes (exp(600 s) passes it 0.1 %
/// of the time).
const RING: u64 = 4096;

type Entry = (SimTime, VmId);

pub struct Calendar {
    /// The earliest bucket that may hold entries; the ring holds buckets
    /// `base .. base + RING`, bucket `b` in slot `b % RING`.
    base: u64,
    ring: Vec<Vec<Entry>>,
    /// Entries in ring slots (not counting `current`).
    in_ring: usize,
    /// Buckets from `base + RING` on, unsorted.
    far: BTreeMap<u64, Vec<Entry>>,
    /// Bucket `base`, sorted descending so the next entry is last; only
    /// while `loaded`.
    current: Vec<Entry>,
    loaded: bool,
    /// Emptied vectors, reused for far buckets.
    spare: Vec<Vec<Entry>>,
    /// Reused by [`sort_second`].
    sorting: SortSpace,
    /// Entries held, wherever they are.
    held: usize,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar {
            base: 0,
            ring: (0..RING).map(|_| Vec::new()).collect(),
            in_ring: 0,
            far: BTreeMap::new(),
            current: Vec::new(),
            loaded: false,
            spare: Vec::new(),
            sorting: SortSpace::default(),
            held: 0,
        }
    }
}

impl Calendar {
    /// Entries held, wherever they are (counted: a drawing thread asks
    /// after every input).
    pub fn len(&self) -> usize {
        self.held
    }

    pub fn push(&mut self, at: SimTime, vm: VmId) {
        self.held += 1;
        let bucket = at.0 / BUCKET_NANOS;
        if bucket < self.base {
            self.rewind(bucket);
        }
        if self.loaded && bucket == self.base {
            // Same second as the sorted bucket: a sorted insert (rare, and
            // the bucket holds one second of entries at most).
            let pos = self.current.partition_point(|e| *e > (at, vm));
            self.current.insert(pos, (at, vm));
        } else if bucket < self.base + RING {
            self.ring[(bucket % RING) as usize].push((at, vm));
            self.in_ring += 1;
        } else {
            let spare = &mut self.spare;
            self.far
                .entry(bucket)
                .or_insert_with(|| spare.pop().unwrap_or_default())
                .push((at, vm));
        }
    }

    /// Moves `base` back to `bucket` (an entry earlier than the earliest
    /// bucket, e.g. a short lifetime pushed while the next deletion lies in a
    /// later second). The ring's last buckets leave for `far`, since their
    /// slots now belong to the earlier seconds.
    fn rewind(&mut self, bucket: u64) {
        if self.loaded {
            let slot = &mut self.ring[(self.base % RING) as usize];
            debug_assert!(slot.is_empty(), "the loaded bucket's slot is empty");
            self.in_ring += self.current.len();
            std::mem::swap(slot, &mut self.current);
            self.loaded = false;
        }
        let end = self.base + RING;
        for b in (bucket + RING).max(self.base)..end {
            let slot = &mut self.ring[(b % RING) as usize];
            if !slot.is_empty() {
                self.in_ring -= slot.len();
                let fresh = self.spare.pop().unwrap_or_default();
                self.far.insert(b, std::mem::replace(slot, fresh));
            }
        }
        self.base = bucket;
    }

    /// Moves `base` forward to `bucket` (nothing lies between), pulling the
    /// far buckets the ring now covers into it.
    fn advance(&mut self, bucket: u64) {
        self.base = bucket;
        while let Some(entry) = self.far.first_entry()
            && *entry.key() < self.base + RING
        {
            let (b, entries) = entry.remove_entry();
            self.in_ring += entries.len();
            let slot = &mut self.ring[(b % RING) as usize];
            let emptied = std::mem::replace(slot, entries);
            if emptied.capacity() > 0 {
                self.spare.push(emptied);
            }
        }
    }

    pub fn peek(&mut self) -> Option<(SimTime, VmId)> {
        loop {
            if self.loaded {
                if let Some(e) = self.current.last() {
                    return Some(*e);
                }
                self.loaded = false;
                self.advance(self.base + 1);
            }
            if self.in_ring == 0 {
                let (&first, _) = self.far.first_key_value()?;
                self.advance(first);
                continue;
            }
            let slot = &mut self.ring[(self.base % RING) as usize];
            if slot.is_empty() {
                self.advance(self.base + 1);
                continue;
            }
            std::mem::swap(slot, &mut self.current);
            self.in_ring -= self.current.len();
            let start = SimTime(self.base * BUCKET_NANOS);
            sort_second(&mut self.current, start, &mut self.sorting);
            self.loaded = true;
        }
    }

    /// Starts loading the ring slot an entry due at `at` would be appended
    /// to (its vector's header), if the ring covers `at`.
    pub fn prefetch_slot(&self, at: SimTime) {
        if let Some(slot) = self.ring_slot(at) {
            crate::hint::prefetch(slot);
        }
    }

    /// Starts loading the line an entry due at `at` would be written to.
    /// Reads the slot's header: call it once [`Self::prefetch_slot`] has had
    /// time.
    pub fn prefetch_append(&self, at: SimTime) {
        if let Some(slot) = self.ring_slot(at) {
            crate::hint::prefetch_spare(slot);
        }
    }

    fn ring_slot(&self, at: SimTime) -> Option<&Vec<Entry>> {
        let bucket = at.0 / BUCKET_NANOS;
        (self.base..self.base + RING)
            .contains(&bucket)
            .then(|| &self.ring[(bucket % RING) as usize])
    }

    /// The entry `n` places after the next (0: the next), if it is in the
    /// current, already sorted second.
    pub fn peek_loaded(&self, n: usize) -> Option<(SimTime, VmId)> {
        if !self.loaded {
            return None;
        }
        let len = self.current.len();
        len.checked_sub(n + 1).map(|i| self.current[i])
    }

    pub fn pop(&mut self) -> Option<(SimTime, VmId)> {
        self.peek()?;
        self.held -= 1;
        self.current.pop()
    }
}

/// Scratch space for [`sort_second`], kept to reuse its allocations.
#[derive(Default)]
struct SortSpace {
    entries: Vec<Entry>,
    /// Per part: its entry count, then where it starts, then where it ends.
    parts: Vec<usize>,
}

/// Seconds with fewer entries are sorted by comparison alone.
const SPLIT_FROM: usize = 32;

/// Sorts one second's entries (all at `start` or within the second after
/// it), descending. A comparison sort costs log n per entry, which grows
/// with the arrival rate (150 a second in churn-xl); deletion times spread
/// through the second, so one counting pass on the sub-second time first
/// splits the entries into about n ordered parts of about one entry each,
/// and only each part is then sorted. The order is the same either way:
/// entries are distinct, so there is one sorted order.
fn sort_second(entries: &mut Vec<Entry>, start: SimTime, space: &mut SortSpace) {
    let descending = |a: &Entry, b: &Entry| b.cmp(a);
    let n = entries.len();
    if n < SPLIT_FROM {
        entries.sort_unstable_by(descending);
        return;
    }
    // 2^bits parts of 2^shift nanoseconds each; a second is under 2^30 ns.
    let bits = n.next_power_of_two().trailing_zeros().min(SECOND_BITS);
    let shift = SECOND_BITS - bits;
    let part = |e: &Entry| ((e.0.0 - start.0) >> shift) as usize;
    let parts = &mut space.parts;
    parts.clear();
    parts.resize(1 << bits, 0);
    for e in entries.iter() {
        parts[part(e)] += 1;
    }
    // The latest part goes first.
    let mut offset = 0;
    for slot in parts.iter_mut().rev() {
        let count = *slot;
        *slot = offset;
        offset += count;
    }
    let sorted = &mut space.entries;
    sorted.clear();
    sorted.resize(n, (SimTime(0), VmId(0)));
    for e in entries.iter() {
        let slot = &mut parts[part(e)];
        sorted[*slot] = *e;
        *slot += 1;
    }
    // Each part's slot now holds where it ends, and it begins where the
    // next later part ended.
    let mut begin = 0;
    for &end in parts.iter().rev() {
        if end - begin > 1 {
            sorted[begin..end].sort_unstable_by(descending);
        }
        begin = end;
    }
    std::mem::swap(entries, sorted);
}

/// 2^30 ns is just over a second (the bucket width).
const SECOND_BITS: u32 = 30;
const _: () = assert!(BUCKET_NANOS <= 1 << SECOND_BITS);

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
                assert_eq!(calendar.len(), heap.len(), "entries held");
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

    /// Entries beyond the ring, long quiet gaps, and pushes into seconds
    /// before the earliest bucket (which rewind the ring).
    #[test]
    fn far_buckets_gaps_and_rewinds_keep_heap_order() {
        let mut rng = StreamRng::derive(12, "calendar-far");
        let mut calendar = Calendar::default();
        let mut heap = BinaryHeap::new();
        let mut now = 0u64;
        let horizons = [
            BUCKET_NANOS / 2,
            3 * BUCKET_NANOS,
            RING * BUCKET_NANOS,
            5 * RING * BUCKET_NANOS,
        ];
        for i in 0..60_000u64 {
            if rng.chance(11, 20) {
                let horizon = horizons[rng.below(horizons.len() as u64) as usize];
                let at = SimTime(now + rng.below(horizon));
                calendar.push(at, VmId(i));
                heap.push(Reverse((at, VmId(i))));
            } else {
                // Peek first, as the generator does before pushing.
                let peeked = calendar.peek();
                assert_eq!(peeked, heap.peek().map(|Reverse(e)| *e));
                if rng.chance(1, 3) {
                    continue;
                }
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
        assert_eq!(calendar.in_ring, 0);
    }

    /// The split sort gives what a comparison sort gives: seconds of every
    /// size around the split threshold, times spread out, clustered into a
    /// few instants (many entries in one part), or at the second's edges.
    #[test]
    fn sort_second_matches_a_comparison_sort() {
        let mut rng = StreamRng::derive(13, "sort-second");
        let mut space = SortSpace::default();
        let start = 7 * BUCKET_NANOS;
        for n in [0, 1, 2, 31, 32, 33, 150, 1000, 5000] {
            for shape in 0..4 {
                let entries: Vec<Entry> = (0..n as u64)
                    .map(|i| {
                        let offset = match shape {
                            0 => rng.below(BUCKET_NANOS),
                            1 => 1000 * rng.below(3),
                            2 => [0, BUCKET_NANOS - 1][rng.below(2) as usize],
                            _ => rng.below(BUCKET_NANOS / 1000) * 1000,
                        };
                        (SimTime(start + offset), VmId(rng.below(1 << 40) ^ i))
                    })
                    .collect();
                let mut want = entries.clone();
                want.sort_unstable_by(|a, b| b.cmp(a));
                let mut got = entries;
                sort_second(&mut got, SimTime(start), &mut space);
                assert_eq!(got, want, "{n} entries, shape {shape}");
            }
        }
    }

    /// `peek_loaded(n)` names the entry n pops later, within the loaded
    /// second, and nothing past it.
    #[test]
    fn peek_loaded_looks_ahead_within_the_current_second() {
        let mut calendar = Calendar::default();
        assert_eq!(calendar.peek_loaded(0), None);
        for (i, nanos) in [300, 100, 200, BUCKET_NANOS + 5].into_iter().enumerate() {
            calendar.push(SimTime(nanos), VmId(i as u64));
        }
        calendar.peek();
        assert_eq!(calendar.peek_loaded(0), Some((SimTime(100), VmId(1))));
        assert_eq!(calendar.peek_loaded(2), Some((SimTime(300), VmId(0))));
        assert_eq!(
            calendar.peek_loaded(3),
            None,
            "the next second is not loaded"
        );
        calendar.pop();
        assert_eq!(calendar.peek_loaded(0), Some((SimTime(200), VmId(2))));
        assert_eq!(calendar.peek_loaded(1), Some((SimTime(300), VmId(0))));
        calendar.pop();
        calendar.pop();
        // The emptied second is left only when the next pop looks further.
        calendar.peek();
        assert_eq!(
            calendar.peek_loaded(0),
            Some((SimTime(BUCKET_NANOS + 5), VmId(3)))
        );
    }
}
