//! The contract between actors and runtimes.
//!
//! **Architecture invariant:** actors are sans-I/O state machines. They see
//! the world only through [`Context`]: the current time, sending (a send to
//! oneself with a delay is a timer), their own random stream, and notes for
//! statistics. The kernel's `SimCtx` (the simulator and, paced by a clock,
//! the live runtime) and the redelivery of logged events implement
//! `Context`; no actor may name a runtime.

use crate::event::Event;
use crate::model::{ActorId, Dist, HostId, Resources, SimDuration, SimTime, VmId};
use crate::random::StreamRng;

pub trait Context {
    fn now(&self) -> SimTime;
    fn me(&self) -> ActorId;
    /// The actor (or input source) that sent the event being handled.
    fn sender(&self) -> ActorId;
    /// Deliver `event` to `to` after `delay` (zero: after everything already
    /// queued for this instant).
    fn send(&mut self, to: ActorId, delay: SimDuration, event: Event);
    /// This actor's own deterministic random stream.
    fn rng(&mut self) -> &mut StreamRng;
    /// A draw from `dist` on this actor's stream, in nanoseconds. A fixed
    /// value draws nothing, so the stream is not even looked up (most
    /// worlds' power-on delay, once per VM).
    #[inline]
    fn sample(&mut self, dist: &Dist) -> u64 {
        match *dist {
            Dist::Fixed(v) => v,
            _ => self.rng().sample(dist),
        }
    }
    /// Report a domain fact for statistics. Notes are not persisted: they are
    /// re-derived when the log is replayed into fresh actors.
    fn note(&mut self, note: Note);
}

/// An actor is a deterministic function of the events delivered to it.
pub trait Actor {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C);

    /// A hint from the runtime that `event` will be delivered to this actor
    /// soon, `ahead` inputs of its kind after the one just queued (0: that
    /// one): start loading the memory handling it will touch (see
    /// [`crate::hint`]), and name the actor that handling will most likely
    /// send to, for the runtime to warm as well: its struct when `ahead` is
    /// 1, what it keeps on the heap ([`Actor::prefetch_heap`]) when 0. Takes
    /// `&self`, so it cannot change what the actor does.
    fn prefetch(&self, _event: &Event, _ahead: usize) -> Option<ActorId> {
        None
    }

    /// A hint that a message is coming whose handling reads this actor's
    /// heap blocks: start loading them. Called an input after the actor's
    /// struct was warmed, so the pointers it reads are cached by then.
    fn prefetch_heap(&self) {}
}

/// A new actor, made at run time: its stable name (its random stream's key)
/// and its first message, sent to whoever asked, which tells them its id.
pub struct Spawned<A> {
    pub actor: A,
    pub name: String,
    pub hello: Event,
}

/// What a world makes of a request an actor (the second argument) sent to
/// [`ActorId::KERNEL`](crate::model::ActorId::KERNEL); None when it asks
/// for nothing this world makes. The request is a record like any other,
/// so replaying a log makes the same actors at the same ids.
pub type Spawner<A> = Box<dyn Fn(&Event, ActorId) -> Option<Spawned<A>> + Send>;

/// Facts actors report as they handle events; the statistics fold over them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    VmRequested {
        vm: VmId,
        size: Resources,
    },
    VmStarted {
        vm: VmId,
        host: HostId,
        size: Resources,
    },
    VmStopped {
        vm: VmId,
        host: HostId,
        size: Resources,
    },
    VmRejected {
        vm: VmId,
    },
    VmLost {
        vm: VmId,
    },
    VmDeleted {
        vm: VmId,
    },
    /// A host failed; `running` is what it was running at that moment.
    HostFailed {
        host: HostId,
        running: Resources,
        vms: u32,
    },
    HostRepaired {
        host: HostId,
    },
    /// Refused for a reason other than "no room" (HA admission control).
    VmRefused {
        vm: VmId,
        reason: crate::event::RejectReason,
    },
    /// HA restarted a VM `after` its host was declared failed.
    VmRestarted {
        vm: VmId,
        after: SimDuration,
    },
    HostIsolated {
        host: HostId,
    },
    MaintenanceBegan {
        host: HostId,
    },
    /// A VM moved off a host entering maintenance.
    VmMigrated {
        vm: VmId,
    },
    /// A fact from the Supervisor's actors.
    Sup(crate::api::SupNote),
    /// An actor was handed something it has no case for: a bug in whoever
    /// sent it. The invariant checker fails on it (`unexpected-message`),
    /// so fuzzing finds it rather than a log line nobody reads.
    Unexpected {
        actor: &'static str,
        kind: &'static str,
    },
}

/// The context of re-delivering logged events to rebuild an actor: its
/// sends are dropped (they happened already and are records of their own),
/// its draws come from `rng` (the stream, or a copy of it), and its notes go
/// to `on_note`. Replaying a log and rebuilding a crashed part both use it.
pub struct Redelivery<'a, F: FnMut(SimTime, Note)> {
    pub now: SimTime,
    pub me: ActorId,
    pub sender: ActorId,
    pub rng: &'a mut StreamRng,
    pub on_note: F,
}

impl<F: FnMut(SimTime, Note)> Context for Redelivery<'_, F> {
    fn now(&self) -> SimTime {
        self.now
    }
    fn me(&self) -> ActorId {
        self.me
    }
    fn sender(&self) -> ActorId {
        self.sender
    }
    fn send(&mut self, _to: ActorId, _delay: SimDuration, _event: Event) {}
    fn rng(&mut self) -> &mut StreamRng {
        self.rng
    }
    fn note(&mut self, note: Note) {
        (self.on_note)(self.now, note)
    }
}

/// A [`Context`] for unit tests of one actor: records what it sends and
/// notes, at a clock and sender the test sets.
pub mod testing {
    use super::{Context, Note};
    use crate::event::Event;
    use crate::model::{ActorId, SimDuration, SimTime};
    use crate::random::StreamRng;

    pub struct TestCtx {
        pub now: SimTime,
        pub me: ActorId,
        pub sender: ActorId,
        pub sent: Vec<(ActorId, SimDuration, Event)>,
        pub notes: Vec<Note>,
        rng: StreamRng,
    }

    impl TestCtx {
        pub fn new(me: ActorId) -> Self {
            TestCtx {
                now: SimTime::ZERO,
                me,
                sender: me,
                sent: Vec::new(),
                notes: Vec::new(),
                rng: StreamRng::derive(1, "test"),
            }
        }

        /// What was sent since the last call, in send order.
        pub fn take_sent(&mut self) -> Vec<(ActorId, SimDuration, Event)> {
            std::mem::take(&mut self.sent)
        }
    }

    impl Context for TestCtx {
        fn now(&self) -> SimTime {
            self.now
        }
        fn me(&self) -> ActorId {
            self.me
        }
        fn sender(&self) -> ActorId {
            self.sender
        }
        fn send(&mut self, to: ActorId, delay: SimDuration, event: Event) {
            self.sent.push((to, delay, event));
        }
        fn rng(&mut self) -> &mut StreamRng {
            &mut self.rng
        }
        fn note(&mut self, note: Note) {
            self.notes.push(note);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Context;
    use super::testing::TestCtx;
    use crate::model::{ActorId, Dist};
    use crate::random::StreamRng;

    /// A fixed value leaves the stream where it was; any other draw takes
    /// the stream's next words, as `StreamRng::sample` does.
    #[test]
    fn a_fixed_sample_draws_nothing_and_others_draw_from_the_stream() {
        let mut ctx = TestCtx::new(ActorId(3));
        let mut fresh = StreamRng::derive(1, "test");
        assert_eq!(ctx.sample(&Dist::Fixed(42)), 42);
        assert_eq!(ctx.rng().clone().next_u64(), fresh.clone().next_u64());
        let exp = Dist::Exponential { mean: 1_000_000 };
        assert_eq!(ctx.sample(&exp), fresh.sample(&exp));
        assert_eq!(ctx.rng().next_u64(), fresh.next_u64());
    }
}
