//! One simulated run of a scenario, start to end: build the world, drive the
//! kernel, finish the log. Wall-clock timing and printing belong to callers.

use crate::actors::WorldActor;
use crate::inputs::WorldSource;
use crate::model::{Resources, SimTime};
use crate::report::{Stats, Summary, summary::RunFacts};
use crate::scenario::Scenario;
use crate::sim::Kernel;
use crate::store::{Digest, EventLog, StoreError};
use crate::world::World;

/// What a run (simulated or live) leaves behind.
pub struct RunOutput {
    pub stats: Stats,
    pub events: u64,
    pub digest: Digest,
    pub end: SimTime,
    pub actors: Vec<WorldActor>,
    pub capacity: Resources,
    pub hosts: u64,
}

/// Runs `scenario` to its end, recording into `log`. `progress` is called
/// now and then with the virtual time and the events delivered so far.
pub fn simulate(
    scenario: &Scenario,
    log: EventLog,
    progress: impl FnMut(SimTime, u64),
) -> Result<RunOutput, StoreError> {
    simulate_with(scenario, log, Stats::default(), progress)
}

/// `simulate`, folding notes into the given `stats` (e.g. with a
/// `Detail` attached); its detail is finished at the run's end.
pub fn simulate_with(
    scenario: &Scenario,
    mut log: EventLog,
    stats: Stats,
    mut progress: impl FnMut(SimTime, u64),
) -> Result<RunOutput, StoreError> {
    let driven = drive_with(World::build(scenario), &mut log, stats, |_, now, events| {
        if events & 0xFFFF == 0 {
            progress(now, events);
        }
        true
    });
    let digest = log.finish()?;
    Ok(driven.with_digest(digest))
}

impl RunOutput {
    pub fn summary(&mut self, scenario: &Scenario, wall_seconds: f64) -> Summary {
        let facts = RunFacts {
            scenario: &scenario.name,
            seed: scenario.seed,
            policy: scenario.placement.policy.name(),
            end: self.end,
            events: self.events,
            wall_seconds,
            digest: self.digest.to_string(),
            hosts: self.hosts,
            capacity: self.capacity,
        };
        Summary::new(facts, &mut self.stats)
    }
}

/// Rebuilds a run's actors and statistics by delivering `records` to fresh
/// actors, discarding what they send (those sends are themselves records).
/// This is the event-sourcing promise: the log alone rebuilds the state.
pub fn replay_records(
    scenario: &Scenario,
    records: impl IntoIterator<Item = crate::event::Record>,
) -> (Vec<WorldActor>, Stats) {
    use crate::actor::{Actor, Context, Note};
    use crate::model::{ActorId, SimDuration};
    use crate::random::{StreamRng, Streams};
    use crate::sim::NoteSink;

    struct ReplayCtx<'a> {
        now: SimTime,
        me: ActorId,
        sender: ActorId,
        streams: &'a mut Streams,
        stats: &'a mut Stats,
    }
    impl Context for ReplayCtx<'_> {
        fn now(&self) -> SimTime {
            self.now
        }
        fn me(&self) -> ActorId {
            self.me
        }
        fn sender(&self) -> ActorId {
            self.sender
        }
        fn send(&mut self, _to: ActorId, _delay: SimDuration, _event: crate::event::Event) {}
        fn rng(&mut self) -> &mut StreamRng {
            self.streams.get(self.me.0 as usize)
        }
        fn note(&mut self, note: Note) {
            self.stats.note(self.now, note);
        }
    }

    let world = World::build(scenario);
    let mut actors = world.actors;
    let mut streams = Streams::new(world.seed, world.names);
    let mut stats = Stats::default();
    for r in records {
        let i = r.to.0 as usize;
        let mut ctx = ReplayCtx {
            now: r.at,
            me: r.to,
            sender: r.from,
            streams: &mut streams,
            stats: &mut stats,
        };
        actors[i].handle(r.event, &mut ctx);
    }
    (actors, stats)
}

/// A run driven into any record sink (a tee of log and trace, a verifier),
/// before its digest is known.
pub struct Driven {
    pub stats: Stats,
    pub events: u64,
    pub end: SimTime,
    pub actors: Vec<WorldActor>,
    pub capacity: Resources,
    pub hosts: u64,
}

impl Driven {
    pub fn with_digest(self, digest: Digest) -> RunOutput {
        RunOutput {
            stats: self.stats,
            events: self.events,
            digest,
            end: self.end,
            actors: self.actors,
            capacity: self.capacity,
            hosts: self.hosts,
        }
    }
}

/// Runs `world` to its end into `sink`; `keep_going` is asked after every
/// event (with the sink, the virtual time and the events so far) and stops
/// the run early when it says false (a verifier that found a divergence).
pub fn drive<L: crate::sim::RecordSink>(
    world: World,
    sink: &mut L,
    keep_going: impl FnMut(&L, SimTime, u64) -> bool,
) -> Driven {
    drive_with(world, sink, Stats::default(), keep_going)
}

/// `drive`, folding notes into the given `stats` (e.g. with a `Detail`
/// attached); its detail is finished at the run's end.
pub fn drive_with<L: crate::sim::RecordSink>(
    world: World,
    sink: &mut L,
    mut stats: Stats,
    mut keep_going: impl FnMut(&L, SimTime, u64) -> bool,
) -> Driven {
    let capacity = world
        .host_capacities
        .iter()
        .fold(Resources::ZERO, |a, c| a + *c);
    let hosts = world.host_capacities.len() as u64;
    let end = world.end;
    let mut kernel: Kernel<WorldActor, WorldSource> =
        Kernel::new(world.seed, world.actors, world.names, world.sources);
    for actor in world.starts {
        kernel.start(actor);
    }
    while kernel.step(end, sink, &mut stats) && keep_going(sink, kernel.now(), kernel.delivered()) {
    }
    if let Some(d) = &mut stats.detail {
        d.finish(end);
    }
    Driven {
        stats,
        events: kernel.delivered(),
        end,
        actors: kernel.into_actors(),
        capacity,
        hosts,
    }
}
