//! `metrics.k8s.io/v1beta1`, as metrics-server serves it, so that
//! `kubectl top` works: a node's usage is what its ESXi host has
//! allocated (vSphere Pods, VMs and control-plane VMs), and a Running
//! pod's is what its containers request. pacsim models no usage apart
//! from allocation, so this is the figure the simulator's utilization is
//! made of too.

use super::render::{self, Epoch};
use super::view::View;
use crate::api::objects::{Body, Kind, Object, PodPhase};
use crate::model::{Resources, SimTime};
use serde_json::{Value, json};

pub const GROUP: &str = "metrics.k8s.io";
pub const VERSION: &str = "v1beta1";

/// The window metrics-server reports its rates over; here the usage is
/// the allocation at the instant asked.
const WINDOW: &str = "1s";

fn usage(r: Resources) -> Value {
    json!({"cpu": render::cpu(r.cpu_millis), "memory": render::bytes(r.memory_bytes)})
}

fn metadata(o: &Object, epoch: Epoch, now: SimTime) -> Value {
    let mut m = json!({"name": o.meta.name, "creationTimestamp": epoch.timestamp(now)});
    if !o.meta.namespace.is_empty() {
        m["namespace"] = o.meta.namespace.clone().into();
    }
    if !o.meta.labels.is_empty() {
        m["labels"] = json!(o.meta.labels);
    }
    m
}

/// A node's NodeMetrics: its host's allocation.
pub fn node(v: &View<'_>, o: &Object, epoch: Epoch) -> Option<Value> {
    let Body::Node(n) = &o.body else {
        return None;
    };
    Some(json!({
        "kind": "NodeMetrics",
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "metadata": metadata(o, epoch, v.now),
        "timestamp": epoch.timestamp(v.now),
        "window": WINDOW,
        "usage": usage(v.host_used(n.host).unwrap_or_default()),
    }))
}

/// A Running pod's PodMetrics: its containers' requests (None for a pod
/// that is not running: metrics-server has no sample of it).
pub fn pod(v: &View<'_>, o: &Object, epoch: Epoch) -> Option<Value> {
    let Body::Pod(p) = &o.body else {
        return None;
    };
    if p.phase != PodPhase::Running {
        return None;
    }
    let containers: Vec<Value> = if p.spec.containers.is_empty() {
        vec![json!({"name": o.meta.name, "usage": usage(p.spec.requests)})]
    } else {
        (p.spec.containers.iter())
            .map(|c| json!({"name": c.name, "usage": usage(c.requests)}))
            .collect()
    };
    Some(json!({
        "kind": "PodMetrics",
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "metadata": metadata(o, epoch, v.now),
        "timestamp": epoch.timestamp(v.now),
        "window": WINDOW,
        "containers": containers,
    }))
}

/// The metrics of `kind` (nodes or pods) as a list.
pub fn list(kind: Kind, items: Vec<Value>) -> Value {
    let list_kind = match kind {
        Kind::Node => "NodeMetricsList",
        _ => "PodMetricsList",
    };
    json!({
        "kind": list_kind,
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "metadata": {},
        "items": items,
    })
}
