//! Best-fit: the host left with the fewest free cores after placement, ties
//! by host id. An ordered set keyed by (free cores, host id) finds the
//! tightest host with enough cpu in O(log H); hosts short of memory or GPUs
//! are stepped over.

use crate::model::{HostId, Resources};
use std::collections::BTreeSet;

pub struct BestFit {
    capacities: Vec<Resources>,
    free: Vec<Option<Resources>>,
    by_free_cpu: BTreeSet<(u64, u32)>,
}

impl BestFit {
    pub fn new(capacities: &[Resources]) -> Self {
        let by_free_cpu = capacities
            .iter()
            .enumerate()
            .map(|(h, c)| (c.cpu_millis, h as u32))
            .collect();
        BestFit {
            capacities: capacities.to_vec(),
            free: capacities.iter().copied().map(Some).collect(),
            by_free_cpu,
        }
    }

    pub fn update(&mut self, host: HostId, used: Resources, eligible: bool) {
        let h = host.0 as usize;
        if let Some(old) = self.free[h].take() {
            self.by_free_cpu.remove(&(old.cpu_millis, host.0));
        }
        if eligible {
            let free = self.capacities[h].saturating_sub(&used);
            self.by_free_cpu.insert((free.cpu_millis, host.0));
            self.free[h] = Some(free);
        }
    }

    pub fn select(&self, request: &Resources) -> Option<HostId> {
        self.by_free_cpu
            .range((request.cpu_millis, 0)..)
            .map(|&(_, h)| h)
            .find(|&h| self.free[h as usize].is_some_and(|f| request.fits_in(&f)))
            .map(HostId)
    }
}
