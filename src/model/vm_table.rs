//! A map from [`VmId`] to per-VM state, for ids handed out densely in
//! increasing order. Two levels: a sliding window over ids holding a 4-byte
//! slot number each (the window spans from the oldest live VM to the newest),
//! and a dense slab of the live entries. Lookups are O(1) and touch little
//! memory: the window stays small enough for the cache even when long-lived
//! VMs stretch it, and the slab holds only live VMs. Iteration, where
//! needed, is in id order.

use super::VmId;
use std::collections::VecDeque;

const EMPTY: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub struct VmTable<T> {
    /// Id of `window[0]`.
    base: u64,
    /// Slot in `slab` per id, or EMPTY.
    window: VecDeque<u32>,
    slab: Vec<(VmId, T)>,
}

impl<T> Default for VmTable<T> {
    fn default() -> Self {
        VmTable {
            base: 0,
            window: VecDeque::new(),
            slab: Vec::new(),
        }
    }
}

impl<T> VmTable<T> {
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    fn slot(&self, vm: VmId) -> Option<usize> {
        let i = vm.0.checked_sub(self.base)?;
        match self.window.get(i as usize) {
            Some(&s) if s != EMPTY => Some(s as usize),
            _ => None,
        }
    }

    pub fn get(&self, vm: VmId) -> Option<&T> {
        self.slot(vm).map(|s| &self.slab[s].1)
    }

    pub fn get_mut(&mut self, vm: VmId) -> Option<&mut T> {
        self.slot(vm).map(|s| &mut self.slab[s].1)
    }

    /// Inserts or replaces. Ids below the window's start (already removed
    /// and compacted away) are placed by growing the window downwards.
    pub fn insert(&mut self, vm: VmId, value: T) -> Option<T> {
        if let Some(s) = self.slot(vm) {
            return Some(std::mem::replace(&mut self.slab[s].1, value));
        }
        if self.window.is_empty() {
            self.base = vm.0;
        }
        while vm.0 < self.base {
            self.window.push_front(EMPTY);
            self.base -= 1;
        }
        let i = (vm.0 - self.base) as usize;
        if i >= self.window.len() {
            self.window.resize(i + 1, EMPTY);
        }
        self.window[i] = self.slab.len() as u32;
        self.slab.push((vm, value));
        None
    }

    pub fn remove(&mut self, vm: VmId) -> Option<T> {
        let s = self.slot(vm)?;
        self.window[(vm.0 - self.base) as usize] = EMPTY;
        let (_, value) = self.slab.swap_remove(s);
        if let Some(&(moved, _)) = self.slab.get(s) {
            self.window[(moved.0 - self.base) as usize] = s as u32;
        }
        while self.window.front() == Some(&EMPTY) {
            self.window.pop_front();
            self.base += 1;
        }
        while self.window.back() == Some(&EMPTY) {
            self.window.pop_back();
        }
        Some(value)
    }

    /// Live entries in id order.
    pub fn iter(&self) -> impl Iterator<Item = (VmId, &T)> {
        self.window.iter().filter(|&&s| s != EMPTY).map(|&s| {
            let (vm, value) = &self.slab[s as usize];
            (*vm, value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_like_a_btreemap_under_random_operations() {
        let mut table = VmTable::default();
        let mut model = BTreeMap::new();
        let mut rng = crate::random::StreamRng::derive(9, "vm_table");
        for step in 0..20_000u64 {
            let vm = VmId(rng.below(500));
            if rng.chance(1, 2) {
                assert_eq!(table.insert(vm, step), model.insert(vm, step));
            } else {
                assert_eq!(table.remove(vm), model.remove(&vm));
            }
            assert_eq!(table.len(), model.len());
        }
        let got: Vec<_> = table.iter().map(|(k, v)| (k, *v)).collect();
        let want: Vec<_> = model.into_iter().collect();
        assert_eq!(got, want);
    }

    #[test]
    fn memory_follows_the_live_window_not_the_history() {
        let mut table = VmTable::default();
        for i in 0..100_000u64 {
            table.insert(VmId(i), i);
            if i >= 10 {
                table.remove(VmId(i - 10));
            }
        }
        assert_eq!(table.len(), 10);
        assert!(table.window.len() <= 11);
    }
}
