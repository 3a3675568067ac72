//! The guest cluster's kube-scheduler, pure: filter the nodes a pod may go
//! on, score them least-allocated, ties by node name. A guest pod is a
//! container on a worker VM, not a vSphere Pod, so there is no DRS step and
//! no volume topology: only readiness, cordons, the control plane's
//! NoSchedule taint, nodeSelector / required node affinity, and room.

use crate::api::objects::{PodSpec, Taint, TaintEffect};
use crate::model::Resources;
use crate::supervisor::scheduling::{Labels, effective_requests, least_allocated_score, tolerated};

/// The taint kubeadm puts on control-plane nodes.
pub const CONTROL_PLANE_TAINT: &str = "node-role.kubernetes.io/control-plane";
/// The label that names a node's pool (a TKC node pool).
pub const POOL_LABEL: &str = "run.tanzu.vmware.com/node-pool";

/// A node as the scheduler sees it.
#[derive(Clone, Debug)]
pub struct NodeFit {
    pub name: String,
    pub labels: Labels,
    pub capacity: Resources,
    /// Requests of the pods bound here.
    pub requested: Resources,
    /// Ready and not cordoned.
    pub schedulable: bool,
    pub control_plane: bool,
}

impl NodeFit {
    pub fn free(&self) -> Resources {
        self.capacity.saturating_sub(&self.requested)
    }
}

pub fn control_plane_taint() -> Taint {
    Taint {
        key: CONTROL_PLANE_TAINT.into(),
        value: String::new(),
        effect: TaintEffect::NoSchedule,
    }
}

/// Whether the pod may go on the node, room aside.
pub fn allowed(spec: &PodSpec, node: &NodeFit) -> bool {
    node.schedulable
        && (!node.control_plane || tolerated(&spec.tolerations, &control_plane_taint()))
        && labels_match(spec, &node.labels)
}

/// nodeSelector and the required node-affinity term.
pub fn labels_match(spec: &PodSpec, labels: &Labels) -> bool {
    spec.node_selector
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
        && spec.affinity.node_required.iter().all(|r| {
            labels
                .get(&r.key)
                .is_some_and(|v| r.values.is_empty() || r.values.contains(v))
        })
}

/// The node the pod goes on (index into `nodes`), or None: it stays
/// Pending. `nodes` come in name order, so the first best score wins ties.
pub fn pick(spec: &PodSpec, nodes: &[NodeFit]) -> Option<usize> {
    let req = effective_requests(spec);
    let mut best: Option<(usize, i64)> = None;
    for (i, n) in nodes.iter().enumerate() {
        if !allowed(spec, n) || !req.fits_in(&n.free()) {
            continue;
        }
        let score = least_allocated_score(n.requested + req, n.capacity);
        if best.is_none_or(|(_, b)| score > b) {
            best = Some((i, score));
        }
    }
    best.map(|(i, _)| i)
}

/// Why nothing fits, as upstream words it, for the pod's status.
pub fn unschedulable_reason(spec: &PodSpec, nodes: &[NodeFit]) -> String {
    let req = effective_requests(spec);
    let allowed_nodes: Vec<&NodeFit> = nodes.iter().filter(|n| allowed(spec, n)).collect();
    let short = allowed_nodes
        .iter()
        .filter(|n| !req.fits_in(&n.free()))
        .count();
    format!(
        "0/{} nodes are available: {} not schedulable or not matching, {} Insufficient resources",
        nodes.len(),
        nodes.len() - allowed_nodes.len(),
        short
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::api::objects::{Toleration, TolerationOperator};

    pub fn node(name: &str, cores: u64, used: u64, cp: bool) -> NodeFit {
        NodeFit {
            name: name.into(),
            labels: Labels::new(),
            capacity: Resources::cores(cores, 4 * cores),
            requested: Resources::cores(used, 4 * used),
            schedulable: true,
            control_plane: cp,
        }
    }

    fn pod(cores: u64) -> PodSpec {
        PodSpec {
            requests: Resources::cores(cores, cores),
            ..PodSpec::default()
        }
    }

    #[test]
    fn least_allocated_wins_and_ties_go_to_the_first_name() {
        let nodes = vec![node("a", 4, 2, false), node("b", 4, 1, false)];
        assert_eq!(pick(&pod(1), &nodes), Some(1));
        let nodes = vec![node("a", 4, 1, false), node("b", 4, 1, false)];
        assert_eq!(pick(&pod(1), &nodes), Some(0));
    }

    #[test]
    fn control_plane_cordoned_and_full_nodes_are_skipped() {
        let mut cordoned = node("b", 8, 0, false);
        cordoned.schedulable = false;
        let nodes = vec![node("a", 8, 0, true), cordoned, node("c", 2, 1, false)];
        assert_eq!(pick(&pod(1), &nodes), Some(2));
        assert_eq!(pick(&pod(2), &nodes), None);
        assert!(unschedulable_reason(&pod(2), &nodes).starts_with("0/3 nodes are available: 2 "));
        // A pod that tolerates the control-plane taint may go there.
        let mut tolerant = pod(2);
        tolerant.tolerations.push(Toleration {
            key: CONTROL_PLANE_TAINT.into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: None,
        });
        assert_eq!(pick(&tolerant, &nodes), Some(0));
    }

    #[test]
    fn node_selector_picks_the_pool() {
        let mut a = node("a", 8, 0, false);
        a.labels.insert(POOL_LABEL.into(), "small".into());
        let mut b = node("b", 8, 4, false);
        b.labels.insert(POOL_LABEL.into(), "big".into());
        let mut spec = pod(1);
        spec.node_selector.insert(POOL_LABEL.into(), "big".into());
        assert_eq!(pick(&spec, &[a, b]), Some(1));
    }
}
