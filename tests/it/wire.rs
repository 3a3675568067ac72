//! The persisted encoding is pinned, not implied. bincode writes an enum
//! variant as its index in declaration order, so for every enum a log or
//! trace holds, the order of its variants is history: logs written before
//! must still read, and replays must still compare. The rule, once:
//! **new variants go at the end; none is removed, renamed or moved.** A
//! retired variant stays, documented as no longer sent. These lists are
//! the history; extend them only by appending.
//!
//! The variant order is read from serde itself (the list a derived
//! `Deserialize` hands to `deserialize_enum`), the same order bincode's
//! indices follow.

use pacsim::api::msg::{
    ApiError, ApiServerTimer, CapiTimer, ControllerTimer, GuestTimer, SupMsg, SystemOp, Verb,
    VmOperatorTimer,
};
use pacsim::api::objects::{
    Amount, Body, ClusterPhase, Kind, PodPhase, PowerState, Strategy, VmPhase,
};
use pacsim::event::{Event, RejectReason};
use serde::de::{self, Deserialize, Visitor};

/// A deserializer that only records the variant names of the enum asked
/// for, then stops.
struct Variants(Option<&'static [&'static str]>);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stop")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> de::Deserializer<'de> for &mut Variants {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        self.0 = Some(variants);
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

fn variants<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    let mut d = Variants(None);
    let _ = T::deserialize(&mut d);
    d.0.expect("an enum")
}

/// `Event`: the records' outer enum.
const EVENT: &[&str] = &[
    "Start",
    "VmRequested",
    "VmDeleteRequested",
    "VmRejected",
    "VmLost",
    "VmPowerOn",
    "VmPowerOff",
    "HostCrash",
    "HostRepair",
    "FailureTimer",
    "RepairTimer",
    "HostDown",
    "HostUp",
    "MaintenanceBegin",
    "MaintenanceEnd",
    "HostIsolated",
    "HostReconnected",
    "HostUnreachable",
    "HaRestart",
    "VmRequestedWithPriority",
    "VmRefused",
    "Supervisor",
];

/// `SupMsg`: every message between the Supervisor's parts.
const SUP_MSG: &[&str] = &[
    "Call",
    "Authorized",
    "System",
    "Reply",
    "Denied",
    "Changed",
    "IpRequest",
    "IpGranted",
    "IpRefused",
    "IpRelease",
    "VolumeRequest",
    "VolumeGranted",
    "VolumeRefused",
    "VolumeRelease",
    "Place",
    "Placed",
    "PlaceFailed",
    "Displaced",
    "StartPod",
    "StopPod",
    "HeartbeatTimer",
    "PodBooted",
    "PodFinished",
    "Heartbeat",
    "HostState",
    "NodeCheck",
    "ControlPlaneBooted",
    "Retry",
    "Crash",
    "Restart",
    "Hang",
    "Unhang",
    "ControlPlaneVmFailed",
    "DatastoreFailed",
    "DatastoreRepaired",
    "GuestNodeUp",
    "GuestNodeDown",
    "GuestDrain",
    "GuestNodeDrained",
    "GuestNodeGone",
    "GuestScalePool",
    "GuestCall",
    "GuestTimer",
    "List",
    "Listed",
    "CrxsPoweredOff",
    "DatastoreHealth",
    "SphereletRestarted",
    "SphereletPods",
    "HostStateAsked",
    "WorkloadsAsked",
    "Workloads",
    "CrxStartsDropped",
    "ControllerTimer",
    "ApiServerTimer",
    "CapiTimer",
    "VmOperatorTimer",
    "SpawnGuest",
    "GuestSpawned",
    "GuestRequest",
    "GuestAuthorized",
];

const SYSTEM_OP: &[&str] = &[
    "Create",
    "Delete",
    "Bind",
    "PodStatus",
    "VmStatus",
    "NodeStatus",
    "PvcBound",
    "TkcStatus",
    "SetReplicas",
];

const API_ERROR: &[&str] = &[
    "Unavailable",
    "QuotaExceeded",
    "Invalid",
    "AlreadyExists",
    "NotFound",
    "IpExhausted",
    "StorageUnavailable",
    "Conflict",
];

const GUEST_TIMER: &[&str] = &["PodStarted", "NotReadyExpired", "Scan"];

const KIND: &[&str] = &[
    "Namespace",
    "Node",
    "StorageClass",
    "VirtualMachineClass",
    "VirtualMachineImage",
    "PersistentVolumeClaim",
    "Service",
    "ReplicaSet",
    "Pod",
    "VirtualMachine",
    "TanzuKubernetesCluster",
    "Deployment",
];

const BODY: &[&str] = &[
    "Namespace",
    "Node",
    "StorageClass",
    "VirtualMachineClass",
    "VirtualMachineImage",
    "PersistentVolumeClaim",
    "Service",
    "ReplicaSet",
    "Pod",
    "VirtualMachine",
    "TanzuKubernetesCluster",
    "Deployment",
];

const POWER_STATE: &[&str] = &["PoweredOn", "PoweredOff", "Suspended"];

const VM_PHASE: &[&str] = &["Creating", "Created", "Unplaceable", "Failed"];

const CLUSTER_PHASE: &[&str] = &["Creating", "Running", "Updating", "Deleting", "Failed"];

#[test]
fn event_and_message_variants_keep_their_order() {
    assert_eq!(variants::<Event>(), EVENT);
    assert_eq!(variants::<SupMsg>(), SUP_MSG);
}

/// The enums inside messages: their histories, as printed by
/// `variants::<T>()`. Kept here whole so that a reorder is a failure.
#[test]
fn enums_inside_messages_keep_their_order() {
    let pinned: &[(&str, &[&str], &[&str])] = &[
        (
            "RejectReason",
            variants::<RejectReason>(),
            &[
                "HaAdmission",
                "DrsRule",
                "ResourcePoolLimit",
                "ResourcePoolReservation",
                "PoolReservations",
            ],
        ),
        (
            "Verb",
            variants::<Verb>(),
            &["Create", "Update", "Delete", "Get"],
        ),
        ("SystemOp", variants::<SystemOp>(), SYSTEM_OP),
        ("ApiError", variants::<ApiError>(), API_ERROR),
        ("GuestTimer", variants::<GuestTimer>(), GUEST_TIMER),
        (
            "ControllerTimer",
            variants::<ControllerTimer>(),
            &["Wakeup"],
        ),
        (
            "ApiServerTimer",
            variants::<ApiServerTimer>(),
            &["PlaceMember"],
        ),
        ("CapiTimer", variants::<CapiTimer>(), &["Due"]),
        ("VmOperatorTimer", variants::<VmOperatorTimer>(), &["Retry"]),
        ("Kind", variants::<Kind>(), KIND),
        ("Body", variants::<Body>(), BODY),
        (
            "PodPhase",
            variants::<PodPhase>(),
            &["Pending", "Running", "Succeeded", "Failed"],
        ),
        ("PowerState", variants::<PowerState>(), POWER_STATE),
        ("VmPhase", variants::<VmPhase>(), VM_PHASE),
        ("ClusterPhase", variants::<ClusterPhase>(), CLUSTER_PHASE),
        (
            "Strategy",
            variants::<Strategy>(),
            &["RollingUpdate", "Recreate"],
        ),
        ("Amount", variants::<Amount>(), &["Count", "Percent"]),
    ];
    for (name, now, history) in pinned {
        assert_eq!(
            now, history,
            "{name}: variants moved (new ones go at the end)"
        );
    }
}
