//! The Workload Platform Service: bound pods become placement requests and Spherelet starts.

use super::addrs::Addrs;
use super::config::SupervisorConfig;
use crate::actor::Context;
use crate::event::Event;

#[derive(Clone, Debug)]
pub struct Wps {
    #[allow(dead_code)]
    addrs: Addrs,
}

impl Wps {
    pub fn new(_config: &SupervisorConfig, addrs: Addrs) -> Self {
        Wps { addrs }
    }

    pub fn handle<C: Context>(&mut self, _event: Event, _ctx: &mut C) {}
}
