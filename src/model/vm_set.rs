//! The VMs on one host: [`VmSizes`] (a host's running VMs and their sizes)
//! and [`VmSet`] (placement's ids per host, in id order).
//!
//! A host runs a few dozen VMs at most, so flat vectors beat B-trees: one
//! allocation per host instead of one per node, and lookups that scan or
//! binary search a contiguous slice of ids (one or two cache lines). With
//! 10,000 hosts the B-tree nodes were scattered over the heap and every
//! power-on/off paid cache misses for them.

use super::{Resources, VmId};
use smallvec::SmallVec;

/// A host's running VMs with their sizes, unordered, in one vector of
/// (id, size): a power-off scans a few 32-byte entries, which the simulator
/// warms ahead of a deletion's power-off (see `Placement::prefetch`). A
/// removal swaps the last entry into the hole. Anything that iterates gets
/// them sorted by id ([`VmSizes::sorted`]), as from the `BTreeMap` this
/// replaced, so the order of effects never changed.
///
/// On the heap, not inline: first-fit packs low hosts with dozens of small
/// VMs, so most removals in churn-xl found an inline vector of a dozen
/// spilled anyway, and the inline space made every host 3.5 times larger.
#[derive(Clone, Debug, Default)]
pub struct VmSizes {
    vms: Vec<(VmId, Resources)>,
    /// The largest id ever inserted: a larger one is new without a scan, and
    /// ids are handed out in increasing order, so nearly every power-on is
    /// one (the scan read every entry of a cold block in churn-xl).
    newest: Option<VmId>,
}

impl VmSizes {
    fn position(&self, vm: VmId) -> Option<usize> {
        self.vms.iter().position(|&(v, _)| v == vm)
    }

    pub fn len(&self) -> usize {
        self.vms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vms.is_empty()
    }

    pub fn contains(&self, vm: VmId) -> bool {
        self.position(vm).is_some()
    }

    /// Inserts `vm` unless present; true when it was inserted.
    pub fn insert_new(&mut self, vm: VmId, size: Resources) -> bool {
        if self.newest.is_some_and(|newest| vm <= newest) && self.contains(vm) {
            return false;
        }
        self.newest = self.newest.max(Some(vm));
        self.vms.push((vm, size));
        true
    }

    pub fn remove(&mut self, vm: VmId) -> Option<Resources> {
        let i = self.position(vm)?;
        Some(self.vms.swap_remove(i).1)
    }

    /// Starts loading the entries.
    pub fn prefetch_heap(&self) {
        crate::hint::prefetch_lines(&self.vms, HEAP_PREFETCH_LINES);
    }

    pub fn clear(&mut self) {
        self.vms.clear();
    }

    /// The ids in storage order: deterministic, but no order to rely on.
    pub fn ids_unsorted(&self) -> impl Iterator<Item = VmId> + '_ {
        self.vms.iter().map(|&(vm, _)| vm)
    }

    /// Every VM with its size, in id order (ids are unique, so the order
    /// is fully determined).
    pub fn sorted(&self) -> Vec<(VmId, Resources)> {
        let mut all = self.vms.to_vec();
        all.sort_unstable_by_key(|&(vm, _)| vm);
        all
    }
}

/// A set of VM ids kept sorted in a small vector, with the `BTreeSet`
/// calls that placement's host views use. Iteration is in id order (the order VMs are
/// re-placed in when their host fails). New VMs have the largest id so far,
/// so an insert is usually an append.
#[derive(Clone, Debug, Default)]
pub struct VmSet {
    ids: SmallVec<[VmId; INLINE_VMS]>,
}

/// Ids kept inside a [`VmSet`] itself: a host with fewer VMs (a full 64-core
/// host in the churn benchmarks runs about 10 of average size) has them in
/// the cache lines of placement's view that a placement reads anyway.
const INLINE_VMS: usize = 12;

/// Lines of a heap block a prefetch asks for: 16 cover 32 sizes or 128 ids,
/// and the hardware prefetcher follows a longer scan once it has started.
const HEAP_PREFETCH_LINES: usize = 16;

impl VmSet {
    pub fn new() -> Self {
        VmSet::default()
    }

    fn find(&self, vm: VmId) -> Result<usize, usize> {
        match self.ids.last() {
            Some(last) if *last < vm => Err(self.ids.len()),
            None => Err(0),
            _ => self.ids.binary_search(&vm),
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn contains(&self, vm: &VmId) -> bool {
        self.find(*vm).is_ok()
    }

    /// True when `vm` was not in the set.
    pub fn insert(&mut self, vm: VmId) -> bool {
        match self.find(vm) {
            Ok(_) => false,
            Err(i) => {
                self.ids.insert(i, vm);
                true
            }
        }
    }

    /// True when `vm` was in the set.
    pub fn remove(&mut self, vm: &VmId) -> bool {
        match self.find(*vm) {
            Ok(i) => {
                self.ids.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// Starts loading the ids when they have left the inline space for a
    /// heap block (over half of all removals in churn-xl, whose first-fit
    /// packs low hosts with dozens of small VMs).
    pub fn prefetch_heap(&self) {
        if self.ids.spilled() {
            crate::hint::prefetch_lines(&self.ids, HEAP_PREFETCH_LINES);
        }
    }

    /// Ids in increasing order.
    pub fn iter(&self) -> std::slice::Iter<'_, VmId> {
        self.ids.iter()
    }
}

impl IntoIterator for VmSet {
    type Item = VmId;
    type IntoIter = smallvec::IntoIter<[VmId; INLINE_VMS]>;

    /// Ids in increasing order.
    fn into_iter(self) -> Self::IntoIter {
        self.ids.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn sizes_behave_like_a_btreemap_under_random_operations() {
        let mut map = VmSizes::default();
        let mut model = BTreeMap::new();
        let mut rng = crate::random::StreamRng::derive(3, "vm_set");
        for step in 0..20_000u64 {
            let vm = VmId(rng.below(60));
            let size = Resources::new(step, 2 * step, 0);
            match rng.below(3) {
                0 => {
                    let fresh = !model.contains_key(&vm);
                    model.entry(vm).or_insert(size);
                    assert_eq!(map.insert_new(vm, size), fresh);
                }
                1 => assert_eq!(map.remove(vm), model.remove(&vm)),
                _ => assert_eq!(map.contains(vm), model.contains_key(&vm)),
            }
            assert_eq!(map.len(), model.len());
        }
        let want: Vec<_> = model.into_iter().collect();
        assert_eq!(map.sorted(), want);
    }

    #[test]
    fn set_behaves_like_a_btreeset_under_random_operations() {
        let mut set = VmSet::new();
        let mut model = BTreeSet::new();
        let mut rng = crate::random::StreamRng::derive(4, "vm_set");
        for _ in 0..20_000u64 {
            let vm = VmId(rng.below(60));
            match rng.below(3) {
                0 => assert_eq!(set.insert(vm), model.insert(vm)),
                1 => assert_eq!(set.remove(&vm), model.remove(&vm)),
                _ => assert_eq!(set.contains(&vm), model.contains(&vm)),
            }
            assert_eq!(set.len(), model.len());
        }
        assert!(set.iter().copied().eq(model.iter().copied()));
        assert!(set.into_iter().eq(model));
    }
}
