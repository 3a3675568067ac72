//! A VirtualMachine's status as the VM Operator writes it, and the
//! conditions read off it.

use crate::api::msg::SystemOp;
use crate::api::objects::{ObjectKey, PowerState, VirtualMachine, VmPhase};

/// status.{phase, powerState, host} and the reason of the last change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmStatus {
    pub phase: VmPhase,
    pub power: PowerState,
    pub host: Option<String>,
    pub reason: Option<String>,
}

impl VmStatus {
    pub fn of(vm: &VirtualMachine) -> Self {
        VmStatus {
            phase: vm.phase,
            power: vm.actual_power,
            host: vm.host.clone(),
            reason: vm.reason.clone(),
        }
    }

    /// Running on `host`.
    pub fn running(host: &str) -> Self {
        VmStatus {
            phase: VmPhase::Created,
            power: PowerState::PoweredOn,
            host: Some(host.to_string()),
            reason: None,
        }
    }

    /// Holding no host: `phase` with `power` off (or suspended) and why.
    pub fn off(phase: VmPhase, power: PowerState, reason: Option<String>) -> Self {
        VmStatus {
            phase,
            power,
            host: None,
            reason,
        }
    }

    pub fn op(&self, vm: &ObjectKey) -> SystemOp {
        SystemOp::VmStatus {
            vm: vm.clone(),
            phase: self.phase,
            power: self.power,
            host: self.host.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// One status condition (vm-operator style: type, True/False, reason).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub kind: &'static str,
    pub status: bool,
    /// Why it is False (the status reason), None when True.
    pub reason: Option<String>,
}

impl VirtualMachine {
    /// The conditions of status, derived from phase, power state and host
    /// (not stored separately, so they can never disagree with them):
    /// `VirtualMachinePrereqReady` (class, storage and placement rule were
    /// satisfiable), `VirtualMachineCreated` (exists on a host or powered
    /// off by request) and `VirtualMachinePoweredOn`.
    pub fn conditions(&self) -> [Condition; 3] {
        let cond = |kind, status: bool| Condition {
            kind,
            status,
            reason: (!status).then(|| self.reason.clone()).flatten(),
        };
        [
            cond(
                "VirtualMachinePrereqReady",
                self.phase != VmPhase::Unplaceable,
            ),
            cond("VirtualMachineCreated", self.phase == VmPhase::Created),
            cond(
                "VirtualMachinePoweredOn",
                self.actual_power == PowerState::PoweredOn && self.host.is_some(),
            ),
        ]
    }
}
