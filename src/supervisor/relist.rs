//! What a watching part needs to catch up after its process restarts, as
//! an upstream informer does: the last version it saw of every object, and
//! the watch events it missed, worked out from a fresh list.
//!
//! A crashed part loses whatever reaches it while it is down (watch events
//! among them). Its state comes back from its journal, so it needs only
//! the difference between what it last saw and what the API server holds
//! now: objects that are new or newer, and objects gone.

use super::calls::backoff;
use crate::api::msg::SupMsg;
use crate::api::objects::{Object, ObjectKey};
use crate::model::{ActorId, SimDuration};
use std::collections::BTreeMap;
use std::sync::Arc;

/// First and longest wait before listing again after a failed list
/// (client-go's reflector backs off from about a second to 30 s).
const RETRY_BASE: SimDuration = SimDuration::from_secs(1);
const RETRY_CAP: SimDuration = SimDuration::from_secs(30);

#[derive(Clone, Debug)]
pub struct WatchCache {
    /// The API server, which answers the list.
    pub api: ActorId,
    /// The last version seen of each object that exists.
    seen: BTreeMap<ObjectKey, Arc<Object>>,
    /// Failed lists since the last one that succeeded.
    failures: u32,
}

impl WatchCache {
    pub fn new(api: ActorId) -> Self {
        WatchCache {
            api,
            seen: BTreeMap::new(),
            failures: 0,
        }
    }

    /// Follows a watch event the part is handed.
    pub fn saw(&mut self, object: &Arc<Object>, deleted: bool) {
        let key = object.key();
        if deleted {
            self.seen.remove(&key);
        } else {
            self.seen.insert(key, Arc::clone(object));
        }
    }

    /// The watch events that turn what was seen into `listed` (the API
    /// server's objects as of `rv`): new or newer objects in list order,
    /// then deletions in key order. An object seen at a version after the
    /// list (a watch event that overtook the list's answer) is left alone.
    pub fn missed(&mut self, rv: u64, listed: Vec<Object>) -> Vec<SupMsg> {
        self.failures = 0;
        let mut changes = Vec::new();
        let mut present = std::collections::BTreeSet::new();
        for object in listed {
            let key = object.key();
            let newer = self
                .seen
                .get(&key)
                .is_none_or(|s| s.meta.resource_version < object.meta.resource_version);
            present.insert(key);
            if newer {
                changes.push(SupMsg::Changed {
                    rv: object.meta.resource_version,
                    object: Arc::new(object),
                    deleted: false,
                });
            }
        }
        for (key, object) in &self.seen {
            if !present.contains(key) && object.meta.resource_version <= rv {
                changes.push(SupMsg::Changed {
                    rv,
                    object: object.clone(),
                    deleted: true,
                });
            }
        }
        changes
    }

    /// A list failed (the API is unavailable): how long to wait before the
    /// next one.
    pub fn failed(&mut self) -> SimDuration {
        self.failures += 1;
        backoff(self.failures, RETRY_BASE, RETRY_CAP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervisor::testutil::pod_object;

    fn pod(name: &str, rv: u64) -> Object {
        let mut pod = pod_object(name, 1, 1);
        pod.meta.resource_version = rv;
        pod
    }

    fn summary(changes: &[SupMsg]) -> Vec<(String, u64, bool)> {
        changes
            .iter()
            .map(|c| match c {
                SupMsg::Changed {
                    rv,
                    object,
                    deleted,
                } => (object.meta.name.clone(), *rv, *deleted),
                other => panic!("not a watch event: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_list_yields_new_and_newer_objects_then_the_deleted_ones() {
        let mut cache = WatchCache::new(ActorId(1));
        for (name, rv) in [("same", 3), ("stale", 4), ("gone", 5), ("later", 9)] {
            cache.saw(&Arc::new(pod(name, rv)), false);
        }
        cache.saw(&Arc::new(pod("removed", 2)), false);
        cache.saw(&Arc::new(pod("removed", 6)), true);
        let listed = vec![pod("fresh", 8), pod("same", 3), pod("stale", 7)];
        // As of rv 8: `later` (seen at 9, after the list) stays.
        assert_eq!(
            summary(&cache.missed(8, listed)),
            [
                ("fresh".to_string(), 8, false),
                ("stale".to_string(), 7, false),
                ("gone".to_string(), 8, true),
            ]
        );
    }

    #[test]
    fn failed_lists_back_off_to_the_cap_and_a_success_resets() {
        let mut cache = WatchCache::new(ActorId(1));
        let waits: Vec<u64> = (0..7).map(|_| cache.failed().0 / 1_000_000_000).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        cache.missed(0, Vec::new());
        assert_eq!(cache.failed(), SimDuration::from_secs(1));
    }
}
