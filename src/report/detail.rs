//! An optional, richer fold over the same notes as `Stats`, used by capacity
//! planning: allocation sampled as a step function at fixed virtual
//! intervals (datacenter-wide and per cluster), per-host allocation (now and
//! at the cpu peak), and the smallest request seen. Off by default, so plain
//! runs pay nothing for it.

use crate::actor::Note;
use crate::model::{Resources, SimTime};
use serde::{Deserialize, Serialize};

/// The state at one sampling instant: everything noted at or before `at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub at_ns: u64,
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    /// Rejections so far (cumulative).
    pub rejected: u64,
    pub hosts_down: u64,
    /// Allocation on each cluster's hosts, indexed like the scenario's
    /// clusters; sums to `cpu_millis`/`memory_bytes`.
    pub clusters: Vec<Resources>,
}

#[derive(Clone, Debug)]
pub struct Detail {
    interval_ns: u64,
    next_index: u64,
    last_index: u64,
    allocated: Resources,
    rejected: u64,
    /// Allocation per host, indexed by `HostId`.
    pub hosts: Vec<Resources>,
    pub down: Vec<bool>,
    /// Component-wise minimum over every requested size (`None`: no request).
    pub min_request: Option<Resources>,
    /// First time the allocated cpu reached its maximum.
    pub peak_at: SimTime,
    peak_cpu_millis: u64,
    /// Per-host allocation at `peak_at`.
    pub peak_hosts: Vec<Resources>,
    pub samples: Vec<Sample>,
    /// The cluster of each host, indexed by `HostId`.
    cluster_of: Vec<usize>,
    clusters: usize,
}

impl Detail {
    /// Samples at `0, i, 2i, ... <= end` with `i = ceil(end / points)`, so
    /// there are at most `points + 1` samples. `cluster_of[h]` is the
    /// cluster (below `clusters`) of host `h`.
    pub fn new(end: SimTime, points: u64, cluster_of: Vec<usize>, clusters: usize) -> Detail {
        let hosts = cluster_of.len();
        debug_assert!(cluster_of.iter().all(|c| *c < clusters));
        let interval_ns = end.0.div_ceil(points.max(1)).max(1);
        Detail {
            interval_ns,
            next_index: 0,
            last_index: end.0 / interval_ns,
            allocated: Resources::ZERO,
            rejected: 0,
            hosts: vec![Resources::ZERO; hosts],
            down: vec![false; hosts],
            min_request: None,
            peak_at: SimTime::ZERO,
            peak_cpu_millis: 0,
            peak_hosts: vec![Resources::ZERO; hosts],
            samples: Vec::new(),
            cluster_of,
            clusters,
        }
    }

    /// The next sample's instant, when it is due by `at`.
    fn due(&self, at: SimTime, inclusive: bool) -> Option<u64> {
        let t = self.next_index * self.interval_ns;
        let due = self.next_index <= self.last_index && (t < at.0 || (t == at.0 && inclusive));
        due.then_some(t)
    }

    /// Allocation per cluster, summed from the per-host allocation (only at
    /// sampling instants, so the per-note path stays O(1)).
    fn cluster_load(&self) -> Vec<Resources> {
        let mut load = vec![Resources::ZERO; self.clusters];
        for (used, c) in self.hosts.iter().zip(&self.cluster_of) {
            load[*c] += *used;
        }
        load
    }

    /// Emits every sample strictly before `at` (or up to and including it
    /// when `inclusive`), with the current state.
    fn flush(&mut self, at: SimTime, inclusive: bool) {
        if self.due(at, inclusive).is_none() {
            return;
        }
        let hosts_down = self.down.iter().filter(|d| **d).count() as u64;
        let clusters = self.cluster_load();
        while let Some(t) = self.due(at, inclusive) {
            self.samples.push(Sample {
                at_ns: t,
                cpu_millis: self.allocated.cpu_millis,
                memory_bytes: self.allocated.memory_bytes,
                rejected: self.rejected,
                hosts_down,
                clusters: clusters.clone(),
            });
            self.next_index += 1;
        }
    }

    /// Emits the remaining samples, up to `end`.
    pub fn finish(&mut self, end: SimTime) {
        self.flush(end, true);
    }

    fn host(&mut self, i: usize) -> &mut Resources {
        if i >= self.hosts.len() {
            self.hosts.resize(i + 1, Resources::ZERO);
            self.down.resize(i + 1, false);
        }
        &mut self.hosts[i]
    }

    pub fn note(&mut self, at: SimTime, note: &Note) {
        self.flush(at, false);
        match *note {
            Note::VmRequested { size, .. } => {
                self.min_request = Some(match self.min_request {
                    None => size,
                    Some(m) => Resources::new(
                        m.cpu_millis.min(size.cpu_millis),
                        m.memory_bytes.min(size.memory_bytes),
                        m.gpu_millis.min(size.gpu_millis),
                    ),
                });
            }
            Note::VmStarted { host, size, .. } => {
                *self.host(host.0 as usize) += size;
                self.allocated += size;
                if self.allocated.cpu_millis > self.peak_cpu_millis {
                    self.peak_cpu_millis = self.allocated.cpu_millis;
                    self.peak_at = at;
                    self.peak_hosts.clone_from(&self.hosts);
                }
            }
            Note::VmStopped { host, size, .. } => {
                let h = self.host(host.0 as usize);
                *h = h.saturating_sub(&size);
                self.allocated = self.allocated.saturating_sub(&size);
            }
            Note::VmRejected { .. } => self.rejected += 1,
            Note::HostFailed { host, running, .. } => {
                *self.host(host.0 as usize) = Resources::ZERO;
                self.down[host.0 as usize] = true;
                self.allocated = self.allocated.saturating_sub(&running);
            }
            Note::HostRepaired { host } => {
                self.host(host.0 as usize);
                self.down[host.0 as usize] = false;
            }
            // An HA admission refusal is a rejection on the planner's timeline.
            Note::VmRefused { .. } => self.rejected += 1,
            // Allocation changes arrive as VmStopped/VmStarted/HostFailed.
            Note::VmLost { .. }
            | Note::VmDeleted { .. }
            | Note::VmRestarted { .. }
            | Note::HostIsolated { .. }
            | Note::MaintenanceBegan { .. }
            | Note::VmMigrated { .. }
            | Note::Sup(_)
            | Note::Unexpected { .. } => {}
        }
    }

    /// Stranded capacity at the end: the free capacity of up hosts that
    /// cannot fit even the smallest request of the run (the component-wise
    /// minimum over every requested size). Nothing is stranded when nothing
    /// was requested.
    pub fn stranded(&self, capacities: &[Resources]) -> Resources {
        let Some(min) = self.min_request else {
            return Resources::ZERO;
        };
        capacities
            .iter()
            .zip(&self.hosts)
            .zip(&self.down)
            .filter(|(_, down)| !**down)
            .map(|((cap, used), _)| cap.saturating_sub(used))
            .filter(|free| !min.fits_in(free))
            .fold(Resources::ZERO, |a, f| a + f)
    }

    /// The `k` hosts with the most cpu allocated at the peak (then memory,
    /// then lowest id), as indices.
    pub fn busiest_at_peak(&self, k: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.peak_hosts.len()).collect();
        order.sort_by(|a, b| {
            let (ra, rb) = (self.peak_hosts[*a], self.peak_hosts[*b]);
            (rb.cpu_millis, rb.memory_bytes, *a).cmp(&(ra.cpu_millis, ra.memory_bytes, *b))
        });
        order.truncate(k);
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HostId, VmId};

    fn start(host: u32, cores: u64) -> Note {
        Note::VmStarted {
            vm: VmId(0),
            host: HostId(host),
            size: Resources::cores(cores, 1),
        }
    }

    #[test]
    fn samples_are_a_step_function_at_fixed_intervals() {
        let mut d = Detail::new(SimTime(100), 4, vec![0, 0], 1);
        d.note(SimTime(0), &start(0, 2));
        d.note(SimTime(30), &start(1, 3));
        d.finish(SimTime(100));
        let cpu: Vec<u64> = d.samples.iter().map(|s| s.cpu_millis / 1000).collect();
        let at: Vec<u64> = d.samples.iter().map(|s| s.at_ns).collect();
        assert_eq!(at, vec![0, 25, 50, 75, 100]);
        assert_eq!(cpu, vec![2, 2, 5, 5, 5]);
    }

    #[test]
    fn cluster_samples_sum_the_allocation_of_their_hosts() {
        // Hosts 0 and 2 in cluster 0, host 1 in cluster 1, cluster 2 empty.
        let mut d = Detail::new(SimTime(30), 3, vec![0, 1, 0], 3);
        d.note(SimTime(0), &start(0, 2));
        d.note(SimTime(0), &start(2, 3));
        d.note(SimTime(0), &start(1, 4));
        d.note(
            SimTime(10),
            &Note::VmStopped {
                vm: VmId(0),
                host: HostId(2),
                size: Resources::cores(3, 1),
            },
        );
        d.note(
            SimTime(20),
            &Note::HostFailed {
                host: HostId(1),
                running: Resources::cores(4, 1),
                vms: 1,
            },
        );
        d.finish(SimTime(30));
        let cores: Vec<Vec<u64>> = d
            .samples
            .iter()
            .map(|s| s.clusters.iter().map(|c| c.cpu_millis / 1000).collect())
            .collect();
        assert_eq!(
            cores,
            vec![vec![5, 4, 0], vec![2, 4, 0], vec![2, 0, 0], vec![2, 0, 0]]
        );
        for s in &d.samples {
            let total = s.clusters.iter().fold(Resources::ZERO, |a, c| a + *c);
            assert_eq!(
                (total.cpu_millis, total.memory_bytes),
                (s.cpu_millis, s.memory_bytes)
            );
        }
    }

    #[test]
    fn the_busiest_hosts_at_the_peak_come_first_ties_by_id() {
        let mut d = Detail::new(SimTime(10), 10, vec![0; 3], 1);
        d.note(SimTime(1), &start(2, 4));
        d.note(SimTime(1), &start(0, 4));
        d.note(SimTime(1), &start(1, 2));
        assert_eq!(d.busiest_at_peak(2), vec![0, 2]);
    }

    #[test]
    fn free_capacity_too_small_for_the_smallest_request_is_stranded() {
        let mut d = Detail::new(SimTime(10), 10, vec![0, 0], 1);
        d.note(
            SimTime(0),
            &Note::VmRequested {
                vm: VmId(0),
                size: Resources::cores(4, 1),
            },
        );
        d.note(SimTime(0), &start(0, 6));
        let caps = [Resources::cores(8, 16), Resources::cores(8, 16)];
        assert_eq!(d.stranded(&caps), Resources::cores(2, 15));
    }
}
