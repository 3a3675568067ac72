//! External inputs: what enters the world from outside the actors — VM
//! requests and deletions from workloads, scheduled faults. Each source is a
//! pure iterator over time-ordered inputs with its own random stream; the
//! runtime pulls one input at a time from each source, so sources cost memory
//! only for what is pending, and never deliver ahead of the clock (the
//! generator draws its next two arrivals early, for prefetching; what it
//! delivers, and when, is the same). A single run on a machine with a spare
//! core draws its generator's inputs on that core ([`draw_ahead`]), in the
//! same order.
//!
//! In the log, inputs are records with `cause: None`; replaying only those
//! re-drives a run against another configuration.

mod calendar;
mod drawn_ahead;
mod explicit;
mod faults;
mod generator;
mod manifests;
mod recorded;
mod supervisor_faults;

use crate::event::Event;
use crate::model::{ActorId, SimTime, VmId};

pub use drawn_ahead::{DrawnAhead, draw_ahead};
pub use explicit::ExplicitVms;
pub use faults::{FaultWiring, ScheduledFaults, fault_end};
pub use generator::GeneratorSource;
pub use manifests::ManifestSource;
pub use recorded::RecordedInputs;
pub use supervisor_faults::{SupervisorFaults, component_actor};

/// One external input: deliver `event` to `to` at `at`.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub at: SimTime,
    pub to: ActorId,
    pub event: Event,
}

/// Hands out VM ids densely, in the order requests are created.
#[derive(Default, Clone, Debug)]
pub struct VmIdAlloc {
    next: u64,
}

impl VmIdAlloc {
    pub fn alloc(&mut self) -> VmId {
        let id = VmId(self.next);
        self.next += 1;
        id
    }
}

pub trait Source {
    /// The next input, never earlier than the previous one; None when done.
    fn next(&mut self, ids: &mut VmIdAlloc) -> Option<Input>;

    /// An input this source expects to produce after the one `next`
    /// returned last: the `ahead`-th (1, 2, ...) of its kind as things stand
    /// (inputs made later may still come first), if it can tell cheaply. A
    /// hint for prefetching, never delivered as such.
    fn upcoming(&self, _ahead: usize) -> Option<Input> {
        None
    }

    /// Whether this source's inputs are made on another thread, away from
    /// the simulation's caches.
    fn drawn_elsewhere(&self) -> bool {
        false
    }
}

/// The closed set of sources a world can have.
pub enum WorldSource {
    Generator(Box<GeneratorSource>),
    Explicit(ExplicitVms),
    Faults(ScheduledFaults),
    /// Inputs read back from a trace (what-if replays).
    Recorded(RecordedInputs),
    /// API calls to the Supervisor.
    Manifests(Box<ManifestSource>),
    /// Faults of the Supervisor's parts.
    SupervisorFaults(SupervisorFaults),
    /// A generator drawn on a thread of its own ([`draw_ahead`]).
    DrawnAhead(Box<DrawnAhead>),
}

impl WorldSource {
    /// Deletions this source holds for later (what a run that grows
    /// without bound accumulates).
    pub fn pending_deletions(&self) -> usize {
        match self {
            WorldSource::Generator(s) => s.pending_deletions(),
            WorldSource::DrawnAhead(s) => s.pending_deletions(),
            _ => 0,
        }
    }
}

impl Source for WorldSource {
    fn next(&mut self, ids: &mut VmIdAlloc) -> Option<Input> {
        match self {
            WorldSource::Generator(s) => s.next(ids),
            WorldSource::Explicit(s) => s.next(ids),
            WorldSource::Faults(s) => s.next(ids),
            WorldSource::Recorded(s) => s.next(ids),
            WorldSource::Manifests(s) => s.next(ids),
            WorldSource::SupervisorFaults(s) => s.next(ids),
            WorldSource::DrawnAhead(s) => s.next(ids),
        }
    }

    #[inline]
    fn upcoming(&self, ahead: usize) -> Option<Input> {
        match self {
            WorldSource::Generator(s) => s.upcoming(ahead),
            WorldSource::DrawnAhead(s) => s.upcoming(ahead),
            _ => None,
        }
    }

    fn drawn_elsewhere(&self) -> bool {
        matches!(self, WorldSource::DrawnAhead(_))
    }
}
