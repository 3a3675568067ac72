//! Faults scheduled at fixed times in the scenario: crash (and repair after
//! a delay) of a named host. Random faults are drawn by the hosts themselves.

use super::{Input, Source, VmIdAlloc};
use crate::event::Event;
use crate::model::{ActorId, SimTime};
use crate::scenario::{HostFaultKind, ScheduledFault};

pub struct ScheduledFaults {
    timeline: Vec<Input>,
    cursor: usize,
}

impl ScheduledFaults {
    /// `host_actor(i)` is the actor of host `HostId(i)`.
    pub fn new(faults: &[ScheduledFault], host_actor: impl Fn(usize) -> ActorId) -> Self {
        let mut timeline: Vec<(SimTime, usize, Input)> = Vec::new();
        for (i, f) in faults.iter().enumerate() {
            let to = host_actor(f.host.0 as usize);
            match f.kind {
                HostFaultKind::Crash => {
                    timeline.push((
                        f.at,
                        i,
                        Input {
                            at: f.at,
                            to,
                            event: Event::HostCrash,
                        },
                    ));
                    if let Some(after) = f.repair_after {
                        let at = f.at.saturating_add(after);
                        timeline.push((
                            at,
                            i,
                            Input {
                                at,
                                to,
                                event: Event::HostRepair,
                            },
                        ));
                    }
                }
            }
        }
        timeline.sort_by_key(|(at, i, _)| (*at, *i));
        ScheduledFaults {
            timeline: timeline.into_iter().map(|(_, _, input)| input).collect(),
            cursor: 0,
        }
    }
}

impl Source for ScheduledFaults {
    fn next(&mut self, _ids: &mut VmIdAlloc) -> Option<Input> {
        let input = self.timeline.get(self.cursor)?.clone();
        self.cursor += 1;
        Some(input)
    }
}
