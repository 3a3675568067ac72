//! The events the Supervisor's actors exchange, carried boxed in
//! [`crate::event::Event::Supervisor`] so the plain-vSphere hot path keeps
//! its small events. New variants go at the end: see the wire rule in
//! [`crate::event`].

use super::objects::{ClusterPhase, Kind, Object, ObjectKey, PodPhase, PowerState, VmPhase};
use crate::model::{ActorId, HostId, Resources, SimTime, VmId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a user asks the API for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verb {
    Create,
    /// Replace the spec (e.g. a VirtualMachine's powerState, a ReplicaSet's
    /// replicas).
    Update,
    Delete,
    Get,
}

impl Verb {
    pub fn name(&self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Delete => "delete",
            Verb::Get => "get",
        }
    }
}

/// Numbers one API call of one caller; replies carry it back.
pub type CallId = u64;

/// The first id of the calls a served Supervisor's gateway makes: the
/// scenario's own calls (which speak through the same actor) count from 0,
/// so the two never meet, and a session's requests are told apart in its
/// log.
pub const GATEWAY_CALLS: CallId = 1 << 48;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SupMsg {
    // ---- the API: client -> auth proxy -> API server -> client
    /// A tenant's call, made as `user`, to the authentication proxy.
    Call {
        id: CallId,
        user: String,
        verb: Verb,
        object: Object,
    },
    /// auth proxy -> API server: an authenticated and authorized call;
    /// `caller` gets the reply.
    Authorized {
        id: CallId,
        caller: ActorId,
        user: String,
        verb: Verb,
        object: Object,
    },
    /// A system component's change (controllers, scheduler, Spherelets):
    /// trusted, made directly to the API server, never quota-checked.
    System {
        id: CallId,
        op: SystemOp,
    },
    /// API server -> caller. `Ok(resourceVersion)` of the written object.
    Reply {
        id: CallId,
        result: Result<u64, ApiError>,
    },
    /// auth proxy -> caller: refused before reaching the API server. This
    /// record is the audit trail of denials.
    Denied {
        id: CallId,
        user: String,
        verb: Verb,
        resource: String,
        namespace: String,
        reason: String,
    },

    // ---- watches: API server -> controllers
    /// An object was created or changed (`deleted: false`) or deleted.
    /// Shared: the API server sends one copy to all of a kind's watchers
    /// (it encodes as the object itself).
    Changed {
        rv: u64,
        object: Arc<Object>,
        deleted: bool,
    },

    // ---- admission by NSX and CNS: API server <-> network / storage
    IpRequest {
        ticket: u64,
        namespace: String,
        /// A load-balancer VIP rather than a segment address.
        vip: bool,
    },
    IpGranted {
        ticket: u64,
        ip: String,
    },
    IpRefused {
        ticket: u64,
        reason: String,
    },
    IpRelease {
        namespace: String,
        ip: String,
        vip: bool,
    },
    VolumeRequest {
        ticket: u64,
        storage_policy: String,
        bytes: u64,
    },
    VolumeGranted {
        ticket: u64,
        datastore: String,
    },
    VolumeRefused {
        ticket: u64,
        reason: String,
    },
    VolumeRelease {
        datastore: String,
        bytes: u64,
    },

    // ---- placement of Supervisor workloads: WPS / VM Operator / API
    // server (control-plane VMs) <-> placement
    /// Place a workload with constraints (DRS-like scoring).
    Place {
        vm: VmId,
        size: Resources,
        rule: PlaceRule,
    },
    Placed {
        vm: VmId,
        host: HostId,
    },
    PlaceFailed {
        vm: VmId,
        reason: String,
    },
    /// The workload's host went down. With `restart` it may be placed again
    /// by HA (a later `Placed`) or lost (`Event::VmLost`); without, it is
    /// gone.
    Displaced {
        vm: VmId,
    },

    // ---- WPS -> Spherelet
    StartPod {
        pod: ObjectKey,
        vm: VmId,
        run_for: Option<crate::model::SimDuration>,
    },
    StopPod {
        pod: ObjectKey,
    },

    // ---- Spherelet
    /// Own timer: send the next heartbeat.
    HeartbeatTimer,
    /// Own timer: the pod's CRX has booted and its image is pulled.
    PodBooted {
        pod: ObjectKey,
        generation: u64,
    },
    /// Own timer: the pod's containers finished.
    PodFinished {
        pod: ObjectKey,
        generation: u64,
    },
    /// Spherelet -> node controller.
    Heartbeat {
        host: HostId,
    },
    /// host -> its Spherelet: the host's power and reachability changed.
    HostState {
        up: bool,
        reachable: bool,
    },

    // ---- node controller
    /// Own timer: check `host`'s heartbeats / eviction deadline.
    NodeCheck {
        host: HostId,
        generation: u64,
    },

    // ---- API server
    /// Own timer: a control-plane VM finished booting.
    ControlPlaneBooted {
        member: u32,
        generation: u64,
    },
    /// Retired: a timer whose number meant something different to each
    /// part. Logs from before the typed timers (the `*Timer` variants
    /// below) still decode; nothing sends it.
    Retry {
        generation: u64,
    },

    // ---- process faults (fault injection -> any Supervisor part)
    /// The process dies: its volatile state is lost, what arrives is lost.
    Crash,
    /// The process restarts, rebuilt from its persisted events (and, once
    /// rebuilt, the part itself is handed this, before it catches up).
    Restart,
    /// The process stops reading its inbox (state kept).
    Hang,
    /// It reads its backlog and carries on.
    Unhang,
    /// fault injection -> API server: a control-plane VM's guest failed.
    ControlPlaneVmFailed {
        member: u32,
    },
    /// fault injection -> storage: a datastore fails / comes back.
    DatastoreFailed {
        datastore: String,
    },
    DatastoreRepaired {
        datastore: String,
    },

    // ---- guest clusters: Cluster API <-> each guest cluster
    /// capi -> guest: a node joined (kubeadm init/join done) and is Ready.
    GuestNodeUp {
        node: String,
        pool: String,
        control_plane: bool,
        capacity: Resources,
    },
    /// capi -> guest: the node is NotReady (its VM is down).
    GuestNodeDown {
        node: String,
    },
    /// capi -> guest: cordon and drain the node (upgrade, scale-down,
    /// remediation); the guest answers `GuestNodeDrained`.
    GuestDrain {
        node: String,
    },
    /// guest -> capi: drained; `disrupted` pods had to move.
    GuestNodeDrained {
        node: String,
        disrupted: u32,
    },
    /// capi -> guest: the node's machine is deleted.
    GuestNodeGone {
        node: String,
    },
    /// guest (its cluster autoscaler) -> capi: set the pool's replicas.
    GuestScalePool {
        pool: String,
        replicas: u32,
    },
    /// scenario -> guest: a call on the guest cluster's own API
    /// (Deployments inside it), answered with `Reply`.
    GuestCall {
        id: CallId,
        user: String,
        verb: Verb,
        object: Object,
    },
    /// A guest cluster's own timers (kubelet, taint manager, autoscaler).
    GuestTimer(GuestTimer),

    // ---- informer resync: a restarted controller <-> API server (last,
    // so that adding them kept every earlier variant's encoding)
    /// List every object of the kinds the sender watches.
    List,
    /// API server -> lister: those objects in key order as of `rv`, or why
    /// they could not be listed.
    Listed {
        rv: u64,
        result: Result<Vec<Object>, ApiError>,
    },
    /// host -> its Spherelet: vSphere HA powered these VMs off while the
    /// host was cut off (the isolation response, or fencing at the heal).
    CrxsPoweredOff {
        vms: Vec<VmId>,
    },
    /// A restarted part -> CNS: which datastores are failed now? Answered
    /// with a `DatastoreFailed` or `DatastoreRepaired` per datastore.
    DatastoreHealth,
    /// A restarted Spherelet -> WPS: which pods should run on `host`? (A
    /// start or stop sent while it was down was lost.)
    SphereletRestarted {
        host: HostId,
    },
    /// WPS -> that Spherelet: the pods placed on its host, as their starts
    /// (pod, CRX, run for); it starts those it does not run and forgets the
    /// others. `lost`: pods whose CRX died with the host (placement told
    /// WPS), which the Spherelet reports Failed: it would have, had it been
    /// up when its host went down.
    SphereletPods {
        pods: Vec<(ObjectKey, VmId, Option<crate::model::SimDuration>)>,
        lost: Vec<ObjectKey>,
    },
    /// A restarted Spherelet -> its host: answered with `HostState` (a
    /// change while it was down was lost with the process).
    HostStateAsked,
    /// A restarted part -> placement: which of my workloads do you hold?
    /// (A `Displaced` sent while it was down was lost with the process.)
    WorkloadsAsked,
    /// Placement -> that part: the Supervisor workloads it holds for it,
    /// in id order, with their host (`None`: waiting for an HA restart).
    Workloads {
        held: Vec<(VmId, Option<HostId>)>,
    },
    /// host -> its Spherelet, at a fenced heal: power-ons that reached the
    /// host's side of the partition and were dropped (HA had restarted or
    /// forgotten those VMs), so their CRXs never ran here.
    CrxStartsDropped {
        vms: Vec<VmId>,
    },

    // ---- each part's own timers (a timer is a send to oneself)
    ControllerTimer(ControllerTimer),
    ApiServerTimer(ApiServerTimer),
    CapiTimer(CapiTimer),
    VmOperatorTimer(VmOperatorTimer),

    // ---- guest clusters made at run time, and calls into them from
    // outside (a served Supervisor's users)
    /// capi -> the kernel: make the guest cluster actor of `tkc`, a
    /// TanzuKubernetesCluster created through the API (the scenario's have
    /// theirs from the start). `classes`: each VM class's hardware.
    SpawnGuest {
        tkc: ObjectKey,
        spec: super::objects::TanzuKubernetesCluster,
        classes: std::collections::BTreeMap<String, Resources>,
    },
    /// A new guest cluster -> capi, its first message: I am `tkc`'s.
    GuestSpawned {
        tkc: ObjectKey,
    },
    /// gateway -> proxy: a call on the API of `tkc`'s guest cluster.
    GuestRequest {
        id: CallId,
        user: String,
        tkc: ObjectKey,
        verb: Verb,
        object: Object,
    },
    /// proxy -> capi -> `tkc`'s guest cluster: an authorized guest call;
    /// its `Reply` goes to `caller`.
    GuestAuthorized {
        id: CallId,
        caller: ActorId,
        tkc: ObjectKey,
        verb: Verb,
        object: Object,
    },
}

/// The ReplicaSet controller's and the scheduler's timer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControllerTimer {
    /// Work is due at `due` (a backoff ended); a wake-up superseded by an
    /// earlier one is recognised by its time and ignored.
    Wakeup { due: SimTime },
}

/// The API server's timer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiServerTimer {
    /// Ask placement again for control-plane VM `member`, lost for want of
    /// a host.
    PlaceMember { member: u32 },
}

/// Cluster API's timer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CapiTimer {
    /// Entry `id` of its timer table is due (kept there with its due time,
    /// so a rebuild re-arms it).
    Due { id: u64 },
}

/// The VM Operator's timer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VmOperatorTimer {
    /// Reconcile the VM of timer-table entry `id` again (backoff after a
    /// failure); a superseded entry is gone from the table.
    Retry { id: u64 },
}

/// What a guest cluster arms for itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GuestTimer {
    /// The bound pod's containers are up (`generation` of its binding).
    PodStarted {
        namespace: String,
        name: String,
        generation: u64,
    },
    /// A NotReady node's toleration ran out: its pods are evicted.
    NotReadyExpired { node: String, generation: u64 },
    /// The cluster autoscaler's periodic scan.
    Scan,
}

/// What a Supervisor placement request may use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceRule {
    /// Only these hosts (a pod's node; a volume's datastore's hosts).
    /// Empty: any host.
    pub only: Vec<HostId>,
    /// Not on a host that runs another member of this group (the control
    /// plane's firm anti-affinity).
    pub anti_affinity_group: Option<u32>,
    /// The group is kept apart where possible but may share a host when no
    /// other host fits (vSphere cluster modules, used for guest-cluster
    /// machines).
    pub soft_anti_affinity: bool,
    /// HA restarts it when its host fails (VMs); pods are not restarted,
    /// their owner recreates them.
    pub restart: bool,
}

/// Changes made by the Supervisor's own components.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SystemOp {
    /// Create or replace a whole object (node registration, pods created by
    /// a ReplicaSet). Boxed: objects are large, the other changes small.
    Create(Box<Object>),
    Delete(ObjectKey),
    /// The scheduler's binding of a pod to a node, or (None) its return to
    /// the queue, with the reason it is Pending.
    Bind {
        pod: ObjectKey,
        node: Option<String>,
        reason: Option<String>,
    },
    PodStatus {
        pod: ObjectKey,
        phase: PodPhase,
        reason: Option<String>,
    },
    VmStatus {
        vm: ObjectKey,
        phase: VmPhase,
        power: PowerState,
        host: Option<String>,
        reason: Option<String>,
    },
    NodeStatus {
        node: String,
        ready: bool,
    },
    PvcBound {
        pvc: ObjectKey,
        datastore: String,
    },
    /// Cluster API's status of a TanzuKubernetesCluster. A phase written
    /// while the object is Deleting leaves it Deleting.
    TkcStatus {
        tkc: ObjectKey,
        phase: ClusterPhase,
        endpoint: Option<String>,
        nodes_ready: u32,
    },
    /// The Deployment controller's scale of one of its ReplicaSets, the
    /// revision it now is and, when they changed, the annotations it
    /// copies from its Deployment (the newest set only).
    SetReplicas {
        set: ObjectKey,
        replicas: u32,
        revision: u64,
        annotations: Option<BTreeMap<String, String>>,
    },
}

impl SystemOp {
    /// The object the change is about.
    pub fn object_key(&self) -> ObjectKey {
        match self {
            SystemOp::Create(object) => object.key(),
            SystemOp::Delete(key) => key.clone(),
            SystemOp::Bind { pod, .. } | SystemOp::PodStatus { pod, .. } => pod.clone(),
            SystemOp::VmStatus { vm, .. } => vm.clone(),
            SystemOp::NodeStatus { node, .. } => ObjectKey::new(Kind::Node, "", node),
            SystemOp::PvcBound { pvc, .. } => pvc.clone(),
            SystemOp::TkcStatus { tkc, .. } => tkc.clone(),
            SystemOp::SetReplicas { set, .. } => set.clone(),
        }
    }
}

/// Why the API refused a call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiError {
    /// Fewer than a quorum of control-plane VMs are up.
    Unavailable(String),
    /// Would exceed the namespace's limits (ResourceQuota).
    QuotaExceeded(String),
    /// Class, storage class or image not allowed / not found; bad reference.
    Invalid(String),
    AlreadyExists(String),
    NotFound(String),
    /// NSX could not give an address.
    IpExhausted(String),
    /// CNS could not place the volume.
    StorageUnavailable(String),
    /// An update named a resourceVersion other than the stored one.
    Conflict(String),
}

impl ApiError {
    /// Every [`ApiError::kind`], for summaries that list zeros too.
    pub const KINDS: [&'static str; 8] = [
        "unavailable",
        "quota_exceeded",
        "invalid",
        "already_exists",
        "not_found",
        "ip_exhausted",
        "storage_unavailable",
        "conflict",
    ];

    /// A short stable name, for counts.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Unavailable(_) => "unavailable",
            ApiError::QuotaExceeded(_) => "quota_exceeded",
            ApiError::Invalid(_) => "invalid",
            ApiError::AlreadyExists(_) => "already_exists",
            ApiError::NotFound(_) => "not_found",
            ApiError::IpExhausted(_) => "ip_exhausted",
            ApiError::StorageUnavailable(_) => "storage_unavailable",
            ApiError::Conflict(_) => "conflict",
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            ApiError::Unavailable(r)
            | ApiError::QuotaExceeded(r)
            | ApiError::Invalid(r)
            | ApiError::AlreadyExists(r)
            | ApiError::NotFound(r)
            | ApiError::IpExhausted(r)
            | ApiError::StorageUnavailable(r)
            | ApiError::Conflict(r) => r,
        }
    }
}

/// [`SupMsg::kind`] and [`SupMsg::KINDS`] from one list, so that every
/// name a count shows is one a filter accepts.
macro_rules! kind_names {
    ($($variant:ident => $name:literal,)*) => {
        impl SupMsg {
            /// Every [`SupMsg::kind`] name, in declaration order.
            pub const KINDS: &'static [&'static str] = &[$($name),*];

            /// A short stable name per variant, for counts and filters.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(SupMsg::$variant { .. } => $name,)*
                }
            }
        }
    };
}

kind_names! {
    Call => "ApiCall",
    Authorized => "ApiAuthorized",
    System => "ApiSystemCall",
    Reply => "ApiReply",
    Denied => "ApiDenied",
    Changed => "WatchEvent",
    IpRequest => "IpRequest",
    IpGranted => "IpGranted",
    IpRefused => "IpRefused",
    IpRelease => "IpRelease",
    VolumeRequest => "VolumeRequest",
    VolumeGranted => "VolumeGranted",
    VolumeRefused => "VolumeRefused",
    VolumeRelease => "VolumeRelease",
    Place => "SupPlace",
    Placed => "SupPlaced",
    PlaceFailed => "SupPlaceFailed",
    Displaced => "SupDisplaced",
    StartPod => "StartPod",
    StopPod => "StopPod",
    HeartbeatTimer => "HeartbeatTimer",
    PodBooted => "PodBooted",
    PodFinished => "PodFinished",
    Heartbeat => "NodeHeartbeat",
    HostState => "HostState",
    NodeCheck => "NodeCheck",
    ControlPlaneBooted => "ControlPlaneBooted",
    Retry => "Retry",
    Crash => "ProcessCrash",
    Restart => "ProcessRestart",
    Hang => "ProcessHang",
    Unhang => "ProcessUnhang",
    ControlPlaneVmFailed => "ControlPlaneVmFailed",
    DatastoreFailed => "DatastoreFailed",
    DatastoreRepaired => "DatastoreRepaired",
    GuestNodeUp => "GuestNodeUp",
    GuestNodeDown => "GuestNodeDown",
    GuestDrain => "GuestDrain",
    GuestNodeDrained => "GuestNodeDrained",
    GuestNodeGone => "GuestNodeGone",
    GuestScalePool => "GuestScalePool",
    GuestCall => "GuestCall",
    GuestTimer => "GuestTimer",
    List => "ApiList",
    Listed => "ApiListed",
    CrxsPoweredOff => "CrxsPoweredOff",
    DatastoreHealth => "DatastoreHealth",
    SphereletRestarted => "SphereletRestarted",
    SphereletPods => "SphereletPods",
    HostStateAsked => "HostStateAsked",
    WorkloadsAsked => "WorkloadsAsked",
    Workloads => "Workloads",
    CrxStartsDropped => "CrxStartsDropped",
    ControllerTimer => "ControllerTimer",
    ApiServerTimer => "ApiServerTimer",
    CapiTimer => "CapiTimer",
    VmOperatorTimer => "VmOperatorTimer",
    SpawnGuest => "SpawnGuest",
    GuestSpawned => "GuestSpawned",
    GuestRequest => "GuestRequest",
    GuestAuthorized => "GuestAuthorized",
}
