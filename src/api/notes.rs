//! What the Supervisor's actors report for statistics (see
//! [`crate::actor::Note::Sup`]). Like every note, re-derived on replay.

use crate::api::objects::ObjectKey;
use crate::model::{HostId, SimDuration};

/// A refused or denied call as the summary shows it: the object it was
/// about (none when the API server's process was down) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallExample {
    pub object: Option<ObjectKey>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SupNote {
    /// The API server accepted a call (user or system).
    CallAccepted,
    /// The API server refused a call; `kind` is [`crate::api::msg::ApiError::kind`].
    CallRefused {
        kind: &'static str,
        example: Box<CallExample>,
    },
    /// The authentication proxy denied a call.
    CallDenied { example: Box<CallExample> },
    /// A Spherelet started a pod `latency` after it was asked to.
    PodStarted { latency: SimDuration },
    /// A pod became Running `after` its creation.
    PodReady { after: SimDuration },
    /// A pod reached Succeeded or Failed.
    PodFinished { failed: bool },
    /// The node controller evicted a pod from a NotReady node.
    PodEvicted,
    /// A node's Ready condition changed.
    NodeReady { host: HostId, ready: bool },
    /// The control plane gained or lost quorum.
    ControlPlane { available: bool },
    /// A crashed part was rebuilt from its journal; `equal`: the rebuilt
    /// state is the state it had when it crashed.
    Rebuilt { equal: bool },
    /// A restarted watching part listed again and was handed `missed`
    /// watch events it had lost while down.
    Relisted { missed: u64 },
    /// A fault reached a Supervisor part (`process_crash`, `process_hang`,
    /// `control_plane_vm`, `datastore_failure`), for `faults` by kind.
    Fault { kind: &'static str },
    /// A guest cluster reached Running `after` its TKC was created.
    GuestProvisioned { after: SimDuration },
    /// A guest cluster's rolling upgrade finished after `took`.
    GuestUpgraded { took: SimDuration },
    /// MachineHealthCheck replaced a machine.
    GuestRemediated,
    /// A node pool was scaled (the autoscaler or a replicas update).
    GuestScaled { up: bool },
}
