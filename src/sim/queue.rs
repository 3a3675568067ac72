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
//!   due now (those were pushed before `now` was reached), so comparing the two
//!   fronts by `(time, seq)` pops in exactly key order.

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
}

impl Queue {
    pub fn len(&self) -> usize {
        self.heap.len() + self.due_now.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, pending: Pending) {
        debug_assert!(pending.at >= self.now, "event scheduled in the past");
        let seq = self.next_seq;
        self.next_seq += 1;
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

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        let heap_at = self.heap.peek().map(|Reverse((at, _, _))| SimTime(*at));
        match (self.due_now.front(), heap_at) {
            (Some(_), _) => Some(self.now),
            (None, at) => at,
        }
    }

    /// Pops the next event if it is due at or before `limit`.
    pub fn pop_until(&mut self, limit: SimTime) -> Option<Pending> {
        let heap_first = match (self.heap.peek(), self.due_now.front()) {
            (None, None) => return None,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(Reverse((at, seq, _))), Some((fseq, _))) => (*at, *seq) < (self.now.0, *fseq),
        };
        if heap_first {
            let &Reverse((at, _, slot)) = self.heap.peek().expect("checked");
            if SimTime(at) > limit {
                return None;
            }
            self.heap.pop();
            self.now = SimTime(at);
            self.free_slots.push(slot);
            Some(self.slab[slot as usize].take().expect("slot is full"))
        } else {
            if self.now > limit {
                return None;
            }
            self.due_now.pop_front().map(|(_, p)| p)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::StreamRng;

    fn pending(at: u64, tag: u64) -> Pending {
        Pending {
            at: SimTime(at),
            from: ActorId(0),
            to: ActorId(0),
            cause: Some(tag),
            source: NO_SOURCE,
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
                q.push(pending(at, tag));
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
