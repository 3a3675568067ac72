//! Message faults as a rule at the kernel's boundary: every send between the
//! two configured actor classes is judged by [`MessageRules::on_message`]
//! before it is queued. Actors never see the rule.
//!
//! The channel between vCenter and hostd is a reliable transport, so a
//! dropped message is resent after `resend_after`; a delayed one arrives
//! late; a duplicated one arrives twice (handlers are idempotent). A slow
//! host (`fault: slow`) gets placement's messages with their delay (the
//! power-on time) multiplied while the fault lasts. Each channel (sender,
//! receiver) stays FIFO behind held-back messages: nothing sent later
//! overtakes one. Draws come from the stream `faults/messages`;
//! probabilities are integer ratios.
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
    pub slowed: u64,
}

/// A host whose power-ons take `factor` times longer in `[from, until)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlowWindow {
    pub host: ActorId,
    pub from: SimTime,
    pub until: SimTime,
    pub factor: u32,
}

pub struct MessageRules {
    faults: Option<MessageFaults>,
    slow: Vec<SlowWindow>,
    /// Class of each actor, by `ActorId`.
    classes: Vec<ActorClass>,
    rng: StreamRng,
    /// Latest delivery time handed out per channel, for FIFO order.
    channel_last: BTreeMap<(u32, u32), SimTime>,
    pub counts: MessageFaultCounts,
}

impl MessageRules {
    pub fn new(
        seed: u64,
        faults: Option<MessageFaults>,
        slow: Vec<SlowWindow>,
        classes: Vec<ActorClass>,
    ) -> Self {
        MessageRules {
            faults,
            slow,
            classes,
            rng: StreamRng::derive(seed, "faults/messages"),
            channel_last: BTreeMap::new(),
            counts: MessageFaultCounts::default(),
        }
    }

    fn applies(&self, from: ActorId, to: ActorId) -> bool {
        let Some(f) = &self.faults else {
            return false;
        };
        let (Some(&a), Some(&b)) = (
            self.classes.get(from.0 as usize),
            self.classes.get(to.0 as usize),
        ) else {
            return false;
        };
        let (x, y) = f.between;
        (a, b) == (x, y) || (a, b) == (y, x)
    }

    /// Judges a message sent at `now` by `from` to `to`, due at `at`.
    pub fn on_message(&mut self, from: ActorId, to: ActorId, now: SimTime, at: SimTime) -> Verdict {
        if from == to {
            return Verdict::Deliver(at);
        }
        let mut at = at;
        let mut held = false;
        let from_placement = self.classes.get(from.0 as usize) == Some(&ActorClass::Placement);
        if from_placement
            && let Some(w) = self
                .slow
                .iter()
                .find(|w| w.host == to && w.from <= now && now < w.until)
        {
            let delay = at.since(now).0.saturating_mul(u64::from(w.factor));
            at = now.saturating_add(SimDuration(delay));
            self.counts.slowed += 1;
            held = true;
        }
        let mut duplicate = false;
        if self.applies(from, to) {
            let f = self.faults.as_ref().expect("applies checked it");
            if f.drop.num > 0 && self.rng.chance(f.drop.num, f.drop.den) {
                self.counts.dropped += 1;
                at = at.saturating_add(f.resend_after);
                held = true;
            }
            if f.delay.num > 0 && self.rng.chance(f.delay.num, f.delay.den) {
                self.counts.delayed += 1;
                at = at.saturating_add(SimDuration(self.rng.sample(&f.delay_by)));
                held = true;
            }
            duplicate = f.duplicate.num > 0 && self.rng.chance(f.duplicate.num, f.duplicate.den);
        }
        // FIFO behind held-back messages only: ordinary sends keep their
        // own delays (a power-on's delay is work on the host, not transit).
        let key = (from.0, to.0);
        if let Some(&last) = self.channel_last.get(&key)
            && at < last
        {
            at = last;
            held = true;
        }
        if held {
            self.channel_last.insert(key, at);
        }
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
