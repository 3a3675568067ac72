//! resourceVersions for a guest cluster's objects, given as serve sees
//! them change. The guest cluster model keeps its objects, not their
//! history; each read of a guest compares what it holds with the last
//! read, and every object that is new, changed or gone gets the next
//! version and a place in a bounded history. Lists report those versions,
//! and a watch resumes from one, with `410 Gone` once the history no
//! longer reaches back that far.
//!
//! Changes between two reads are seen as one: a watch polls often enough
//! (see `GUEST_WATCH_EVERY` in `http`) that a client sees each state it
//! could act on, not each intermediate one. The versions live in the
//! server's memory and are not journalled; they start above the last
//! run's (`base`), so a version from before a restart is too old, not
//! another object's.

use super::guest::GuestStore;
use super::rollout::SetCounts;
use crate::api::objects::{Object, ObjectKey};
use crate::supervisor::api_server::ChangeKind;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// Changes kept for watches that resume, per guest cluster.
const HISTORY: usize = 10_000;

/// One guest cluster's object versions and recent changes.
#[derive(Debug)]
pub struct GuestVersions {
    current: u64,
    /// The version history starts after (watches from before it: 410).
    floor: u64,
    seen: BTreeMap<ObjectKey, Seen>,
    history: VecDeque<GuestChange>,
}

/// An object as last seen, with its version (shared with its change).
#[derive(Debug)]
struct Seen {
    object: Arc<Object>,
    counts: Option<SetCounts>,
}

/// An object that appeared, changed or went, at version `rv`, as it was
/// then (as it was last seen, for a deletion).
#[derive(Clone, Debug)]
pub struct GuestChange {
    pub rv: u64,
    pub kind: ChangeKind,
    pub object: Arc<Object>,
    pub counts: Option<SetCounts>,
}

impl GuestVersions {
    /// Versions that start after `base`.
    pub fn new(base: u64) -> GuestVersions {
        GuestVersions {
            current: base,
            floor: base,
            seen: BTreeMap::new(),
            history: VecDeque::new(),
        }
    }

    /// Compares `store` with the last look, versions what moved, and
    /// stamps `store`'s objects and list version with theirs.
    pub fn observe(&mut self, store: &mut GuestStore) {
        let gone: Vec<ObjectKey> = (self.seen.keys())
            .filter(|k| store.get(k).is_none())
            .cloned()
            .collect();
        for key in gone {
            if let Some(last) = self.seen.remove(&key) {
                self.current += 1;
                let mut object = (*last.object).clone();
                object.meta.resource_version = self.current;
                self.push(GuestChange {
                    rv: self.current,
                    kind: ChangeKind::Deleted,
                    object: Arc::new(object),
                    counts: last.counts,
                });
            }
        }
        let keys: Vec<ObjectKey> = store.objects().map(Object::key).collect();
        for key in keys {
            let counts = store.get(&key).and_then(|o| store.counts(o));
            let Some(object) = store.get_mut(&key) else {
                continue;
            };
            let kind = match self.seen.get(&key) {
                None => ChangeKind::Added,
                Some(s) => {
                    // The guest's own version moves with every call: not
                    // a change. Compared with the version it was given.
                    object.meta.resource_version = s.object.meta.resource_version;
                    if *s.object == *object && s.counts == counts {
                        continue;
                    }
                    ChangeKind::Modified
                }
            };
            self.current += 1;
            object.meta.resource_version = self.current;
            let shared = Arc::new(object.clone());
            let seen = Seen {
                object: shared.clone(),
                counts,
            };
            self.seen.insert(key, seen);
            self.push(GuestChange {
                rv: self.current,
                kind,
                object: shared,
                counts,
            });
        }
        store.set_resource_version(self.current);
    }

    fn push(&mut self, change: GuestChange) {
        self.history.push_back(change);
        while self.history.len() > HISTORY
            && let Some(old) = self.history.pop_front()
        {
            self.floor = old.rv;
        }
    }

    /// The changes after version `after`; `Err(floor)` when the history
    /// no longer reaches back to it, or `after` is no version of this
    /// server's.
    pub fn since(&self, after: u64) -> Result<Vec<GuestChange>, u64> {
        if after < self.floor || after > self.current {
            return Err(self.floor);
        }
        let start = self.history.partition_point(|c| c.rv <= after);
        Ok(self.history.range(start..).cloned().collect())
    }

    /// The newest version given.
    pub fn current(&self) -> u64 {
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::objects::{Body, Kind, Meta, Node};
    use crate::model::{HostId, Resources};

    fn node(name: &str, ready: bool, guest_rv: u64) -> Object {
        Object {
            meta: Meta {
                name: name.into(),
                resource_version: guest_rv,
                ..Meta::default()
            },
            body: Body::Node(Node {
                host: HostId(0),
                capacity: Resources::ZERO,
                ready,
                taints: Vec::new(),
                unschedulable: false,
            }),
        }
    }

    fn store(nodes: &[Object]) -> GuestStore {
        GuestStore::from_objects(nodes.iter().cloned(), "v1.29.4")
    }

    fn kinds(changes: &[GuestChange]) -> Vec<(ChangeKind, String, u64)> {
        changes
            .iter()
            .map(|c| (c.kind, c.object.meta.name.clone(), c.rv))
            .collect()
    }

    #[test]
    fn objects_are_versioned_as_they_appear_change_and_go() {
        let mut v = GuestVersions::new(1000);
        let mut s = store(&[node("a", false, 7), node("b", true, 7)]);
        v.observe(&mut s);
        assert_eq!(s.resource_version(), 1002);
        let a = ObjectKey::new(Kind::Node, "", "a");
        assert_eq!(s.get(&a).unwrap().meta.resource_version, 1001);
        // The guest's own version moved (a call), nothing else: no change.
        let mut s = store(&[node("a", false, 8), node("b", true, 8)]);
        v.observe(&mut s);
        assert_eq!(s.resource_version(), 1002);
        assert_eq!(s.get(&a).unwrap().meta.resource_version, 1001);
        // a became Ready and b went.
        let mut s = store(&[node("a", true, 8)]);
        v.observe(&mut s);
        assert_eq!(s.get(&a).unwrap().meta.resource_version, 1004);
        assert_eq!(
            kinds(&v.since(1002).unwrap()),
            vec![
                (ChangeKind::Deleted, "b".into(), 1003),
                (ChangeKind::Modified, "a".into(), 1004),
            ]
        );
        assert_eq!(v.since(1002).unwrap()[0].object.meta.resource_version, 1003);
        assert!(v.since(1004).unwrap().is_empty());
        assert_eq!(v.since(1000).unwrap().len(), 4);
    }

    #[test]
    fn a_version_older_than_the_history_or_not_given_yet_is_gone() {
        let mut v = GuestVersions::new(50);
        assert_eq!(v.since(49).unwrap_err(), 50);
        assert_eq!(v.since(51).unwrap_err(), 50);
        for i in 0..=HISTORY {
            let mut s = store(&[node("a", i % 2 == 0, 1)]);
            v.observe(&mut s);
        }
        assert_eq!(v.current(), 50 + HISTORY as u64 + 1);
        assert_eq!(v.since(50).unwrap_err(), 51);
        assert_eq!(v.since(51).unwrap().len(), HISTORY);
    }
}
