//! Keeps each ReplicaSet's pod count at its `replicas`.

use super::addrs::Addrs;
use super::config::SupervisorConfig;
use crate::actor::Context;
use crate::event::Event;

#[derive(Clone, Debug)]
pub struct ReplicaSetController {
    #[allow(dead_code)]
    addrs: Addrs,
}

impl ReplicaSetController {
    pub fn new(_config: &SupervisorConfig, addrs: Addrs) -> Self {
        ReplicaSetController { addrs }
    }

    pub fn handle<C: Context>(&mut self, _event: Event, _ctx: &mut C) {}
}
