//! A map that can be looked up but not iterated: hashed, so a lookup in a
//! large map costs one hash and a probe or two instead of a dozen string
//! comparisons down a B-tree, and deterministic by construction, since
//! nothing can observe the hash order. Its `Debug` lists the entries in
//! key order, so two maps with the same entries print the same (a crashed
//! part's rebuild is compared by its `Debug`).

use std::collections::HashMap;
use std::hash::Hash;

/// foldhash with a fixed seed: the same probes, and so the same speed, in
/// every run (the results never depend on it).
type Fixed = foldhash::fast::FixedState;

#[derive(Clone)]
pub struct Lookup<K, V> {
    map: HashMap<K, V, Fixed>,
}

impl<K, V> Default for Lookup<K, V> {
    fn default() -> Self {
        Lookup {
            map: HashMap::with_hasher(Fixed::default()),
        }
    }
}

impl<K: Hash + Eq, V> Lookup<K, V> {
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.map.contains_key(key)
    }

    /// The value `key` held before, if any.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.map.insert(key, value)
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key)
    }

    /// `key`'s value, made with `make` if absent.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        self.map.entry(key).or_insert_with(make)
    }

    /// Every entry, in key order: a sort, for rebuilds, not for each event.
    pub fn sorted(&self) -> Vec<(&K, &V)>
    where
        K: Ord,
    {
        let mut entries: Vec<(&K, &V)> = self.map.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        entries
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl<K: Hash + Ord + std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for Lookup<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.sorted()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_with_the_same_entries_print_the_same_whatever_their_history() {
        let mut a = Lookup::default();
        let mut b = Lookup::default();
        for k in 0..200u32 {
            a.insert(k, k * 2);
        }
        for k in (0..400u32).rev() {
            b.insert(k, k * 2);
        }
        for k in 200..400u32 {
            assert_eq!(b.remove(&k), Some(k * 2));
        }
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert!(format!("{a:?}").starts_with("{0: 0, 1: 2, 2: 4"));
        assert_eq!(a.len(), 200);
        let keys: Vec<u32> = b.sorted().into_iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, (0..200).collect::<Vec<_>>());
        assert_eq!(a.get(&7), Some(&14));
        *a.get_or_insert_with(7, || 0) += 1;
        assert_eq!(a.get(&7), Some(&15));
        assert_eq!(*a.get_or_insert_with(500, || 9), 9);
        assert!(a.contains_key(&500) && !b.contains_key(&500));
    }
}
