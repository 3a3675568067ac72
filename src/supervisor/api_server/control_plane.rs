//! The Supervisor's control-plane VMs and their quorum. They are placed
//! like any VM, on distinct hosts (firm anti-affinity), and restarted by HA;
//! the API serves only while a majority of them runs.

use crate::model::{Dist, HostId, Resources, SimTime, VmId};

#[derive(Clone, Debug)]
pub struct Member {
    pub vm: VmId,
    pub host: Option<HostId>,
    pub up: bool,
    /// Bumped when the member goes down, so a boot timer of an older life
    /// is ignored.
    pub generation: u64,
    /// When its pending boot completes: the VM boots whether or not the
    /// API server's process is up to see the timer fire.
    pub boot_done: Option<SimTime>,
}

#[derive(Clone, Debug)]
pub struct ControlPlane {
    pub members: Vec<Member>,
    pub size: Resources,
    pub boot: Dist,
}

impl ControlPlane {
    /// The members start running: the Supervisor is already enabled when a
    /// scenario begins.
    pub fn new(vms: Vec<VmId>, size: Resources, boot: Dist) -> Self {
        let members = vms
            .into_iter()
            .map(|vm| Member {
                vm,
                host: None,
                up: true,
                generation: 0,
                boot_done: None,
            })
            .collect();
        ControlPlane {
            members,
            size,
            boot,
        }
    }

    pub fn member_of(&self, vm: VmId) -> Option<usize> {
        self.members.iter().position(|m| m.vm == vm)
    }

    pub fn running(&self) -> usize {
        self.members.iter().filter(|m| m.up).count()
    }

    pub fn quorum(&self) -> usize {
        self.members.len() / 2 + 1
    }

    pub fn available(&self) -> bool {
        self.members.is_empty() || self.running() >= self.quorum()
    }

    /// The reason calls fail while below quorum.
    pub fn unavailable_reason(&self) -> String {
        format!(
            "control plane unavailable: {} of {} control-plane VMs running, quorum is {}",
            self.running(),
            self.members.len(),
            self.quorum()
        )
    }

    /// Marks a member down; true if it was up.
    pub fn down(&mut self, member: usize) -> bool {
        let m = &mut self.members[member];
        m.generation += 1;
        m.host = None;
        m.boot_done = None;
        std::mem::replace(&mut m.up, false)
    }
}
