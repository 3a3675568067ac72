//! The live runtime: the same actors as the simulator, each an actix actor
//! with its own mailbox, on wall-clock time scaled by `speed` (virtual
//! seconds per wall second).
//!
//! A [`Dispatcher`] actor owns the clock and the journal: every send goes to
//! it, it waits until the event is due (an actix timer), records it (global
//! seq, sled, digest) and only then forwards it to the target's mailbox.
//! Write-ahead: the events recorded in one turn of the reactor are flushed
//! to disk together before any of them is delivered, so the journal is the
//! truth of what was delivered also after a `kill -9` (what it holds then
//! reads with `--salvage`). Input sources are pulled by the dispatcher
//! exactly as the simulator pulls them.
//!
//! Events due at the same virtual instant may be delivered in either order
//! here (timers race); the simulator breaks such ties by seq. Scenarios
//! without ties reach the same final state in both runtimes.

use crate::actor::{Actor as WorldBehaviour, Context as WorldContext, Note};
use crate::actors::WorldActor;
use crate::event::{Event, RecordRef};
use crate::inputs::{Source, VmIdAlloc, WorldSource};
use crate::model::{ActorId, Resources, SimDuration, SimTime};
use crate::random::{StreamRng, Streams};
use crate::report::Stats;
use crate::run::RunOutput;
use crate::scenario::Scenario;
use crate::sim::{NoteSink, RecordSink};
use crate::store::{EventLog, StoreError};
use crate::world::World;
use actix::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// State shared by the actix actors of one run. Everything runs on one
/// arbiter thread, so `RefCell` borrows never overlap.
struct Shared {
    started: Instant,
    speed: f64,
    actors: Vec<WorldActor>,
    streams: Streams,
    stats: Stats,
}

impl Shared {
    fn now(&self) -> SimTime {
        SimTime((self.started.elapsed().as_nanos() as f64 * self.speed) as u64)
    }
}

/// Runs `scenario` live until its end (wall time: duration / speed).
pub fn run_live(scenario: &Scenario, speed: f64, log: EventLog) -> Result<RunOutput, StoreError> {
    assert!(speed > 0.0, "speed must be positive");
    let world = World::build(scenario);
    let end = world.end;
    let capacity = world
        .host_capacities
        .iter()
        .fold(Resources::ZERO, |a, c| a + *c);
    let hosts = world.host_capacities.len() as u64;
    let shared = Rc::new(RefCell::new(Shared {
        started: Instant::now(),
        speed,
        streams: Streams::new(world.seed, world.names),
        actors: world.actors,
        stats: Stats::default(),
    }));
    let journal = Rc::new(RefCell::new(Journal {
        log,
        delivered: 0,
        unsynced: Vec::new(),
        failed: None,
    }));
    let wall = Duration::from_secs_f64(end.as_secs_f64() / speed) + Duration::from_millis(100);

    let system = actix::System::new();
    system.block_on({
        let (shared, journal) = (shared.clone(), journal.clone());
        async move {
            shared.borrow_mut().started = Instant::now();
            let count = shared.borrow().actors.len();
            let dispatcher = Dispatcher::create(|ctx| {
                let me = ctx.address();
                let mailboxes = (0..count)
                    .map(|i| {
                        LiveActor {
                            id: ActorId(i as u32),
                            shared: shared.clone(),
                            dispatcher: me.clone(),
                        }
                        .start()
                    })
                    .collect();
                Dispatcher {
                    shared: shared.clone(),
                    journal: journal.clone(),
                    mailboxes,
                    sources: Vec::new(),
                    vm_ids: VmIdAlloc::default(),
                    end,
                }
            });
            dispatcher.do_send(Begin {
                sources: world.sources,
                starts: world.starts,
            });
            // Until the end, or at once when the journal cannot be written.
            let deadline = Instant::now() + wall;
            while journal.borrow().failed.is_none() {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                actix::clock::sleep(left.min(Duration::from_millis(50))).await;
            }
        }
    });
    drop(system);

    let mut journal = Rc::try_unwrap(journal)
        .ok()
        .expect("run finished")
        .into_inner();
    if let Some(failed) = journal.failed.take() {
        return Err(failed);
    }
    let shared = Rc::try_unwrap(shared)
        .ok()
        .expect("run finished")
        .into_inner();
    let events = journal.delivered;
    let digest = journal.log.finish()?;
    Ok(RunOutput {
        stats: shared.stats,
        events,
        digest,
        end,
        actors: shared.actors,
        capacity,
        hosts,
        violation: None,
        stopped: None,
        invariant_checks: 0,
    })
}

struct Journal {
    log: EventLog,
    delivered: u64,
    /// Recorded, not yet on disk, so not yet delivered.
    unsynced: Vec<(u64, Schedule)>,
    /// The flush that stopped the run.
    failed: Option<StoreError>,
}

/// The clock and the journal: schedules, records, forwards.
struct Dispatcher {
    shared: Rc<RefCell<Shared>>,
    journal: Rc<RefCell<Journal>>,
    mailboxes: Vec<Addr<LiveActor>>,
    sources: Vec<(WorldSource, ActorId)>,
    vm_ids: VmIdAlloc,
    end: SimTime,
}

impl Actor for Dispatcher {
    type Context = actix::Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Begin {
    sources: Vec<(WorldSource, ActorId)>,
    starts: Vec<ActorId>,
}

/// Deliver `event` to `to` at virtual time `at`.
#[derive(Message)]
#[rtype(result = "()")]
struct Schedule {
    at: SimTime,
    from: ActorId,
    to: ActorId,
    cause: Option<u64>,
    /// The source to pull again once this input is delivered.
    source: Option<usize>,
    event: Event,
}

impl Handler<Begin> for Dispatcher {
    type Result = ();
    fn handle(&mut self, msg: Begin, ctx: &mut Self::Context) {
        self.sources = msg.sources;
        for actor in msg.starts {
            let start = Schedule {
                at: SimTime::ZERO,
                from: actor,
                to: actor,
                cause: None,
                source: None,
                event: Event::Start,
            };
            self.schedule(start, ctx);
        }
        for s in 0..self.sources.len() {
            self.pull(s, ctx);
        }
    }
}

impl Handler<Schedule> for Dispatcher {
    type Result = ();
    fn handle(&mut self, msg: Schedule, ctx: &mut Self::Context) {
        self.schedule(msg, ctx);
    }
}

impl Dispatcher {
    fn schedule(&mut self, msg: Schedule, ctx: &mut actix::Context<Self>) {
        if msg.at > self.end {
            return;
        }
        let (now, speed) = {
            let s = self.shared.borrow();
            (s.now(), s.speed)
        };
        let wait = Duration::from_secs_f64(msg.at.since(now).as_secs_f64() / speed);
        ctx.run_later(wait, move |dispatcher, ctx| dispatcher.fire(msg, ctx));
    }

    /// The event is due: journal it; it is handed to the target's mailbox
    /// once it is on disk (`commit`).
    fn fire(&mut self, msg: Schedule, ctx: &mut actix::Context<Self>) {
        let seq = {
            let mut j = self.journal.borrow_mut();
            if j.failed.is_some() {
                return;
            }
            let seq = j.delivered;
            j.delivered += 1;
            let record = RecordRef {
                seq,
                at: msg.at,
                from: msg.from,
                to: msg.to,
                cause: msg.cause,
                event: &msg.event,
            };
            j.log.record(&record);
            seq
        };
        if let Some(s) = msg.source {
            self.pull(s, ctx);
        }
        let mut j = self.journal.borrow_mut();
        if j.unsynced.is_empty() {
            // After the other events due in this turn have been recorded.
            ctx.run_later(Duration::ZERO, |dispatcher, _| dispatcher.commit());
        }
        j.unsynced.push((seq, msg));
    }

    /// Flushes what was recorded to disk, then delivers it in seq order.
    fn commit(&mut self) {
        let mut j = self.journal.borrow_mut();
        if let Err(e) = j.log.sync() {
            tracing::error!(error = %e, "live: the journal cannot be written; stopping");
            j.failed = Some(e);
            j.unsynced.clear();
            return;
        }
        for (seq, msg) in std::mem::take(&mut j.unsynced) {
            tracing::debug!(seq, "journalled and delivered");
            self.mailboxes[msg.to.0 as usize].do_send(Deliver {
                seq,
                at: msg.at,
                from: msg.from,
                event: msg.event,
            });
        }
    }

    fn pull(&mut self, source: usize, ctx: &mut actix::Context<Self>) {
        let (src, owner) = &mut self.sources[source];
        let owner = *owner;
        if let Some(input) = src.next(&mut self.vm_ids) {
            let msg = Schedule {
                at: input.at,
                from: owner,
                to: input.to,
                cause: None,
                source: Some(source),
                event: input.event,
            };
            self.schedule(msg, ctx);
        }
    }
}

/// One world actor's mailbox.
struct LiveActor {
    id: ActorId,
    shared: Rc<RefCell<Shared>>,
    dispatcher: Addr<Dispatcher>,
}

impl Actor for LiveActor {
    type Context = actix::Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Deliver {
    seq: u64,
    at: SimTime,
    from: ActorId,
    event: Event,
}

impl Handler<Deliver> for LiveActor {
    type Result = ();
    fn handle(&mut self, msg: Deliver, _ctx: &mut Self::Context) {
        let mut outbox = Vec::new();
        {
            let mut guard = self.shared.borrow_mut();
            let shared = &mut *guard;
            // The wall clock, but never before the event's due time.
            let now = shared.now().max(msg.at);
            let i = self.id.0 as usize;
            let mut ctx = LiveCtx {
                now,
                me: self.id,
                sender: msg.from,
                outbox: &mut outbox,
                streams: &mut shared.streams,
                stats: &mut shared.stats,
            };
            shared.actors[i].handle(msg.event, &mut ctx);
            for (to, delay, event) in outbox {
                let at = now.saturating_add(delay);
                self.dispatcher.do_send(Schedule {
                    at,
                    from: self.id,
                    to,
                    cause: Some(msg.seq),
                    source: None,
                    event,
                });
            }
        }
    }
}

struct LiveCtx<'a> {
    now: SimTime,
    me: ActorId,
    sender: ActorId,
    outbox: &'a mut Vec<(ActorId, SimDuration, Event)>,
    streams: &'a mut Streams,
    stats: &'a mut Stats,
}

impl WorldContext for LiveCtx<'_> {
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
        self.outbox.push((to, delay, event));
    }

    fn rng(&mut self) -> &mut StreamRng {
        self.streams.get(self.me.0 as usize)
    }

    fn note(&mut self, note: Note) {
        self.stats.note(self.now, note);
    }
}
