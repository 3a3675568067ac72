//! The owner of a stream of VMs (a generator or the explicit VM list). It
//! hears back when its VMs are rejected or lost; the workload's requests
//! themselves are external inputs fed by the runtime from a source.

use crate::actor::{Actor, Context};
use crate::event::Event;

#[derive(Default)]
pub struct Workload {
    pub rejected: u64,
    pub lost: u64,
}

impl Workload {}

impl Actor for Workload {
    fn handle<C: Context>(&mut self, event: Event, _ctx: &mut C) {
        match event {
            Event::VmRejected { .. } => self.rejected += 1,
            Event::VmLost { .. } => self.lost += 1,
            _ => {}
        }
    }
}
