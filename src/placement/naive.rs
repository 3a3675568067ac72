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
    let candidates = (0..capacities.len()).filter(|&h| fits(h));
    let chosen = match policy {
        PlacementPolicy::FirstFit => candidates.min(),
        PlacementPolicy::BestFit => candidates.min_by_key(|&h| {
            (
                capacities[h].cpu_millis - used[h].cpu_millis - request.cpu_millis,
                h,
            )
        }),
        PlacementPolicy::Drs => {
            candidates.min_by_key(|&h| (balanced_score(&capacities[h], &(used[h] + *request)), h))
        }
    };
    chosen.map(|h| HostId(h as u32))
}
