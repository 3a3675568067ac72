//! The Kubernetes-style objects of the Supervisor's API store, with the
//! fields pacsim models (docs/supervisor.md, "Objects and fields
//! modelled", lists them against the real ones). They travel inside
//! events, so they are plain serde data; all maps are ordered so that
//! encodings are deterministic.

use crate::model::{HostId, Resources, SimDuration, SimTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kinds the API store holds. Order is the store's iteration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    Namespace,
    Node,
    StorageClass,
    VirtualMachineClass,
    VirtualMachineImage,
    PersistentVolumeClaim,
    Service,
    ReplicaSet,
    Pod,
    VirtualMachine,
    /// run.tanzu.vmware.com TanzuKubernetesCluster (a guest cluster).
    TanzuKubernetesCluster,
    /// apps/v1 Deployment: rolled out through the ReplicaSets it owns.
    Deployment,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Namespace,
        Kind::Node,
        Kind::StorageClass,
        Kind::VirtualMachineClass,
        Kind::VirtualMachineImage,
        Kind::PersistentVolumeClaim,
        Kind::Service,
        Kind::ReplicaSet,
        Kind::Pod,
        Kind::VirtualMachine,
        Kind::TanzuKubernetesCluster,
        Kind::Deployment,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Node => "Node",
            Kind::StorageClass => "StorageClass",
            Kind::VirtualMachineClass => "VirtualMachineClass",
            Kind::VirtualMachineImage => "VirtualMachineImage",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
            Kind::Service => "Service",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Pod => "Pod",
            Kind::VirtualMachine => "VirtualMachine",
            Kind::TanzuKubernetesCluster => "TanzuKubernetesCluster",
            Kind::Deployment => "Deployment",
        }
    }

    /// The lower-case plural used in RBAC rules and audit records.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::Node => "nodes",
            Kind::StorageClass => "storageclasses",
            Kind::VirtualMachineClass => "virtualmachineclasses",
            Kind::VirtualMachineImage => "virtualmachineimages",
            Kind::PersistentVolumeClaim => "persistentvolumeclaims",
            Kind::Service => "services",
            Kind::ReplicaSet => "replicasets",
            Kind::Pod => "pods",
            Kind::VirtualMachine => "virtualmachines",
            Kind::TanzuKubernetesCluster => "tanzukubernetesclusters",
            Kind::Deployment => "deployments",
        }
    }

    /// Cluster-scoped kinds have no namespace (the key's namespace is "").
    pub fn cluster_scoped(self) -> bool {
        matches!(
            self,
            Kind::Namespace
                | Kind::Node
                | Kind::StorageClass
                | Kind::VirtualMachineClass
                | Kind::VirtualMachineImage
        )
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// An object's identity in the store.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey {
    pub kind: Kind,
    /// Empty for cluster-scoped kinds.
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(kind: Kind, namespace: &str, name: &str) -> Self {
        ObjectKey {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind.name(), self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind.name(), self.namespace, self.name)
        }
    }
}

/// metadata: the parts pacsim uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub name: String,
    /// Empty for cluster-scoped kinds.
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// Set by the store on every write; a write that names a different
    /// resourceVersion than the stored one is a conflict.
    pub resource_version: u64,
    /// Set by the store at creation.
    pub creation: SimTime,
    /// The ReplicaSet that owns a pod (its name, same namespace).
    pub owner: Option<String>,
}

/// One object: metadata plus the kind's spec and status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Object {
    pub meta: Meta,
    pub body: Body,
}

impl Object {
    pub fn kind(&self) -> Kind {
        match &self.body {
            Body::Namespace(_) => Kind::Namespace,
            Body::Node(_) => Kind::Node,
            Body::StorageClass(_) => Kind::StorageClass,
            Body::VirtualMachineClass(_) => Kind::VirtualMachineClass,
            Body::VirtualMachineImage(_) => Kind::VirtualMachineImage,
            Body::PersistentVolumeClaim(_) => Kind::PersistentVolumeClaim,
            Body::Service(_) => Kind::Service,
            Body::ReplicaSet(_) => Kind::ReplicaSet,
            Body::Pod(_) => Kind::Pod,
            Body::VirtualMachine(_) => Kind::VirtualMachine,
            Body::TanzuKubernetesCluster(_) => Kind::TanzuKubernetesCluster,
            Body::Deployment(_) => Kind::Deployment,
        }
    }

    pub fn key(&self) -> ObjectKey {
        ObjectKey::new(self.kind(), &self.meta.namespace, &self.meta.name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    Namespace(NamespaceObj),
    Node(Node),
    StorageClass(StorageClass),
    VirtualMachineClass(VirtualMachineClass),
    VirtualMachineImage(VirtualMachineImage),
    PersistentVolumeClaim(PersistentVolumeClaim),
    Service(Service),
    ReplicaSet(ReplicaSet),
    Pod(Pod),
    VirtualMachine(VirtualMachine),
    TanzuKubernetesCluster(TanzuKubernetesCluster),
    Deployment(Deployment),
}

/// A Supervisor Namespace as the API store sees it; its limits and
/// permissions live in the scenario's `supervisor.namespaces` and are
/// enforced by the API server and the authentication proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceObj {}

/// A Spherelet's host as a Kubernetes node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub host: HostId,
    pub capacity: Resources,
    pub ready: bool,
    pub taints: Vec<Taint>,
    /// Cordoned (host in maintenance).
    pub unschedulable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: TaintEffect,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Toleration {
    /// Empty key with `Exists` tolerates every taint.
    pub key: String,
    pub operator: TolerationOperator,
    pub value: String,
    /// None tolerates every effect.
    pub effect: Option<TaintEffect>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TolerationOperator {
    Equal,
    Exists,
}

/// A storage policy exposed to namespaces as a StorageClass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageClass {
    /// `parameters.storagePolicyID`: the name of a `supervisor.storage_policies` entry.
    pub storage_policy: String,
}

/// vmoperator.vmware.com/v1alpha1 VirtualMachineClass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualMachineClass {
    /// spec.hardware.cpus (as millicores) and spec.hardware.memory.
    pub hardware: Resources,
    /// spec.policies.resources.requests: the reservation ("guaranteed" when
    /// equal to the hardware, "best-effort" when zero).
    pub requests: Resources,
}

/// vmoperator.vmware.com/v1alpha1 VirtualMachineImage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualMachineImage {
    /// Boot-disk size, counted against the namespace's storage limit.
    pub disk_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistentVolumeClaim {
    pub storage_class: String,
    /// spec.resources.requests.storage.
    pub bytes: u64,
    /// status: the datastore CNS put the volume on (None while Pending).
    pub datastore: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Only `LoadBalancer` gets a VIP; `ClusterIP` is accepted and modelled
    /// as needing no address from NSX.
    pub load_balancer: bool,
    pub selector: BTreeMap<String, String>,
    /// status.loadBalancer.ingress[0].ip.
    pub vip: Option<String>,
}

/// A `replicas` owner of pods (apps/v1 ReplicaSet): its own, or one
/// revision of a Deployment (then `meta.owner` names the Deployment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaSet {
    pub replicas: u32,
    /// The template's metadata.labels (also the selector).
    pub template_labels: BTreeMap<String, String>,
    pub template: PodSpec,
    /// Its Deployment's revision (`deployment.kubernetes.io/revision`);
    /// 0 for a ReplicaSet of its own.
    pub revision: u64,
    /// Its own metadata.annotations: a Deployment's set carries its
    /// Deployment's (`kubernetes.io/change-cause` is what `rollout
    /// history` shows per revision).
    pub annotations: BTreeMap<String, String>,
}

/// apps/v1 Deployment: its controller makes a ReplicaSet per template and
/// moves the pods to the newest by `strategy`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub replicas: u32,
    /// The template's metadata.labels (also the selector).
    pub template_labels: BTreeMap<String, String>,
    pub template: PodSpec,
    pub strategy: Strategy,
    /// Its own metadata.annotations, but the ones its controller writes
    /// (`deployment.kubernetes.io/...`).
    pub annotations: BTreeMap<String, String>,
    /// spec.paused (`kubectl rollout pause`): a changed template makes no
    /// new ReplicaSet and a rollout under way stands still; scaling a
    /// Deployment with one active set still resizes it.
    pub paused: bool,
}

/// How a Deployment replaces its pods when its template changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// At most `max_surge` pods above `replicas`, and at most
    /// `max_unavailable` below it available, during a rollout.
    RollingUpdate {
        max_surge: Amount,
        max_unavailable: Amount,
    },
    /// Every old pod goes before a new one is made.
    Recreate,
}

impl Default for Strategy {
    /// apps/v1's default: 25 % surge, 25 % unavailable.
    fn default() -> Self {
        Strategy::RollingUpdate {
            max_surge: Amount::Percent(25),
            max_unavailable: Amount::Percent(25),
        }
    }
}

/// A count of pods, or a percentage of `replicas` (intstr).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Amount {
    Count(u32),
    Percent(u32),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodSpec {
    /// Sum over containers of resources.requests.
    pub requests: Resources,
    /// Sum over containers of resources.limits (zero: none given).
    pub limits: Resources,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    pub affinity: Affinity,
    /// PersistentVolumeClaim names (same namespace) from spec.volumes.
    pub volumes: Vec<String>,
    /// How long the pod's containers run before it Succeeds; None = until
    /// deleted. (pacsim extension: `pacsim.io/run-for` annotation.)
    pub run_for: Option<SimDuration>,
    /// The containers as written: what a pod shows, and what makes a
    /// template new (`kubectl set image`). `requests` and `limits` above
    /// are their sums, which the scheduler uses. Empty: one container
    /// holding the sums. Shared: a set's pods are its template's copies.
    pub containers: std::sync::Arc<[Container]>,
    /// The annotations of the pod (or of a template's pods), but pacsim's
    /// own: `kubectl rollout restart` changes a template by one.
    pub annotations: BTreeMap<String, String>,
}

/// One container of a pod: its name, image, requests and limits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub requests: Resources,
    pub limits: Resources,
}

/// spec.affinity: host-level only (topologyKey kubernetes.io/hostname).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affinity {
    /// nodeAffinity requiredDuringScheduling: every term's labels must match
    /// (matchExpressions with operator In, one term).
    pub node_required: Vec<LabelRequirement>,
    /// nodeAffinity preferredDuringScheduling: (weight, requirement).
    pub node_preferred: Vec<(u32, LabelRequirement)>,
    /// podAffinity required: a pod matching the selector must be on the node.
    pub pod_required: Vec<BTreeMap<String, String>>,
    /// podAntiAffinity required: no pod matching the selector on the node.
    pub pod_anti_required: Vec<BTreeMap<String, String>>,
    /// podAffinity preferred: (weight, selector).
    pub pod_preferred: Vec<(u32, BTreeMap<String, String>)>,
    /// podAntiAffinity preferred: (weight, selector).
    pub pod_anti_preferred: Vec<(u32, BTreeMap<String, String>)>,
}

/// `key In [values]` (or `Exists` when values is empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelRequirement {
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl PodPhase {
    pub fn name(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    pub spec: PodSpec,
    /// spec.nodeName: set by the scheduler's binding.
    pub node: Option<String>,
    pub phase: PodPhase,
    /// status.reason / the PodScheduled condition's message while Pending.
    pub reason: Option<String>,
    /// status.podIP, from the namespace's NSX segment.
    pub ip: Option<String>,
    /// When the pod became Running.
    pub started: Option<SimTime>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PowerState {
    PoweredOn,
    PoweredOff,
    Suspended,
}

impl PowerState {
    pub fn name(self) -> &'static str {
        match self {
            PowerState::PoweredOn => "PoweredOn",
            PowerState::PoweredOff => "PoweredOff",
            PowerState::Suspended => "Suspended",
        }
    }
}

/// The VM Operator's view of a VM's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum VmPhase {
    /// Accepted, not yet placed.
    Creating,
    /// Placed and powered as spec.powerState says.
    Created,
    /// No host could take it (reason says why); retried on capacity changes.
    Unplaceable,
    /// Its host failed and it was not restarted.
    Failed,
}

impl VmPhase {
    pub fn name(self) -> &'static str {
        match self {
            VmPhase::Creating => "Creating",
            VmPhase::Created => "Created",
            VmPhase::Unplaceable => "Unplaceable",
            VmPhase::Failed => "Failed",
        }
    }
}

/// vmoperator.vmware.com/v1alpha1 VirtualMachine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualMachine {
    /// spec.className
    pub class_name: String,
    /// spec.imageName
    pub image_name: String,
    /// spec.storageClass
    pub storage_class: String,
    /// spec.powerState (desired)
    pub power_state: PowerState,
    /// PersistentVolumeClaim names from spec.volumes.
    pub volumes: Vec<String>,
    /// status.phase
    pub phase: VmPhase,
    /// status.powerState (actual)
    pub actual_power: PowerState,
    /// status.host
    pub host: Option<String>,
    /// status.vmIp
    pub ip: Option<String>,
    pub reason: Option<String>,
}

/// run.tanzu.vmware.com TanzuKubernetesCluster: an upstream Kubernetes
/// cluster whose nodes are VMs in this namespace, built by Cluster API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TanzuKubernetesCluster {
    /// spec.topology.controlPlane.tkr.reference.name (or spec.distribution
    /// .version): changing it at run time is a rolling upgrade.
    pub version: String,
    /// spec.topology.controlPlane (its name is "control-plane").
    pub control_plane: NodePool,
    /// spec.topology.nodePools[].
    pub node_pools: Vec<NodePool>,
    /// status.phase
    pub phase: ClusterPhase,
    /// status: the API endpoint's load-balancer VIP.
    pub endpoint: Option<String>,
    /// status: nodes Ready (control plane + workers).
    pub nodes_ready: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePool {
    pub name: String,
    pub replicas: u32,
    pub vm_class: String,
    pub storage_class: String,
    /// Cluster autoscaler bounds (min, max), when the pool autoscales.
    pub autoscale: Option<(u32, u32)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ClusterPhase {
    Creating,
    Running,
    Updating,
    Deleting,
    Failed,
}

impl ClusterPhase {
    pub fn name(self) -> &'static str {
        match self {
            ClusterPhase::Creating => "Creating",
            ClusterPhase::Running => "Running",
            ClusterPhase::Updating => "Updating",
            ClusterPhase::Deleting => "Deleting",
            ClusterPhase::Failed => "Failed",
        }
    }
}
