//! The node lifecycle controller: NotReady after missed heartbeats, eviction after the toleration.

use super::addrs::Addrs;
use super::config::SupervisorConfig;
use crate::actor::Context;
use crate::event::Event;

#[derive(Clone, Debug)]
pub struct NodeController {
    #[allow(dead_code)]
    addrs: Addrs,
}

impl NodeController {
    pub fn new(_config: &SupervisorConfig, addrs: Addrs) -> Self {
        NodeController { addrs }
    }

    pub fn handle<C: Context>(&mut self, _event: Event, _ctx: &mut C) {}
}
