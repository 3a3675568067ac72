//! PATCH bodies applied to an object's JSON: JSON merge patch (RFC 7386)
//! for custom resources, and the strategic merge patch kubectl sends for
//! built-in kinds, whose lists of objects merge by a key (`name` for
//! containers, volumes, ports...) and which carries `$` directives.

use serde_json::{Map, Value};

/// RFC 7386: objects merge key by key, `null` deletes, anything else
/// replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let t = target.as_object_mut().expect("made an object above");
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// The merge key of a list field of the built-in kinds pacsim serves.
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "containers" | "initContainers" | "volumes" | "env" | "volumeMounts"
        | "imagePullSecrets" => Some("name"),
        "ports" => Some("port"),
        "tolerations" => Some("key"),
        _ => None,
    }
}

/// A strategic merge patch: as [`merge`], except that lists with a merge
/// key merge item by item, `$patch: replace` replaces, `$patch: delete`
/// removes, and the ordering and retain directives are honoured or
/// dropped (the order of modelled lists does not matter to pacsim).
pub fn strategic(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    match p.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut v = patch.clone();
            strip_directives(&mut v);
            *target = v;
            return;
        }
        Some("delete") => {
            *target = Value::Null;
            return;
        }
        _ => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let t = target.as_object_mut().expect("made an object above");
    for (k, v) in p {
        if k.starts_with('$') {
            continue;
        }
        if let Some(list) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(items)), Value::Array(gone)) = (t.get_mut(list), v) {
                items.retain(|i| !gone.contains(i));
            }
            continue;
        }
        if v.is_null() {
            t.remove(k);
            continue;
        }
        match (merge_key(k), v) {
            (Some(key), Value::Array(items)) => {
                let slot = t.entry(k.clone()).or_insert(Value::Array(Vec::new()));
                merge_list(slot, items, key);
            }
            _ => strategic(t.entry(k.clone()).or_insert(Value::Null), v),
        }
    }
    t.retain(|_, v| !v.is_null());
}

fn merge_list(target: &mut Value, items: &[Value], key: &str) {
    if !target.is_array() {
        *target = Value::Array(Vec::new());
    }
    let list = target.as_array_mut().expect("made an array above");
    for item in items {
        let id = item.get(key).cloned();
        let pos = id
            .as_ref()
            .and_then(|id| list.iter().position(|l| l.get(key) == Some(id)));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                list.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => strategic(&mut list[i], item),
            (None, false) => {
                let mut v = item.clone();
                strip_directives(&mut v);
                list.push(v);
            }
        }
    }
}

fn strip_directives(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !k.starts_with('$'));
            m.values_mut().for_each(strip_directives);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_directives),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_merges_objects_replaces_lists_and_deletes_nulls() {
        let mut t = json!({"spec": {"a": 1, "b": [1, 2], "c": {"d": 1}}});
        merge(
            &mut t,
            &json!({"spec": {"a": null, "b": [3], "c": {"e": 2}}}),
        );
        assert_eq!(t, json!({"spec": {"b": [3], "c": {"d": 1, "e": 2}}}));
    }

    #[test]
    fn strategic_patch_merges_containers_by_name_and_drops_order_directives() {
        let mut t = json!({"spec": {"containers": [
            {"name": "a", "image": "x", "resources": {"requests": {"cpu": "1"}}},
            {"name": "b", "image": "y"},
        ]}});
        let p = json!({"spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
            "containers": [{"name": "a", "image": "x2"}, {"name": "c", "image": "z"}, {"name": "b", "$patch": "delete"}],
        }});
        strategic(&mut t, &p);
        assert_eq!(
            t,
            json!({"spec": {"containers": [
                {"name": "a", "image": "x2", "resources": {"requests": {"cpu": "1"}}},
                {"name": "c", "image": "z"},
            ]}})
        );
    }

    #[test]
    fn strategic_patch_replace_directive_replaces_the_map() {
        let mut t = json!({"spec": {"selector": {"a": "1", "b": "2"}}});
        strategic(
            &mut t,
            &json!({"spec": {"selector": {"$patch": "replace", "c": "3"}}}),
        );
        assert_eq!(t, json!({"spec": {"selector": {"c": "3"}}}));
    }
}
