//! The Spherelet: the kubelet of one ESXi host. Registers the host as a
//! node, heartbeats, starts vSphere Pods (CRX boot + image pull) and reports
//! their phases.

use super::addrs::Addrs;
use super::config::SupervisorConfig;
use crate::actor::Context;
use crate::event::Event;
use crate::model::HostId;

#[derive(Clone, Debug)]
pub struct Spherelet {
    #[allow(dead_code)]
    addrs: Addrs,
    #[allow(dead_code)]
    host: HostId,
}

impl Spherelet {
    pub fn new(_config: &SupervisorConfig, addrs: Addrs, host: HostId) -> Self {
        Spherelet { addrs, host }
    }

    pub fn handle<C: Context>(&mut self, _event: Event, _ctx: &mut C) {}
}
