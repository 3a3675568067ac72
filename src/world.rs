//! Builds a runnable world from a scenario: the actor table, the input
//! sources and the actors that start at time 0. Both runtimes (sim and live)
//! start from a `World`.
//!
//! Actor ids are laid out as: placement, then every host in `HostId` order,
//! then one owner actor per input source. Each actor has a stable name (e.g.
//! `host/esx-03`) from which its random stream is derived, so adding an actor
//! never shifts another actor's draws.

use crate::actors::{Host, Placement, Workload, WorldActor, host::FailureModel};
use crate::inputs::{ExplicitVms, GeneratorSource, ScheduledFaults, WorldSource};
use crate::model::{ActorId, Resources, SimTime};
use crate::placement::PlacementIndex;
use crate::random::StreamRng;
use crate::scenario::Scenario;

pub const PLACEMENT: ActorId = ActorId(0);

pub struct World {
    pub seed: u64,
    pub end: SimTime,
    pub actors: Vec<WorldActor>,
    /// Stable name of each actor, indexed by `ActorId`.
    pub names: Vec<String>,
    /// Each source with the actor it speaks as (the owner of its VMs).
    pub sources: Vec<(WorldSource, ActorId)>,
    /// Actors that receive `Event::Start` at time 0.
    pub starts: Vec<ActorId>,
    pub host_capacities: Vec<Resources>,
}

pub fn host_actor(host_index: usize) -> ActorId {
    ActorId(1 + host_index as u32)
}

impl World {
    pub fn build(scenario: &Scenario) -> World {
        let dc = &scenario.datacenter;
        let end = SimTime(scenario.duration.0);
        let capacities: Vec<Resources> = dc
            .hosts
            .iter()
            .map(|h| dc.models[h.model].capacity)
            .collect();
        let failures = host_failure_models(scenario);

        let mut names = vec!["placement".to_string()];
        let mut actors = Vec::with_capacity(1 + dc.hosts.len() + 2);
        let host_views: Vec<(ActorId, Resources)> = capacities
            .iter()
            .enumerate()
            .map(|(i, c)| (host_actor(i), *c))
            .collect();
        let index = PlacementIndex::new(scenario.placement.policy, &capacities);
        actors.push(WorldActor::Placement(Box::new(Placement::new(
            index,
            &host_views,
            scenario.placement.power_on_delay.clone(),
        ))));

        let mut starts = Vec::new();
        for (i, host) in dc.hosts.iter().enumerate() {
            let id = crate::model::HostId(i as u32);
            if failures[i].is_some() {
                starts.push(host_actor(i));
            }
            actors.push(WorldActor::Host(Host::new(
                id,
                capacities[i],
                PLACEMENT,
                failures[i].clone(),
            )));
            names.push(format!("host/{}", host.name));
        }

        let mut sources = Vec::new();
        let mut add_source = |name: String, source: WorldSource, actors: &mut Vec<WorldActor>| {
            let owner = ActorId(actors.len() as u32);
            actors.push(WorldActor::Workload(Workload::default()));
            names.push(name);
            sources.push((source, owner));
        };
        if !scenario.workloads.vms.is_empty() {
            let src = ExplicitVms::new(scenario.workloads.vms.clone(), PLACEMENT);
            add_source(
                "workload/vms".into(),
                WorldSource::Explicit(src),
                &mut actors,
            );
        }
        for g in &scenario.workloads.generators {
            let rng = StreamRng::derive(scenario.seed, &format!("generator/{}", g.name));
            let src = GeneratorSource::new(g.clone(), PLACEMENT, rng, end);
            add_source(
                format!("workload/{}", g.name),
                WorldSource::Generator(Box::new(src)),
                &mut actors,
            );
        }
        if !scenario.faults.scheduled.is_empty() {
            let src = ScheduledFaults::new(&scenario.faults.scheduled, host_actor);
            add_source("faults".into(), WorldSource::Faults(src), &mut actors);
        }

        World {
            seed: scenario.seed,
            end,
            actors,
            names,
            sources,
            starts,
            host_capacities: capacities,
        }
    }
}

/// The random failure model of each host (the last `random:` entry naming a
/// host wins).
fn host_failure_models(scenario: &Scenario) -> Vec<Option<FailureModel>> {
    let mut models = vec![None; scenario.datacenter.hosts.len()];
    for r in &scenario.faults.random {
        for h in &r.hosts {
            models[h.0 as usize] = Some(FailureModel {
                mtbf: r.mtbf.clone(),
                mttr: r.mttr.clone(),
            });
        }
    }
    models
}

impl World {
    /// The world of `scenario` without its inputs: no workloads and no
    /// scheduled faults (random host failures stay, they belong to hosts).
    /// What-if replays add recorded inputs with [`World::add_source`].
    pub fn build_bare(scenario: &Scenario) -> World {
        let mut bare = scenario.clone();
        bare.workloads = crate::scenario::Workloads::default();
        bare.faults.scheduled.clear();
        World::build(&bare)
    }

    /// Adds a source with a new owner actor named `name`; returns the owner.
    pub fn add_source(&mut self, name: String, source: WorldSource) -> ActorId {
        let owner = ActorId(self.actors.len() as u32);
        self.actors.push(WorldActor::Workload(Workload::default()));
        self.names.push(name);
        self.sources.push((source, owner));
        owner
    }
}
