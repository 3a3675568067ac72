//! Faults scheduled at fixed times in the scenario: crash (and repair after
//! a delay) of a named host, maintenance (placement evacuates the host) and
//! network partitions. Random faults are drawn by the hosts themselves.
//!
//! A partition is the isolation of its hosts at `at`, HA's verdict "failed"
//! for each to placement at `at + detection_delay` (only when the partition
//! lasts longer than that: HA's failure detection, modelled as its outcome),
//! and the reconnection at `at + duration`.

use super::{Input, Source, VmIdAlloc};
use crate::event::Event;
use crate::model::{ActorId, SimDuration, SimTime};
use crate::scenario::{HostFaultKind, ScheduledFault};

pub struct ScheduledFaults {
    timeline: Vec<Input>,
    cursor: usize,
}

/// What the fault source needs to know about the world besides the faults.
#[derive(Clone, Copy, Debug)]
pub struct FaultWiring {
    pub placement: ActorId,
    pub detection_delay: SimDuration,
    pub isolation_power_off: bool,
}

impl ScheduledFaults {
    /// `host_actor(i)` is the actor of host `HostId(i)`.
    pub fn new(
        faults: &[ScheduledFault],
        host_actor: impl Fn(usize) -> ActorId,
        wiring: FaultWiring,
    ) -> Self {
        let mut timeline: Vec<(SimTime, usize, Input)> = Vec::new();
        for (i, f) in faults.iter().enumerate() {
            let mut push = |at: SimTime, to: ActorId, event: Event| {
                timeline.push((at, i, Input { at, to, event }));
            };
            let to = host_actor(f.host.0 as usize);
            let until = f.at.saturating_add(f.duration.unwrap_or(SimDuration::ZERO));
            match f.kind {
                HostFaultKind::Crash => {
                    push(f.at, to, Event::HostCrash);
                    if let Some(after) = f.repair_after {
                        push(f.at.saturating_add(after), to, Event::HostRepair);
                    }
                }
                HostFaultKind::Maintenance => {
                    let host = f.host;
                    push(f.at, wiring.placement, Event::MaintenanceBegin { host });
                    push(until, wiring.placement, Event::MaintenanceEnd { host });
                }
                // A kernel rule (`sim::faults`), not an input.
                HostFaultKind::Slow => {}
                HostFaultKind::Partition => {
                    let power_off = wiring.isolation_power_off;
                    let detected = f.at.saturating_add(wiring.detection_delay);
                    let fenced = detected < until;
                    for &h in &f.hosts {
                        push(
                            f.at,
                            host_actor(h.0 as usize),
                            Event::HostIsolated { power_off },
                        );
                    }
                    if fenced {
                        for &h in &f.hosts {
                            push(
                                detected,
                                wiring.placement,
                                Event::HostUnreachable { host: h },
                            );
                        }
                    }
                    for &h in &f.hosts {
                        push(
                            until,
                            host_actor(h.0 as usize),
                            Event::HostReconnected { fenced },
                        );
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

/// The time after which a scheduled fault no longer acts (crash: its
/// repair, or its start when never repaired).
pub fn fault_end(f: &ScheduledFault) -> SimTime {
    let d = f.duration.or(f.repair_after).unwrap_or(SimDuration::ZERO);
    f.at.saturating_add(d)
}

impl Source for ScheduledFaults {
    fn next(&mut self, _ids: &mut VmIdAlloc) -> Option<Input> {
        let input = self.timeline.get(self.cursor)?.clone();
        self.cursor += 1;
        Some(input)
    }
}
