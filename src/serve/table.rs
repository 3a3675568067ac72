//! `meta.k8s.io/v1` Tables, which `kubectl get` asks for: the columns
//! people know for each kind, computed from the store.

use super::render::{self, Epoch};
use super::resources::Resource;
use super::rollout::SetCounts;
use crate::api::objects::*;
use crate::model::SimTime;
use serde_json::{Value, json};

/// The media type of a Table answer.
pub const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// What a row may need beyond its object: when it is, and a Deployment's
/// pod counts (the engine's, as its status shows them).
pub struct Context<'a> {
    pub now: SimTime,
    pub counts: &'a dyn Fn(&Object) -> Option<SetCounts>,
    /// A guest cluster's kubelet version (its nodes are not Spherelets).
    pub kubelet: Option<&'a str>,
}

/// kubectl's short ages: `45s`, `3m12s`, `17m`, `5h3m`, `9h`, `2d4h`, `12d`.
pub fn age(secs: u64) -> String {
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86_400);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{m}m{}s", s % 60),
        s if s < 3 * 3600 => format!("{m}m"),
        s if s < 8 * 3600 => format!("{h}h{}m", m % 60),
        s if s < 2 * 86_400 => format!("{h}h"),
        s if s < 8 * 86_400 => format!("{d}d{}h", h % 24),
        _ => format!("{d}d"),
    }
}

fn columns(res: &Resource) -> Vec<(&'static str, u8)> {
    match res.kind {
        "Pod" => vec![
            ("Name", 0),
            ("Ready", 0),
            ("Status", 0),
            ("Restarts", 0),
            ("Age", 0),
            ("IP", 1),
            ("Node", 1),
        ],
        "ReplicaSet" => vec![
            ("Name", 0),
            ("Desired", 0),
            ("Current", 0),
            ("Ready", 0),
            ("Age", 0),
        ],
        "Deployment" => vec![
            ("Name", 0),
            ("Ready", 0),
            ("Up-to-date", 0),
            ("Available", 0),
            ("Age", 0),
        ],
        "VirtualMachine" => vec![
            ("Name", 0),
            ("Power-State", 0),
            ("Class", 0),
            ("Image", 0),
            ("Host", 0),
            ("Age", 0),
            ("Primary-IP", 1),
        ],
        "TanzuKubernetesCluster" => vec![
            ("Name", 0),
            ("Control Plane", 0),
            ("Workers", 0),
            ("Phase", 0),
            ("Version", 0),
            ("Age", 0),
        ],
        "Node" => vec![
            ("Name", 0),
            ("Status", 0),
            ("Roles", 0),
            ("Age", 0),
            ("Version", 0),
        ],
        "Service" => vec![("Name", 0), ("Type", 0), ("External-IP", 0), ("Age", 0)],
        "PersistentVolumeClaim" => vec![
            ("Name", 0),
            ("Status", 0),
            ("Capacity", 0),
            ("StorageClass", 0),
            ("Age", 0),
        ],
        "Namespace" => vec![("Name", 0), ("Status", 0), ("Age", 0)],
        _ => vec![("Name", 0), ("Age", 0)],
    }
}

fn cells(o: &Object, ctx: &Context) -> Vec<Value> {
    let name = Value::from(o.meta.name.clone());
    let age = Value::from(age(ctx.now.since(o.meta.creation).0 / 1_000_000_000));
    let none = || Value::from("<none>");
    let opt = |s: &Option<String>| s.clone().map_or_else(none, Value::from);
    match &o.body {
        Body::Pod(p) => {
            let n = p.spec.containers.len().max(1);
            let ready = if p.phase == PodPhase::Running { n } else { 0 };
            vec![
                name,
                format!("{ready}/{n}").into(),
                p.phase.name().into(),
                0.into(),
                age,
                opt(&p.ip),
                opt(&p.node),
            ]
        }
        Body::ReplicaSet(rs) => {
            let c = (ctx.counts)(o).unwrap_or_default();
            vec![
                name,
                rs.replicas.into(),
                c.pods.into(),
                c.running.into(),
                age,
            ]
        }
        Body::Deployment(d) => {
            let c = (ctx.counts)(o).unwrap_or_default();
            vec![
                name,
                format!("{}/{}", c.running, d.replicas).into(),
                c.updated.into(),
                c.running.into(),
                age,
            ]
        }
        Body::VirtualMachine(vm) => vec![
            name,
            vm.actual_power.name().into(),
            vm.class_name.clone().into(),
            vm.image_name.clone().into(),
            opt(&vm.host),
            age,
            opt(&vm.ip),
        ],
        Body::TanzuKubernetesCluster(t) => {
            let workers: u32 = t.node_pools.iter().map(|p| p.replicas).sum();
            vec![
                name,
                t.control_plane.replicas.into(),
                workers.into(),
                t.phase.name().to_ascii_lowercase().into(),
                t.version.clone().into(),
                age,
            ]
        }
        Body::Node(n) => {
            let mut status = if n.ready { "Ready" } else { "NotReady" }.to_string();
            if n.unschedulable {
                status.push_str(",SchedulingDisabled");
            }
            let (roles, version) = match ctx.kubelet {
                Some(v) => (super::guest::roles(&o.meta.labels), v),
                None => ("agent".to_string(), "v1.32.0-sph"),
            };
            vec![name, status.into(), roles.into(), age, version.into()]
        }
        Body::Service(s) => vec![
            name,
            if s.load_balancer {
                "LoadBalancer"
            } else {
                "ClusterIP"
            }
            .into(),
            opt(&s.vip),
            age,
        ],
        Body::PersistentVolumeClaim(p) => vec![
            name,
            if p.datastore.is_some() {
                "Bound"
            } else {
                "Pending"
            }
            .into(),
            render::bytes(p.bytes).into(),
            p.storage_class.clone().into(),
            age,
        ],
        Body::Namespace(_) => vec![name, "Active".into(), age],
        _ => vec![name, age],
    }
}

/// A Table of `objects` as resource `res`; `with_columns` false after the
/// first event of a watch (kubectl keeps the first header).
pub fn table(
    objects: &[&Object],
    res: &Resource,
    ctx: &Context,
    epoch: Epoch,
    rv: u64,
    with_columns: bool,
) -> Value {
    let defs: Vec<Value> = if with_columns {
        columns(res)
            .into_iter()
            .map(|(name, priority)| {
                json!({
                    "name": name,
                    "type": "string",
                    "format": if name == "Name" { "name" } else { "" },
                    "description": "",
                    "priority": priority,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({
                "cells": cells(o, ctx),
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": render::metadata(o, epoch),
                },
            })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv.to_string()},
        "columnDefinitions": defs,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        assert_eq!(age(45), "45s");
        assert_eq!(age(192), "3m12s");
        assert_eq!(age(17 * 60), "17m");
        assert_eq!(age(5 * 3600 + 180), "5h3m");
        assert_eq!(age(9 * 3600), "9h");
        assert_eq!(age(2 * 86_400 + 4 * 3600), "2d4h");
        assert_eq!(age(12 * 86_400), "12d");
    }
}
