//! The simulation kernel: pops the next event, records it, hands it to its
//! actor with a [`SimCtx`], and queues whatever the actor sends.
//!
//! Input sources keep exactly one input each in the queue; when it is
//! delivered the source is asked for its next one, before the actor handles
//! the input (so the order of pushes, and with it the order of ties, is
//! fixed).

use super::faults::{MessageFaultCounts, MessageRules, Verdict};
use super::queue::{NO_SOURCE, Pending, Queue};
use crate::actor::{Actor, Context, Note, Spawner};
use crate::event::{Event, RecordRef};
use crate::inputs::{Source, VmIdAlloc};
use crate::model::{ActorId, SimDuration, SimTime};
use crate::random::{StreamRng, Streams};

/// Where delivered records go (the event log and its digest).
pub trait RecordSink {
    fn record(&mut self, record: &RecordRef<'_>);
}

/// Where actors' notes go (statistics).
pub trait NoteSink {
    fn note(&mut self, at: SimTime, note: Note);
}

pub struct Kernel<A, S> {
    actors: Vec<A>,
    streams: Streams,
    sources: Vec<(S, ActorId)>,
    vm_ids: VmIdAlloc,
    queue: Queue,
    delivered: u64,
    now: SimTime,
    /// Message faults; `None` (the common case) costs one branch per send.
    rules: Option<Box<MessageRules>>,
    /// Whether to pass prefetch hints (see `refill`).
    prefetching: bool,
    /// Makes the actors asked for at run time (none without one).
    spawner: Option<Spawner<A>>,
}

/// Worlds with fewer actors keep their tables in L2, where prefetch hints
/// are pure overhead (churn-small, 100 hosts: +4 % wall time with them);
/// churn-large (1,000 hosts) gains 3-5 % from them.
const PREFETCH_MIN_ACTORS: usize = 512;

/// The same when the inputs are drawn on another thread: the simulation's
/// core then holds little but the world's tables, and the hints' own cost
/// (about 420 instructions an input) outweighs the misses they save until
/// a few thousand hosts. Churn in memory at 1,000 hosts ran 4-6 % faster
/// without them in a calm hour (the same in a contended one), at 3,000
/// hosts 20 % slower.
const PREFETCH_MIN_ACTORS_DRAWN_ELSEWHERE: usize = 2048;

/// How many inputs ahead of the queued one are prefetched: one stage per
/// dependent load (a deletion: window slot, entry, host view, heap blocks).
const PREFETCH_STAGES: usize = 3;

impl<A: Actor, S: Source> Kernel<A, S> {
    /// `names[i]` is actor i's stable name (its random stream's key).
    pub fn new(seed: u64, actors: Vec<A>, names: Vec<String>, sources: Vec<(S, ActorId)>) -> Self {
        assert_eq!(actors.len(), names.len());
        let drawn_elsewhere = sources.iter().any(|(s, _)| s.drawn_elsewhere());
        let prefetch_min = if drawn_elsewhere {
            PREFETCH_MIN_ACTORS_DRAWN_ELSEWHERE
        } else {
            PREFETCH_MIN_ACTORS
        };
        let mut k = Kernel {
            prefetching: actors.len() >= prefetch_min,
            actors,
            streams: Streams::new(seed, names),
            sources,
            vm_ids: VmIdAlloc::default(),
            queue: Queue::default(),
            delivered: 0,
            now: SimTime::ZERO,
            rules: None,
            spawner: None,
        };
        for s in 0..k.sources.len() {
            k.refill(s as u32);
        }
        k
    }

    /// Delivers `Event::Start` to `actor` at time 0, as an external input.
    pub fn start(&mut self, actor: ActorId) {
        self.queue.push(Pending {
            at: SimTime::ZERO,
            from: actor,
            to: actor,
            cause: None,
            source: NO_SOURCE,
            event: Event::Start,
        });
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Queues an input from outside the world (a served request) for `at`,
    /// which must not be earlier than the last delivery. Inputs injected at
    /// the same point of a run are delivered in injection order, after the
    /// events already queued for the same instant, so a run that injects
    /// the same inputs at the same points delivers the same log.
    pub fn inject(&mut self, at: SimTime, from: ActorId, to: ActorId, event: Event) {
        assert!(at >= self.now, "input injected in the past");
        self.queue.push(Pending {
            at,
            from,
            to,
            cause: None,
            source: NO_SOURCE,
            event,
        });
    }

    /// Actor `id`, to read or adjust state outside the event flow (a
    /// served Supervisor's change feed).
    pub fn actor_mut(&mut self, id: ActorId) -> &mut A {
        &mut self.actors[id.0 as usize]
    }

    /// Turns message faults on (see [`super::faults`]).
    /// Lets actors ask for new actors at run time (see [`Spawner`]).
    pub fn set_spawner(&mut self, spawner: Spawner<A>) {
        self.spawner = Some(spawner);
    }

    pub fn set_message_rules(&mut self, rules: MessageRules) {
        self.rules = Some(Box::new(rules));
    }

    pub fn message_fault_counts(&self) -> MessageFaultCounts {
        self.rules.as_ref().map(|r| r.counts).unwrap_or_default()
    }

    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Actor `id`'s stable name (`host/esx-01`, `placement`).
    pub fn actor_name(&self, id: ActorId) -> Option<&str> {
        self.streams.name(id.0 as usize)
    }

    /// When the next queued event is due, if any.
    pub fn next_at(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// Events queued for later delivery.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    pub fn sources(&self) -> impl Iterator<Item = &S> {
        self.sources.iter().map(|(s, _)| s)
    }

    pub fn actors(&self) -> &[A] {
        &self.actors
    }

    pub fn into_actors(self) -> Vec<A> {
        self.actors
    }

    /// Runs every event due at or before `end`; calls `progress` every 2^16
    /// events. Returns the number of events delivered by this call.
    pub fn run_until<L: RecordSink, N: NoteSink>(
        &mut self,
        end: SimTime,
        log: &mut L,
        notes: &mut N,
        mut progress: impl FnMut(SimTime, u64),
    ) -> u64 {
        let before = self.delivered;
        while self.step(end, log, notes) {
            if self.delivered & 0xFFFF == 0 {
                progress(self.now, self.delivered);
            }
        }
        self.delivered - before
    }

    /// Delivers one event due at or before `end`; false when there is none.
    #[inline]
    pub fn step<L: RecordSink, N: NoteSink>(
        &mut self,
        end: SimTime,
        log: &mut L,
        notes: &mut N,
    ) -> bool {
        let Some(p) = self.queue.pop_until(end) else {
            return false;
        };
        self.now = p.at;
        let seq = self.delivered;
        self.delivered += 1;
        log.record(&RecordRef {
            seq,
            at: p.at,
            from: p.from,
            to: p.to,
            cause: p.cause,
            event: &p.event,
        });
        if p.source != NO_SOURCE {
            self.refill(p.source);
        }
        if p.to == ActorId::KERNEL {
            self.spawn(&p.event, p.from, seq);
            return true;
        }
        let to = p.to.0 as usize;
        let mut ctx = SimCtx {
            now: p.at,
            me: p.to,
            sender: p.from,
            cause: seq,
            queue: &mut self.queue,
            streams: &mut self.streams,
            notes,
            rules: self.rules.as_deref_mut(),
        };
        self.actors[to].handle(p.event, &mut ctx);
        true
    }

    /// Makes the actor `request` asks for, at the next id, and delivers its
    /// hello to `parent` at this instant. A request for nothing is dropped
    /// (its record shows it).
    #[cold]
    fn spawn(&mut self, request: &Event, parent: ActorId, cause: u64) {
        let Some(spawned) = self.spawner.as_ref().and_then(|f| f(request, parent)) else {
            return;
        };
        let id = ActorId(self.actors.len() as u32);
        self.actors.push(spawned.actor);
        self.streams.push(spawned.name);
        self.queue.push(Pending {
            at: self.now,
            from: id,
            to: parent,
            cause: Some(cause),
            source: NO_SOURCE,
            event: spawned.hello,
        });
    }

    fn refill(&mut self, source: u32) {
        let (src, owner) = &mut self.sources[source as usize];
        let Some(input) = src.next(&mut self.vm_ids) else {
            return;
        };
        if self.prefetching {
            // Warm what the coming inputs will touch, each a stage further
            // the nearer it is (see `Actor::prefetch`), and the actors that
            // handling them will send to. Stages two inputs apart measured
            // slower than one apart.
            let also = self.actors[input.to.0 as usize].prefetch(&input.event, 0);
            if let Some(also) = also.and_then(|a| self.actors.get(a.0 as usize)) {
                also.prefetch_heap();
            }
            for ahead in 1..=PREFETCH_STAGES {
                let Some(next) = src.upcoming(ahead) else {
                    break;
                };
                let also = self.actors[next.to.0 as usize].prefetch(&next.event, ahead);
                if let Some(also) = also.and_then(|a| self.actors.get(a.0 as usize))
                    && ahead == 1
                {
                    crate::hint::prefetch_all(also);
                }
            }
        }
        self.queue.push(Pending {
            at: input.at,
            from: *owner,
            to: input.to,
            cause: None,
            source,
            event: input.event,
        });
    }
}

/// What an actor sees while the simulator delivers one event to it.
pub struct SimCtx<'a, N> {
    now: SimTime,
    me: ActorId,
    sender: ActorId,
    cause: u64,
    queue: &'a mut Queue,
    streams: &'a mut Streams,
    notes: &'a mut N,
    rules: Option<&'a mut MessageRules>,
}

impl<N: NoteSink> Context for SimCtx<'_, N> {
    fn now(&self) -> SimTime {
        self.now
    }

    fn me(&self) -> ActorId {
        self.me
    }

    fn sender(&self) -> ActorId {
        self.sender
    }

    #[inline]
    fn send(&mut self, to: ActorId, delay: SimDuration, event: Event) {
        let mut at = self.now.saturating_add(delay);
        if let Some(rules) = self.rules.as_deref_mut()
            && to != ActorId::KERNEL
        {
            match rules.on_message(self.me, to, self.now, at) {
                Verdict::Deliver(t) => at = t,
                Verdict::Duplicate(t) => {
                    at = t;
                    self.queue.push(Pending {
                        at,
                        from: self.me,
                        to,
                        cause: Some(self.cause),
                        source: NO_SOURCE,
                        event: event.clone(),
                    });
                }
            }
        }
        self.queue.push(Pending {
            at,
            from: self.me,
            to,
            cause: Some(self.cause),
            source: NO_SOURCE,
            event,
        });
    }

    fn rng(&mut self) -> &mut StreamRng {
        self.streams.get(self.me.0 as usize)
    }

    #[inline]
    fn note(&mut self, note: Note) {
        self.notes.note(self.now, note);
    }
}
