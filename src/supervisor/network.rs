//! NSX: a segment and address pool per namespace, and the load-balancer VIP pool.

use super::addrs::Addrs;
use super::config::SupervisorConfig;
use crate::actor::Context;
use crate::event::Event;

#[derive(Clone, Debug)]
pub struct Network {
    #[allow(dead_code)]
    addrs: Addrs,
}

impl Network {
    pub fn new(_config: &SupervisorConfig, addrs: Addrs) -> Self {
        Network { addrs }
    }

    pub fn handle<C: Context>(&mut self, _event: Event, _ctx: &mut C) {}
}
