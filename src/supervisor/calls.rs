//! Small helpers the Supervisor's controllers share: numbering their system
//! calls to the API server (replies come back by call id), a lazily re-armed
//! wake-up timer, and the retry backoff.

use crate::actor::Context;
use crate::api::msg::{CallId, ControllerTimer, SupMsg, SystemOp};
use crate::model::{ActorId, SimDuration, SimTime};
use std::collections::BTreeMap;

/// System calls in flight, each with what the caller needs to know about it
/// when the reply comes.
#[derive(Clone, Debug)]
pub struct Calls<T> {
    next: CallId,
    inflight: BTreeMap<CallId, T>,
}

impl<T> Default for Calls<T> {
    fn default() -> Self {
        Calls {
            next: 0,
            inflight: BTreeMap::new(),
        }
    }
}

impl<T> Calls<T> {
    pub fn send<C: Context>(&mut self, api: ActorId, op: SystemOp, tag: T, ctx: &mut C) -> CallId {
        let id = self.next;
        self.next += 1;
        self.inflight.insert(id, tag);
        ctx.send(api, SimDuration::ZERO, SupMsg::System { id, op }.event());
        id
    }

    /// The tag of the call a reply answers (None: not ours or answered).
    pub fn reply(&mut self, id: CallId) -> Option<T> {
        self.inflight.remove(&id)
    }

    pub fn inflight(&self) -> impl Iterator<Item = &T> {
        self.inflight.values()
    }

    /// Forgets every call in flight (their answers were lost with a
    /// crashed process), returning their tags in id order. Ids go on from
    /// where they were, so a late answer to an old call is never taken
    /// for a new one.
    pub fn abandon(&mut self) -> Vec<T> {
        std::mem::take(&mut self.inflight).into_values().collect()
    }
}

/// One wake-up timer, armed for the earliest instant something is due. The
/// timer carries its due time, so a timer superseded by an earlier one is
/// recognised (and ignored) when it fires.
#[derive(Clone, Debug, Default)]
pub struct Wakeup {
    at: Option<SimTime>,
}

impl Wakeup {
    /// Makes sure a wake-up comes at or before `due` (never before now).
    pub fn arm<C: Context>(&mut self, due: SimTime, ctx: &mut C) {
        let now = ctx.now();
        let due = due.max(now);
        if self.at.is_some_and(|a| a <= due && a >= now) {
            return;
        }
        self.at = Some(due);
        let msg = SupMsg::ControllerTimer(ControllerTimer::Wakeup { due });
        ctx.send(ctx.me(), due.since(now), msg.event());
    }

    /// True when the wake-up for `due` that fired is the live one.
    pub fn fired(&mut self, due: SimTime) -> bool {
        if self.at == Some(due) {
            self.at = None;
            true
        } else {
            false
        }
    }
}

/// `base` doubled per earlier attempt, at most `cap` (attempts from 1).
pub fn backoff(attempts: u32, base: SimDuration, cap: SimDuration) -> SimDuration {
    let shift = attempts.saturating_sub(1).min(32);
    SimDuration(base.0.saturating_mul(1u64 << shift).min(cap.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::event::Event;

    #[test]
    fn abandoned_calls_are_forgotten_and_their_ids_never_reused() {
        let delete = || {
            let pod =
                crate::api::objects::ObjectKey::new(crate::api::objects::Kind::Pod, "ns", "p");
            SystemOp::Delete(pod)
        };
        let mut ctx = TestCtx::new(ActorId(3));
        let mut calls = Calls::default();
        for tag in ["a", "b"] {
            calls.send(ActorId(1), delete(), tag, &mut ctx);
        }
        assert_eq!(calls.abandon(), ["a", "b"]);
        assert_eq!(calls.inflight().count(), 0);
        assert_eq!(calls.reply(0), None, "a late answer to an old call");
        let id = calls.send(ActorId(1), delete(), "c", &mut ctx);
        assert_eq!(id, 2);
    }

    #[test]
    fn backoff_doubles_from_one_second_to_the_cap() {
        let s = SimDuration::from_secs;
        let got: Vec<u64> = (1..=6)
            .map(|a| backoff(a, s(1), s(10)).0 / 1_000_000_000)
            .collect();
        assert_eq!(got, vec![1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn a_wakeup_is_only_rearmed_for_an_earlier_instant() {
        let mut ctx = TestCtx::new(ActorId(3));
        let mut w = Wakeup::default();
        w.arm(SimTime(50), &mut ctx);
        w.arm(SimTime(80), &mut ctx);
        w.arm(SimTime(20), &mut ctx);
        let sent = ctx.take_sent();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].1, SimDuration(20));
        // The superseded timer (50) is stale when it fires.
        assert!(!w.fired(SimTime(50)));
        assert!(w.fired(SimTime(20)));
        assert!(
            matches!(&sent[1].2, Event::Supervisor(m) if **m == SupMsg::ControllerTimer(ControllerTimer::Wakeup { due: SimTime(20) }))
        );
    }
}
