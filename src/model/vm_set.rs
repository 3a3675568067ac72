//! The VMs on one host, as a sorted vector: [`VmMap`] (id → value) and
//! [`VmSet`] (ids only).
//!
//! A host runs a few dozen VMs at most, so a sorted `Vec` beats a B-tree:
//! one allocation per host instead of one per node, lookups that binary
//! search a contiguous slice (one or two cache lines), and inserts that are
//! appends in the common case (VM ids are handed out in increasing order).
//! With 10,000 hosts the B-tree nodes were scattered over the heap and every
//! power-on/off paid cache misses for them. Iteration is in id order, as a
//! `BTreeMap`'s was, so nothing that depends on the order changes.

use super::VmId;

#[derive(Clone, Debug)]
pub struct VmMap<V> {
    /// Sorted by id, ids unique.
    entries: Vec<(VmId, V)>,
}

impl<V> Default for VmMap<V> {
    fn default() -> Self {
        VmMap {
            entries: Vec::new(),
        }
    }
}

impl<V> VmMap<V> {
    fn find(&self, vm: VmId) -> Result<usize, usize> {
        // Fast path: a new VM (the largest id so far) goes at the end.
        match self.entries.last() {
            Some((last, _)) if *last < vm => Err(self.entries.len()),
            None => Err(0),
            _ => self.entries.binary_search_by_key(&vm, |(id, _)| *id),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn contains_key(&self, vm: VmId) -> bool {
        self.find(vm).is_ok()
    }

    /// Inserts `vm` unless present; true when it was inserted.
    pub fn insert_new(&mut self, vm: VmId, value: V) -> bool {
        match self.find(vm) {
            Ok(_) => false,
            Err(i) => {
                self.entries.insert(i, (vm, value));
                true
            }
        }
    }

    pub fn remove(&mut self, vm: VmId) -> Option<V> {
        let i = self.find(vm).ok()?;
        Some(self.entries.remove(i).1)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Entries in id order.
    pub fn iter(&self) -> impl Iterator<Item = (VmId, &V)> + '_ {
        self.entries.iter().map(|(vm, v)| (*vm, v))
    }

    /// Ids in increasing order.
    pub fn keys(&self) -> impl Iterator<Item = VmId> + '_ {
        self.entries.iter().map(|(vm, _)| *vm)
    }
}

/// A set of VM ids in increasing order, with the `BTreeSet` calls that
/// placement's host views use.
#[derive(Clone, Debug, Default)]
pub struct VmSet {
    map: VmMap<()>,
}

impl VmSet {
    pub fn new() -> Self {
        VmSet::default()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn contains(&self, vm: &VmId) -> bool {
        self.map.contains_key(*vm)
    }

    /// True when `vm` was not in the set.
    pub fn insert(&mut self, vm: VmId) -> bool {
        self.map.insert_new(vm, ())
    }

    /// True when `vm` was in the set.
    pub fn remove(&mut self, vm: &VmId) -> bool {
        self.map.remove(*vm).is_some()
    }

    /// Ids in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = &VmId> + '_ {
        self.map.entries.iter().map(|(vm, _)| vm)
    }
}

impl IntoIterator for VmSet {
    type Item = VmId;
    type IntoIter = std::iter::Map<std::vec::IntoIter<(VmId, ())>, fn((VmId, ())) -> VmId>;

    /// Ids in increasing order.
    fn into_iter(self) -> Self::IntoIter {
        self.map.entries.into_iter().map(|(vm, ())| vm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_like_a_btreemap_under_random_operations() {
        let mut map = VmMap::default();
        let mut model = BTreeMap::new();
        let mut rng = crate::random::StreamRng::derive(3, "vm_set");
        for step in 0..20_000u64 {
            let vm = VmId(rng.below(60));
            match rng.below(3) {
                0 => {
                    let fresh = !model.contains_key(&vm);
                    model.entry(vm).or_insert(step);
                    assert_eq!(map.insert_new(vm, step), fresh);
                }
                1 => assert_eq!(map.remove(vm), model.remove(&vm)),
                _ => assert_eq!(map.contains_key(vm), model.contains_key(&vm)),
            }
            assert_eq!(map.len(), model.len());
        }
        let got: Vec<_> = map.iter().map(|(k, v)| (k, *v)).collect();
        let want: Vec<_> = model.into_iter().collect();
        assert_eq!(got, want);
    }

    #[test]
    fn set_iterates_in_id_order() {
        let mut set = VmSet::new();
        for id in [5, 1, 9, 3, 7, 3] {
            set.insert(VmId(id));
        }
        assert!(set.remove(&VmId(9)));
        assert!(!set.remove(&VmId(9)));
        let ids: Vec<u64> = set.into_iter().map(|v| v.0).collect();
        assert_eq!(ids, vec![1, 3, 5, 7]);
    }
}
