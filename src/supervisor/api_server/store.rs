//! The API server's objects: looked up by key in one hash probe (a
//! status write, most of the traffic, finds its object without a dozen
//! string comparisons down a B-tree of every object), and walked in key
//! order, as lists and relists return them, through an ordered set of the
//! keys that changes only when an object is created or deleted.

use crate::api::objects::{Object, ObjectKey};
use crate::model::Lookup;
use std::collections::BTreeSet;

#[derive(Clone, Debug, Default)]
pub struct Store {
    objects: Lookup<ObjectKey, Object>,
    order: BTreeSet<ObjectKey>,
}

impl Store {
    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.objects.get(key)
    }

    pub fn get_mut(&mut self, key: &ObjectKey) -> Option<&mut Object> {
        self.objects.get_mut(key)
    }

    pub fn contains_key(&self, key: &ObjectKey) -> bool {
        self.objects.contains_key(key)
    }

    /// Stores `object` under `key`; whether it is new.
    pub fn insert(&mut self, key: ObjectKey, object: Object) -> bool {
        match self.objects.get_mut(&key) {
            Some(stored) => {
                *stored = object;
                false
            }
            None => {
                self.order.insert(key.clone());
                self.objects.insert(key, object);
                true
            }
        }
    }

    pub fn remove(&mut self, key: &ObjectKey) -> Option<Object> {
        let object = self.objects.remove(key)?;
        self.order.remove(key);
        Some(object)
    }

    /// Every key, in key order.
    pub fn keys(&self) -> impl Iterator<Item = &ObjectKey> {
        self.order.iter()
    }

    /// Every object, in key order.
    pub fn values(&self) -> impl Iterator<Item = &Object> {
        self.iter().map(|(_, o)| o)
    }

    /// Every (key, object), in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&ObjectKey, &Object)> {
        self.order.iter().map(|k| {
            let object = self.objects.get(k).expect("every ordered key is stored");
            (k, object)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::objects::{Body, Kind, Meta, NamespaceObj};

    fn namespace(name: &str) -> Object {
        Object {
            meta: Meta {
                name: name.into(),
                ..Meta::default()
            },
            body: Body::Namespace(NamespaceObj {}),
        }
    }

    #[test]
    fn walks_in_key_order_whatever_the_order_of_writes() {
        let mut store = Store::default();
        for name in ["c", "a", "d", "b"] {
            let key = ObjectKey::new(Kind::Namespace, "", name);
            assert!(store.insert(key, namespace(name)), "{name} is new");
        }
        let key_b = ObjectKey::new(Kind::Namespace, "", "b");
        let mut again = namespace("b");
        again.meta.resource_version = 7;
        assert!(!store.insert(key_b.clone(), again), "a rewrite");
        assert_eq!(store.get(&key_b).map(|o| o.meta.resource_version), Some(7));
        assert!(
            store
                .remove(&ObjectKey::new(Kind::Namespace, "", "d"))
                .is_some()
        );
        let names: Vec<&str> = store.values().map(|o| o.meta.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(store.keys().count(), 3);
    }
}
