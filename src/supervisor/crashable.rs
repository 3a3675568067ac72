//! Process faults of the Supervisor's parts: crash (volatile state lost,
//! rebuilt from the part's persisted events at restart) and hang (alive but
//! not reading its inbox until it recovers).
//!
//! A part that a scenario may crash keeps its *journal*: the events it
//! handled, in order — its slice of the event log, which is what a real
//! component would read back from etcd or the log on restart. At restart
//! the part is rebuilt by replaying the journal into a pristine copy (sends
//! discarded, random draws re-derived from its stream); the rebuilt state is
//! compared with the state the part had when it crashed, and a difference
//! is reported (`SupNote::Rebuilt { equal: false }`), which the invariant
//! checker treats as a violation: it would mean the part had state that is
//! not a fold of its events.

use super::actors::SupActor;
use super::msg::SupMsg;
use super::notes::SupNote;
use crate::actor::{Context, Note};
use crate::event::Event;
use crate::model::{ActorId, SimDuration, SimTime};
use crate::random::StreamRng;

/// Liveness of a part.
#[derive(Clone, Debug)]
enum Process {
    Up,
    /// Crashed: what arrives is lost. `before` is the state it had.
    Down {
        before: String,
    },
    /// Hung: what arrives waits, with its sender, until the part recovers.
    Hung {
        inbox: Vec<(ActorId, Event)>,
    },
}

#[derive(Clone, Debug)]
struct Journal {
    pristine: SupActor,
    /// The part's random stream as it was at time 0.
    rng: StreamRng,
    handled: Vec<(SimTime, ActorId, Event)>,
}

#[derive(Clone, Debug)]
pub struct Crashable {
    pub actor: SupActor,
    process: Process,
    /// Kept only for parts a scenario can crash.
    journal: Option<Box<Journal>>,
    /// A rebuild differed from the state before its crash.
    pub rebuild_mismatch: bool,
}

impl Crashable {
    pub fn new(actor: SupActor) -> Self {
        Crashable {
            actor,
            process: Process::Up,
            journal: None,
            rebuild_mismatch: false,
        }
    }

    /// Keeps a journal so that the part can be rebuilt after a crash.
    pub fn journaled(actor: SupActor, seed: u64, name: &str) -> Self {
        let journal = Journal {
            pristine: actor.clone(),
            rng: StreamRng::derive(seed, name),
            handled: Vec::new(),
        };
        Crashable {
            actor,
            process: Process::Up,
            journal: Some(Box::new(journal)),
            rebuild_mismatch: false,
        }
    }

    pub fn is_up(&self) -> bool {
        matches!(self.process, Process::Up)
    }

    pub fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        if let Event::Supervisor(msg) = &event {
            match **msg {
                SupMsg::Crash => {
                    ctx.note(Note::Sup(SupNote::Fault {
                        kind: "process_crash",
                    }));
                    return self.crash();
                }
                SupMsg::Restart => return self.restart(ctx),
                SupMsg::Hang => {
                    ctx.note(Note::Sup(SupNote::Fault {
                        kind: "process_hang",
                    }));
                    if self.is_up() {
                        self.process = Process::Hung { inbox: Vec::new() };
                    }
                    return;
                }
                SupMsg::Unhang => return self.unhang(ctx),
                _ => {}
            }
        }
        match &mut self.process {
            Process::Up => self.deliver(ctx.sender(), event, ctx),
            Process::Down { .. } => {}
            Process::Hung { inbox } => inbox.push((ctx.sender(), event)),
        }
    }

    fn deliver<C: Context>(&mut self, from: ActorId, event: Event, ctx: &mut C) {
        if let Some(j) = &mut self.journal {
            j.handled.push((ctx.now(), from, event.clone()));
        }
        if from == ctx.sender() {
            self.actor.handle(event, ctx);
        } else {
            self.actor.handle(event, &mut AsSender { inner: ctx, from });
        }
    }

    fn crash(&mut self) {
        if self.is_up() {
            self.process = Process::Down {
                before: format!("{:?}", self.actor),
            };
        }
    }

    /// Rebuilds the state from the journal, checks it, and starts again.
    fn restart<C: Context>(&mut self, ctx: &mut C) {
        let Process::Down { before } = std::mem::replace(&mut self.process, Process::Up) else {
            return;
        };
        if let Some(j) = &self.journal {
            let mut rebuilt = j.pristine.clone();
            let mut replay = Replay {
                now: SimTime::ZERO,
                me: ctx.me(),
                sender: ctx.me(),
                rng: j.rng.clone(),
            };
            for (at, from, event) in &j.handled {
                replay.now = *at;
                replay.sender = *from;
                rebuilt.handle(event.clone(), &mut replay);
            }
            let equal = format!("{rebuilt:?}") == before;
            self.rebuild_mismatch |= !equal;
            ctx.note(Note::Sup(SupNote::Rebuilt { equal }));
            self.actor = rebuilt;
        }
        // Timers armed before the crash were lost with it: start again.
        self.deliver(ctx.me(), Event::Start, ctx);
    }

    fn unhang<C: Context>(&mut self, ctx: &mut C) {
        let Process::Hung { inbox } = std::mem::replace(&mut self.process, Process::Up) else {
            return;
        };
        for (from, event) in inbox {
            self.deliver(from, event, ctx);
        }
    }
}

/// A context that reports another sender (a hung part reading its backlog).
struct AsSender<'a, C> {
    inner: &'a mut C,
    from: ActorId,
}

impl<C: Context> Context for AsSender<'_, C> {
    fn now(&self) -> SimTime {
        self.inner.now()
    }
    fn me(&self) -> ActorId {
        self.inner.me()
    }
    fn sender(&self) -> ActorId {
        self.from
    }
    fn send(&mut self, to: ActorId, delay: SimDuration, event: Event) {
        self.inner.send(to, delay, event)
    }
    fn rng(&mut self) -> &mut StreamRng {
        self.inner.rng()
    }
    fn note(&mut self, note: Note) {
        self.inner.note(note)
    }
}

/// The context of a rebuild: sends and notes are dropped (they happened
/// already and are in the log), draws come from a copy of the stream.
struct Replay {
    now: SimTime,
    me: ActorId,
    sender: ActorId,
    rng: StreamRng,
}

impl Context for Replay {
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
        &mut self.rng
    }
    fn note(&mut self, _note: Note) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::supervisor::clients::Clients;

    fn reply(id: u64) -> Event {
        SupMsg::Reply { id, result: Ok(id) }.event()
    }

    #[test]
    fn a_rebuild_from_the_journal_matches_and_state_outside_it_is_caught() {
        let mut ctx = TestCtx::new(ActorId(5));
        let mut part = Crashable::journaled(SupActor::Clients(Clients::default()), 1, "clients");
        part.handle(reply(1), &mut ctx);
        part.handle(SupMsg::Crash.event(), &mut ctx);
        // Lost while down.
        part.handle(reply(2), &mut ctx);
        part.handle(SupMsg::Restart.event(), &mut ctx);
        assert!(!part.rebuild_mismatch);
        assert_eq!(
            ctx.notes,
            vec![
                Note::Sup(SupNote::Fault {
                    kind: "process_crash"
                }),
                Note::Sup(SupNote::Rebuilt { equal: true })
            ]
        );
        let SupActor::Clients(c) = &part.actor else {
            panic!()
        };
        assert_eq!(c.outcomes().keys().copied().collect::<Vec<_>>(), [1]);

        // State changed behind the journal's back (as a part with hidden
        // state would): the rebuild differs and says so.
        part.actor.handle(reply(3), &mut ctx);
        part.handle(SupMsg::Crash.event(), &mut ctx);
        part.handle(SupMsg::Restart.event(), &mut ctx);
        assert!(part.rebuild_mismatch);
    }

    #[test]
    fn a_hung_part_reads_its_backlog_with_the_original_senders() {
        let mut ctx = TestCtx::new(ActorId(5));
        let mut part = Crashable::new(SupActor::Clients(Clients::default()));
        part.handle(SupMsg::Hang.event(), &mut ctx);
        part.handle(reply(1), &mut ctx);
        let SupActor::Clients(c) = &part.actor else {
            panic!()
        };
        assert!(c.outcomes().is_empty());
        part.handle(SupMsg::Unhang.event(), &mut ctx);
        let SupActor::Clients(c) = &part.actor else {
            panic!()
        };
        assert_eq!(c.outcomes().len(), 1);
    }
}
