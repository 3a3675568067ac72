//! Builds a runnable world from a scenario: the actor table, the input
//! sources and the actors that start at time 0. Both runtimes (sim and live)
//! start from a `World`.
//!
//! Actor ids are laid out as: placement, then every host in `HostId` order,
//! then one owner actor per input source. Each actor has a stable name (e.g.
//! `host/esx-03`) from which its random stream is derived, so adding an actor
//! never shifts another actor's draws.

mod supervisor;

use crate::actors::placement::HaPlacement;
use crate::actors::{Host, Placement, Workload, WorldActor, host::FailureModel};
use crate::api::addrs::Part;
use crate::inputs::{ExplicitVms, FaultWiring, GeneratorSource, ScheduledFaults, WorldSource};
use crate::model::{ActorId, Resources, SimTime};
use crate::placement::PlacementIndex;
use crate::random::StreamRng;
use crate::scenario::Scenario;
use crate::scenario::ha::DEFAULT_DETECTION_DELAY;
use crate::scenario::{Admission, HaConfig, IsolationResponse};

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
    /// The `messages:` rule, applied by the simulator's kernel.
    pub message_faults: Option<crate::scenario::MessageFaults>,
    /// Slow hosts, applied by the simulator's kernel.
    pub slow_hosts: Vec<crate::sim::faults::SlowWindow>,
    /// Where the Supervisor's actors are, when the scenario has one.
    pub supervisor: Option<crate::api::addrs::Addrs>,
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
        let mut placement = Placement::new(
            index,
            &host_views,
            scenario.placement.power_on_delay.clone(),
        )
        .with_ignored_memory(scenario.debug.placement_ignores_memory);
        if let Some(ha) = &scenario.ha {
            placement = placement.with_ha(ha_placement(ha, &capacities));
        }
        actors.push(WorldActor::Placement(Box::new(placement)));

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
            let wiring = FaultWiring {
                placement: PLACEMENT,
                detection_delay: scenario
                    .ha
                    .as_ref()
                    .map_or(DEFAULT_DETECTION_DELAY, |h| h.detection_delay),
                isolation_power_off: scenario
                    .ha
                    .as_ref()
                    .is_some_and(|h| h.isolation_response == IsolationResponse::PowerOff),
            };
            let src = ScheduledFaults::new(&scenario.faults.scheduled, host_actor, wiring);
            add_source("faults".into(), WorldSource::Faults(src), &mut actors);
        }

        let supervisor = scenario.supervisor.as_ref().map(|config| {
            add_supervisor(
                scenario,
                config,
                &capacities,
                &mut actors,
                &mut names,
                &mut sources,
                &mut starts,
            )
        });

        World {
            seed: scenario.seed,
            end,
            actors,
            names,
            sources,
            starts,
            host_capacities: capacities,
            message_faults: scenario.faults.messages.clone(),
            slow_hosts: slow_windows(scenario),
            supervisor,
        }
    }
}

/// Appends the Supervisor's actors (control plane, Spherelets, guest
/// clusters, clients), tells each host its Spherelet, and adds the sources
/// of the scenario's API calls and Supervisor faults. Returns where the
/// parts are.
fn add_supervisor(
    scenario: &Scenario,
    config: &crate::scenario::SupervisorConfig,
    capacities: &[Resources],
    actors: &mut Vec<WorldActor>,
    names: &mut Vec<String>,
    sources: &mut Vec<(WorldSource, ActorId)>,
    starts: &mut Vec<ActorId>,
) -> crate::api::addrs::Addrs {
    let end = SimTime(scenario.duration.0);
    let host_names: Vec<String> = scenario
        .datacenter
        .hosts
        .iter()
        .map(|h| h.name.clone())
        .collect();
    let first = ActorId(actors.len() as u32);
    let guests = supervisor::guest_clusters(&scenario.workloads.manifests);
    let sup = supervisor::build(config, PLACEMENT, first, &host_names, capacities, &guests);
    for (h, spherelet) in sup.addrs.spherelets.iter().enumerate() {
        if let WorldActor::Host(host) = &mut actors[1 + h] {
            host.set_spherelet(*spherelet);
        }
    }
    let crashable = supervisor::crashable_parts(scenario);
    for (name, mut actor) in sup.actors {
        if let crate::supervisor::actors::SupActor::Capi(capi) = &mut actor {
            capi.forget_refused_deletes(scenario.debug.capi_forgets_refused_deletes);
        }
        let part = if crashable.contains(&name) {
            let me = ActorId(actors.len() as u32);
            let part =
                crate::supervisor::crashable::Crashable::journaled(actor, scenario.seed, &name);
            let part = if sup.addrs.watches_anything(me) {
                part.watching(sup.addrs[Part::ApiServer])
            } else {
                part
            };
            restart_asks(&sup.addrs, me, scenario.debug)
                .into_iter()
                .fold(part, |part, (to, ask)| part.asking_at_restart(to, ask))
        } else {
            crate::supervisor::crashable::Crashable::new(actor)
        };
        names.push(name);
        actors.push(WorldActor::Supervisor(Box::new(part)));
    }
    starts.extend(sup.starts.iter().copied());
    let manifests = &scenario.workloads.manifests;
    if !manifests.calls.is_empty() || !manifests.generators.is_empty() {
        let src = crate::inputs::ManifestSource::new(
            manifests,
            sup.addrs[Part::AuthProxy],
            sup.addrs.guests.clone(),
            scenario.seed,
            end,
        );
        sources.push((WorldSource::Manifests(Box::new(src)), sup.addrs.clients));
    }
    if !scenario.faults.supervisor.is_empty() {
        let src = crate::inputs::SupervisorFaults::new(&scenario.faults.supervisor, &sup.addrs);
        let owner = ActorId(actors.len() as u32);
        actors.push(WorldActor::Workload(Workload::default()));
        names.push("supervisor-faults".into());
        sources.push((WorldSource::SupervisorFaults(src), owner));
    }
    sup.addrs
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
        bare.faults.supervisor.clear();
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

/// Placement's share of the `ha:` section: the admission capacity is the
/// cluster's total minus what the policy reserves.
fn ha_placement(ha: &HaConfig, capacities: &[Resources]) -> HaPlacement {
    let total = capacities.iter().fold(Resources::ZERO, |a, c| a + *c);
    let largest = |n: usize, f: fn(&Resources) -> u64| -> u64 {
        let mut v: Vec<u64> = capacities.iter().map(f).collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.iter().take(n).sum()
    };
    let (admission_capacity, failover_hosts) = match &ha.admission {
        Admission::None => (None, Vec::new()),
        Admission::HostFailuresTolerated(n) => {
            let n = *n as usize;
            let reserved = Resources {
                cpu_millis: largest(n, |r| r.cpu_millis),
                memory_bytes: largest(n, |r| r.memory_bytes),
                gpu_millis: largest(n, |r| r.gpu_millis),
            };
            (Some(total.saturating_sub(&reserved)), Vec::new())
        }
        Admission::ReservedPercent { cpu, memory } => {
            let keep = |v: u64, pct: u32| (v as u128 * (100 - pct as u128) / 100) as u64;
            let cap = Resources {
                cpu_millis: keep(total.cpu_millis, *cpu),
                memory_bytes: keep(total.memory_bytes, *memory),
                gpu_millis: total.gpu_millis,
            };
            (Some(cap), Vec::new())
        }
        Admission::FailoverHosts(hosts) => {
            let reserved = hosts
                .iter()
                .fold(Resources::ZERO, |a, h| a + capacities[h.0 as usize]);
            (Some(total.saturating_sub(&reserved)), hosts.clone())
        }
    };
    HaPlacement {
        restart_delay: ha.restart_delay.clone(),
        admission_capacity,
        failover_hosts,
    }
}

/// The `fault: slow` entries as kernel rule windows.
fn slow_windows(scenario: &Scenario) -> Vec<crate::sim::faults::SlowWindow> {
    scenario
        .faults
        .scheduled
        .iter()
        .filter(|f| f.kind == crate::scenario::HostFaultKind::Slow)
        .map(|f| crate::sim::faults::SlowWindow {
            host: host_actor(f.host.0 as usize),
            from: f.at,
            until: crate::inputs::fault_end(f),
            factor: f.factor,
        })
        .collect()
}

/// What Supervisor part `me` asks, and whom, when it restarts after a crash
/// (see `Crashable::asking_at_restart`).
fn restart_asks(
    addrs: &crate::api::addrs::Addrs,
    me: ActorId,
    debug: crate::scenario::DebugSwitches,
) -> Vec<(ActorId, crate::api::SupMsg)> {
    use crate::api::SupMsg;
    let mut asks = Vec::new();
    if addrs.datastore_listeners().contains(&me) {
        asks.push((addrs[Part::Storage], SupMsg::DatastoreHealth));
    }
    // The parts that place workloads ask placement what it still holds.
    if let Some(Part::Wps | Part::VmOperator | Part::ApiServer) = addrs.part_of(me) {
        asks.push((addrs.placement, SupMsg::WorkloadsAsked));
    }
    if let Some(host) = addrs.spherelets.iter().position(|s| *s == me) {
        // The host's answer first: pods are started only on a host that is up.
        asks.push((host_actor(host), SupMsg::HostStateAsked));
        if !debug.spherelet_forgets_pods_at_restart {
            let host = crate::model::HostId(host as u32);
            asks.push((addrs[Part::Wps], SupMsg::SphereletRestarted { host }));
        }
    }
    asks
}
