//! The Supervisor's kube-scheduler for vSphere Pods: filters, then scores, then a binding.

use super::addrs::Addrs;
use super::config::SupervisorConfig;
use crate::actor::Context;
use crate::event::Event;

#[derive(Clone, Debug)]
pub struct Scheduler {
    #[allow(dead_code)]
    addrs: Addrs,
}

impl Scheduler {
    pub fn new(_config: &SupervisorConfig, addrs: Addrs) -> Self {
        Scheduler { addrs }
    }

    pub fn handle<C: Context>(&mut self, _event: Event, _ctx: &mut C) {}
}
