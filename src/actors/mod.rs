//! The simulated world's actors. Each is a sans-I/O state machine (see
//! [`crate::actor`]); [`WorldActor`] is the closed set of them, dispatched
//! statically so the kernel's hot loop has no virtual calls.

pub mod host;
pub mod placement;
pub mod workload;

use crate::actor::{Actor, Context};
use crate::event::Event;

pub use host::Host;
pub use placement::Placement;
pub use workload::Workload;

pub enum WorldActor {
    Host(Host),
    Placement(Box<Placement>),
    Workload(Workload),
}

impl Actor for WorldActor {
    #[inline]
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        match self {
            WorldActor::Host(a) => a.handle(event, ctx),
            WorldActor::Placement(a) => a.handle(event, ctx),
            WorldActor::Workload(a) => a.handle(event, ctx),
        }
    }
}
