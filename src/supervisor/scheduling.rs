//! kube-scheduler's decision for one pod, pure: the filters and scores of
//! the default profile that apply to vSphere Pods, with upstream's messages
//! and its integer formulas (so that a decision is exact and repeatable).
//! The scheduler actor builds the [`NodeView`]s from its watch cache.
//!
//! Filters, in upstream order, the first failing one per node giving its
//! reason: NodeUnschedulable, TaintToleration (NotReady is upstream's
//! `node.kubernetes.io/not-ready` NoExecute taint), NodeAffinity
//! (nodeSelector + required terms), NodeResourcesFit, VolumeBinding
//! (the claim's datastore must be visible), InterPodAffinity (host level).
//! Scores, with the default plugin weights: TaintToleration ×3
//! (PreferNoSchedule), NodeAffinity ×2 (preferred terms), least-allocated
//! ×1, balanced-allocation ×1, InterPodAffinity ×2 (preferred terms).

use crate::api::objects::{
    LabelRequirement, PodSpec, Taint, TaintEffect, Toleration, TolerationOperator,
};
use crate::model::{HostId, Resources};
use std::collections::{BTreeMap, BTreeSet};

pub type Labels = BTreeMap<String, String>;

pub const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";
pub const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";
pub const MAX_NODE_SCORE: i64 = 100;
/// Upstream's non-zero defaults for pods that request nothing (scores only).
pub const DEFAULT_CPU_MILLIS: u64 = 100;
pub const DEFAULT_MEMORY_BYTES: u64 = 200 * 1024 * 1024;

/// A pod as the affinity rules see it.
#[derive(Clone, Debug, PartialEq)]
pub struct PodRef {
    pub namespace: String,
    pub labels: Labels,
    /// Its required anti-affinity selectors (existing pods' rules bind new
    /// pods too).
    pub anti_required: Vec<Labels>,
}

/// A node with what is already on it.
#[derive(Clone, Debug)]
pub struct NodeView {
    pub name: String,
    pub host: HostId,
    pub labels: Labels,
    pub capacity: Resources,
    pub ready: bool,
    pub unschedulable: bool,
    pub taints: Vec<Taint>,
    /// Requests of the pods bound here plus the reservations of the VMs here.
    pub requested: Resources,
    /// The same with upstream's defaults for pods without requests.
    pub requested_nonzero: Resources,
    /// The pods here: change it through `push_pod` and `remove_pod`.
    pub pods: Vec<PodRef>,
    /// How many of `pods` have required anti-affinity terms: when none do,
    /// the filter for existing pods' anti-affinity need not look at them
    /// (it did for every node and pod, which made scheduling quadratic).
    pub pods_with_anti: usize,
}

impl NodeView {
    /// Accounts a pod just bound here (the scheduler's assume cache).
    pub fn add_pod(&mut self, pod: &PodRef, spec: &PodSpec) {
        self.requested += effective_requests(spec);
        self.requested_nonzero += nonzero_requests(spec);
        self.push_pod(pod.clone());
    }

    pub fn push_pod(&mut self, pod: PodRef) {
        self.pods_with_anti += usize::from(!pod.anti_required.is_empty());
        self.pods.push(pod);
    }

    /// Removes one pod equal to `pod` (equal refs are interchangeable:
    /// every use of a node's pods is a count or an `any`).
    pub fn remove_pod(&mut self, pod: &PodRef) {
        if let Some(at) = self.pods.iter().position(|p| p == pod) {
            let gone = self.pods.swap_remove(at);
            self.pods_with_anti -= usize::from(!gone.anti_required.is_empty());
        }
    }
}

/// Which hosts the pod's volumes allow: `Err` when a claim is missing or
/// not yet bound to a datastore (upstream's PreFilter failure).
pub type VolumeHosts = Result<Option<BTreeSet<HostId>>, String>;

/// What the scheduler decided for one pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Index into the nodes given.
    Bind(usize),
    /// Nothing fits; the PodScheduled condition's message.
    Unschedulable(String),
}

/// Requests as the API defaults them: a resource with no request but a
/// limit requests its limit.
pub fn effective_requests(spec: &PodSpec) -> Resources {
    let (r, l) = (spec.requests, spec.limits);
    Resources {
        cpu_millis: if r.cpu_millis > 0 {
            r.cpu_millis
        } else {
            l.cpu_millis
        },
        memory_bytes: if r.memory_bytes > 0 {
            r.memory_bytes
        } else {
            l.memory_bytes
        },
        gpu_millis: if r.gpu_millis > 0 {
            r.gpu_millis
        } else {
            l.gpu_millis
        },
    }
}

pub fn nonzero_requests(spec: &PodSpec) -> Resources {
    let mut r = effective_requests(spec);
    if r.cpu_millis == 0 {
        r.cpu_millis = DEFAULT_CPU_MILLIS;
    }
    if r.memory_bytes == 0 {
        r.memory_bytes = DEFAULT_MEMORY_BYTES;
    }
    r
}

/// Upstream `Toleration.ToleratesTaint`.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect.is_some_and(|e| e != taint.effect) {
        return false;
    }
    if !t.key.is_empty() && t.key != taint.key {
        return false;
    }
    match t.operator {
        TolerationOperator::Exists => true,
        TolerationOperator::Equal => t.value == taint.value,
    }
}

pub fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

pub fn not_ready_taint() -> Taint {
    Taint {
        key: NOT_READY_TAINT.into(),
        value: String::new(),
        effect: TaintEffect::NoExecute,
    }
}

/// matchLabels: every pair present (an empty selector matches every pod).
pub fn selects(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn requirement_holds(r: &LabelRequirement, labels: &Labels) -> bool {
    match labels.get(&r.key) {
        Some(v) => r.values.is_empty() || r.values.contains(v),
        None => false,
    }
}

/// The taints a node effectively has: its own plus NotReady's.
fn node_taints(node: &NodeView) -> impl Iterator<Item = Taint> + '_ {
    let not_ready = (!node.ready).then(not_ready_taint);
    node.taints.iter().cloned().chain(not_ready)
}

/// The first filter `node` fails for the pod, as upstream's reasons.
pub fn filter(
    pod: &PodRef,
    spec: &PodSpec,
    node: &NodeView,
    volumes: &Option<BTreeSet<HostId>>,
    all_nodes: &[NodeView],
) -> Vec<String> {
    if node.unschedulable {
        let taint = Taint {
            key: UNSCHEDULABLE_TAINT.into(),
            value: String::new(),
            effect: TaintEffect::NoSchedule,
        };
        if !tolerated(&spec.tolerations, &taint) {
            return vec!["node(s) were unschedulable".into()];
        }
    }
    if let Some(t) = node_taints(node)
        .find(|t| t.effect != TaintEffect::PreferNoSchedule && !tolerated(&spec.tolerations, t))
    {
        return vec![format!(
            "node(s) had untolerated taint {{{}: {}}}",
            t.key, t.value
        )];
    }
    let selector_ok = spec
        .node_selector
        .iter()
        .all(|(k, v)| node.labels.get(k) == Some(v));
    let affinity_ok = spec
        .affinity
        .node_required
        .iter()
        .all(|r| requirement_holds(r, &node.labels));
    if !selector_ok || !affinity_ok {
        return vec!["node(s) didn't match Pod's node affinity/selector".into()];
    }
    let fit = insufficient(effective_requests(spec), node);
    if !fit.is_empty() {
        return fit;
    }
    if volumes
        .as_ref()
        .is_some_and(|hosts| !hosts.contains(&node.host))
    {
        return vec!["node(s) had volume node affinity conflict".into()];
    }
    pod_affinity(pod, spec, node, all_nodes)
        .map(|r| vec![r.to_string()])
        .unwrap_or_default()
}

fn insufficient(req: Resources, node: &NodeView) -> Vec<String> {
    let free = node.capacity.saturating_sub(&node.requested);
    let mut out = Vec::new();
    if req.cpu_millis > free.cpu_millis {
        out.push("Insufficient cpu".to_string());
    }
    if req.memory_bytes > free.memory_bytes {
        out.push("Insufficient memory".to_string());
    }
    if req.gpu_millis > free.gpu_millis {
        out.push("Insufficient nvidia.com/gpu".to_string());
    }
    out
}

/// InterPodAffinity's filter at host level (same namespace only), in
/// upstream's order: the pod's affinity, its anti-affinity, then the
/// anti-affinity of the pods already on the node.
fn pod_affinity(
    pod: &PodRef,
    spec: &PodSpec,
    node: &NodeView,
    all_nodes: &[NodeView],
) -> Option<&'static str> {
    let same_ns = |p: &PodRef| p.namespace == pod.namespace;
    for sel in &spec.affinity.pod_required {
        let here = node
            .pods
            .iter()
            .filter(|p| same_ns(p))
            .any(|p| selects(sel, &p.labels));
        // Upstream lets the first pod of a group in when it matches its own
        // term and no pod anywhere does.
        let first_of_group = selects(sel, &pod.labels)
            && !all_nodes
                .iter()
                .flat_map(|n| &n.pods)
                .filter(|p| same_ns(p))
                .any(|p| selects(sel, &p.labels));
        if !here && !first_of_group {
            return Some("node(s) didn't match pod affinity rules");
        }
    }
    let anti = spec.affinity.pod_anti_required.iter().any(|sel| {
        node.pods
            .iter()
            .filter(|p| same_ns(p))
            .any(|p| selects(sel, &p.labels))
    });
    if anti {
        return Some("node(s) didn't match pod anti-affinity rules");
    }
    let existing_anti = node.pods_with_anti > 0
        && node
            .pods
            .iter()
            .filter(|p| !p.anti_required.is_empty() && same_ns(p))
            .any(|p| p.anti_required.iter().any(|sel| selects(sel, &pod.labels)));
    if existing_anti {
        return Some("node(s) didn't satisfy existing pods anti-affinity rules");
    }
    None
}

/// Upstream's FitError message: reasons counted over nodes, sorted.
pub fn unschedulable_message(nodes: usize, reasons: &[Vec<String>]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in reasons.iter().flatten() {
        *counts.entry(r.as_str()).or_default() += 1;
    }
    let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    if parts.is_empty() {
        format!("0/{nodes} nodes are available.")
    } else {
        format!("0/{nodes} nodes are available: {}.", parts.join(", "))
    }
}

/// LeastAllocated for one resource: free share after the pod, 0..=100.
fn least_allocated(requested: u64, capacity: u64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    ((capacity - requested) as u128 * MAX_NODE_SCORE as u128 / capacity as u128) as i64
}

/// NodeResourcesFit (LeastAllocated, cpu and memory weight 1 each).
pub fn least_allocated_score(requested: Resources, capacity: Resources) -> i64 {
    let cpu = least_allocated(requested.cpu_millis, capacity.cpu_millis);
    let mem = least_allocated(requested.memory_bytes, capacity.memory_bytes);
    (cpu + mem) / 2
}

/// NodeResourcesBalancedAllocation for cpu and memory:
/// `(1 - |f_cpu - f_mem| / 2) × 100` truncated, in exact integers
/// (= 100 - ceil(50 |rc·cm - rm·cc| / (cc·cm)), fractions capped at 1).
pub fn balanced_allocation_score(requested: Resources, capacity: Resources) -> i64 {
    let (cc, cm) = (capacity.cpu_millis as u128, capacity.memory_bytes as u128);
    if cc == 0 || cm == 0 {
        return 0;
    }
    let rc = (requested.cpu_millis as u128).min(cc);
    let rm = (requested.memory_bytes as u128).min(cm);
    let diff = (rc * cm).abs_diff(rm * cc) * 50;
    let den = cc * cm;
    MAX_NODE_SCORE - diff.div_ceil(den) as i64
}

/// Upstream's DefaultNormalizeScore.
fn normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        *s = MAX_NODE_SCORE * *s / max;
        if reverse {
            *s = MAX_NODE_SCORE - *s;
        }
    }
}

/// The weighted total score of each feasible node (same order as `nodes`).
pub fn scores(pod: &PodRef, spec: &PodSpec, nodes: &[&NodeView]) -> Vec<i64> {
    let req = nonzero_requests(spec);
    // The preference scores are worked out only when something can set
    // them apart; otherwise each is the constant it normalizes to (no
    // taints: 100 everywhere; no preferences: 0), which is most pods.
    let taint: Option<Vec<i64>> = nodes.iter().any(|n| !n.taints.is_empty()).then(|| {
        let mut taint: Vec<i64> = nodes
            .iter()
            .map(|n| {
                n.taints
                    .iter()
                    .filter(|t| {
                        t.effect == TaintEffect::PreferNoSchedule
                            && !tolerated(&spec.tolerations, t)
                    })
                    .count() as i64
            })
            .collect();
        normalize(&mut taint, true);
        taint
    });
    let affinity = &spec.affinity;
    let node_aff: Option<Vec<i64>> = (!affinity.node_preferred.is_empty()).then(|| {
        let mut node_aff: Vec<i64> = nodes
            .iter()
            .map(|n| {
                affinity
                    .node_preferred
                    .iter()
                    .filter(|(_, r)| requirement_holds(r, &n.labels))
                    .map(|(w, _)| *w as i64)
                    .sum()
            })
            .collect();
        normalize(&mut node_aff, false);
        node_aff
    });
    let prefers_pods =
        !affinity.pod_preferred.is_empty() || !affinity.pod_anti_preferred.is_empty();
    let pod_aff: Option<Vec<i64>> = prefers_pods.then(|| {
        let raw: Vec<i64> = nodes
            .iter()
            .map(|n| {
                let count = |sel: &Labels| {
                    n.pods
                        .iter()
                        .filter(|p| p.namespace == pod.namespace && selects(sel, &p.labels))
                        .count() as i64
                };
                let plus: i64 = affinity
                    .pod_preferred
                    .iter()
                    .map(|(w, sel)| *w as i64 * count(sel))
                    .sum();
                let minus: i64 = affinity
                    .pod_anti_preferred
                    .iter()
                    .map(|(w, sel)| *w as i64 * count(sel))
                    .sum();
                plus - minus
            })
            .collect();
        let lo = raw.iter().copied().min().unwrap_or(0);
        let hi = raw.iter().copied().max().unwrap_or(0);
        raw.iter()
            .map(|r| {
                if hi > lo {
                    MAX_NODE_SCORE * (r - lo) / (hi - lo)
                } else {
                    0
                }
            })
            .collect()
    });
    let at =
        |v: &Option<Vec<i64>>, i: usize, otherwise: i64| v.as_ref().map_or(otherwise, |v| v[i]);
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let after = n.requested_nonzero + req;
            3 * at(&taint, i, MAX_NODE_SCORE)
                + 2 * at(&node_aff, i, 0)
                + least_allocated_score(after, n.capacity)
                + balanced_allocation_score(after, n.capacity)
                + 2 * at(&pod_aff, i, 0)
        })
        .collect()
}

/// Filters every node, scores the feasible ones; the highest total wins,
/// ties by node name.
pub fn schedule(
    pod: &PodRef,
    spec: &PodSpec,
    nodes: &[NodeView],
    volumes: &VolumeHosts,
) -> Decision {
    schedule_from(pod, spec, nodes, volumes, 0).0
}

/// How many feasible nodes upstream looks for before it stops filtering
/// (minFeasibleNodesToFind, and the adaptive percentageOfNodesToScore:
/// 50 % less one point per 125 nodes, at least 5 %): every node below 100
/// nodes, 420 of 1,000, 500 of 5,000.
pub fn feasible_nodes_to_find(all: usize) -> usize {
    const MIN_FEASIBLE: usize = 100;
    if all < MIN_FEASIBLE {
        return all;
    }
    let percent = (50 - (all / 125) as i64).max(5) as usize;
    (all * percent / 100).max(MIN_FEASIBLE)
}

/// `schedule`, filtering from node `start` on (round the list) and
/// stopping once `feasible_nodes_to_find` nodes pass, as upstream does;
/// also returns how many nodes it looked at (where the next pod starts).
pub fn schedule_from(
    pod: &PodRef,
    spec: &PodSpec,
    nodes: &[NodeView],
    volumes: &VolumeHosts,
    start: usize,
) -> (Decision, usize) {
    let volumes = match volumes {
        Ok(v) => v,
        Err(prefilter) => return (Decision::Unschedulable(prefilter.clone()), 0),
    };
    if nodes.is_empty() {
        return (
            Decision::Unschedulable("no nodes available to schedule pods".into()),
            0,
        );
    }
    let want = feasible_nodes_to_find(nodes.len());
    let mut feasible = Vec::new();
    let mut reasons = Vec::new();
    let mut processed = 0;
    for k in 0..nodes.len() {
        let i = (start + k) % nodes.len();
        processed += 1;
        let r = filter(pod, spec, &nodes[i], volumes, nodes);
        if r.is_empty() {
            feasible.push(i);
            if feasible.len() == want {
                break;
            }
        } else {
            reasons.push(r);
        }
    }
    if feasible.is_empty() {
        let message = unschedulable_message(nodes.len(), &reasons);
        return (Decision::Unschedulable(message), processed);
    }
    let views: Vec<&NodeView> = feasible.iter().map(|&i| &nodes[i]).collect();
    let totals = scores(pod, spec, &views);
    let best = feasible
        .iter()
        .zip(&totals)
        .max_by(|(a, sa), (b, sb)| {
            sa.cmp(sb)
                .then_with(|| nodes[**b].name.cmp(&nodes[**a].name))
        })
        .map(|(i, _)| *i)
        .expect("feasible is not empty");
    (Decision::Bind(best), processed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::objects::Affinity;
    use crate::model::resources::GIB;

    fn node(name: &str, host: u32, cores: u64, gib: u64) -> NodeView {
        NodeView {
            name: name.into(),
            host: HostId(host),
            labels: [("kubernetes.io/hostname".to_string(), name.to_string())].into(),
            capacity: Resources::cores(cores, gib),
            ready: true,
            unschedulable: false,
            taints: Vec::new(),
            requested: Resources::ZERO,
            requested_nonzero: Resources::ZERO,
            pods: Vec::new(),
            pods_with_anti: 0,
        }
    }

    fn pod(labels: &[(&str, &str)]) -> PodRef {
        PodRef {
            namespace: "ns".into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            anti_required: Vec::new(),
        }
    }

    fn spec(cores: u64, gib: u64) -> PodSpec {
        PodSpec {
            requests: Resources::cores(cores, gib),
            ..PodSpec::default()
        }
    }

    fn taint(key: &str, value: &str, effect: TaintEffect) -> Taint {
        Taint {
            key: key.into(),
            value: value.into(),
            effect,
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_message_counts_reasons_per_node_sorted_like_upstream() {
        let mut nodes: Vec<NodeView> = (0..5)
            .map(|i| node(&format!("esx-{i}"), i, 4, 16))
            .collect();
        for n in &mut nodes[3..] {
            n.taints
                .push(taint("dedicated", "gpu", TaintEffect::NoSchedule));
        }
        let d = schedule(&pod(&[]), &spec(8, 1), &nodes, &Ok(None));
        assert_eq!(
            d,
            Decision::Unschedulable(
                "0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu."
                    .into()
            )
        );
        // Both resources short: both reasons for the node.
        let d = schedule(&pod(&[]), &spec(8, 32), &nodes[..1], &Ok(None));
        assert_eq!(
            d,
            Decision::Unschedulable(
                "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.".into()
            )
        );
    }

    #[test]
    fn taints_are_tolerated_by_key_value_and_effect_and_not_ready_is_a_taint() {
        let mut n = node("a", 0, 8, 32);
        n.taints
            .push(taint("dedicated", "gpu", TaintEffect::NoSchedule));
        let mut s = spec(1, 1);
        let p = pod(&[]);
        assert!(!filter(&p, &s, &n, &None, &[]).is_empty());
        s.tolerations.push(Toleration {
            key: "dedicated".into(),
            operator: TolerationOperator::Equal,
            value: "cpu".into(),
            effect: None,
        });
        assert!(!filter(&p, &s, &n, &None, &[]).is_empty());
        s.tolerations[0].value = "gpu".into();
        assert!(filter(&p, &s, &n, &None, &[]).is_empty());
        s.tolerations[0].effect = Some(TaintEffect::NoExecute);
        assert!(!filter(&p, &s, &n, &None, &[]).is_empty());
        // PreferNoSchedule never filters.
        let mut m = node("b", 1, 8, 32);
        m.taints
            .push(taint("spot", "", TaintEffect::PreferNoSchedule));
        assert!(filter(&p, &spec(1, 1), &m, &None, &[]).is_empty());
        m.ready = false;
        assert_eq!(
            filter(&p, &spec(1, 1), &m, &None, &[]),
            vec!["node(s) had untolerated taint {node.kubernetes.io/not-ready: }".to_string()]
        );
        m.ready = true;
        m.unschedulable = true;
        assert_eq!(
            filter(&p, &spec(1, 1), &m, &None, &[]),
            vec!["node(s) were unschedulable".to_string()]
        );
    }

    #[test]
    fn node_selector_and_required_node_affinity_filter() {
        let nodes = vec![node("a", 0, 8, 32), node("b", 1, 8, 32)];
        let mut s = spec(1, 1);
        s.node_selector = labels(&[("kubernetes.io/hostname", "b")]);
        assert_eq!(
            schedule(&pod(&[]), &s, &nodes, &Ok(None)),
            Decision::Bind(1)
        );
        s.node_selector.clear();
        s.affinity.node_required.push(LabelRequirement {
            key: "kubernetes.io/hostname".into(),
            values: vec!["c".into()],
        });
        assert_eq!(
            schedule(&pod(&[]), &s, &nodes, &Ok(None)),
            Decision::Unschedulable(
                "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."
                    .into()
            )
        );
    }

    #[test]
    fn volumes_restrict_nodes_to_the_datastore_hosts() {
        let nodes = vec![node("a", 0, 8, 32), node("b", 1, 8, 32)];
        let only_b = Ok(Some([HostId(1)].into()));
        assert_eq!(
            schedule(&pod(&[]), &spec(1, 1), &nodes, &only_b),
            Decision::Bind(1)
        );
        let none = Ok(Some(BTreeSet::new()));
        assert_eq!(
            schedule(&pod(&[]), &spec(1, 1), &nodes, &none),
            Decision::Unschedulable(
                "0/2 nodes are available: 2 node(s) had volume node affinity conflict.".into()
            )
        );
    }

    #[test]
    fn host_level_pod_anti_affinity_and_affinity() {
        let mut nodes = vec![
            node("a", 0, 8, 32),
            node("b", 1, 8, 32),
            node("c", 2, 8, 32),
        ];
        let web = pod(&[("app", "web")]);
        nodes[0].push_pod(web.clone());
        nodes[1].push_pod(web.clone());
        let mut s = spec(1, 1);
        s.affinity.pod_anti_required.push(labels(&[("app", "web")]));
        assert_eq!(schedule(&web, &s, &nodes, &Ok(None)), Decision::Bind(2));
        nodes[2].push_pod(web.clone());
        assert_eq!(
            schedule(&web, &s, &nodes, &Ok(None)),
            Decision::Unschedulable(
                "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.".into()
            )
        );
        // Another namespace's pods do not count.
        let mut other = web.clone();
        other.namespace = "other".into();
        assert_eq!(schedule(&other, &s, &nodes, &Ok(None)), Decision::Bind(0));
        // Required affinity: only where a db pod runs; the first db-seeking
        // pod that is itself a db goes anywhere.
        let mut s = spec(1, 1);
        s.affinity.pod_required.push(labels(&[("app", "db")]));
        nodes[1].push_pod(pod(&[("app", "db")]));
        assert_eq!(
            schedule(&pod(&[]), &s, &nodes, &Ok(None)),
            Decision::Bind(1)
        );
        nodes[1].remove_pod(&pod(&[("app", "db")]));
        let db = pod(&[("app", "db")]);
        assert_eq!(schedule(&db, &s, &nodes, &Ok(None)), Decision::Bind(0));
        assert!(matches!(
            schedule(&pod(&[]), &s, &nodes, &Ok(None)),
            Decision::Unschedulable(_)
        ));
        // An existing pod's anti-affinity keeps newcomers it selects away.
        let mut loner = pod(&[]);
        loner.anti_required.push(labels(&[("app", "db")]));
        nodes[0].push_pod(loner);
        let r = filter(&db, &spec(1, 1), &nodes[0], &None, &[]);
        assert_eq!(
            r,
            vec!["node(s) didn't satisfy existing pods anti-affinity rules".to_string()]
        );
    }

    #[test]
    fn large_clusters_stop_filtering_at_upstreams_share_of_nodes() {
        assert_eq!(feasible_nodes_to_find(99), 99);
        assert_eq!(feasible_nodes_to_find(100), 100);
        assert_eq!(feasible_nodes_to_find(1000), 420);
        assert_eq!(feasible_nodes_to_find(5000), 500);
        assert_eq!(feasible_nodes_to_find(6000), 300);
        let nodes: Vec<NodeView> = (0..200)
            .map(|i| node(&format!("n{i:03}"), i, 8, 8))
            .collect();
        // 200 nodes: 100 feasible suffice; the next pod starts after them.
        let (d, seen) = schedule_from(&pod(&[]), &spec(1, 1), &nodes, &Ok(None), 150);
        assert_eq!(seen, 100);
        // All equal: the first name among those looked at (150..199, 0..49).
        assert_eq!(d, Decision::Bind(0));
        let (_, seen) = schedule_from(&pod(&[]), &spec(100, 1), &nodes, &Ok(None), 7);
        assert_eq!(seen, 200, "nothing fits: every node is looked at");
    }

    #[test]
    fn upstream_score_formulas_in_integers() {
        let cap = Resources::cores(10, 10);
        assert_eq!(
            least_allocated_score(Resources::cores(3, 5), cap),
            (70 + 50) / 2
        );
        // f_cpu 0.3, f_mem 0.5: (1 - 0.1) × 100 = 90.
        assert_eq!(balanced_allocation_score(Resources::cores(3, 5), cap), 90);
        // f 1/3 and 0: std 1/6 → 83.33 → 83.
        let r = Resources::new(1000, 0, 0);
        assert_eq!(balanced_allocation_score(r, Resources::cores(3, 10)), 83);
        assert_eq!(least_allocated_score(Resources::cores(11, 1), cap), 45);
    }

    #[test]
    fn the_least_loaded_node_wins_ties_go_to_the_name() {
        let mut nodes = vec![node("b", 1, 8, 32), node("a", 0, 8, 32)];
        assert_eq!(
            schedule(&pod(&[]), &spec(1, 4), &nodes, &Ok(None)),
            Decision::Bind(1)
        );
        let p = pod(&[]);
        nodes[1].add_pod(&p, &spec(2, 8));
        assert_eq!(
            schedule(&pod(&[]), &spec(1, 4), &nodes, &Ok(None)),
            Decision::Bind(0)
        );
        // Memory reservations count like cpu.
        assert_eq!(nodes[1].requested, Resources::new(2000, 8 * GIB, 0));
    }

    #[test]
    fn preferred_terms_and_prefer_no_schedule_steer_the_choice() {
        let mut nodes = vec![node("a", 0, 8, 32), node("b", 1, 8, 32)];
        nodes[0]
            .taints
            .push(taint("spot", "", TaintEffect::PreferNoSchedule));
        nodes[1]
            .taints
            .push(taint("x", "", TaintEffect::PreferNoSchedule));
        nodes[1]
            .taints
            .push(taint("y", "", TaintEffect::PreferNoSchedule));
        assert_eq!(
            schedule(&pod(&[]), &spec(1, 1), &nodes, &Ok(None)),
            Decision::Bind(0)
        );
        let mut s = spec(1, 1);
        s.affinity = Affinity {
            node_preferred: vec![(
                100,
                LabelRequirement {
                    key: "kubernetes.io/hostname".into(),
                    values: vec!["b".into()],
                },
            )],
            ..Affinity::default()
        };
        assert_eq!(
            schedule(&pod(&[]), &s, &nodes, &Ok(None)),
            Decision::Bind(1)
        );
        let mut s = spec(1, 1);
        nodes[0].push_pod(pod(&[("app", "web")]));
        s.affinity
            .pod_anti_preferred
            .push((50, labels(&[("app", "web")])));
        s.affinity
            .pod_preferred
            .push((1, labels(&[("app", "none")])));
        // Untolerated PreferNoSchedule counts 1 and 2, reversed: 50 and 0
        // (× 3); the anti-affinity raw -50 and 0 normalise to 0 and 100 (× 2).
        let views: Vec<&NodeView> = nodes.iter().collect();
        let t = scores(&pod(&[]), &s, &views);
        assert_eq!(t[0] - t[1], 3 * 50 - 2 * 100);
    }
}
