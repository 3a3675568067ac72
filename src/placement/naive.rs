//! The placement policies as plain scans over every host: slow, obviously
//! right, and the reference the indexes are tested against.

use super::PlacementPolicy;
use super::balanced_score;
use crate::model::{HostId, Resources};

pub fn select(
    policy: PlacementPolicy,
    capacities: &[Resources],
    used: &[Resources],
    eligible: &[bool],
    request: &Resources,
) -> Option<HostId> {
    let fits = |h: usize| {
        eligible[h]
            && used[h]
                .checked_add(request)
                .is_some_and(|after| after.fits_in(&capacities[h]))
    };
    let candidates = (0..capacities.len())
        .filter(|&h| fits(h))
        .map(|h| (HostId(h as u32), capacities[h], used[h]));
    choose(policy, candidates, request)
}

/// The policy's pick among hosts known to fit `request`, given as (host,
/// capacity, used) in host id order: the one rule every index follows.
pub fn choose(
    policy: PlacementPolicy,
    mut candidates: impl Iterator<Item = (HostId, Resources, Resources)>,
    request: &Resources,
) -> Option<HostId> {
    let chosen = match policy {
        PlacementPolicy::FirstFit => candidates.next(),
        PlacementPolicy::BestFit => candidates.min_by_key(|(h, cap, used)| {
            (cap.cpu_millis - used.cpu_millis - request.cpu_millis, *h)
        }),
        PlacementPolicy::Drs => {
            candidates.min_by_key(|(h, cap, used)| (balanced_score(cap, &(*used + *request)), *h))
        }
    };
    chosen.map(|(h, _, _)| h)
}
