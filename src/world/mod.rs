//! Builds a runnable world from a scenario: the actor table, the input
//! sources and the actors that start at time 0. Both runtimes (sim and live)
//! start from a `World`.
//!
//! Actor ids are laid out as: placement, then every host in `HostId` order,
//! then one owner actor per input source. Each actor has a stable name (e.g.
//! `host/esx-03`) from which its random stream is derived, so adding an actor
//! never shifts another actor's draws.

pub mod layout;
mod supervisor;

use crate::actors::placement::HaPlacement;
use crate::actors::{Host, Placement, Workload, WorldActor, host::FailureModel};
use crate::api::addrs::Part;
use crate::inputs::{ExplicitVms, FaultWiring, GeneratorSource, ScheduledFaults, WorldSource};
use crate::model::{ActorId, Resources, SimTime};
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
    /// Each workload owner's cluster, pool and rules, by owner name.
    profiles: layout::Profiles,
    /// How guest clusters made at run time behave (with a Supervisor).
    guest_clusters: Option<crate::scenario::GuestClustersConfig>,
}

pub fn host_actor(host_index: usize) -> ActorId {
    ActorId(1 + host_index as u32)
}

impl World {
    pub fn build(scenario: &Scenario) -> World {
        World::build_from(scenario, scenario)
    }

    /// The world of `scenario`, whose workload owners keep the profiles
    /// `profiled` gives them (the same scenario, or the one a bare world
    /// was cut from).
    fn build_from(scenario: &Scenario, profiled: &Scenario) -> World {
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
        // Placement is built last, once every owner's profile is known.
        actors.push(WorldActor::Workload(Workload::default()));
        let mut profiles = layout::Profiles::new();
        for (name, profile, _) in layout::explicit_groups(profiled) {
            profiles.remember(&name, profile);
        }
        for g in &profiled.workloads.generators {
            let profile = layout::profile_of(profiled, &g.name, g.cluster, g.pool);
            profiles.remember(&format!("workload/{}", g.name), profile);
        }

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
            profiles.claim(owner, &name);
            actors.push(WorldActor::Workload(Workload::default()));
            names.push(name);
            sources.push((source, owner));
        };
        for (name, _, vms) in layout::explicit_groups(scenario) {
            let src = ExplicitVms::new(vms, PLACEMENT);
            add_source(name, WorldSource::Explicit(src), &mut actors);
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
            let first = actors.len();
            let addrs = add_supervisor(
                scenario,
                config,
                &capacities,
                &mut actors,
                &mut names,
                &mut sources,
                &mut starts,
            );
            // The Supervisor's workloads go to its cluster.
            let profile = crate::actors::placement::Profile {
                cluster: config.cluster as u16,
                ..Default::default()
            };
            for (a, name) in names.iter().enumerate().skip(first) {
                profiles.assign(ActorId(a as u32), name, profile.clone());
            }
            addrs
        });

        let mut placement = Placement::new(
            scenario.placement.policy,
            &host_views,
            scenario.placement.power_on_delay.clone(),
        )
        .with_ignored_memory(scenario.debug.placement_ignores_memory)
        .with_layout(&profiles.layout(scenario));
        if let Some(ha) = &scenario.ha {
            placement = placement.with_ha(ha_placement(ha, &capacities, &dc.cluster_ranges()));
        }
        actors[PLACEMENT.0 as usize] = WorldActor::Placement(Box::new(placement));

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
            profiles,
            guest_clusters: scenario
                .supervisor
                .as_ref()
                .map(|s| s.guest_clusters.clone()),
        }
    }

    /// What makes the actors asked for at run time: guest clusters of
    /// TanzuKubernetesClusters created through the API.
    pub fn spawner(&self) -> Option<crate::actor::Spawner<WorldActor>> {
        self.guest_clusters.clone().map(supervisor::guest_spawner)
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
    let spherelet_hosts = scenario.datacenter.cluster_hosts(config.cluster);
    let sup = supervisor::build(
        config,
        PLACEMENT,
        first,
        &host_names,
        spherelet_hosts,
        capacities,
        &guests,
    );
    for (h, spherelet) in sup.addrs.spherelets_by_host() {
        if let WorldActor::Host(host) = &mut actors[host_actor(h.0 as usize).0 as usize] {
            host.set_spherelet(spherelet);
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
    /// A source added under a workload's name speaks for that workload's
    /// cluster, pool and rules.
    pub fn build_bare(scenario: &Scenario) -> World {
        let mut bare = scenario.clone();
        bare.workloads = crate::scenario::Workloads::default();
        bare.faults.scheduled.clear();
        bare.faults.supervisor.clear();
        World::build_from(&bare, scenario)
    }

    /// Adds a source with a new owner actor named `name`; returns the owner.
    pub fn add_source(&mut self, name: String, source: WorldSource) -> ActorId {
        let owner = ActorId(self.actors.len() as u32);
        if let (Some(profile), WorldActor::Placement(p)) = (
            self.profiles.claim(owner, &name),
            &mut self.actors[PLACEMENT.0 as usize],
        ) {
            p.assign_owner(owner, profile);
        }
        self.actors.push(WorldActor::Workload(Workload::default()));
        self.names.push(name);
        self.sources.push((source, owner));
        owner
    }
}

/// Placement's share of the `ha:` section: in each cluster, the admission
/// capacity is the cluster's total minus what the policy reserves there.
fn ha_placement(
    ha: &HaConfig,
    capacities: &[Resources],
    clusters: &[std::ops::Range<u32>],
) -> HaPlacement {
    let admission_capacity = clusters
        .iter()
        .map(|r| {
            let own = &capacities[r.start as usize..r.end as usize];
            let in_cluster: Vec<crate::model::HostId> = match &ha.admission {
                Admission::FailoverHosts(hosts) => (hosts.iter())
                    .filter(|h| r.contains(&h.0))
                    .copied()
                    .collect(),
                _ => Vec::new(),
            };
            admission_capacity(&ha.admission, own, &in_cluster, capacities)
        })
        .collect();
    let failover_hosts = match &ha.admission {
        Admission::FailoverHosts(hosts) => hosts.clone(),
        _ => Vec::new(),
    };
    HaPlacement {
        restart_delay: ha.restart_delay.clone(),
        admission_capacity,
        failover_hosts,
    }
}

/// One cluster's admission capacity: its hosts' total (`own`) minus what
/// the policy reserves; `failover`: its dedicated failover hosts.
fn admission_capacity(
    admission: &Admission,
    own: &[Resources],
    failover: &[crate::model::HostId],
    capacities: &[Resources],
) -> Option<Resources> {
    let total = own.iter().fold(Resources::ZERO, |a, c| a + *c);
    let largest = |n: usize, f: fn(&Resources) -> u64| -> u64 {
        let mut v: Vec<u64> = own.iter().map(f).collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.iter().take(n).sum()
    };
    match admission {
        Admission::None => None,
        Admission::HostFailuresTolerated(n) => {
            let n = *n as usize;
            let reserved = Resources {
                cpu_millis: largest(n, |r| r.cpu_millis),
                memory_bytes: largest(n, |r| r.memory_bytes),
                gpu_millis: largest(n, |r| r.gpu_millis),
            };
            Some(total.saturating_sub(&reserved))
        }
        Admission::ReservedPercent { cpu, memory } => {
            let keep = |v: u64, pct: u32| (v as u128 * (100 - pct as u128) / 100) as u64;
            Some(Resources {
                cpu_millis: keep(total.cpu_millis, *cpu),
                memory_bytes: keep(total.memory_bytes, *memory),
                gpu_millis: total.gpu_millis,
            })
        }
        Admission::FailoverHosts(_) => {
            let reserved = failover
                .iter()
                .fold(Resources::ZERO, |a, h| a + capacities[h.0 as usize]);
            Some(total.saturating_sub(&reserved))
        }
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
    if let Some((host, _)) = addrs.spherelets_by_host().find(|(_, s)| *s == me) {
        // The host's answer first: pods are started only on a host that is up.
        asks.push((host_actor(host.0 as usize), SupMsg::HostStateAsked));
        if !debug.spherelet_forgets_pods_at_restart {
            asks.push((addrs[Part::Wps], SupMsg::SphereletRestarted { host }));
        }
    }
    asks
}
