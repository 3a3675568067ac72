//! A map from [`VmId`] to per-VM state, for ids handed out densely in
//! increasing order. Two levels: a sliding window over ids holding a 4-byte
//! slot number each (the window spans from the oldest live VM to the newest),
//! and a slab of the live entries whose freed slots are reused. Removal
//! touches only the removed entry (no swap that would move another one).
//! Lookups are O(1) and touch little memory: the window stays small enough
//! for the cache even when long-lived VMs stretch it, and the slab holds only
//! live VMs. Iteration, where needed, is in id order.
//!
//! An open-addressing table (one probe instead of two levels) was measured
//! and lost: hashing scatters the newest ids, so inserts and the duplicate
//! check on every request miss the cache where the window's tail and the
//! slab's last freed slot are warm (churn-large +11 % wall time).
//!
//! Ids from [`SPARSE_BASE`] up (the Supervisor's pods and VMs, numbered by
//! their own counter) live in an ordered map beside the window, so two id
//! ranges never stretch one window across the gap between them.

use super::VmId;
use std::collections::BTreeMap;

/// The first id kept in the sparse side rather than the window.
pub const SPARSE_BASE: u64 = 1 << 48;

const EMPTY: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub struct VmTable<T> {
    /// Id of `window[head]`.
    base: u64,
    /// Slot in `slab` per id from `head` on, or EMPTY. A `Vec` whose front
    /// is dropped by moving `head` (compacted now and then): indexing it is
    /// cheaper than a ring buffer's wrap-around.
    window: Vec<u32>,
    head: usize,
    slab: Vec<Option<(VmId, T)>>,
    free: Vec<u32>,
    len: usize,
    sparse: BTreeMap<VmId, T>,
}

impl<T> Default for VmTable<T> {
    fn default() -> Self {
        VmTable {
            base: 0,
            window: Vec::new(),
            head: 0,
            slab: Vec::new(),
            free: Vec::new(),
            len: 0,
            sparse: BTreeMap::new(),
        }
    }
}

impl<T> VmTable<T> {
    pub fn len(&self) -> usize {
        self.len + self.sparse.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn slot(&self, vm: VmId) -> Option<usize> {
        let i = vm.0.checked_sub(self.base)? as usize;
        match self.window.get(self.head.wrapping_add(i)) {
            Some(&s) if s != EMPTY => Some(s as usize),
            _ => None,
        }
    }

    pub fn get(&self, vm: VmId) -> Option<&T> {
        if vm.0 >= SPARSE_BASE {
            return self.sparse.get(&vm);
        }
        self.slot(vm)
            .and_then(|s| self.slab[s].as_ref())
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, vm: VmId) -> Option<&mut T> {
        if vm.0 >= SPARSE_BASE {
            return self.sparse.get_mut(&vm);
        }
        self.slot(vm)
            .and_then(|s| self.slab[s].as_mut())
            .map(|(_, v)| v)
    }

    /// Starts loading the window slot of `vm`: the first of the two lines a
    /// lookup touches, whose address needs no other load.
    pub fn prefetch_slot(&self, vm: VmId) {
        if let Some(i) = vm.0.checked_sub(self.base)
            && let Some(slot) = self.window.get(self.head.wrapping_add(i as usize))
        {
            crate::hint::prefetch(slot);
        }
    }

    /// Starts loading the entry of `vm`: the second step of a lookup (both
    /// lines, where the entry straddles two). Reads the window slot, so call
    /// it once [`Self::prefetch_slot`] has had time.
    pub fn prefetch_entry(&self, vm: VmId) {
        if vm.0 < SPARSE_BASE
            && let Some(s) = self.slot(vm)
        {
            crate::hint::prefetch_all(&self.slab[s]);
        }
    }

    /// Inserts or replaces. Ids below the window's start (already removed
    /// and compacted away) are placed by growing the window downwards.
    pub fn insert(&mut self, vm: VmId, value: T) -> Option<T> {
        if vm.0 >= SPARSE_BASE {
            return self.sparse.insert(vm, value);
        }
        if let Some(s) = self.slot(vm) {
            let entry = self.slab[s].as_mut().expect("window points at a live slot");
            return Some(std::mem::replace(&mut entry.1, value));
        }
        if self.head == self.window.len() {
            self.window.clear();
            self.head = 0;
            self.base = vm.0;
        }
        if vm.0 < self.base {
            self.grow_front(self.base - vm.0);
        }
        let i = self.head + (vm.0 - self.base) as usize;
        if i == self.window.len() {
            // The common case: the next new id.
            self.window.push(EMPTY);
        } else if i > self.window.len() {
            self.window.resize(i + 1, EMPTY);
        }
        let slot = match self.free.pop() {
            Some(f) => {
                self.slab[f as usize] = Some((vm, value));
                f
            }
            None => {
                self.slab.push(Some((vm, value)));
                (self.slab.len() - 1) as u32
            }
        };
        self.window[i] = slot;
        self.len += 1;
        None
    }

    /// Makes room for `n` ids before `base` (an id below every live one was
    /// inserted again, e.g. a VM re-placed after a host failure).
    fn grow_front(&mut self, n: u64) {
        let n = n as usize;
        if self.head < n {
            let extra = n - self.head + self.window.len() / 2;
            self.window.splice(0..0, std::iter::repeat_n(EMPTY, extra));
            self.head += extra;
        }
        self.head -= n;
        self.base -= n as u64;
    }

    pub fn remove(&mut self, vm: VmId) -> Option<T> {
        if vm.0 >= SPARSE_BASE {
            return self.sparse.remove(&vm);
        }
        let s = self.slot(vm)?;
        self.window[self.head + (vm.0 - self.base) as usize] = EMPTY;
        let (_, value) = self.slab[s].take().expect("window points at a live slot");
        self.free.push(s as u32);
        self.len -= 1;
        while self.window.get(self.head) == Some(&EMPTY) {
            self.head += 1;
            self.base += 1;
        }
        // The tail is kept even when it is empty: ids only grow, so the
        // next insert would fill it in again, and with a long-lived entry
        // at the front and the newest ones short-lived (requests refused
        // at once) that popped and refilled the whole gap every time.
        // Drop the dead front once it is most of the vector (amortised O(1)).
        if self.head >= 1024 && self.head * 2 >= self.window.len() {
            self.window.drain(..self.head);
            self.head = 0;
        }
        Some(value)
    }

    /// Live entries in id order.
    pub fn iter(&self) -> impl Iterator<Item = (VmId, &T)> {
        let dense = self.window[self.head..]
            .iter()
            .filter(|&&s| s != EMPTY)
            .map(|&s| {
                let (vm, value) = self.slab[s as usize]
                    .as_ref()
                    .expect("window points at a live slot");
                (*vm, value)
            });
        dense.chain(self.sparse.iter().map(|(vm, v)| (*vm, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A long-lived entry at the front and short-lived ones far behind it:
    /// the window grows once to the newest id and is not cut back and
    /// filled in again at every insert (that made each insert cost the
    /// whole gap: a fuzz case with 600,000 refused requests per second
    /// spent minutes on 2^20 events).
    #[test]
    fn short_lived_entries_far_from_a_pinned_one_do_not_refill_the_window() {
        let mut t = VmTable::default();
        t.insert(VmId(0), 0u8);
        t.insert(VmId(10_000), 1);
        let grown = t.window.len();
        assert_eq!(t.remove(VmId(10_000)), Some(1));
        assert_eq!(t.window.len(), grown, "the tail is kept");
        t.insert(VmId(10_001), 2);
        assert_eq!(t.window.len(), grown + 1, "one more id, one more slot");
        assert_eq!(t.get(VmId(10_001)), Some(&2));
        assert_eq!(t.get(VmId(10_000)), None);
        assert_eq!(t.remove(VmId(0)), Some(0));
        assert_eq!(t.remove(VmId(10_001)), Some(2));
        assert!(t.is_empty());
        t.insert(VmId(7), 3);
        assert_eq!((t.get(VmId(7)), t.len()), (Some(&3), 1));
    }

    #[test]
    fn behaves_like_a_btreemap_under_random_operations() {
        let mut table = VmTable::default();
        let mut model = BTreeMap::new();
        let mut rng = crate::random::StreamRng::derive(9, "vm_table");
        for step in 0..20_000u64 {
            // Both sides: dense ids and a few from the sparse range.
            let raw = rng.below(500);
            let vm = VmId(if raw >= 450 { SPARSE_BASE + raw } else { raw });
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
        assert!(table.window.len() - table.head <= 11);
        assert!(table.window.len() <= 2048 + 11);
    }

    /// Prefetch hints take any id, live or not, in the window or not.
    #[test]
    fn prefetch_hints_accept_any_id() {
        let mut table = VmTable::default();
        for i in 10..20u64 {
            table.insert(VmId(i), i);
        }
        table.remove(VmId(10));
        for vm in [0, 10, 11, 15, 19, 20, 1_000_000, SPARSE_BASE + 3, u64::MAX] {
            table.prefetch_slot(VmId(vm));
            table.prefetch_entry(VmId(vm));
        }
        assert_eq!(table.len(), 9);
    }
}
