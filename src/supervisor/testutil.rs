//! Fixtures for the unit tests of the Supervisor's controllers.

use crate::api::objects::{Body, Meta, Node, Object, Pod, PodPhase, PodSpec, ReplicaSet, Taint};
use crate::model::{Dist, HostId, Resources};
use crate::scenario::*;

pub use super::testkit::addrs;

/// Kubelet defaults: heartbeat 10 s, grace 40 s, toleration 300 s; pods
/// start 5 s after they are asked to.
pub fn config() -> SupervisorConfig {
    let mut c = super::testkit::config(&[]);
    c.spherelet.pod_start_latency = Dist::Fixed(5_000_000_000);
    c
}

pub fn node_object(name: &str, host: u32, cores: u64, gib: u64, taints: &[Taint]) -> Object {
    Object {
        meta: Meta {
            name: name.into(),
            labels: [("kubernetes.io/hostname".to_string(), name.to_string())].into(),
            ..Meta::default()
        },
        body: Body::Node(Node {
            host: HostId(host),
            capacity: Resources::cores(cores, gib),
            ready: true,
            taints: taints.to_vec(),
            unschedulable: false,
        }),
    }
}

/// A Pending, unbound pod in namespace `ns`.
pub fn pod_object(name: &str, cores: u64, gib: u64) -> Object {
    Object {
        meta: Meta {
            name: name.into(),
            namespace: "ns".into(),
            ..Meta::default()
        },
        body: Body::Pod(Pod {
            spec: PodSpec {
                requests: Resources::cores(cores, gib),
                ..PodSpec::default()
            },
            node: None,
            phase: PodPhase::Pending,
            reason: None,
            ip: None,
            started: None,
        }),
    }
}

/// The same pod bound to `node` in `phase`.
pub fn bound(mut pod: Object, node: &str, phase: PodPhase) -> Object {
    if let Body::Pod(p) = &mut pod.body {
        p.node = Some(node.into());
        p.phase = phase;
    }
    pod
}

/// A ReplicaSet `name` in namespace `ns` whose pods are labelled app=name.
pub fn set_object(name: &str, replicas: u32) -> Object {
    Object {
        meta: Meta {
            name: name.into(),
            namespace: "ns".into(),
            ..Meta::default()
        },
        body: Body::ReplicaSet(ReplicaSet {
            replicas,
            template_labels: [("app".to_string(), name.to_string())].into(),
            template: PodSpec::default(),
            revision: 0,
            annotations: Default::default(),
        }),
    }
}
