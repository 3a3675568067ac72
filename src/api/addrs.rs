//! Who is where: the actor id of every Supervisor part, handed to each of
//! them when the world is built (actors address each other by id only).

use super::objects::{Kind, ObjectKey};
use crate::model::{ActorId, HostId};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct Addrs {
    pub placement: ActorId,
    pub api_server: ActorId,
    pub auth_proxy: ActorId,
    pub scheduler: ActorId,
    pub node_controller: ActorId,
    pub replicaset_controller: ActorId,
    pub vm_operator: ActorId,
    pub wps: ActorId,
    pub network: ActorId,
    pub storage: ActorId,
    /// The Cluster API controllers (guest clusters' machines).
    pub capi: ActorId,
    /// The actor that speaks for the scenario's users (gets their replies).
    pub clients: ActorId,
    /// One Spherelet per host, indexed by `HostId`.
    pub spherelets: Vec<ActorId>,
    /// Host names (= node names), indexed by `HostId`.
    pub host_names: Vec<String>,
    /// One actor per guest cluster, by its TanzuKubernetesCluster's key.
    pub guests: BTreeMap<ObjectKey, ActorId>,
}

impl Addrs {
    pub fn spherelet(&self, host: HostId) -> ActorId {
        self.spherelets[host.0 as usize]
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
        [self.scheduler, self.wps, self.vm_operator]
    }

    /// Whether `actor` is told of changes to some kind of object.
    pub fn watches_anything(&self, actor: ActorId) -> bool {
        Kind::ALL.iter().any(|k| self.watchers(*k).contains(&actor))
    }

    pub fn watchers(&self, kind: Kind) -> Vec<ActorId> {
        match kind {
            Kind::Pod => vec![
                self.scheduler,
                self.wps,
                self.replicaset_controller,
                self.node_controller,
            ],
            Kind::Node => vec![self.scheduler, self.node_controller],
            Kind::ReplicaSet => vec![self.replicaset_controller],
            Kind::VirtualMachine => vec![self.vm_operator, self.scheduler, self.capi],
            Kind::VirtualMachineClass => vec![self.vm_operator, self.scheduler, self.capi],
            Kind::PersistentVolumeClaim => vec![self.vm_operator, self.wps, self.scheduler],
            // The VM Operator maps a VM's storage class to its policy's
            // datastores.
            Kind::StorageClass => vec![self.vm_operator],
            // Cluster API: the endpoint Service's VIP, the TKCs it expands.
            Kind::Service | Kind::TanzuKubernetesCluster => vec![self.capi],
            Kind::Namespace | Kind::VirtualMachineImage => Vec::new(),
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
