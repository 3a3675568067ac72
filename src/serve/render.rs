//! The store's objects as Kubernetes JSON: apiVersion, kind, metadata,
//! spec with the real field names, and status. Only what pacsim models is
//! there, and in the form the manifest parser reads back, so a patch can be
//! applied to the rendering and the result parsed like any manifest.

use super::resources::Resource;
use super::rollout::{SetCounts, deployment_status};
use crate::api::objects::*;
use crate::model::{Resources, SimTime};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The one container a modelled pod shows: pacsim keeps the sum of the
/// containers' requests and limits, not the containers.
pub const CONTAINER: &str = "pacsim";

/// Wall-clock anchor of virtual time zero (seconds since the Unix epoch),
/// for timestamps.
#[derive(Clone, Copy, Debug)]
pub struct Epoch(pub u64);

impl Epoch {
    /// RFC 3339 (UTC, whole seconds) of virtual time `at`.
    pub fn timestamp(self, at: SimTime) -> String {
        rfc3339(self.0 + at.0 / 1_000_000_000)
    }
}

/// `2026-12-06T15:16:55Z` for `secs` since the Unix epoch.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil: (year, month, day) of a day count.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A cpu quantity: `2` or `500m`.
pub fn cpu(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

/// A byte quantity in the largest binary unit that divides it.
pub fn bytes(n: u64) -> String {
    for (unit, size) in [
        ("Ti", 1u64 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ] {
        if n >= size && n.is_multiple_of(size) {
            return format!("{}{unit}", n / size);
        }
    }
    n.to_string()
}

fn quantities(r: Resources) -> Value {
    let mut m = Map::new();
    if r.cpu_millis > 0 {
        m.insert("cpu".into(), cpu(r.cpu_millis).into());
    }
    if r.memory_bytes > 0 {
        m.insert("memory".into(), bytes(r.memory_bytes).into());
    }
    if r.gpu_millis > 0 {
        m.insert("nvidia.com/gpu".into(), cpu(r.gpu_millis).into());
    }
    Value::Object(m)
}

fn labels(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// A stable uid: the same object (key and creation) always has the same.
/// Owners (Deployments, ReplicaSets) have theirs from their key alone, so
/// that what they own can name it.
fn uid(key: &ObjectKey, creation: SimTime) -> String {
    match key.kind {
        Kind::Deployment | Kind::ReplicaSet => uid_of(&key.to_string()),
        _ => uid_of(&format!("{key}@{}", creation.0)),
    }
}

fn uid_of(text: &str) -> String {
    let h = blake3::hash(text.as_bytes());
    let b = h.as_bytes();
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
        u16::from_be_bytes([b[6], b[7]]) & 0x0fff | 0x4000,
        u16::from_be_bytes([b[8], b[9]]) & 0x3fff | 0x8000,
        u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]])
    )
}

/// `metadata` of `object` as resource `res` shows it.
pub fn metadata(object: &Object, epoch: Epoch) -> Value {
    let meta = &object.meta;
    let mut m = Map::new();
    m.insert("name".into(), meta.name.clone().into());
    if !meta.namespace.is_empty() {
        m.insert("namespace".into(), meta.namespace.clone().into());
    }
    m.insert("uid".into(), uid(&object.key(), meta.creation).into());
    m.insert(
        "resourceVersion".into(),
        meta.resource_version.to_string().into(),
    );
    m.insert(
        "creationTimestamp".into(),
        epoch.timestamp(meta.creation).into(),
    );
    if !meta.labels.is_empty() {
        m.insert("labels".into(), labels(&meta.labels));
    }
    // A pod is its ReplicaSet's; a ReplicaSet may be its Deployment's.
    let owner_kind = match object.kind() {
        Kind::Pod => Some(Kind::ReplicaSet),
        Kind::ReplicaSet => Some(Kind::Deployment),
        _ => None,
    };
    if let (Some(owner), Some(kind)) = (&meta.owner, owner_kind) {
        let key = ObjectKey::new(kind, &meta.namespace, owner);
        m.insert(
            "ownerReferences".into(),
            json!([{
                "apiVersion": "apps/v1",
                "kind": kind.name(),
                "name": owner,
                "uid": uid(&key, SimTime::ZERO),
                "controller": true,
                "blockOwnerDeletion": true,
            }]),
        );
    }
    Value::Object(m)
}

/// The whole object as resource `res` (its apiVersion and kind) shows it;
/// a Deployment's status from its pods' `counts`.
pub fn object(object: &Object, res: &Resource, epoch: Epoch, counts: Option<SetCounts>) -> Value {
    let mut m = Map::new();
    m.insert("apiVersion".into(), res.api_version().into());
    m.insert("kind".into(), res.kind.into());
    let mut meta = metadata(object, epoch);
    // A set's spec changes only with a write of it: the resourceVersion
    // serves as the generation, always observed.
    let generation = object.meta.resource_version;
    let counts = counts.unwrap_or_default();
    // Their own annotations and the revision the controller gives them.
    let annotate = |meta: &mut Value, own: &BTreeMap<String, String>, r: u64| {
        let mut all = own.clone();
        if r > 0 {
            all.insert("deployment.kubernetes.io/revision".into(), r.to_string());
        }
        if !all.is_empty() {
            meta["annotations"] = labels(&all);
        }
    };
    match &object.body {
        Body::Deployment(d) => {
            meta["generation"] = generation.into();
            annotate(&mut meta, &d.annotations, counts.revision);
            m.insert("metadata".into(), meta);
            m.insert("spec".into(), deployment(d));
            m.insert(
                "status".into(),
                deployment_status(d.replicas, d.paused, generation, counts),
            );
            return Value::Object(m);
        }
        Body::ReplicaSet(rs) => {
            meta["generation"] = generation.into();
            annotate(&mut meta, &rs.annotations, rs.revision);
            m.insert("metadata".into(), meta);
            m.insert("spec".into(), replica_set(rs));
            m.insert(
                "status".into(),
                super::rollout::replica_set_status(generation, counts),
            );
            return Value::Object(m);
        }
        _ => {}
    }
    if let Body::Pod(p) = &object.body
        && let Some(shown) = pod_annotations(&p.spec)
    {
        meta["annotations"] = shown;
    }
    m.insert("metadata".into(), meta);
    let (spec, status) = spec_status(&object.body, res);
    match &object.body {
        Body::StorageClass(sc) => {
            m.insert("provisioner".into(), "csi.vsphere.vmware.com".into());
            m.insert(
                "parameters".into(),
                json!({"storagePolicyID": sc.storage_policy}),
            );
        }
        _ => {
            if let Some(spec) = spec {
                m.insert("spec".into(), spec);
            }
        }
    }
    if let Some(status) = status {
        m.insert("status".into(), status);
    }
    Value::Object(m)
}

fn spec_status(body: &Body, res: &Resource) -> (Option<Value>, Option<Value>) {
    match body {
        Body::Namespace(_) => (None, Some(json!({"phase": "Active"}))),
        Body::Node(n) => node(n),
        Body::StorageClass(_) => (None, None),
        Body::VirtualMachineClass(c) => (
            Some(json!({
                "hardware": {"cpus": c.hardware.cpu_millis / 1000, "memory": bytes(c.hardware.memory_bytes)},
                "policies": {"resources": {"requests": quantities(c.requests)}},
            })),
            None,
        ),
        Body::VirtualMachineImage(i) => (None, Some(json!({"diskSize": bytes(i.disk_bytes)}))),
        Body::PersistentVolumeClaim(p) => pvc(p),
        Body::Service(s) => service(s),
        Body::ReplicaSet(rs) => (Some(replica_set(rs)), None),
        Body::Deployment(d) => (Some(deployment(d)), None),
        Body::Pod(p) => pod(p),
        Body::VirtualMachine(vm) => virtual_machine(vm, res.version == "v1alpha1"),
        Body::TanzuKubernetesCluster(t) => tkc(t),
    }
}

fn node(n: &Node) -> (Option<Value>, Option<Value>) {
    let mut spec = Map::new();
    if n.unschedulable {
        spec.insert("unschedulable".into(), true.into());
    }
    if !n.taints.is_empty() {
        let taints: Vec<Value> = n
            .taints
            .iter()
            .map(|t| json!({"key": t.key, "value": t.value, "effect": effect(t.effect)}))
            .collect();
        spec.insert("taints".into(), taints.into());
    }
    let capacity = quantities(n.capacity);
    let status = json!({
        "capacity": capacity,
        "allocatable": capacity,
        "conditions": [{
            "type": "Ready",
            "status": if n.ready { "True" } else { "Unknown" },
            "reason": if n.ready { "SpheretletReady" } else { "NodeStatusUnknown" },
        }],
        "nodeInfo": {"kubeletVersion": "v1.32.0-sph", "operatingSystem": "ESXi", "architecture": "amd64"},
    });
    (Some(Value::Object(spec)), Some(status))
}

fn effect(e: TaintEffect) -> &'static str {
    match e {
        TaintEffect::NoSchedule => "NoSchedule",
        TaintEffect::PreferNoSchedule => "PreferNoSchedule",
        TaintEffect::NoExecute => "NoExecute",
    }
}

fn pvc(p: &PersistentVolumeClaim) -> (Option<Value>, Option<Value>) {
    let mut spec = json!({
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": bytes(p.bytes)}},
    });
    if !p.storage_class.is_empty() {
        spec["storageClassName"] = p.storage_class.clone().into();
    }
    let status = match &p.datastore {
        Some(ds) => {
            json!({"phase": "Bound", "capacity": {"storage": bytes(p.bytes)}, "datastore": ds})
        }
        None => json!({"phase": "Pending"}),
    };
    (Some(spec), Some(status))
}

fn service(s: &Service) -> (Option<Value>, Option<Value>) {
    let spec = json!({
        "type": if s.load_balancer { "LoadBalancer" } else { "ClusterIP" },
        "selector": labels(&s.selector),
    });
    let status = match &s.vip {
        Some(ip) => json!({"loadBalancer": {"ingress": [{"ip": ip}]}}),
        None => json!({"loadBalancer": {}}),
    };
    (Some(spec), Some(status))
}

/// A pod's annotations, with `pacsim.io/run-for` as it was written (so
/// that a body read, changed and written back keeps it); None if none.
fn pod_annotations(spec: &PodSpec) -> Option<Value> {
    let mut all = spec.annotations.clone();
    if let Some(run_for) = spec.run_for {
        let span = crate::model::time::format_span_exact(run_for.0);
        all.insert("pacsim.io/run-for".into(), span);
    }
    (!all.is_empty()).then(|| labels(&all))
}

fn replica_set(rs: &ReplicaSet) -> Value {
    set_spec(rs.replicas, &rs.template_labels, &rs.template)
}

fn set_spec(replicas: u32, template_labels: &BTreeMap<String, String>, spec: &PodSpec) -> Value {
    let mut template_meta = json!({"labels": labels(template_labels)});
    if let Some(shown) = pod_annotations(spec) {
        template_meta["annotations"] = shown;
    }
    json!({
        "replicas": replicas,
        "selector": {"matchLabels": labels(template_labels)},
        "template": {
            "metadata": template_meta,
            "spec": pod_spec(spec),
        },
    })
}

fn deployment(d: &Deployment) -> Value {
    let mut spec = set_spec(d.replicas, &d.template_labels, &d.template);
    let amount = |a: Amount| match a {
        Amount::Count(n) => Value::from(n),
        Amount::Percent(p) => Value::from(format!("{p}%")),
    };
    spec["strategy"] = match d.strategy {
        Strategy::Recreate => json!({"type": "Recreate"}),
        Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } => json!({
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": amount(max_surge), "maxUnavailable": amount(max_unavailable)},
        }),
    };
    spec["revisionHistoryLimit"] = (crate::supervisor::deployment::REVISION_HISTORY as u64).into();
    if d.paused {
        spec["paused"] = true.into();
    }
    spec
}

/// The pod spec as one container holding the modelled requests and limits.
pub fn pod_spec(spec: &PodSpec) -> Value {
    let mut m = Map::new();
    m.insert("containers".into(), containers(spec).into());
    if !spec.node_selector.is_empty() {
        m.insert("nodeSelector".into(), labels(&spec.node_selector));
    }
    if !spec.tolerations.is_empty() {
        let t: Vec<Value> = spec.tolerations.iter().map(toleration).collect();
        m.insert("tolerations".into(), t.into());
    }
    if let Some(a) = affinity(&spec.affinity) {
        m.insert("affinity".into(), a);
    }
    if !spec.volumes.is_empty() {
        let v: Vec<Value> = spec
            .volumes
            .iter()
            .map(|c| json!({"name": c, "persistentVolumeClaim": {"claimName": c}}))
            .collect();
        m.insert("volumes".into(), v.into());
    }
    Value::Object(m)
}

fn toleration(t: &Toleration) -> Value {
    let mut m = Map::new();
    if !t.key.is_empty() {
        m.insert("key".into(), t.key.clone().into());
    }
    m.insert(
        "operator".into(),
        match t.operator {
            TolerationOperator::Equal => "Equal",
            TolerationOperator::Exists => "Exists",
        }
        .into(),
    );
    if !t.value.is_empty() {
        m.insert("value".into(), t.value.clone().into());
    }
    if let Some(e) = t.effect {
        m.insert("effect".into(), effect(e).into());
    }
    Value::Object(m)
}

fn requirement(r: &LabelRequirement) -> Value {
    if r.values.is_empty() {
        json!({"key": r.key, "operator": "Exists"})
    } else {
        json!({"key": r.key, "operator": "In", "values": r.values})
    }
}

fn pod_term(selector: &BTreeMap<String, String>) -> Value {
    json!({"labelSelector": {"matchLabels": labels(selector)}, "topologyKey": "kubernetes.io/hostname"})
}

fn affinity(a: &Affinity) -> Option<Value> {
    const REQUIRED: &str = "requiredDuringSchedulingIgnoredDuringExecution";
    const PREFERRED: &str = "preferredDuringSchedulingIgnoredDuringExecution";
    let mut m = Map::new();
    let mut node = Map::new();
    if !a.node_required.is_empty() {
        let exprs: Vec<Value> = a.node_required.iter().map(requirement).collect();
        node.insert(
            REQUIRED.into(),
            json!({"nodeSelectorTerms": [{"matchExpressions": exprs}]}),
        );
    }
    if !a.node_preferred.is_empty() {
        let p: Vec<Value> = a
            .node_preferred
            .iter()
            .map(
                |(w, r)| json!({"weight": w, "preference": {"matchExpressions": [requirement(r)]}}),
            )
            .collect();
        node.insert(PREFERRED.into(), p.into());
    }
    if !node.is_empty() {
        m.insert("nodeAffinity".into(), Value::Object(node));
    }
    for (name, required, preferred) in [
        ("podAffinity", &a.pod_required, &a.pod_preferred),
        (
            "podAntiAffinity",
            &a.pod_anti_required,
            &a.pod_anti_preferred,
        ),
    ] {
        let mut section = Map::new();
        if !required.is_empty() {
            let r: Vec<Value> = required.iter().map(pod_term).collect();
            section.insert(REQUIRED.into(), r.into());
        }
        if !preferred.is_empty() {
            let p: Vec<Value> = preferred
                .iter()
                .map(|(w, s)| json!({"weight": w, "podAffinityTerm": pod_term(s)}))
                .collect();
            section.insert(PREFERRED.into(), p.into());
        }
        if !section.is_empty() {
            m.insert(name.into(), Value::Object(section));
        }
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// The pod's containers as written, or one holding the modelled sums.
fn containers(spec: &PodSpec) -> Vec<Value> {
    let container = |name: &str, image: &str, requests: Resources, limits: Resources| {
        let mut resources = Map::new();
        if requests != Resources::ZERO {
            resources.insert("requests".into(), quantities(requests));
        }
        if limits != Resources::ZERO {
            resources.insert("limits".into(), quantities(limits));
        }
        json!({"name": name, "image": image, "resources": resources})
    };
    if spec.containers.is_empty() {
        return vec![container(
            CONTAINER,
            "pacsim/modelled",
            spec.requests,
            spec.limits,
        )];
    }
    (spec.containers.iter())
        .map(|c| container(&c.name, &c.image, c.requests, c.limits))
        .collect()
}

fn pod(p: &Pod) -> (Option<Value>, Option<Value>) {
    let mut spec = pod_spec(&p.spec);
    if let Some(node) = &p.node {
        spec["nodeName"] = node.clone().into();
    }
    let mut status = Map::new();
    status.insert("phase".into(), p.phase.name().into());
    if let Some(ip) = &p.ip {
        status.insert("podIP".into(), ip.clone().into());
    }
    if let Some(reason) = &p.reason {
        status.insert("reason".into(), reason.clone().into());
        status.insert("message".into(), reason.clone().into());
    }
    let ready = p.phase == PodPhase::Running;
    status.insert(
        "conditions".into(),
        json!([
            {"type": "PodScheduled", "status": if p.node.is_some() { "True" } else { "False" }},
            {"type": "Ready", "status": if ready { "True" } else { "False" }},
        ]),
    );
    let statuses: Vec<Value> = containers(&p.spec)
        .into_iter()
        .map(|c| json!({"name": c["name"], "ready": ready, "restartCount": 0, "image": c["image"]}))
        .collect();
    status.insert("containerStatuses".into(), statuses.into());
    (Some(spec), Some(Value::Object(status)))
}

/// `PoweredOn` (v1alpha2 on) or `poweredOn` (v1alpha1).
pub fn power_state(p: PowerState, v1alpha1: bool) -> String {
    let name = p.name();
    if v1alpha1 {
        let mut c = name.chars();
        let first = c.next().map(|f| f.to_ascii_lowercase());
        first.into_iter().chain(c).collect()
    } else {
        name.to_string()
    }
}

fn virtual_machine(vm: &VirtualMachine, v1alpha1: bool) -> (Option<Value>, Option<Value>) {
    let mut spec = json!({
        "className": vm.class_name,
        "imageName": vm.image_name,
        "powerState": power_state(vm.power_state, v1alpha1),
    });
    if !vm.storage_class.is_empty() {
        spec["storageClass"] = vm.storage_class.clone().into();
    }
    if !vm.volumes.is_empty() {
        let v: Vec<Value> = vm
            .volumes
            .iter()
            .map(|c| json!({"name": c, "persistentVolumeClaim": {"claimName": c}}))
            .collect();
        spec["volumes"] = v.into();
    }
    let mut status = json!({
        "phase": vm.phase.name(),
        "powerState": power_state(vm.actual_power, v1alpha1),
    });
    if let Some(host) = &vm.host {
        status["host"] = host.clone().into();
    }
    if let Some(ip) = &vm.ip {
        status["vmIp"] = ip.clone().into();
    }
    if let Some(reason) = &vm.reason {
        status["reason"] = reason.clone().into();
    }
    (Some(spec), Some(status))
}

fn tkc(t: &TanzuKubernetesCluster) -> (Option<Value>, Option<Value>) {
    let pool = |p: &NodePool, named: bool| {
        let mut v = json!({
            "replicas": p.replicas,
            "vmClass": p.vm_class,
            "storageClass": p.storage_class,
            "tkr": {"reference": {"name": t.version}},
        });
        if named {
            v["name"] = p.name.clone().into();
        }
        if let Some((min, max)) = p.autoscale {
            v["autoscaler"] = json!({"min": min, "max": max});
        }
        v
    };
    let pools: Vec<Value> = t.node_pools.iter().map(|p| pool(p, true)).collect();
    let spec = json!({
        "topology": {"controlPlane": pool(&t.control_plane, false), "nodePools": pools},
    });
    let mut status = json!({
        "phase": phase_name(t.phase),
        "nodesReady": t.nodes_ready,
    });
    if let Some(ip) = &t.endpoint {
        status["apiEndpoints"] = json!([{"host": ip, "port": 6443}]);
    }
    (Some(spec), Some(status))
}

fn phase_name(p: ClusterPhase) -> &'static str {
    match p {
        ClusterPhase::Creating => "creating",
        ClusterPhase::Running => "running",
        ClusterPhase::Updating => "updating",
        ClusterPhase::Deleting => "deleting",
        ClusterPhase::Failed => "failed",
    }
}
