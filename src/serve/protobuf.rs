//! Kubernetes' protobuf encoding, read into JSON: kubectl's typed clients
//! (`kubectl create deployment`, `create service`, `create namespace`)
//! send built-in kinds as protobuf, and the rest of the server reads JSON.
//!
//! The body is `k8s\0` then a `runtime.Unknown` whose `raw` is the object.
//! Each kind is read by a table of its fields (numbers from k8s.io/api's
//! generated.proto); fields not in the tables are skipped, as pacsim would
//! ignore them in JSON too, except those it models.

use serde_json::{Map, Value};

/// How a field is read. Go's encoder writes every scalar, set or not,
/// where JSON omits empty ones: an empty string, a zero `Num` and a false
/// `Flag` are left out; `Int` and `Bool` (pointers in Go) are kept.
#[derive(Clone, Copy)]
enum Ty {
    Str,
    Int,
    Num,
    Bool,
    Flag,
    Msg(&'static [Field]),
    /// A message whose fields JSON shows in the parent (a Volume's source).
    Inline(&'static [Field]),
    StrMap,
    /// `map<string, Quantity>`: resource requests and limits.
    QuantityMap,
    IntOrString,
}

#[derive(Clone, Copy)]
struct Field {
    num: u32,
    name: &'static str,
    ty: Ty,
    repeated: bool,
}

const fn one(num: u32, name: &'static str, ty: Ty) -> Field {
    Field {
        num,
        name,
        ty,
        repeated: false,
    }
}

const fn many(num: u32, name: &'static str, ty: Ty) -> Field {
    Field {
        num,
        name,
        ty,
        repeated: true,
    }
}

use Ty::*;

const OBJECT_META: &[Field] = &[
    one(1, "name", Str),
    one(2, "generateName", Str),
    one(3, "namespace", Str),
    one(6, "resourceVersion", Str),
    one(11, "labels", StrMap),
    one(12, "annotations", StrMap),
];
const LABEL_SELECTOR: &[Field] = &[
    one(1, "matchLabels", StrMap),
    many(2, "matchExpressions", Msg(REQUIREMENT)),
];
const REQUIREMENT: &[Field] = &[
    one(1, "key", Str),
    one(2, "operator", Str),
    many(3, "values", Str),
];
const DEPLOYMENT: &[Field] = &[
    one(1, "metadata", Msg(OBJECT_META)),
    one(2, "spec", Msg(DEPLOYMENT_SPEC)),
];
const DEPLOYMENT_SPEC: &[Field] = &[
    one(1, "replicas", Int),
    one(2, "selector", Msg(LABEL_SELECTOR)),
    one(3, "template", Msg(POD_TEMPLATE)),
    one(4, "strategy", Msg(STRATEGY)),
    one(5, "minReadySeconds", Num),
    one(6, "revisionHistoryLimit", Int),
    one(7, "paused", Flag),
    one(9, "progressDeadlineSeconds", Int),
];
const STRATEGY: &[Field] = &[
    one(1, "type", Str),
    one(2, "rollingUpdate", Msg(ROLLING_UPDATE)),
];
const ROLLING_UPDATE: &[Field] = &[
    one(1, "maxUnavailable", IntOrString),
    one(2, "maxSurge", IntOrString),
];
const REPLICA_SET: &[Field] = &[
    one(1, "metadata", Msg(OBJECT_META)),
    one(2, "spec", Msg(REPLICA_SET_SPEC)),
];
const REPLICA_SET_SPEC: &[Field] = &[
    one(1, "replicas", Int),
    one(2, "selector", Msg(LABEL_SELECTOR)),
    one(3, "template", Msg(POD_TEMPLATE)),
    one(4, "minReadySeconds", Num),
];
const POD: &[Field] = &[
    one(1, "metadata", Msg(OBJECT_META)),
    one(2, "spec", Msg(POD_SPEC)),
];
const POD_TEMPLATE: &[Field] = &[
    one(1, "metadata", Msg(OBJECT_META)),
    one(2, "spec", Msg(POD_SPEC)),
];
const POD_SPEC: &[Field] = &[
    many(1, "volumes", Msg(VOLUME)),
    many(2, "containers", Msg(CONTAINER)),
    one(3, "restartPolicy", Str),
    one(4, "terminationGracePeriodSeconds", Int),
    one(6, "dnsPolicy", Str),
    one(7, "nodeSelector", StrMap),
    one(8, "serviceAccountName", Str),
    one(10, "nodeName", Str),
    one(16, "hostname", Str),
    one(17, "subdomain", Str),
    one(18, "affinity", Msg(AFFINITY)),
    one(19, "schedulerName", Str),
    many(20, "initContainers", Msg(CONTAINER)),
    many(22, "tolerations", Msg(TOLERATION)),
    one(24, "priorityClassName", Str),
    one(25, "priority", Int),
    one(29, "runtimeClassName", Str),
    one(30, "enableServiceLinks", Bool),
];
const CONTAINER: &[Field] = &[
    one(1, "name", Str),
    one(2, "image", Str),
    many(3, "command", Str),
    many(4, "args", Str),
    one(5, "workingDir", Str),
    many(6, "ports", Msg(CONTAINER_PORT)),
    many(7, "env", Msg(ENV_VAR)),
    one(8, "resources", Msg(RESOURCES)),
    one(13, "terminationMessagePath", Str),
    one(14, "imagePullPolicy", Str),
    one(16, "stdin", Flag),
    one(18, "tty", Flag),
    one(20, "terminationMessagePolicy", Str),
];
const CONTAINER_PORT: &[Field] = &[
    one(1, "name", Str),
    one(2, "hostPort", Num),
    one(3, "containerPort", Num),
    one(4, "protocol", Str),
    one(5, "hostIP", Str),
];
const ENV_VAR: &[Field] = &[one(1, "name", Str), one(2, "value", Str)];
const RESOURCES: &[Field] = &[
    one(1, "limits", QuantityMap),
    one(2, "requests", QuantityMap),
];
const TOLERATION: &[Field] = &[
    one(1, "key", Str),
    one(2, "operator", Str),
    one(3, "value", Str),
    one(4, "effect", Str),
    one(5, "tolerationSeconds", Int),
];
const AFFINITY: &[Field] = &[
    one(1, "nodeAffinity", Msg(NODE_AFFINITY)),
    one(2, "podAffinity", Msg(POD_AFFINITY)),
    one(3, "podAntiAffinity", Msg(POD_AFFINITY)),
];
const NODE_AFFINITY: &[Field] = &[
    one(
        1,
        "requiredDuringSchedulingIgnoredDuringExecution",
        Msg(NODE_SELECTOR),
    ),
    many(
        2,
        "preferredDuringSchedulingIgnoredDuringExecution",
        Msg(PREFERRED_TERM),
    ),
];
const NODE_SELECTOR: &[Field] = &[many(1, "nodeSelectorTerms", Msg(NODE_SELECTOR_TERM))];
const NODE_SELECTOR_TERM: &[Field] = &[
    many(1, "matchExpressions", Msg(REQUIREMENT)),
    many(2, "matchFields", Msg(REQUIREMENT)),
];
const PREFERRED_TERM: &[Field] = &[
    one(1, "weight", Num),
    one(2, "preference", Msg(NODE_SELECTOR_TERM)),
];
const POD_AFFINITY: &[Field] = &[
    many(
        1,
        "requiredDuringSchedulingIgnoredDuringExecution",
        Msg(POD_AFFINITY_TERM),
    ),
    many(
        2,
        "preferredDuringSchedulingIgnoredDuringExecution",
        Msg(WEIGHTED_TERM),
    ),
];
const POD_AFFINITY_TERM: &[Field] = &[
    one(1, "labelSelector", Msg(LABEL_SELECTOR)),
    many(2, "namespaces", Str),
    one(3, "topologyKey", Str),
    one(4, "namespaceSelector", Msg(LABEL_SELECTOR)),
];
const WEIGHTED_TERM: &[Field] = &[
    one(1, "weight", Num),
    one(2, "podAffinityTerm", Msg(POD_AFFINITY_TERM)),
];
const VOLUME: &[Field] = &[
    one(1, "name", Str),
    one(2, "volumeSource", Inline(VOLUME_SOURCE)),
];
const VOLUME_SOURCE: &[Field] = &[
    one(2, "emptyDir", Msg(&[one(1, "medium", Str)])),
    one(10, "persistentVolumeClaim", Msg(CLAIM_SOURCE)),
];
const CLAIM_SOURCE: &[Field] = &[one(1, "claimName", Str), one(2, "readOnly", Flag)];
const NAMESPACE: &[Field] = &[one(1, "metadata", Msg(OBJECT_META))];
/// A delete's options: its `dryRun` decides whether it is carried out.
const DELETE_OPTIONS: &[Field] = &[
    one(1, "gracePeriodSeconds", Int),
    one(4, "propagationPolicy", Str),
    many(5, "dryRun", Str),
];
const SERVICE: &[Field] = &[
    one(1, "metadata", Msg(OBJECT_META)),
    one(2, "spec", Msg(SERVICE_SPEC)),
];
const SERVICE_SPEC: &[Field] = &[
    many(1, "ports", Msg(SERVICE_PORT)),
    one(2, "selector", StrMap),
    one(3, "clusterIP", Str),
    one(4, "type", Str),
    one(7, "sessionAffinity", Str),
    one(8, "loadBalancerIP", Str),
    one(11, "externalTrafficPolicy", Str),
    one(17, "ipFamilyPolicy", Str),
    many(19, "ipFamilies", Str),
    one(22, "internalTrafficPolicy", Str),
];
const SERVICE_PORT: &[Field] = &[
    one(1, "name", Str),
    one(2, "protocol", Str),
    one(3, "port", Num),
    one(4, "targetPort", IntOrString),
    one(5, "nodePort", Num),
    one(6, "appProtocol", Str),
];
const CLAIM: &[Field] = &[
    one(1, "metadata", Msg(OBJECT_META)),
    one(2, "spec", Msg(CLAIM_SPEC)),
];
const CLAIM_SPEC: &[Field] = &[
    many(1, "accessModes", Str),
    one(2, "resources", Msg(RESOURCES)),
    one(3, "volumeName", Str),
    one(4, "selector", Msg(LABEL_SELECTOR)),
    one(5, "storageClassName", Str),
    one(6, "volumeMode", Str),
];

/// The kinds read, by `kind`.
fn schema(kind: &str) -> Option<&'static [Field]> {
    Some(match kind {
        "Deployment" => DEPLOYMENT,
        "ReplicaSet" => REPLICA_SET,
        "Pod" => POD,
        "Namespace" => NAMESPACE,
        "Service" => SERVICE,
        "PersistentVolumeClaim" => CLAIM,
        "DeleteOptions" => DELETE_OPTIONS,
        _ => return None,
    })
}

/// The object a protobuf body holds, as JSON with its apiVersion and kind.
pub fn to_json(body: &[u8]) -> Result<Value, String> {
    let unknown = body
        .strip_prefix(b"k8s\0")
        .ok_or("the body is not Kubernetes protobuf (no `k8s\\0` prefix)")?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    let mut r = Reader(unknown);
    while let Some((num, value)) = r.field()? {
        match (num, value) {
            (1, Wire::Bytes(type_meta)) => {
                let mut t = Reader(type_meta);
                while let Some((n, v)) = t.field()? {
                    match (n, v) {
                        (1, Wire::Bytes(b)) => api_version = text(b)?,
                        (2, Wire::Bytes(b)) => kind = text(b)?,
                        _ => {}
                    }
                }
            }
            (2, Wire::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let fields = schema(&kind).ok_or_else(|| {
        format!("a protobuf body of kind `{kind}` is not read here: send it as JSON or YAML")
    })?;
    let mut object = message(raw, fields)?;
    object.insert("apiVersion".into(), api_version.into());
    object.insert("kind".into(), kind.into());
    Ok(Value::Object(object))
}

/// One field's value on the wire.
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.0.split_first().ok_or("protobuf: truncated varint")?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("protobuf: varint longer than 10 bytes".into())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("protobuf: a field runs past the end of the body".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    /// The next field, or None at the end.
    fn field(&mut self) -> Result<Option<(u32, Wire<'a>)>, String> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let num = u32::try_from(key >> 3).map_err(|_| "protobuf: field number too large")?;
        let value = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Wire::Fixed
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| "protobuf: length")?;
                Wire::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed
            }
            w => {
                return Err(format!(
                    "protobuf: wire type {w} of field {num} is not read"
                ));
            }
        };
        Ok(Some((num, value)))
    }
}

fn text(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|_| "protobuf: a string is not UTF-8".to_string())
}

fn message(bytes: &[u8], fields: &[Field]) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    let mut r = Reader(bytes);
    while let Some((num, wire)) = r.field()? {
        let Some(f) = fields.iter().find(|f| f.num == num) else {
            continue;
        };
        let value = match (f.ty, wire) {
            (Str, Wire::Bytes([])) if !f.repeated => continue,
            (Str, Wire::Bytes(b)) => Value::String(text(b)?),
            (Num, Wire::Varint(0)) | (Flag, Wire::Varint(0)) => continue,
            (Int | Num, Wire::Varint(v)) => Value::from(v as i64),
            (Bool | Flag, Wire::Varint(v)) => Value::Bool(v != 0),
            (Msg(sub), Wire::Bytes(b)) => Value::Object(message(b, sub)?),
            (Inline(sub), Wire::Bytes(b)) => {
                out.extend(message(b, sub)?);
                continue;
            }
            (StrMap | QuantityMap, Wire::Bytes(b)) => {
                let (k, v) = entry(b, matches!(f.ty, QuantityMap))?;
                let map = out
                    .entry(f.name)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = map {
                    m.insert(k, Value::String(v));
                }
                continue;
            }
            (IntOrString, Wire::Bytes(b)) => int_or_string(b)?,
            _ => {
                return Err(format!(
                    "protobuf: field `{}` has the wrong wire type",
                    f.name
                ));
            }
        };
        if f.repeated {
            let list = out
                .entry(f.name)
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = list {
                items.push(value);
            }
        } else {
            out.insert(f.name.into(), value);
        }
    }
    Ok(out)
}

/// A map entry: key 1, value 2 (a string, or a Quantity: its string 1).
fn entry(bytes: &[u8], quantity: bool) -> Result<(String, String), String> {
    let (mut key, mut value) = (String::new(), String::new());
    let mut r = Reader(bytes);
    while let Some((num, wire)) = r.field()? {
        match (num, wire) {
            (1, Wire::Bytes(b)) => key = text(b)?,
            (2, Wire::Bytes(b)) if !quantity => value = text(b)?,
            (2, Wire::Bytes(b)) => {
                let mut q = Reader(b);
                while let Some((n, w)) = q.field()? {
                    if let (1, Wire::Bytes(s)) = (n, w) {
                        value = text(s)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok((key, value))
}

/// `IntOrString`: type 1 (0 int, 1 string), intVal 2, strVal 3.
fn int_or_string(bytes: &[u8]) -> Result<Value, String> {
    let (mut is_string, mut int, mut string) = (false, 0i64, String::new());
    let mut r = Reader(bytes);
    while let Some((num, wire)) = r.field()? {
        match (num, wire) {
            (1, Wire::Varint(t)) => is_string = t == 1,
            (2, Wire::Varint(v)) => int = v as i64,
            (3, Wire::Bytes(b)) => string = text(b)?,
            _ => {}
        }
    }
    Ok(if is_string {
        Value::String(string)
    } else {
        Value::from(int)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes protobuf the way the Go encoder does (tests only).
    fn key(num: u32, wire: u8, out: &mut Vec<u8>) {
        varint(u64::from(num) << 3 | u64::from(wire), out);
    }
    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn bytes(num: u32, b: &[u8], out: &mut Vec<u8>) {
        key(num, 2, out);
        varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }
    fn int(num: u32, v: u64, out: &mut Vec<u8>) {
        key(num, 0, out);
        varint(v, out);
    }
    fn map_entry(num: u32, k: &str, v: &[u8], out: &mut Vec<u8>) {
        let mut e = Vec::new();
        bytes(1, k.as_bytes(), &mut e);
        bytes(2, v, &mut e);
        bytes(num, &e, out);
    }

    /// What `kubectl create deployment hello --image=nginx --replicas=2`
    /// sends, with a cpu request.
    fn deployment() -> Vec<u8> {
        let mut meta = Vec::new();
        bytes(1, b"hello", &mut meta);
        // Go writes unset strings and numbers too.
        bytes(3, b"", &mut meta);
        map_entry(11, "app", b"hello", &mut meta);
        let mut selector = Vec::new();
        map_entry(1, "app", b"hello", &mut selector);
        let mut quantity = Vec::new();
        bytes(1, b"250m", &mut quantity);
        let mut resources = Vec::new();
        map_entry(2, "cpu", &quantity, &mut resources);
        let mut container = Vec::new();
        bytes(1, b"nginx", &mut container);
        bytes(2, b"nginx", &mut container);
        bytes(8, &resources, &mut container);
        bytes(13, b"/dev/termination-log", &mut container);
        let mut pod_spec = Vec::new();
        bytes(2, &container, &mut pod_spec);
        let mut template_meta = Vec::new();
        map_entry(11, "app", b"hello", &mut template_meta);
        let mut template = Vec::new();
        bytes(1, &template_meta, &mut template);
        bytes(2, &pod_spec, &mut template);
        let mut spec = Vec::new();
        int(1, 2, &mut spec);
        bytes(2, &selector, &mut spec);
        bytes(3, &template, &mut spec);
        bytes(4, &[], &mut spec);
        int(5, 0, &mut spec);
        int(7, 0, &mut spec);
        let mut object = Vec::new();
        bytes(1, &meta, &mut object);
        bytes(2, &spec, &mut object);
        bytes(3, &[], &mut object);
        let mut type_meta = Vec::new();
        bytes(1, b"apps/v1", &mut type_meta);
        bytes(2, b"Deployment", &mut type_meta);
        let mut body = b"k8s\0".to_vec();
        bytes(1, &type_meta, &mut body);
        bytes(2, &object, &mut body);
        bytes(4, b"", &mut body);
        body
    }

    #[test]
    fn a_deployment_reads_as_its_json() {
        let json = to_json(&deployment()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "hello", "labels": {"app": "hello"}},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "hello"}},
                    "strategy": {},
                    "template": {
                        "metadata": {"labels": {"app": "hello"}},
                        "spec": {"containers": [{
                            "name": "nginx",
                            "image": "nginx",
                            "resources": {"requests": {"cpu": "250m"}},
                            "terminationMessagePath": "/dev/termination-log",
                        }]},
                    },
                },
            })
        );
    }

    #[test]
    fn other_kinds_and_damaged_bodies_are_errors_not_panics() {
        assert!(to_json(b"{}").unwrap_err().contains("no `k8s\\0` prefix"));
        let mut body = deployment();
        let at = body.windows(10).position(|w| w == b"Deployment").unwrap();
        body[at..at + 10].copy_from_slice(b"StatefulSt");
        assert!(to_json(&body).unwrap_err().contains("kind `StatefulSt`"));
        let whole = deployment();
        for cut in 4..whole.len() {
            let _ = to_json(&whole[..cut]);
        }
        for i in 4..whole.len() {
            let mut b = whole.clone();
            b[i] ^= 0xff;
            let _ = to_json(&b);
        }
    }
}
