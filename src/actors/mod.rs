//! The simulated world's actors. Each is a sans-I/O state machine (see
//! [`crate::actor`]); [`WorldActor`] is the closed set of them, dispatched
//! statically so the kernel's hot loop has no virtual calls.

pub mod host;
pub mod placement;
pub mod workload;

use crate::actor::{Actor, Context};
use crate::event::Event;
use crate::supervisor::actors::SupActor;
use crate::supervisor::api_server::ApiServer;

pub use host::Host;
pub use placement::Placement;
pub use workload::Workload;

// Hosts are most of the actors and stay inline (with their dozen VMs) so that
// one warmed run of cache lines holds a host; the rare big actors are boxed.
#[allow(clippy::large_enum_variant)]
pub enum WorldActor {
    Host(Host),
    Placement(Box<Placement>),
    Workload(Workload),
    /// A part of the Supervisor (control plane, Spherelet, clients).
    Supervisor(Box<crate::supervisor::crashable::Crashable>),
}

impl Actor for WorldActor {
    #[inline]
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        match self {
            WorldActor::Host(a) => a.handle(event, ctx),
            WorldActor::Placement(a) => a.handle(event, ctx),
            WorldActor::Workload(a) => a.handle(event, ctx),
            WorldActor::Supervisor(a) => a.handle(event, ctx),
        }
    }

    #[inline]
    fn prefetch(&self, event: &Event, ahead: usize) -> Option<crate::model::ActorId> {
        match self {
            WorldActor::Placement(a) => a.prefetch(event, ahead),
            _ => None,
        }
    }

    #[inline]
    fn prefetch_heap(&self) {
        if let WorldActor::Host(a) = self {
            a.prefetch_heap();
        }
    }
}

/// The observable state of a world's actors, for comparing runs: every
/// host's power state, usage and VMs, and where placement believes each VM
/// is. Everything in id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorldSnapshot {
    pub hosts: Vec<HostSnapshot>,
    pub assignments: Vec<(crate::model::VmId, crate::model::HostId)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSnapshot {
    pub up: bool,
    pub used: crate::model::Resources,
    pub vms: Vec<crate::model::VmId>,
}

impl WorldSnapshot {
    pub fn of(actors: &[WorldActor]) -> WorldSnapshot {
        let mut hosts = Vec::new();
        let mut assignments = Vec::new();
        for actor in actors {
            match actor {
                WorldActor::Host(h) => hosts.push(HostSnapshot {
                    up: h.is_up(),
                    used: h.used(),
                    vms: h.vms().map(|(vm, _)| vm).collect(),
                }),
                WorldActor::Placement(p) => assignments = p.assignments().collect(),
                WorldActor::Workload(_) | WorldActor::Supervisor(_) => {}
            }
        }
        WorldSnapshot { hosts, assignments }
    }
}

/// The Supervisor's parts in a world, in id order.
pub fn sup_parts(actors: &[WorldActor]) -> impl Iterator<Item = &SupActor> {
    actors.iter().filter_map(|a| match a {
        WorldActor::Supervisor(s) => Some(&s.actor),
        _ => None,
    })
}

/// The Supervisor's API server, if the world has one.
pub fn api_server(actors: &[WorldActor]) -> Option<&ApiServer> {
    sup_parts(actors).find_map(|a| match a {
        SupActor::ApiServer(api) => Some(api),
        _ => None,
    })
}
