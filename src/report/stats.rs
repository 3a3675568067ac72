//! Statistics of a run, folded from the notes actors make while handling
//! events. Since notes are re-derived by replaying the log into fresh
//! actors, these numbers are as reproducible as the log itself.

use super::run_lengths::RunLengthHistogram;
use crate::actor::Note;
use crate::model::{Resources, SimTime, VmId, VmTable};
use crate::sim::NoteSink;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

pub struct Stats {
    pub requested: u64,
    pub placed: u64,
    pub rejected: u64,
    pub deleted: u64,
    pub lost: u64,
    pub replaced: u64,
    pub running_vms: u64,
    pub host_failures: u64,
    pub host_repairs: u64,
    pub allocated: Resources,
    pub peak_cpu_millis: u64,
    pub peak_memory_bytes: u64,
    /// Integrals of allocated cpu (millicore·ns) and memory (byte·ns).
    cpu_integral: u128,
    memory_integral: u128,
    last_change: SimTime,
    /// Request time of VMs not yet started: the newest apart, since a
    /// request is most often answered before the next one arrives, and
    /// that answer then finds it without a table lookup.
    waiting: VmTable<SimTime>,
    newest_waiting: Option<(VmId, SimTime)>,
    /// Request → first power-on, in nanoseconds
    /// ([`Stats::placement_latency`]).
    placement_latency: RunLengthHistogram,
    /// The planner's richer fold (`None` unless asked for).
    pub detail: Option<super::detail::Detail>,
    /// Refusals by reason other than "no room" (HA admission control).
    pub refused: BTreeMap<crate::event::RejectReason, u64>,
    /// VMs restarted by HA, and the time from failure to each restart (ns).
    pub restarted: u64,
    pub recovery: Histogram<u64>,
    pub migrated: u64,
    /// Faults injected, by kind (crash, partition, maintenance; message
    /// faults are counted by the kernel and added by the run).
    pub faults: BTreeMap<&'static str, u64>,
    /// The Supervisor's own statistics (empty without one).
    pub supervisor: crate::report::supervisor_stats::SupStats,
    /// Events or messages an actor had no case for, by (actor, kind): each
    /// is a bug, and the invariant checker fails on the first.
    pub unexpected: BTreeMap<(&'static str, &'static str), u64>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            requested: 0,
            placed: 0,
            rejected: 0,
            deleted: 0,
            lost: 0,
            replaced: 0,
            running_vms: 0,
            host_failures: 0,
            host_repairs: 0,
            allocated: Resources::ZERO,
            peak_cpu_millis: 0,
            peak_memory_bytes: 0,
            cpu_integral: 0,
            memory_integral: 0,
            last_change: SimTime::ZERO,
            waiting: VmTable::default(),
            newest_waiting: None,
            // Explicit bounds: an auto-resizing histogram would make
            // `saturating_record` clamp to its small initial range.
            placement_latency: RunLengthHistogram::new(
                Histogram::new_with_bounds(1, 1 << 52, 3).expect("valid histogram bounds"),
            ),
            detail: None,
            refused: BTreeMap::new(),
            restarted: 0,
            recovery: Histogram::new_with_bounds(1, 1 << 52, 3).expect("valid histogram bounds"),
            migrated: 0,
            faults: BTreeMap::new(),
            supervisor: Default::default(),
            unexpected: BTreeMap::new(),
        }
    }
}

impl Stats {
    /// `vm` was requested `at` (a repeated request restarts its wait).
    fn start_waiting(&mut self, vm: VmId, at: SimTime) {
        if !self.waiting.is_empty() {
            self.waiting.remove(vm);
        }
        if let Some((older, since)) = self.newest_waiting.replace((vm, at))
            && older != vm
        {
            self.waiting.insert(older, since);
        }
    }

    /// Forgets `vm`'s request; when it was waiting, since when.
    #[inline]
    fn stop_waiting(&mut self, vm: VmId) -> Option<SimTime> {
        match self.newest_waiting {
            Some((newest, since)) if newest == vm => {
                self.newest_waiting = None;
                Some(since)
            }
            _ if self.waiting.is_empty() => None,
            _ => self.waiting.remove(vm),
        }
    }

    /// Request → first power-on of every placed VM, in nanoseconds.
    pub fn placement_latency(&mut self) -> &Histogram<u64> {
        self.placement_latency.histogram()
    }

    /// Accounts for the allocation held since the last change, up to `now`.
    fn advance(&mut self, now: SimTime) {
        let dt = now.since(self.last_change).0 as u128;
        self.cpu_integral += self.allocated.cpu_millis as u128 * dt;
        self.memory_integral += self.allocated.memory_bytes as u128 * dt;
        self.last_change = now;
    }

    /// Time-weighted mean allocation over [0, end]: (cpu millicores, bytes).
    pub fn mean_allocated(&mut self, end: SimTime) -> (f64, f64) {
        self.advance(end);
        if end.0 == 0 {
            return (
                self.allocated.cpu_millis as f64,
                self.allocated.memory_bytes as f64,
            );
        }
        (
            self.cpu_integral as f64 / end.0 as f64,
            self.memory_integral as f64 / end.0 as f64,
        )
    }
}

impl NoteSink for Stats {
    /// The four notes of every VM's life are folded here, inline in the
    /// simulation's loop; the rest out of line.
    #[inline]
    fn note(&mut self, at: SimTime, note: Note) {
        if let Some(d) = &mut self.detail {
            d.note(at, &note);
        }
        match note {
            Note::VmRequested { vm, .. } => {
                self.requested += 1;
                self.start_waiting(vm, at);
            }
            Note::VmStarted { vm, size, .. } => {
                self.advance(at);
                self.allocated += size;
                self.peak_cpu_millis = self.peak_cpu_millis.max(self.allocated.cpu_millis);
                self.peak_memory_bytes = self.peak_memory_bytes.max(self.allocated.memory_bytes);
                self.running_vms += 1;
                if vm.0 >= crate::model::SPARSE_BASE {
                    // A Supervisor workload: counted by the Supervisor's
                    // summary, not as a plain VM placement.
                    return;
                }
                match self.stop_waiting(vm) {
                    Some(requested_at) => {
                        self.placed += 1;
                        self.placement_latency.record(at.since(requested_at).0);
                    }
                    None => self.replaced += 1,
                }
            }
            Note::VmStopped { size, .. } => {
                self.advance(at);
                self.allocated -= size;
                self.running_vms -= 1;
            }
            Note::VmDeleted { vm } if vm.0 >= crate::model::SPARSE_BASE => {}
            // A VM is deleted only once placed; when its power-on is still
            // on its way, the host starts it all the same, and that start
            // counts it as placed: its request time stays until then.
            Note::VmDeleted { .. } => self.deleted += 1,
            rare => self.note_rare(at, rare),
        }
    }
}

impl Stats {
    /// Every note but the four of a VM's life ([`NoteSink::note`]).
    #[inline(never)]
    fn note_rare(&mut self, at: SimTime, note: Note) {
        match note {
            Note::VmRequested { .. }
            | Note::VmStarted { .. }
            | Note::VmStopped { .. }
            | Note::VmDeleted { .. } => unreachable!("folded by `note`"),
            Note::VmRejected { vm } => {
                self.rejected += 1;
                self.stop_waiting(vm);
            }
            Note::VmLost { vm } => {
                self.lost += 1;
                self.stop_waiting(vm);
            }
            Note::HostFailed { running, vms, .. } => {
                self.advance(at);
                self.host_failures += 1;
                *self.faults.entry("crash").or_default() += 1;
                self.allocated -= running;
                self.running_vms -= vms as u64;
            }
            Note::HostRepaired { .. } => self.host_repairs += 1,
            Note::VmRefused { vm, reason } => {
                self.rejected += 1;
                *self.refused.entry(reason).or_default() += 1;
                self.stop_waiting(vm);
            }
            Note::VmRestarted { after, .. } => {
                self.restarted += 1;
                self.recovery.saturating_record(after.0.max(1));
            }
            Note::HostIsolated { .. } => *self.faults.entry("partition").or_default() += 1,
            Note::MaintenanceBegan { .. } => *self.faults.entry("maintenance").or_default() += 1,
            Note::VmMigrated { .. } => self.migrated += 1,
            Note::Sup(n) => {
                if let crate::api::SupNote::Fault { kind } = &n {
                    *self.faults.entry(kind).or_default() += 1;
                }
                self.supervisor.note(at, n)
            }
            Note::Unexpected { actor, kind } => {
                *self.unexpected.entry((actor, kind)).or_default() += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HostId, Resources};

    /// A VM deleted while its power-on is on its way is still started by
    /// its host, and counted as placed (not as a re-placement), so that
    /// placed = deleted + lost + alive at the end.
    #[test]
    fn a_vm_deleted_before_its_power_on_lands_counts_as_placed() {
        let (vm, size) = (VmId(7), Resources::new(1000, 1 << 30, 0));
        let mut s = Stats::default();
        s.note(SimTime(0), Note::VmRequested { vm, size });
        s.note(SimTime(10), Note::VmDeleted { vm });
        let host = HostId(0);
        s.note(SimTime(20), Note::VmStarted { vm, host, size });
        s.note(SimTime(20), Note::VmStopped { vm, host, size });
        assert_eq!((s.placed, s.replaced, s.deleted), (1, 0, 1));
        assert_eq!(s.placement_latency().len(), 1);
    }
}
