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
use crate::model::{ActorId, HostId, SimDuration, SimTime};
use crate::scenario::{HostFaultKind, ScheduledFault};
use std::collections::BTreeMap;

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
                // Below, host by host: overlapping partitions merge.
                HostFaultKind::Partition => {}
            }
        }
        for w in isolation_windows(faults) {
            let mut push = |at: SimTime, to: ActorId, event: Event| {
                timeline.push((at, w.first, Input { at, to, event }));
            };
            let to = host_actor(w.host.0 as usize);
            let power_off = wiring.isolation_power_off;
            push(w.from, to, Event::HostIsolated { power_off });
            let detected = w.from.saturating_add(wiring.detection_delay);
            let fenced = detected < w.until;
            if fenced {
                let host = w.host;
                push(detected, wiring.placement, Event::HostUnreachable { host });
            }
            push(w.until, to, Event::HostReconnected { fenced });
        }
        timeline.sort_by_key(|(at, i, _)| (*at, *i));
        ScheduledFaults {
            timeline: timeline.into_iter().map(|(_, _, input)| input).collect(),
            cursor: 0,
        }
    }
}

/// One host cut off, from `from` until `until`: the union of the
/// partitions naming it that overlap (or touch). A host in two overlapping
/// partitions is cut off until the last one ends, and HA's verdict counts
/// from the first: reconnecting it when the first ended, while the second
/// still held, let it run on beside the VMs HA had restarted elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
struct IsolationWindow {
    host: HostId,
    from: SimTime,
    until: SimTime,
    /// The index of the window's first fault, and the host's place in its
    /// list: ties at one time keep the file's order.
    first: usize,
    rank: usize,
}

fn isolation_windows(faults: &[ScheduledFault]) -> Vec<IsolationWindow> {
    let mut by_host: BTreeMap<HostId, Vec<IsolationWindow>> = BTreeMap::new();
    for (i, f) in faults.iter().enumerate() {
        if f.kind != HostFaultKind::Partition {
            continue;
        }
        let until = f.at.saturating_add(f.duration.unwrap_or(SimDuration::ZERO));
        for (rank, &host) in f.hosts.iter().enumerate() {
            by_host.entry(host).or_default().push(IsolationWindow {
                host,
                from: f.at,
                until,
                first: i,
                rank,
            });
        }
    }
    let mut windows = Vec::new();
    for (_, mut spans) in by_host {
        spans.sort_by_key(|w| (w.from, w.first));
        let mut spans = spans.into_iter();
        let Some(mut current) = spans.next() else {
            continue;
        };
        for next in spans {
            if next.from <= current.until {
                current.until = current.until.max(next.until);
            } else {
                windows.push(std::mem::replace(&mut current, next));
            }
        }
        windows.push(current);
    }
    windows.sort_by_key(|w| (w.first, w.rank));
    windows
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

#[cfg(test)]
mod tests {
    use super::*;

    fn partition(hosts: &[u32], at: u64, secs: u64) -> ScheduledFault {
        let hosts: Vec<HostId> = hosts.iter().map(|&h| HostId(h)).collect();
        ScheduledFault {
            at: SimTime(at * 1_000_000_000),
            host: hosts[0],
            kind: HostFaultKind::Partition,
            repair_after: None,
            duration: Some(SimDuration::from_secs(secs)),
            hosts,
            factor: 1,
        }
    }

    /// (seconds, actor, event) of every input, in delivery order.
    fn timeline(faults: &[ScheduledFault]) -> Vec<(u64, u32, Event)> {
        let wiring = FaultWiring {
            placement: ActorId(0),
            detection_delay: SimDuration::from_secs(15),
            isolation_power_off: false,
        };
        let mut src = ScheduledFaults::new(faults, |h| ActorId(10 + h as u32), wiring);
        let mut ids = VmIdAlloc::default();
        std::iter::from_fn(|| src.next(&mut ids))
            .map(|i| (i.at.0 / 1_000_000_000, i.to.0, i.event))
            .collect()
    }

    /// Host 1 is in a 100 s partition and, inside it, in a shorter one
    /// with host 0: host 1 is cut off once, until the long one ends, and
    /// fenced (HA declared it failed 15 s in); host 0 has its own short
    /// window, not fenced. Before, host 1 was reconnected unfenced at the
    /// short one's end, and ran on beside the VMs HA had restarted.
    #[test]
    fn overlapping_partitions_of_a_host_cut_it_off_over_their_union() {
        let faults = [partition(&[1], 100, 100), partition(&[0, 1], 150, 10)];
        let isolated = Event::HostIsolated { power_off: false };
        let back = |fenced| Event::HostReconnected { fenced };
        assert_eq!(
            timeline(&faults),
            [
                (100, 11, isolated.clone()),
                (115, 0, Event::HostUnreachable { host: HostId(1) }),
                (150, 10, isolated),
                (160, 10, back(false)),
                (200, 11, back(true)),
            ]
        );
    }

    /// Apart or touching: windows apart stay apart, touching ones merge;
    /// the hosts of one partition keep the file's order at each time.
    #[test]
    fn partitions_apart_stay_apart_and_touching_ones_merge() {
        let apart = [partition(&[2, 0], 100, 10), partition(&[0], 200, 10)];
        let events: Vec<(u64, u32)> = timeline(&apart).iter().map(|e| (e.0, e.1)).collect();
        assert_eq!(
            events,
            [
                (100, 12),
                (100, 10),
                (110, 12),
                (110, 10),
                (200, 10),
                (210, 10)
            ]
        );
        let touching = [partition(&[0], 100, 10), partition(&[0], 110, 10)];
        let isolated = Event::HostIsolated { power_off: false };
        assert_eq!(
            timeline(&touching),
            [
                (100, 10, isolated),
                (115, 0, Event::HostUnreachable { host: HostId(0) }),
                (120, 10, Event::HostReconnected { fenced: true }),
            ]
        );
    }
}
