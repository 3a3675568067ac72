//! Message faults as a rule at the kernel's boundary: every send between the
//! two configured actor classes is judged by [`MessageRules::on_message`]
//! before it is queued. Actors never see the rule.
//!
//! The channel between vCenter and hostd is a reliable transport, so a
//! dropped message is resent after `resend_after`; a delayed one arrives
//! late; a duplicated one arrives twice (handlers are idempotent). Each
//! channel (sender, receiver) stays FIFO: nothing overtakes a held-back
//! message. Draws come from the stream `faults/messages`; probabilities
//! are integer ratios.
//!
//! With no `messages:` rule the kernel holds `None` and pays one branch per
//! send.

use crate::model::{ActorId, SimDuration, SimTime};
use crate::random::StreamRng;
use crate::scenario::{ActorClass, MessageFaults};
use std::collections::BTreeMap;

/// What happens to one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Deliver(SimTime),
    /// Deliver at this time, twice.
    Duplicate(SimTime),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageFaultCounts {
    pub dropped: u64,
    pub delayed: u64,
    pub duplicated: u64,
}

pub struct MessageRules {
    faults: MessageFaults,
    /// Class of each actor, by `ActorId`.
    classes: Vec<ActorClass>,
    rng: StreamRng,
    /// Latest delivery time handed out per channel, for FIFO order.
    channel_last: BTreeMap<(u32, u32), SimTime>,
    pub counts: MessageFaultCounts,
}

impl MessageRules {
    pub fn new(seed: u64, faults: MessageFaults, classes: Vec<ActorClass>) -> Self {
        MessageRules {
            faults,
            classes,
            rng: StreamRng::derive(seed, "faults/messages"),
            channel_last: BTreeMap::new(),
            counts: MessageFaultCounts::default(),
        }
    }

    fn applies(&self, from: ActorId, to: ActorId) -> bool {
        let (Some(&a), Some(&b)) = (
            self.classes.get(from.0 as usize),
            self.classes.get(to.0 as usize),
        ) else {
            return false;
        };
        let (x, y) = self.faults.between;
        (a, b) == (x, y) || (a, b) == (y, x)
    }

    /// Judges a message sent by `from` to `to`, due at `at`.
    pub fn on_message(&mut self, from: ActorId, to: ActorId, at: SimTime) -> Verdict {
        if from == to || !self.applies(from, to) {
            return Verdict::Deliver(at);
        }
        let f = &self.faults;
        let mut at = at;
        if f.drop.num > 0 && self.rng.chance(f.drop.num, f.drop.den) {
            self.counts.dropped += 1;
            at = at.saturating_add(f.resend_after);
        }
        if f.delay.num > 0 && self.rng.chance(f.delay.num, f.delay.den) {
            self.counts.delayed += 1;
            at = at.saturating_add(SimDuration(self.rng.sample(&f.delay_by)));
        }
        let duplicate = f.duplicate.num > 0 && self.rng.chance(f.duplicate.num, f.duplicate.den);
        let last = self.channel_last.entry((from.0, to.0)).or_insert(at);
        at = at.max(*last);
        *last = at;
        if duplicate {
            self.counts.duplicated += 1;
            Verdict::Duplicate(at)
        } else {
            Verdict::Deliver(at)
        }
    }
}

/// The class of an actor from its stable name (`placement`, `host/...`,
/// `workload/...`, `faults`).
pub fn class_of(name: &str) -> ActorClass {
    if name == "placement" {
        ActorClass::Placement
    } else if name.starts_with("host/") {
        ActorClass::Host
    } else {
        ActorClass::Workload
    }
}
