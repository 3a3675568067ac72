//! The scenario's `supervisor:` section and its timed API calls, validated
//! and with every name resolved: what the scenario parser produces and the
//! world builder consumes.

use crate::api::Verb;
use crate::api::objects::{Object, Taint};
use crate::model::{Dist, HostId, Resources, SimDuration, SimTime};

/// The name of the built-in vSphere administrator: owner of everything, and
/// the identity that creates what the `supervisor:` section declares.
pub const ADMIN_USER: &str = "administrator@vsphere.local";

#[derive(Clone, Debug)]
pub struct SupervisorConfig {
    pub control_plane: ControlPlaneConfig,
    pub spherelet: SphereletConfig,
    pub network: NetworkConfig,
    pub datastores: Vec<DatastoreConfig>,
    pub storage_policies: Vec<StoragePolicyConfig>,
    pub users: Vec<UserConfig>,
    pub namespaces: Vec<NamespaceConfig>,
    /// Taints put on the nodes of these hosts at registration.
    pub node_taints: Vec<(HostId, Taint)>,
    /// Cluster-scoped objects that exist from time 0 (VirtualMachineClass,
    /// VirtualMachineImage, StorageClass), created by [`ADMIN_USER`].
    pub objects: Vec<Object>,
    /// `supervisor.guest_clusters`: Cluster API timings and health checks.
    pub guest_clusters: GuestClustersConfig,
    /// The vSphere cluster the Supervisor is enabled on (index into
    /// `Datacenter::clusters`): its hosts run Spherelets and its workloads.
    pub cluster: usize,
}

/// How guest-cluster machines come up and are kept healthy (Cluster API's
/// kubeadm bootstrap and MachineHealthCheck settings).
#[derive(Clone, Debug)]
pub struct GuestClustersConfig {
    /// VM powered on -> guest OS up (cloud-init starts).
    pub vm_boot: Dist,
    /// `kubeadm init` on the first control-plane machine.
    pub kubeadm_init: Dist,
    /// `kubeadm join` on every other machine (after the control plane is up).
    pub kubeadm_join: Dist,
    /// MachineHealthCheck: NotReady this long -> the machine is replaced.
    pub unhealthy_timeout: SimDuration,
    /// MachineHealthCheck nodeStartupTimeout: no Ready node this long after
    /// the machine was created -> replaced.
    pub node_startup_timeout: SimDuration,
    /// MachineHealthCheck maxUnhealthy, in percent of the cluster's
    /// machines: above it, nothing is remediated.
    pub max_unhealthy_percent: u32,
    /// Inside each guest cluster: bound -> Running (image pull, container
    /// start); default fixed 2 s.
    pub pod_start_latency: Dist,
    /// A NotReady guest node's pods are evicted after this long (upstream's
    /// default tolerationSeconds for not-ready: 300 s).
    pub not_ready_toleration: SimDuration,
    /// Cluster autoscaler: scan interval (upstream 10 s).
    pub scan_interval: SimDuration,
    /// scale-down-unneeded-time (upstream 10 min).
    pub scale_down_unneeded_time: SimDuration,
    /// scale-down-utilization-threshold, percent of requests (upstream 50).
    pub scale_down_utilization_pct: u32,
    /// Which pool grows when several could hold the pending pods.
    pub expander: Expander,
}

/// The cluster autoscaler's `--expander`: how it picks among the pools that
/// could take the pending pods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Expander {
    /// pacsim's own: each pending pod, in queue order, onto new nodes of
    /// the first pool by name that can hold it; several pools may grow in
    /// one scan.
    #[default]
    First,
    /// Upstream `least-waste`: the pool whose new nodes would be left with
    /// the least idle cpu and memory (fractions, summed); one pool per scan.
    LeastWaste,
    /// Upstream `most-pods`: the pool whose new nodes would take the most
    /// pending pods; one pool per scan.
    MostPods,
}

impl Expander {
    /// As written in scenario files, in declaration order.
    pub const NAMES: [&'static str; 3] = ["first", "least-waste", "most-pods"];
    const ALL: [Expander; 3] = [Expander::First, Expander::LeastWaste, Expander::MostPods];

    pub fn from_index(i: usize) -> Expander {
        Self::ALL[i]
    }
}

impl Default for GuestClustersConfig {
    fn default() -> Self {
        const SEC: u64 = 1_000_000_000;
        GuestClustersConfig {
            vm_boot: Dist::Uniform {
                low: 60 * SEC,
                high: 120 * SEC,
            },
            kubeadm_init: Dist::Uniform {
                low: 120 * SEC,
                high: 240 * SEC,
            },
            kubeadm_join: Dist::Uniform {
                low: 45 * SEC,
                high: 90 * SEC,
            },
            unhealthy_timeout: SimDuration(300 * SEC),
            node_startup_timeout: SimDuration(600 * SEC),
            max_unhealthy_percent: 100,
            pod_start_latency: Dist::Fixed(2 * SEC),
            not_ready_toleration: SimDuration(300 * SEC),
            scan_interval: SimDuration(10 * SEC),
            scale_down_unneeded_time: SimDuration(600 * SEC),
            scale_down_utilization_pct: 50,
            expander: Expander::First,
        }
    }
}

/// The 3 control-plane VMs (kube-apiserver, etcd, controllers).
#[derive(Clone, Debug)]
pub struct ControlPlaneConfig {
    /// How many control-plane VMs (3 in every real Supervisor).
    pub vms: u32,
    /// Size of each; placed by the DRS-like policy on distinct hosts.
    pub size: Resources,
    /// Time for a restarted control-plane VM to rejoin (boot + etcd).
    pub boot: Dist,
}

#[derive(Clone, Debug)]
pub struct SphereletConfig {
    /// Node status update period (kubelet default 10 s).
    pub heartbeat_interval: SimDuration,
    /// Missed heartbeats for this long: node NotReady (default 40 s).
    pub node_grace_period: SimDuration,
    /// NotReady this long: its pods are evicted (default 300 s).
    pub not_ready_toleration: SimDuration,
    /// Image pull + CRX boot, per pod.
    pub pod_start_latency: Dist,
}

#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// Addresses per namespace subnet (the namespace subnet prefix: a /28
    /// has 16; NSX keeps some: we model network, gateway and broadcast as
    /// unusable, so 13 usable).
    pub segment_size: u32,
    /// First address of the namespace network, e.g. 10.244.0.0; namespace
    /// i starts with the i-th subnet and takes the next free one when its
    /// subnets are full.
    pub pod_cidr_base: [u8; 4],
    /// Addresses in the namespace network (a /20 has 4,096): when every
    /// subnet of it is taken, a full namespace gets no more.
    pub network_size: u64,
    /// The load-balancer VIP pool: first address and how many.
    pub vip_base: [u8; 4],
    pub vip_count: u32,
}

#[derive(Clone, Debug)]
pub struct DatastoreConfig {
    pub name: String,
    pub capacity_bytes: u64,
    /// Hosts that see it, in host order.
    pub hosts: Vec<HostId>,
}

/// A vSphere storage policy: which datastores satisfy it (in order of
/// preference; CNS picks the first with room).
#[derive(Clone, Debug)]
pub struct StoragePolicyConfig {
    pub name: String,
    /// Indexes into `SupervisorConfig::datastores`.
    pub datastores: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct UserConfig {
    pub name: String,
    pub groups: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// get/list/watch.
    View,
    /// View plus create/update/delete of workloads.
    Edit,
    /// Edit plus managing the namespace's permissions.
    Owner,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::View => "view",
            Role::Edit => "edit",
            Role::Owner => "owner",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    User(String),
    Group(String),
}

#[derive(Clone, Debug)]
pub struct NamespaceConfig {
    pub name: String,
    /// None: unlimited.
    pub cpu_limit_millis: Option<u64>,
    pub memory_limit_bytes: Option<u64>,
    pub storage_limit_bytes: Option<u64>,
    /// Allowed VirtualMachineClass names (empty: none allowed).
    pub vm_classes: Vec<String>,
    /// Allowed StorageClass names.
    pub storage_classes: Vec<String>,
    pub permissions: Vec<(Subject, Role)>,
}

impl NamespaceConfig {
    /// A namespace as vCenter makes it: no limits, classes, storage or
    /// permissions until they are set.
    pub fn new(name: impl Into<String>) -> Self {
        NamespaceConfig {
            name: name.into(),
            cpu_limit_millis: None,
            memory_limit_bytes: None,
            storage_limit_bytes: None,
            vm_classes: Vec::new(),
            storage_classes: Vec::new(),
            permissions: Vec::new(),
        }
    }
}

/// One API call from the scenario: at `at`, `user` does `verb` on `object`.
#[derive(Clone, Debug)]
pub struct TimedCall {
    pub at: SimTime,
    pub user: String,
    pub verb: Verb,
    /// For delete and get only the key matters.
    pub object: Object,
    /// A call on a guest cluster's own API (`cluster:`): the
    /// TanzuKubernetesCluster's key. None: the Supervisor's API.
    pub cluster: Option<crate::api::objects::ObjectKey>,
}

/// `workloads.object_generators[]`: stamps out objects from a template.
#[derive(Clone, Debug)]
pub struct ObjectGenerator {
    pub name: String,
    pub user: String,
    /// Time between creations (`rate: 0.1/s` is exponential, mean 10 s).
    pub interarrival: Dist,
    /// How long each object lives before its delete; None: forever.
    pub lifetime: Option<Dist>,
    pub start: SimTime,
    pub stop: Option<SimTime>,
    pub count: Option<u64>,
    /// metadata.name is the prefix: objects are named `<prefix>-<n>`.
    pub template: Object,
    /// As [`TimedCall::cluster`].
    pub cluster: Option<crate::api::objects::ObjectKey>,
}

/// The timed side of the scenario's Supervisor workloads.
#[derive(Clone, Debug, Default)]
pub struct Manifests {
    /// Sorted by time (stable: file order at equal times).
    pub calls: Vec<TimedCall>,
    pub generators: Vec<ObjectGenerator>,
}

/// A scheduled fault of a Supervisor part (`faults:` entries whose `fault:`
/// is one of these kinds).
#[derive(Clone, Debug)]
pub struct SupervisorFault {
    pub at: SimTime,
    pub kind: SupervisorFaultKind,
    /// Crash: restart after this long (None: stays down). Hang and
    /// datastore failure: how long.
    pub lasts: Option<SimDuration>,
    /// Where the fault is written (for errors found after parsing, e.g. an
    /// unknown datastore).
    pub location: crate::scenario::Location,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SupervisorFaultKind {
    /// The Spherelet process on a host dies and restarts from its events.
    SphereletCrash(HostId),
    /// The Spherelet stops reading its inbox (no heartbeats, pods
    /// unmanaged); its VMs and pods keep running.
    SphereletHang(HostId),
    /// Control-plane processes die and restart from their events; names
    /// as in [`crate::api::addrs::Part::components`].
    ControlPlaneCrash(Vec<String>),
    /// A control-plane VM's guest fails; VM monitoring reboots it
    /// (`control_plane.boot`).
    ControlPlaneVm(u32),
    /// A datastore fails: the VMs and volumes on it are lost to their
    /// workloads until it is repaired.
    Datastore(String),
}
