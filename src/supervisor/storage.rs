//! CNS: datastores with capacity and host connectivity; volumes placed by storage policy.

use super::addrs::Addrs;
use super::config::SupervisorConfig;
use crate::actor::Context;
use crate::event::Event;

#[derive(Clone, Debug)]
pub struct Storage {
    #[allow(dead_code)]
    addrs: Addrs,
}

impl Storage {
    pub fn new(_config: &SupervisorConfig, addrs: Addrs) -> Self {
        Storage { addrs }
    }

    pub fn handle<C: Context>(&mut self, _event: Event, _ctx: &mut C) {}
}
