//! The one event enum every actor speaks, and the persisted record around it.
//!
//! Records are the truth: every delivered event becomes exactly one
//! [`Record`], and replaying the records into fresh actors rebuilds their
//! state. Keep variants small; they are encoded once per delivery.
//!
//! **The wire rule.** This enum (and every enum inside it) is also the
//! on-disk encoding, which writes a variant as its index: new variants go
//! at the end, and none is removed, renamed or moved (a retired one stays,
//! documented as no longer sent). `tests/it/wire.rs` pins every such
//! enum's order and fails on a change that is not an append.

use crate::model::{ActorId, HostId, Resources, SimTime, VmId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// Sent once at time 0 to actors that asked for it (e.g. hosts with
    /// random failures arm their first timer).
    Start,

    // --- workload → placement
    /// A tenant asks for a VM of this size.
    VmRequested {
        vm: VmId,
        size: Resources,
    },
    /// A tenant deletes a VM (ignored when it was rejected, lost or gone).
    VmDeleteRequested {
        vm: VmId,
    },

    // --- placement → owner of the VM
    /// Admission or placement found no host with room.
    VmRejected {
        vm: VmId,
    },
    /// The VM's host failed and no other host had room for it.
    VmLost {
        vm: VmId,
    },

    // --- placement → host
    /// Power the VM on. `incarnation` fences power-ons that were sent before
    /// the host last failed: a host only accepts its current incarnation.
    VmPowerOn {
        vm: VmId,
        size: Resources,
        incarnation: u32,
    },
    /// Power the VM off and release its resources.
    VmPowerOff {
        vm: VmId,
    },

    // --- fault injection → host
    /// The host fails: every VM on it stops at once.
    HostCrash,
    /// The host comes back, empty.
    HostRepair,
    /// A host's own random-failure timer; stale generations are ignored.
    FailureTimer {
        generation: u32,
    },
    /// A host's own repair timer; stale generations are ignored.
    RepairTimer {
        generation: u32,
    },

    // --- host → placement
    /// The host went down; placement re-places what it had there.
    HostDown {
        host: HostId,
    },
    /// The host is back with a new incarnation.
    HostUp {
        host: HostId,
        incarnation: u32,
    },

    // --- faults and HA
    /// fault injection → placement: evacuate the host into maintenance.
    MaintenanceBegin {
        host: HostId,
    },
    /// fault injection → placement: the host leaves maintenance.
    MaintenanceEnd {
        host: HostId,
    },
    /// fault injection → host: cut off from placement; `power_off` is the
    /// HA isolation response.
    HostIsolated {
        power_off: bool,
    },
    /// fault injection → host: the partition heals. `fenced`: placement had
    /// declared the host failed, so the host powers off what it still runs
    /// (their copies were restarted elsewhere) and comes back as a new
    /// incarnation.
    HostReconnected {
        fenced: bool,
    },
    /// HA's failure detection → placement: the host was silent for the
    /// detection delay; treat it as failed.
    HostUnreachable {
        host: HostId,
    },
    /// placement → itself: restart the VMs displaced by failure `batch`.
    HaRestart {
        batch: u64,
    },
    /// workload → placement: a request with an HA restart priority
    /// (0 low, 1 medium, 2 high).
    VmRequestedWithPriority {
        vm: VmId,
        size: Resources,
        priority: u8,
    },
    /// placement → owner: refused, with a reason other than "no room".
    VmRefused {
        vm: VmId,
        reason: RejectReason,
    },

    // --- the Supervisor. Boxed: the plain-vSphere hot path keeps its small
    // events.
    Supervisor(Box<crate::api::SupMsg>),
}

/// Why a request was refused (`VmRejected` is "no host has room").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RejectReason {
    /// Powering it on would break the HA admission-control reservation.
    HaAdmission,
    /// A DRS rule (index into `Datacenter::rules`) leaves no host with room.
    DrsRule { rule: u16 },
    /// The VM would pass its resource pool's limit (index into
    /// `Datacenter::pools`).
    ResourcePoolLimit { pool: u16 },
    /// Beyond the pool's reservation, and it cannot borrow: not expandable,
    /// or the cluster's unreserved capacity is used up.
    ResourcePoolReservation { pool: u16 },
    /// A VM outside every pool: the cluster's pools' reservations leave it
    /// no room (index into `Datacenter::clusters`).
    PoolReservations { cluster: u16 },
}

impl RejectReason {
    pub fn name(self) -> &'static str {
        match self {
            RejectReason::HaAdmission => "ha_admission",
            RejectReason::DrsRule { .. } => "drs_rule",
            RejectReason::ResourcePoolLimit { .. } => "resource_pool_limit",
            RejectReason::ResourcePoolReservation { .. } => "resource_pool_reservation",
            RejectReason::PoolReservations { .. } => "reserved_by_pools",
        }
    }
}

impl Event {
    /// The host an event names by number (a replay into a smaller world
    /// drops an input naming a host it lacks).
    pub fn host(&self) -> Option<HostId> {
        match self {
            Event::HostDown { host }
            | Event::HostUp { host, .. }
            | Event::MaintenanceBegin { host }
            | Event::MaintenanceEnd { host }
            | Event::HostUnreachable { host } => Some(*host),
            _ => None,
        }
    }

    /// A short stable name per variant, for counts and filters.
    /// The event for people: its kind and, for the VM and host events, the
    /// VM, host and size in their units (`VmPowerOn vm-187, 8 cores, 128.0
    /// GiB`); a Supervisor message by its kind.
    pub fn describe(&self) -> String {
        match self {
            Event::VmRequested { vm, size } | Event::VmPowerOn { vm, size, .. } => {
                format!("{} {vm}, {size}", self.kind())
            }
            Event::VmDeleteRequested { vm } | Event::VmPowerOff { vm } => {
                format!("{} {vm}", self.kind())
            }
            Event::HostDown { host } | Event::HostUnreachable { host } => {
                format!("{} {host}", self.kind())
            }
            Event::Supervisor(msg) => format!("Supervisor {}", msg.kind()),
            _ => self.kind().to_string(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Event::Start => "Start",
            Event::VmRequested { .. } => "VmRequested",
            Event::VmDeleteRequested { .. } => "VmDeleteRequested",
            Event::VmRejected { .. } => "VmRejected",
            Event::VmLost { .. } => "VmLost",
            Event::VmPowerOn { .. } => "VmPowerOn",
            Event::VmPowerOff { .. } => "VmPowerOff",
            Event::HostCrash => "HostCrash",
            Event::HostRepair => "HostRepair",
            Event::FailureTimer { .. } => "FailureTimer",
            Event::RepairTimer { .. } => "RepairTimer",
            Event::HostDown { .. } => "HostDown",
            Event::HostUp { .. } => "HostUp",
            Event::MaintenanceBegin { .. } => "MaintenanceBegin",
            Event::MaintenanceEnd { .. } => "MaintenanceEnd",
            Event::HostIsolated { .. } => "HostIsolated",
            Event::HostReconnected { .. } => "HostReconnected",
            Event::HostUnreachable { .. } => "HostUnreachable",
            Event::HaRestart { .. } => "HaRestart",
            Event::VmRequestedWithPriority { .. } => "VmRequestedWithPriority",
            Event::VmRefused { .. } => "VmRefused",
            Event::Supervisor(msg) => msg.kind(),
        }
    }
}

/// One delivered event as persisted: `seq` is its position in the log
/// (delivery order), `cause` the seq of the event whose handling sent it
/// (`None` for external inputs: workload, scheduled faults, start).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    pub at: SimTime,
    pub from: ActorId,
    pub to: ActorId,
    pub cause: Option<u64>,
    pub event: Event,
}

impl Record {
    /// This record, borrowed, as sinks take it.
    pub fn borrowed(&self) -> RecordRef<'_> {
        RecordRef {
            seq: self.seq,
            at: self.at,
            from: self.from,
            to: self.to,
            cause: self.cause,
            event: &self.event,
        }
    }
}

/// A borrowed [`Record`]; serializes to exactly the same bytes, so the hot
/// path can encode without cloning the event.
#[derive(Serialize)]
pub struct RecordRef<'a> {
    pub seq: u64,
    pub at: SimTime,
    pub from: ActorId,
    pub to: ActorId,
    pub cause: Option<u64>,
    pub event: &'a Event,
}

impl RecordRef<'_> {
    /// An owned copy (the event cloned).
    pub fn to_record(&self) -> Record {
        Record {
            seq: self.seq,
            at: self.at,
            from: self.from,
            to: self.to,
            cause: self.cause,
            event: self.event.clone(),
        }
    }
}

impl crate::api::SupMsg {
    /// Wraps into the world's event type.
    pub fn event(self) -> Event {
        Event::Supervisor(Box::new(self))
    }
}
