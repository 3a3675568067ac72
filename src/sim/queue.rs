//! The event queue of the deterministic scheduler.
//!
//! Order is the key `(time, enqueue seq)`: earlier time first, and at equal
//! times the event enqueued first. `enqueue seq` is a counter bumped on every
//! push, so the order is total and depends only on the order of pushes, which
//! is itself deterministic. Two structures hold the queue:
//! - a binary heap of small keys for events in the future, with payloads in a
//!   slab so that sifting moves 24 bytes, not whole events;
//! - a FIFO for events due *now* (zero delay), the common case, which needs
//!   no sifting at all. Every FIFO entry has a larger seq than any heap entry
//!   due now (those were pushed before `now` was reached);
//! - one slot per input source: a source has at most one input queued at a
//!   time, so its next input waits in its slot instead of the heap (inputs are
//!   about half of all events in workload-driven runs).
//!
//! Popping compares the fronts of the three by `(time, seq)`, so events come
//! out in exactly key order whichever structure holds them.

use crate::event::Event;
use crate::model::{ActorId, SimTime};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// No input source: the event was sent by an actor.
pub const NO_SOURCE: u32 = u32::MAX;

pub struct Pending {
    pub at: SimTime,
    pub from: ActorId,
    pub to: ActorId,
    pub cause: Option<u64>,
    /// The input source that produced this event, or [`NO_SOURCE`].
    pub source: u32,
    pub event: Event,
}

#[derive(Default)]
pub struct Queue {
    now: SimTime,
    next_seq: u64,
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    slab: Vec<Option<Pending>>,
    free_slots: Vec<u32>,
    due_now: VecDeque<(u64, Pending)>,
    /// The key (time, seq) of each source's queued input, by source index;
    /// [`NO_INPUT`] when it has none. Apart from the payloads, so that
    /// finding the front reads 16 bytes per source, not whole events.
    input_keys: Vec<(u64, u64)>,
    /// The queued input of each source, by source index.
    inputs: Vec<Option<Pending>>,
    queued_inputs: usize,
}

/// The key of an empty input slot: after every real key, since a real seq
/// is never `u64::MAX`.
const NO_INPUT: (u64, u64) = (u64::MAX, u64::MAX);

/// Where the next event waits.
enum Lane {
    Heap,
    DueNow,
    Input(usize),
}

impl Queue {
    pub fn len(&self) -> usize {
        self.heap.len() + self.due_now.len() + self.queued_inputs
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline(always)]
    pub fn push(&mut self, pending: Pending) {
        debug_assert!(pending.at >= self.now, "event scheduled in the past");
        let seq = self.next_seq;
        self.next_seq += 1;
        if pending.source != NO_SOURCE {
            let i = pending.source as usize;
            if i >= self.inputs.len() {
                self.inputs.resize_with(i + 1, || None);
                self.input_keys.resize(i + 1, NO_INPUT);
            }
            assert!(
                self.inputs[i].is_none(),
                "a source has one input queued at a time"
            );
            self.input_keys[i] = (pending.at.0, seq);
            self.inputs[i] = Some(pending);
            self.queued_inputs += 1;
            return;
        }
        if pending.at == self.now {
            self.due_now.push_back((seq, pending));
            return;
        }
        let at = pending.at.0;
        let slot = match self.free_slots.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(pending);
                s
            }
            None => {
                self.slab.push(Some(pending));
                (self.slab.len() - 1) as u32
            }
        };
        self.heap.push(Reverse((at, seq, slot)));
    }

    /// The front of the queue: (time, seq, lane).
    #[inline]
    fn front(&self) -> Option<(u64, u64, Lane)> {
        let mut best = NO_INPUT;
        let mut lane = None;
        if let Some(Reverse((at, seq, _))) = self.heap.peek() {
            best = (*at, *seq);
            lane = Some(Lane::Heap);
        }
        if let Some((seq, _)) = self.due_now.front()
            && (self.now.0, *seq) < best
        {
            best = (self.now.0, *seq);
            lane = Some(Lane::DueNow);
        }
        // Empty slots hold NO_INPUT, which never wins.
        for (i, key) in self.input_keys.iter().enumerate() {
            if *key < best {
                best = *key;
                lane = Some(Lane::Input(i));
            }
        }
        lane.map(|lane| (best.0, best.1, lane))
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.front().map(|(at, _, _)| SimTime(at))
    }

    /// Pops the next event if it is due at or before `limit`.
    #[inline(always)]
    pub fn pop_until(&mut self, limit: SimTime) -> Option<Pending> {
        let (at, _, lane) = self.front()?;
        if SimTime(at) > limit {
            return None;
        }
        self.now = SimTime(at);
        match lane {
            Lane::Heap => {
                let Reverse((_, _, slot)) = self.heap.pop().expect("front is the heap's");
                self.free_slots.push(slot);
                Some(self.slab[slot as usize].take().expect("slot is full"))
            }
            Lane::DueNow => {
                let popped = self.due_now.pop_front().map(|(_, p)| p);
                if self.due_now.is_empty() {
                    // Back to the buffer's first slots, which stay cached. A
                    // burst (10,000 hosts' starts at time 0) grows it to
                    // megabytes, and walking its ring made every push miss.
                    self.due_now.clear();
                }
                popped
            }
            Lane::Input(i) => {
                self.queued_inputs -= 1;
                self.input_keys[i] = NO_INPUT;
                self.inputs[i].take()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::StreamRng;

    fn pending(at: u64, tag: u64) -> Pending {
        pending_from(at, tag, NO_SOURCE)
    }

    fn pending_from(at: u64, tag: u64, source: u32) -> Pending {
        Pending {
            at: SimTime(at),
            from: ActorId(0),
            to: ActorId(0),
            cause: Some(tag),
            source,
            event: Event::Start,
        }
    }

    /// Against a sorted reference: pops come out in (time, push order).
    #[test]
    fn pops_in_time_then_push_order_under_random_pushes() {
        let mut rng = StreamRng::derive(5, "queue");
        let mut q = Queue::default();
        let mut reference: Vec<(u64, u64)> = Vec::new();
        let mut tag = 0u64;
        let mut popped = Vec::new();
        for _ in 0..5000 {
            if rng.chance(3, 5) || q.is_empty() {
                let now = q.now.0;
                let at = if rng.chance(1, 2) {
                    now
                } else {
                    now + rng.below(50)
                };
                // Sometimes as the input of one of three sources, when that
                // source has nothing queued.
                let source = rng.below(6) as u32;
                let free = source < 3 && q.inputs.get(source as usize).is_none_or(|s| s.is_none());
                q.push(pending_from(at, tag, if free { source } else { NO_SOURCE }));
                reference.push((at, tag));
                tag += 1;
            } else {
                let p = q.pop_until(SimTime::MAX).expect("not empty");
                popped.push((p.at.0, p.cause.unwrap()));
                reference.sort();
                assert_eq!(reference.remove(0), (p.at.0, p.cause.unwrap()));
            }
        }
        assert!(popped.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn pop_until_leaves_later_events_queued() {
        let mut q = Queue::default();
        q.push(pending(10, 0));
        q.push(pending(20, 1));
        assert_eq!(q.pop_until(SimTime(15)).map(|p| p.at), Some(SimTime(10)));
        assert!(q.pop_until(SimTime(15)).is_none());
        assert_eq!(q.len(), 1);
    }
}
