//! A map from [`VmId`] to per-VM state, for ids handed out densely in
//! increasing order. A sliding window over a `VecDeque`: O(1) lookups, and
//! memory proportional to the span between the oldest live VM and the newest,
//! not to every VM ever created. Iteration, where needed, is in id order.

use super::VmId;
use std::collections::VecDeque;

#[derive(Clone, Debug)]
pub struct VmTable<T> {
    /// Id of `slots[0]`.
    base: u64,
    slots: VecDeque<Option<T>>,
    len: usize,
}

impl<T> Default for VmTable<T> {
    fn default() -> Self {
        VmTable {
            base: 0,
            slots: VecDeque::new(),
            len: 0,
        }
    }
}

impl<T> VmTable<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, vm: VmId) -> Option<&T> {
        let i = vm.0.checked_sub(self.base)?;
        self.slots.get(i as usize)?.as_ref()
    }

    pub fn get_mut(&mut self, vm: VmId) -> Option<&mut T> {
        let i = vm.0.checked_sub(self.base)?;
        self.slots.get_mut(i as usize)?.as_mut()
    }

    /// Inserts or replaces. Ids below the window's start (already removed
    /// and compacted away) are placed by growing the window downwards.
    pub fn insert(&mut self, vm: VmId, value: T) -> Option<T> {
        if self.slots.is_empty() {
            self.base = vm.0;
        }
        while vm.0 < self.base {
            self.slots.push_front(None);
            self.base -= 1;
        }
        let i = (vm.0 - self.base) as usize;
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        let old = self.slots[i].replace(value);
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    pub fn remove(&mut self, vm: VmId) -> Option<T> {
        let i = vm.0.checked_sub(self.base)? as usize;
        let old = self.slots.get_mut(i)?.take();
        if old.is_some() {
            self.len -= 1;
            while matches!(self.slots.front(), Some(None)) {
                self.slots.pop_front();
                self.base += 1;
            }
            while matches!(self.slots.back(), Some(None)) {
                self.slots.pop_back();
            }
        }
        old
    }

    /// Live entries in id order.
    pub fn iter(&self) -> impl Iterator<Item = (VmId, &T)> {
        let base = self.base;
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(i, s)| s.as_ref().map(|v| (VmId(base + i as u64), v)))
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
        assert!(table.slots.len() <= 11);
    }
}
