//! The Cluster API controller's state of one cluster and its machines:
//! the Cluster / KubeadmControlPlane / MachineDeployments come from
//! [`super::expand`] (re-derived from the TKC), the Machines live here.

use super::expand::{Expansion, Template, expand};
use super::rollout::{MachineView, Stage};
use crate::api::msg::{ApiError, CallId};
use crate::api::objects::{ClusterPhase, TanzuKubernetesCluster};
use crate::model::{ActorId, SimDuration, SimTime};
use std::collections::BTreeMap;

/// A machine's bootstrap, from its VM to a Ready node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MachinePhase {
    /// VM asked for, not yet running.
    Provisioning,
    /// VM running, guest OS booting.
    Booting,
    /// Booted; `kubeadm join` needs the control plane initialized first.
    WaitingForControlPlane,
    /// `kubeadm init` / `join` running.
    Bootstrapping,
    Ready,
    /// Was Ready; its VM is down (or rebooting after an HA restart).
    NotReady,
}

#[derive(Clone, Debug)]
pub struct Machine {
    pub pool: String,
    pub control_plane: bool,
    pub index: u32,
    pub template: Template,
    pub created: SimTime,
    pub phase: MachinePhase,
    pub stage: Stage,
    /// Bumped on every phase change: a timer of an older epoch is stale.
    pub epoch: u64,
    /// The VirtualMachine is in the store.
    pub vm_exists: bool,
    /// Its create call in flight.
    pub creating: Option<CallId>,
    pub create_failures: u32,
    /// Why its last VM create was refused (None once one is accepted).
    pub refused: Option<ApiError>,
    /// Its delete call in flight.
    pub deleting: Option<CallId>,
    pub delete_failures: u32,
    /// The guest cluster knows the node (GuestNodeUp sent, no Gone since).
    pub node_up: bool,
    /// Joined the cluster once (a reboot then needs no kubeadm).
    pub joined: bool,
    /// NotReady since (MachineHealthCheck's clock).
    pub unhealthy_since: Option<SimTime>,
}

impl Machine {
    pub fn ready(&self) -> bool {
        self.phase == MachinePhase::Ready
    }
}

/// One machine event, for tests and the summary: what the rollout did when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MachineEvent {
    Created(String),
    Ready(String),
    /// Drain finished with `disrupted` guest pods moved.
    Drained(String, u32),
    Deleted(String),
    Remediated(String),
}

#[derive(Clone, Debug)]
pub struct Cluster {
    pub spec: TanzuKubernetesCluster,
    /// The TKC's creation time.
    pub created: SimTime,
    pub deleting: bool,
    /// The autoscaler's replicas per pool.
    pub scaled: BTreeMap<String, u32>,
    pub machines: BTreeMap<String, Machine>,
    /// Next machine index per pool (never reused).
    pub next_index: BTreeMap<String, u32>,
    /// `kubeadm init` done: others may join.
    pub initialized: bool,
    /// The control-plane machine running `kubeadm init`.
    pub initializing: Option<String>,
    /// The endpoint Service: create sent and accepted (or in flight).
    pub service: bool,
    pub endpoint: Option<String>,
    /// When all desired nodes were first Ready.
    pub provisioned: Option<SimTime>,
    /// The upgrade under way, since.
    pub upgrade_started: Option<SimTime>,
    pub upgrades: Vec<SimDuration>,
    pub remediations: u32,
    pub disrupted_pods: u32,
    pub scale_actions: u32,
    /// Status last sent (phase, endpoint, nodes Ready); None: to write.
    pub status_sent: Option<(ClusterPhase, Option<String>, u32)>,
    pub history: Vec<(SimTime, MachineEvent)>,
    /// The guest cluster actor made for it at run time (a TKC created
    /// through the API; the scenario's have theirs in `Addrs::guests`).
    pub guest: Option<ActorId>,
}

impl Cluster {
    pub fn new(spec: TanzuKubernetesCluster, created: SimTime) -> Self {
        Cluster {
            spec,
            created,
            deleting: false,
            scaled: BTreeMap::new(),
            machines: BTreeMap::new(),
            next_index: BTreeMap::new(),
            initialized: false,
            initializing: None,
            service: false,
            endpoint: None,
            provisioned: None,
            upgrade_started: None,
            upgrades: Vec::new(),
            remediations: 0,
            disrupted_pods: 0,
            scale_actions: 0,
            status_sent: None,
            history: Vec::new(),
            guest: None,
        }
    }

    pub fn expansion(&self, name: &str) -> Expansion {
        expand(name, &self.spec, &self.scaled)
    }

    pub fn views(&self) -> Vec<MachineView<'_>> {
        self.machines
            .iter()
            .map(|(name, m)| MachineView {
                name,
                pool: &m.pool,
                index: m.index,
                template: &m.template,
                ready: m.ready(),
                stage: m.stage,
            })
            .collect()
    }

    pub fn ready_nodes(&self) -> u32 {
        self.machines.values().filter(|m| m.ready()).count() as u32
    }

    pub fn phase(&self) -> ClusterPhase {
        if self.deleting {
            ClusterPhase::Deleting
        } else if self.upgrade_started.is_some() {
            ClusterPhase::Updating
        } else if self.provisioned.is_some() {
            ClusterPhase::Running
        } else {
            ClusterPhase::Creating
        }
    }

    /// TKC create -> Running.
    pub fn provisioning_time(&self) -> Option<SimDuration> {
        self.provisioned.map(|t| t.since(self.created))
    }
}
