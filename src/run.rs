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
    mut log: EventLog,
    progress: impl FnMut(SimTime, u64),
) -> Result<RunOutput, StoreError> {
    let world = World::build(scenario);
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
    let mut stats = Stats::default();
    kernel.run_until(end, &mut log, &mut stats, progress);
    let events = kernel.delivered();
    let digest = log.finish()?;
    Ok(RunOutput {
        stats,
        events,
        digest,
        end,
        actors: kernel.into_actors(),
        capacity,
        hosts,
    })
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
