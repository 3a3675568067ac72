//! The VM Operator: reconciles VirtualMachine objects into placed, powered VMs.

use super::addrs::Addrs;
use super::config::SupervisorConfig;
use crate::actor::Context;
use crate::event::Event;

#[derive(Clone, Debug)]
pub struct VmOperator {
    #[allow(dead_code)]
    addrs: Addrs,
}

impl VmOperator {
    pub fn new(_config: &SupervisorConfig, addrs: Addrs) -> Self {
        VmOperator { addrs }
    }

    pub fn handle<C: Context>(&mut self, _event: Event, _ctx: &mut C) {}
}
