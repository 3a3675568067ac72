//! PATCH bodies applied to an object's JSON: JSON merge patch (RFC 7386)
//! for custom resources, the strategic merge patch kubectl sends for
//! built-in kinds, whose lists of objects merge by a key (`name` for
//! containers, volumes, ports...) and which carries `$` directives, and
//! JSON patch (RFC 6902), which `kubectl rollout undo` sends.

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

/// RFC 6902: `add`, `remove`, `replace`, `move`, `copy` and `test`, in
/// order; the first that cannot apply is the error (and nothing applies,
/// since the caller discards `target`).
pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops
        .as_array()
        .ok_or("a JSON patch is a list of operations")?;
    for (i, op) in ops.iter().enumerate() {
        let field = |name: &str| {
            op.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("operation {i}: no `{name}`"))
        };
        let path = field("path")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("operation {i}: no `value`"))
        };
        let at = |e: String| format!("operation {i} ({path}): {e}");
        match field("op")? {
            "add" => add(target, path, value()?).map_err(at)?,
            "remove" => {
                remove(target, path).map_err(at)?;
            }
            // Lenient where RFC 6902 is strict: a missing member is added,
            // as pacsim's objects lack fields the client's copy had (their
            // annotations).
            "replace" => {
                let _ = remove(target, path);
                add(target, path, value()?).map_err(at)?;
            }
            "move" => {
                let moved = remove(target, field("from")?).map_err(at)?;
                add(target, path, moved).map_err(at)?;
            }
            "copy" => {
                let from = field("from")?;
                let copied = target
                    .pointer(from)
                    .cloned()
                    .ok_or_else(|| at(format!("`from` {from} does not exist")))?;
                add(target, path, copied).map_err(at)?;
            }
            "test" => {
                if target.pointer(path) != Some(&value()?) {
                    return Err(at("the test failed".into()));
                }
            }
            other => return Err(format!("operation {i}: unknown op `{other}`")),
        }
    }
    Ok(())
}

/// A JSON pointer's parent path and last token (unescaped).
fn split_pointer(path: &str) -> Result<(&str, String), String> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or_else(|| format!("`{path}` is not a JSON pointer"))?;
    Ok((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn add(target: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *target = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    match target.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.insert(last, value);
            Ok(())
        }
        Some(Value::Array(a)) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= a.len())
                    .ok_or("an index out of the list")?
            };
            a.insert(i, value);
            Ok(())
        }
        _ => Err("its parent does not exist".into()),
    }
}

fn remove(target: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split_pointer(path)?;
    let removed = match target.pointer_mut(parent) {
        Some(Value::Object(m)) => m.remove(&last),
        Some(Value::Array(a)) => last
            .parse::<usize>()
            .ok()
            .filter(|i| *i < a.len())
            .map(|i| a.remove(i)),
        _ => None,
    };
    removed.ok_or_else(|| "it does not exist".to_string())
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

#[cfg(test)]
mod json_patch_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_apply_in_order_as_rfc_6902_says() {
        let mut doc = json!({"metadata": {"annotations": {"a": "1"}}, "spec": {"template": {"x": 1}, "list": [1, 2]}});
        let ops = json!([
            {"op": "replace", "path": "/spec/template", "value": {"y": 2}},
            {"op": "add", "path": "/spec/list/-", "value": 3},
            {"op": "remove", "path": "/spec/list/0"},
            {"op": "copy", "from": "/spec/template", "path": "/spec/copy"},
            {"op": "move", "from": "/metadata/annotations/a", "path": "/metadata/annotations/b~1c"},
            {"op": "test", "path": "/spec/copy/y", "value": 2},
        ]);
        json_patch(&mut doc, &ops).unwrap();
        assert_eq!(
            doc,
            json!({"metadata": {"annotations": {"b/c": "1"}}, "spec": {"template": {"y": 2}, "list": [2, 3], "copy": {"y": 2}}})
        );
    }

    #[test]
    fn an_operation_that_cannot_apply_says_which_and_why() {
        let mut doc = json!({"spec": {}});
        let e = json_patch(&mut doc, &json!([{"op": "remove", "path": "/spec/nope"}]));
        assert_eq!(
            e.unwrap_err(),
            "operation 0 (/spec/nope): it does not exist"
        );
        let e = json_patch(
            &mut doc,
            &json!([{"op": "replace", "path": "/no/such", "value": 1}]),
        );
        assert_eq!(
            e.unwrap_err(),
            "operation 0 (/no/such): its parent does not exist"
        );
        let e = json_patch(
            &mut doc,
            &json!([{"op": "test", "path": "/spec", "value": 1}]),
        );
        assert!(e.unwrap_err().contains("the test failed"));
        assert!(json_patch(&mut doc, &json!({"op": "add"})).is_err());
        assert!(
            json_patch(&mut doc, &json!([{"op": "frob", "path": "/x"}]))
                .unwrap_err()
                .contains("unknown op")
        );
    }
}
