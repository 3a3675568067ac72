//! Adds the Supervisor's actors to a world under construction: control
//! plane parts first, then one Spherelet per host, then the clients actor
//! that owns the scenario's API calls. Names are stable (`supervisor/...`,
//! `spherelet/<host>`), so their random streams never shift.

use crate::actor::{Spawned, Spawner};
use crate::actors::WorldActor;
use crate::api::addrs::{Addrs, Part};
use crate::api::msg::SupMsg;
use crate::api::objects::{Body, ObjectKey, TanzuKubernetesCluster};
use crate::event::Event;
use crate::model::{ActorId, Resources};
use crate::scenario::GuestClustersConfig;
use crate::scenario::SupervisorConfig;
use crate::supervisor::actors::SupActor;
use crate::supervisor::api_server::ApiServer;
use crate::supervisor::auth_proxy::AuthProxy;
use crate::supervisor::capi::Capi;
use crate::supervisor::clients::Clients;
use crate::supervisor::crashable::Crashable;
use crate::supervisor::guest::GuestCluster;
use crate::supervisor::network::Network;
use crate::supervisor::node_controller::NodeController;
use crate::supervisor::replicaset::ReplicaSetController;
use crate::supervisor::scheduler::Scheduler;
use crate::supervisor::spherelet::Spherelet;
use crate::supervisor::storage::Storage;
use crate::supervisor::vm_operator::VmOperator;
use crate::supervisor::wps::Wps;

/// The Supervisor part of a world: actors to append (with their names),
/// in id order from `first`, and who should get `Event::Start`.
pub struct SupervisorActors {
    pub addrs: Addrs,
    pub actors: Vec<(String, SupActor)>,
    pub starts: Vec<ActorId>,
}

/// The actor of control-plane part `part`: the one place that knows which
/// state machine each part is.
fn part_actor(part: Part, config: &SupervisorConfig, a: &Addrs) -> SupActor {
    match part {
        Part::ApiServer => SupActor::ApiServer(ApiServer::new(config, a.clone())),
        Part::AuthProxy => {
            SupActor::AuthProxy(AuthProxy::new(config, a[Part::ApiServer], a[Part::Capi]))
        }
        Part::Scheduler => SupActor::Scheduler(Scheduler::new(config, a.clone())),
        Part::NodeController => SupActor::NodeController(NodeController::new(config, a.clone())),
        Part::ReplicaSetController => {
            SupActor::ReplicaSetController(ReplicaSetController::new(config, a.clone()))
        }
        Part::VmOperator => SupActor::VmOperator(VmOperator::new(config, a.clone())),
        Part::Wps => SupActor::Wps(Wps::new(config, a.clone())),
        Part::Network => SupActor::Network(Network::new(config, a.clone())),
        Part::Storage => SupActor::Storage(Storage::new(config, a.clone())),
        Part::Capi => SupActor::Capi(Capi::new(config, a.clone())),
    }
}

pub fn build(
    config: &SupervisorConfig,
    placement: ActorId,
    first: ActorId,
    host_names: &[String],
    spherelet_hosts: std::ops::Range<u32>,
    capacities: &[Resources],
    guests: &[(ObjectKey, TanzuKubernetesCluster)],
) -> SupervisorActors {
    let addrs = Addrs::laid_out_on(
        placement,
        first,
        host_names.to_vec(),
        spherelet_hosts,
        guests.iter().map(|(key, _)| key.clone()),
    );
    let a = &addrs;
    let mut actors: Vec<(String, SupActor)> = Part::ALL
        .into_iter()
        .map(|part| (part.name().to_string(), part_actor(part, config, a)))
        .collect();
    for (host, _) in a.spherelets_by_host() {
        let h = host.0 as usize;
        let spherelet = Spherelet::new(config, a.clone(), host, capacities[h]);
        let name = &host_names[h];
        actors.push((format!("spherelet/{name}"), SupActor::Spherelet(spherelet)));
    }
    actors.push((
        "supervisor/clients".into(),
        SupActor::Clients(Clients::default()),
    ));
    let classes: std::collections::BTreeMap<String, Resources> = config
        .objects
        .iter()
        .filter_map(|o| match &o.body {
            Body::VirtualMachineClass(c) => Some((o.meta.name.clone(), c.hardware)),
            _ => None,
        })
        .collect();
    for (key, tkc) in guests {
        let name = format!("{}/{}", key.namespace, key.name);
        let guest = GuestCluster::new(
            name.clone(),
            tkc,
            &classes,
            &config.guest_clusters,
            a[Part::Capi],
        );
        actors.push((format!("guest/{name}"), SupActor::Guest(guest)));
    }
    // Everyone but the clients starts at time 0, the API server first (it
    // creates the namespaces and classes the others will see).
    let mut starts: Vec<ActorId> = Part::ALL.iter().map(|p| addrs[*p]).collect();
    starts.extend(addrs.spherelets.iter().copied());
    starts.extend(addrs.guests.values().copied());
    SupervisorActors {
        addrs,
        actors,
        starts,
    }
}

/// Makes the guest cluster actor of a TanzuKubernetesCluster created at
/// run time, when Cluster API asks (`SpawnGuest`); its hello tells Cluster
/// API its id. Named `guest/<namespace>/<name>` like the scenario's.
pub fn guest_spawner(config: GuestClustersConfig) -> Spawner<WorldActor> {
    Box::new(move |request, capi| {
        let Event::Supervisor(msg) = request else {
            return None;
        };
        let SupMsg::SpawnGuest { tkc, spec, classes } = &**msg else {
            return None;
        };
        let name = format!("{}/{}", tkc.namespace, tkc.name);
        let guest = GuestCluster::new(name.clone(), spec, classes, &config, capi);
        Some(Spawned {
            actor: WorldActor::Supervisor(Box::new(Crashable::new(SupActor::Guest(guest)))),
            name: format!("guest/{name}"),
            hello: SupMsg::GuestSpawned { tkc: tkc.clone() }.event(),
        })
    })
}

/// The guest clusters of a scenario: every TanzuKubernetesCluster its
/// manifest calls create (first create of each key, in call order). Those
/// an object generator would stamp out are not supported (the parser
/// refuses such a template).
pub fn guest_clusters(
    manifests: &crate::scenario::Manifests,
) -> Vec<(ObjectKey, TanzuKubernetesCluster)> {
    let mut out: Vec<(ObjectKey, TanzuKubernetesCluster)> = Vec::new();
    for call in &manifests.calls {
        if let (crate::api::Verb::Create, Body::TanzuKubernetesCluster(tkc), None) =
            (&call.verb, &call.object.body, &call.cluster)
        {
            let key = call.object.key();
            if !out.iter().any(|(k, _)| *k == key) {
                out.push((key, tkc.clone()));
            }
        }
    }
    out
}

/// The names of the parts the scenario's faults crash: only these keep a
/// journal (it costs memory in proportion to what they handle).
pub fn crashable_parts(scenario: &crate::scenario::Scenario) -> std::collections::BTreeSet<String> {
    let hosts: Vec<String> = scenario
        .datacenter
        .hosts
        .iter()
        .map(|h| h.name.clone())
        .collect();
    crate::inputs::SupervisorFaults::crashed_names(&scenario.faults.supervisor, &hosts)
        .into_iter()
        .collect()
}
