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
//!
//! While a part is down, what reaches it is lost, as with a dead process:
//! - a call to the API server is refused at once (`Unavailable`), as a
//!   refused connection would be, so the caller retries or reports it
//!   instead of waiting for an answer that never comes;
//! - a watching controller misses watch events. At restart it lists the
//!   kinds it watches, is handed the changes it missed (see
//!   [`super::relist`]), and only then starts, as an upstream controller
//!   waits for its informers' caches to sync. Before all that the part is
//!   handed `SupMsg::Restart`, so that it can forget the answers it was
//!   waiting for (the VM Operator does). A part that CNS tells of
//!   datastore failures asks CNS for their health too, and a Spherelet
//!   asks WPS for the pods it should run (a start sent while it was down
//!   was lost).

use super::actors::SupActor;
use super::relist::WatchCache;
use crate::actor::{Actor, Context, Note, Redelivery};
use crate::api::msg::{ApiError, SupMsg};
use crate::api::notes::{CallExample, SupNote};
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
    /// What a watching part that a scenario can crash has seen, to catch
    /// up at restart.
    watch: Option<Box<WatchCache>>,
    /// Restarted and waiting for its list before it starts.
    syncing: bool,
    /// What the part asks others at restart, to learn what it missed
    /// while down that is not an API object.
    asks_at_restart: Vec<(ActorId, SupMsg)>,
    /// A rebuild differed from the state before its crash.
    pub rebuild_mismatch: bool,
}

impl Crashable {
    pub fn new(actor: SupActor) -> Self {
        Crashable {
            actor,
            process: Process::Up,
            journal: None,
            watch: None,
            syncing: false,
            asks_at_restart: Vec::new(),
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
            watch: None,
            syncing: false,
            asks_at_restart: Vec::new(),
            rebuild_mismatch: false,
        }
    }

    /// A part that watches the API server's objects (served by `api`):
    /// after a restart it lists them again before it starts.
    pub fn watching(mut self, api: ActorId) -> Self {
        self.watch = Some(Box::new(WatchCache::new(api)));
        self
    }

    /// After a restart the part sends `ask` to `to`, whose answers are
    /// delivered like any message: CNS for the datastores' health, WPS for
    /// the pods a Spherelet should run.
    pub fn asking_at_restart(mut self, to: ActorId, ask: SupMsg) -> Self {
        self.asks_at_restart.push((to, ask));
        self
    }

    pub fn is_up(&self) -> bool {
        matches!(self.process, Process::Up)
    }

    fn deliver<C: Context>(&mut self, from: ActorId, event: Event, ctx: &mut C) {
        if let (Some(watch), Event::Supervisor(msg)) = (&mut self.watch, &event) {
            match &**msg {
                SupMsg::Listed { .. } => return self.listed(from, event, ctx),
                SupMsg::Changed {
                    object, deleted, ..
                } => watch.saw(object, *deleted),
                _ => {}
            }
        }
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
            let mut rng = j.rng.clone();
            let mut replay = Redelivery {
                now: SimTime::ZERO,
                me: ctx.me(),
                sender: ctx.me(),
                rng: &mut rng,
                on_note: |_, _| {}, // noted already, when first handled
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
        // The part learns of its own restart first (journaled like any
        // message): answers to what it had asked before the crash are lost.
        self.deliver(ctx.me(), SupMsg::Restart.event(), ctx);
        for (to, ask) in &self.asks_at_restart {
            ctx.send(*to, SimDuration::ZERO, ask.clone().event());
        }
        // Timers armed before the crash were lost with it: start again,
        // once caught up with what was missed while down.
        match &self.watch {
            Some(watch) => {
                self.syncing = true;
                ctx.send(watch.api, SimDuration::ZERO, SupMsg::List.event());
            }
            None => self.deliver(ctx.me(), Event::Start, ctx),
        }
    }

    /// The answer to a list: hands the part the watch events it missed and
    /// starts it, or lists again after a backoff.
    fn listed<C: Context>(&mut self, from: ActorId, event: Event, ctx: &mut C) {
        let (Event::Supervisor(msg), Some(watch)) = (event, &mut self.watch) else {
            return;
        };
        let SupMsg::Listed { rv, result } = *msg else {
            return;
        };
        let objects = match result {
            Ok(objects) => objects,
            Err(_) => {
                let wait = watch.failed();
                ctx.send(watch.api, wait, SupMsg::List.event());
                return;
            }
        };
        let missed = watch.missed(rv, objects);
        // A second answer (a duplicated or retried list) catches up too,
        // but only the one that ends a restart is counted and starts it.
        let syncing = std::mem::take(&mut self.syncing);
        if syncing {
            let missed = missed.len() as u64;
            ctx.note(Note::Sup(SupNote::Relisted { missed }));
        }
        for change in missed {
            self.deliver(from, change.event(), ctx);
        }
        if syncing {
            self.deliver(ctx.me(), Event::Start, ctx);
        }
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

impl Actor for Crashable {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
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
            Process::Down { .. } => refuse(&event, ctx),
            Process::Hung { inbox } => inbox.push((ctx.sender(), event)),
        }
    }
}

/// What reaches a part whose process is down: a call to it is refused at
/// once, as by a refused connection; anything else is lost.
fn refuse<C: Context>(event: &Event, ctx: &mut C) {
    let Event::Supervisor(msg) = event else {
        return;
    };
    let down = || {
        ApiError::Unavailable(
            "the API server's process is down (crashed, not yet restarted)".into(),
        )
    };
    let (to, answer) = match &**msg {
        SupMsg::System { id, .. } => (
            ctx.sender(),
            SupMsg::Reply {
                id: *id,
                result: Err(down()),
            },
        ),
        SupMsg::Authorized { id, caller, .. } => (
            *caller,
            SupMsg::Reply {
                id: *id,
                result: Err(down()),
            },
        ),
        SupMsg::List => (
            ctx.sender(),
            SupMsg::Listed {
                rv: 0,
                result: Err(down()),
            },
        ),
        _ => return,
    };
    if let SupMsg::Reply { result: Err(e), .. } = &answer {
        let about = match &**msg {
            SupMsg::System { op, .. } => Some(op.object_key()),
            SupMsg::Authorized { object, .. } => Some(object.key()),
            _ => None,
        };
        ctx.note(Note::Sup(SupNote::CallRefused {
            kind: "unavailable",
            example: Box::new(CallExample {
                object: about,
                message: e.reason().to_string(),
            }),
        }));
    }
    ctx.send(to, SimDuration::ZERO, answer.event());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::api::Verb;
    use crate::api::addrs::Part;
    use crate::api::msg::SystemOp;
    use crate::model::HostId;
    use crate::supervisor::clients::Clients;
    use crate::supervisor::replicaset::ReplicaSetController;
    use crate::supervisor::testutil::{addrs, config, set_object};

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

    /// What was sent since the last look, as (to, delay in s, message).
    fn sent(ctx: &mut TestCtx) -> Vec<(ActorId, u64, SupMsg)> {
        ctx.take_sent()
            .into_iter()
            .map(|(to, delay, e)| match e {
                Event::Supervisor(m) => (to, delay.0 / 1_000_000_000, *m),
                other => panic!("not a Supervisor message: {other:?}"),
            })
            .collect()
    }

    fn unavailable() -> ApiError {
        ApiError::Unavailable("no quorum".into())
    }

    #[test]
    fn a_restarted_watcher_lists_until_answered_and_is_handed_what_it_missed() {
        let a = addrs(1);
        let rs = ReplicaSetController::new(&config(), a.clone());
        let mut part = Crashable::journaled(SupActor::ReplicaSetController(rs), 1, "rs")
            .watching(a[Part::ApiServer]);
        let mut ctx = TestCtx::new(a[Part::ReplicaSetController]);
        part.handle(Event::Start, &mut ctx);
        part.handle(SupMsg::Crash.event(), &mut ctx);
        // Created while the controller is down: the watch event is lost.
        let mut web = set_object("web", 2);
        web.meta.resource_version = 5;
        let changed = SupMsg::Changed {
            rv: 5,
            object: web.clone().into(),
            deleted: false,
        };
        part.handle(changed.event(), &mut ctx);
        assert!(sent(&mut ctx).is_empty());

        // At restart it lists, and does nothing else until the answer.
        part.handle(SupMsg::Restart.event(), &mut ctx);
        assert_eq!(sent(&mut ctx), [(a[Part::ApiServer], 0, SupMsg::List)]);
        ctx.sender = a[Part::ApiServer];
        let refused = SupMsg::Listed {
            rv: 0,
            result: Err(unavailable()),
        };
        part.handle(refused.clone().event(), &mut ctx);
        part.handle(refused.event(), &mut ctx);
        let retries: Vec<u64> = sent(&mut ctx).into_iter().map(|(_, d, _)| d).collect();
        assert_eq!(retries, [1, 2]);

        let listed = SupMsg::Listed {
            rv: 5,
            result: Ok(vec![web]),
        };
        part.handle(listed.event(), &mut ctx);
        let creates = sent(&mut ctx)
            .into_iter()
            .filter(|(_, _, m)| matches!(m, SupMsg::System { .. }))
            .count();
        assert_eq!(creates, 2, "the missed ReplicaSet's pods are created");
        assert!(
            ctx.notes
                .contains(&Note::Sup(SupNote::Relisted { missed: 1 }))
        );

        // What the relist handed it is in its journal: a later rebuild
        // comes back with the same state.
        part.handle(SupMsg::Crash.event(), &mut ctx);
        part.handle(SupMsg::Restart.event(), &mut ctx);
        assert!(!part.rebuild_mismatch);
    }

    #[test]
    fn calls_to_a_crashed_part_are_refused_at_once_and_other_messages_lost() {
        let mut ctx = TestCtx::new(ActorId(5));
        let mut part = Crashable::new(SupActor::Clients(Clients::default()));
        part.handle(SupMsg::Crash.event(), &mut ctx);
        ctx.sender = ActorId(7);
        let system = SupMsg::System {
            id: 3,
            op: SystemOp::Delete(set_object("web", 1).key()),
        };
        part.handle(system.event(), &mut ctx);
        let authorized = SupMsg::Authorized {
            id: 4,
            caller: ActorId(9),
            user: "alice".into(),
            verb: Verb::Delete,
            object: set_object("web", 1),
        };
        part.handle(authorized.event(), &mut ctx);
        part.handle(SupMsg::List.event(), &mut ctx);
        part.handle(SupMsg::Heartbeat { host: HostId(0) }.event(), &mut ctx);
        let answers: Vec<(ActorId, String)> = sent(&mut ctx)
            .into_iter()
            .map(|(to, _, m)| match m {
                SupMsg::Reply { id, result: Err(e) } => (to, format!("reply {id}: {e:?}")),
                SupMsg::Listed { result: Err(e), .. } => (to, format!("listed: {e:?}")),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        let down = "Unavailable(\"the API server's process is down (crashed, not yet restarted)\")";
        assert_eq!(
            answers,
            [
                (ActorId(7), format!("reply 3: {down}")),
                (ActorId(9), format!("reply 4: {down}")),
                (ActorId(7), format!("listed: {down}")),
            ]
        );
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
