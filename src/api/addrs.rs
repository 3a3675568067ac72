//! Who is where: the actor id of every Supervisor part, handed to each of
//! them when the world is built (actors address each other by id only).

use super::objects::{Kind, ObjectKey};
use crate::model::{ActorId, HostId};
use smallvec::{SmallVec, smallvec};
use std::collections::BTreeMap;

/// The Supervisor's control-plane parts, in the order of their actor ids.
///
/// **Adding a part** takes three edits: a variant here and its row in
/// [`PARTS`]; its actor in `supervisor/` with a `SupActor` variant; and its
/// arm in `world::supervisor::part_actor`. Addresses, names, fault targets
/// and the test fixtures follow from the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    ApiServer,
    AuthProxy,
    Scheduler,
    NodeController,
    ReplicaSetController,
    VmOperator,
    Wps,
    Network,
    Storage,
    Capi,
}

/// One row per part, in `Part` order: the part, its actor's name (its
/// random stream's key, so never renamed), and the name a
/// `control-plane-crash` fault gives it (`None`: no fault names it).
pub const PARTS: [(Part, &str, Option<&str>); 10] = [
    (Part::ApiServer, "supervisor/api-server", Some("api-server")),
    (Part::AuthProxy, "supervisor/auth-proxy", None),
    (Part::Scheduler, "supervisor/scheduler", Some("scheduler")),
    (
        Part::NodeController,
        "supervisor/node-controller",
        Some("node-controller"),
    ),
    (
        Part::ReplicaSetController,
        "supervisor/replicaset-controller",
        Some("replicaset-controller"),
    ),
    (
        Part::VmOperator,
        "supervisor/vm-operator",
        Some("vm-operator"),
    ),
    (Part::Wps, "supervisor/wps", Some("wps")),
    (Part::Network, "supervisor/network", None),
    (Part::Storage, "supervisor/storage", None),
    (Part::Capi, "supervisor/capi", Some("capi")),
];

impl Part {
    pub const ALL: [Part; PARTS.len()] = {
        let mut all = [Part::ApiServer; PARTS.len()];
        let mut i = 0;
        while i < PARTS.len() {
            all[i] = PARTS[i].0;
            i += 1;
        }
        all
    };

    /// The part's actor name, `supervisor/<part>`.
    pub fn name(self) -> &'static str {
        PARTS[self as usize].1
    }

    /// The name a `control-plane-crash` fault gives the part.
    pub fn component(self) -> Option<&'static str> {
        PARTS[self as usize].2
    }

    /// The part a fault's component name means.
    pub fn of_component(name: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.component() == Some(name))
    }

    /// The names a `control-plane-crash` may give, in part order.
    pub fn components() -> Vec<&'static str> {
        Part::ALL.iter().filter_map(|p| p.component()).collect()
    }
}

#[derive(Clone, Debug)]
pub struct Addrs {
    pub placement: ActorId,
    /// The control-plane parts' actors, by `Part` (see `Index<Part>`).
    parts: [ActorId; PARTS.len()],
    /// The actor that speaks for the scenario's users (gets their replies).
    pub clients: ActorId,
    /// One Spherelet per host of the Supervisor's cluster, in `HostId`
    /// order from `spherelet_hosts.start`.
    pub spherelets: Vec<ActorId>,
    /// The hosts of the cluster the Supervisor is enabled on.
    pub spherelet_hosts: std::ops::Range<u32>,
    /// Host names (= node names), indexed by `HostId`.
    pub host_names: Vec<String>,
    /// One actor per guest cluster, by its TanzuKubernetesCluster's key.
    pub guests: BTreeMap<ObjectKey, ActorId>,
}

impl std::ops::Index<Part> for Addrs {
    type Output = ActorId;
    fn index(&self, part: Part) -> &ActorId {
        &self.parts[part as usize]
    }
}

impl Addrs {
    /// The world's layout from actor `first` on, with the Supervisor on
    /// every host (see [`Addrs::laid_out_on`]).
    pub fn laid_out(
        placement: ActorId,
        first: ActorId,
        host_names: Vec<String>,
        guests: impl IntoIterator<Item = ObjectKey>,
    ) -> Addrs {
        let every = 0..host_names.len() as u32;
        Addrs::laid_out_on(placement, first, host_names, every, guests)
    }

    /// The world's layout from actor `first` on: the parts in `Part` order,
    /// a Spherelet per host of `spherelet_hosts`, the clients, then one
    /// actor per guest cluster.
    pub fn laid_out_on(
        placement: ActorId,
        first: ActorId,
        host_names: Vec<String>,
        spherelet_hosts: std::ops::Range<u32>,
        guests: impl IntoIterator<Item = ObjectKey>,
    ) -> Addrs {
        let id = |i: usize| ActorId(first.0 + i as u32);
        let (parts, hosts) = (PARTS.len(), spherelet_hosts.len());
        Addrs {
            placement,
            parts: std::array::from_fn(id),
            spherelets: (0..hosts).map(|h| id(parts + h)).collect(),
            clients: id(parts + hosts),
            guests: guests
                .into_iter()
                .enumerate()
                .map(|(i, key)| (key, id(parts + hosts + 1 + i)))
                .collect(),
            host_names,
            spherelet_hosts,
        }
    }

    /// The part whose actor is `actor`, if one is.
    pub fn part_of(&self, actor: ActorId) -> Option<Part> {
        Part::ALL.into_iter().find(|p| self[*p] == actor)
    }

    /// The Spherelet of `host`, a host of the Supervisor's cluster.
    pub fn spherelet(&self, host: HostId) -> ActorId {
        self.spherelets[(host.0 - self.spherelet_hosts.start) as usize]
    }

    /// Each Spherelet with its host.
    pub fn spherelets_by_host(&self) -> impl Iterator<Item = (HostId, ActorId)> + '_ {
        (self.spherelet_hosts.clone())
            .map(HostId)
            .zip(self.spherelets.iter().copied())
    }

    /// The actor of the guest cluster `namespace/name`.
    pub fn guest(&self, namespace: &str, name: &str) -> Option<ActorId> {
        self.guests
            .get(&ObjectKey::new(
                Kind::TanzuKubernetesCluster,
                namespace,
                name,
            ))
            .copied()
    }

    /// The host a node name stands for.
    pub fn host_of(&self, node: &str) -> Option<HostId> {
        self.host_names
            .iter()
            .position(|n| n == node)
            .map(|i| HostId(i as u32))
    }

    pub fn node_name(&self, host: HostId) -> &str {
        &self.host_names[host.0 as usize]
    }

    /// Who the API server tells about changes of `kind` (a fixed table: the
    /// informers each controller would open).
    /// The parts CNS tells when a datastore fails or is repaired.
    pub fn datastore_listeners(&self) -> [ActorId; 3] {
        [Part::Scheduler, Part::Wps, Part::VmOperator].map(|p| self[p])
    }

    /// Whether `actor` is told of changes to some kind of object.
    pub fn watches_anything(&self, actor: ActorId) -> bool {
        Kind::ALL.iter().any(|k| self.watchers(*k).contains(&actor))
    }

    pub fn watchers(&self, kind: Kind) -> SmallVec<[ActorId; 4]> {
        match kind {
            Kind::Pod => smallvec![
                self[Part::Scheduler],
                self[Part::Wps],
                self[Part::ReplicaSetController],
                self[Part::NodeController],
            ],
            Kind::Node => smallvec![self[Part::Scheduler], self[Part::NodeController]],
            // The controller manager: ReplicaSet and Deployment controllers.
            Kind::ReplicaSet | Kind::Deployment => smallvec![self[Part::ReplicaSetController]],
            Kind::VirtualMachine => smallvec![
                self[Part::VmOperator],
                self[Part::Scheduler],
                self[Part::Capi],
            ],
            Kind::VirtualMachineClass => smallvec![
                self[Part::VmOperator],
                self[Part::Scheduler],
                self[Part::Capi],
            ],
            Kind::PersistentVolumeClaim => smallvec![
                self[Part::VmOperator],
                self[Part::Wps],
                self[Part::Scheduler],
            ],
            // The VM Operator maps a VM's storage class to its policy's
            // datastores.
            Kind::StorageClass => smallvec![self[Part::VmOperator]],
            // Cluster API: the endpoint Service's VIP, the TKCs it expands.
            Kind::Service | Kind::TanzuKubernetesCluster => smallvec![self[Part::Capi]],
            Kind::Namespace | Kind::VirtualMachineImage => SmallVec::new(),
        }
    }
}

/// Supervisor workloads are numbered from [`crate::model::SPARSE_BASE`], one
/// range per component that asks placement for hosts, so that their ids
/// never meet each other's or the plain VMs'.
pub fn workload_id(range: IdRange, n: u64) -> crate::model::VmId {
    crate::model::VmId(crate::model::SPARSE_BASE + ((range as u64) << 40) + n)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdRange {
    ControlPlane = 0,
    Pods = 1,
    Vms = 2,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_part_order_and_lays_out_the_world() {
        for (i, (part, name, _)) in PARTS.iter().enumerate() {
            assert_eq!(*part as usize, i, "{name}");
            assert!(name.starts_with("supervisor/"));
        }
        let a = Addrs::laid_out(ActorId(0), ActorId(100), vec!["esx-01".into()], []);
        assert_eq!(a[Part::ApiServer], ActorId(100));
        assert_eq!(a[Part::Capi], ActorId(109));
        assert_eq!((a.spherelets[0], a.clients), (ActorId(110), ActorId(111)));
        assert_eq!(a.part_of(ActorId(105)), Some(Part::VmOperator));
        assert_eq!(Part::of_component("wps"), Some(Part::Wps));
        assert_eq!(Part::components().len(), 7);
    }
}
