//! Pods and their owners (Deployment, ReplicaSet): containers' resources
//! summed the way the kube-scheduler counts them, node selectors,
//! tolerations, host-level affinity and PersistentVolumeClaim volumes.

use super::super::error::{Diag, PResult};
use super::super::read::{self, Fields};
use super::super::units;
use super::super::yaml::Node;
use super::{Annotations, DISK_SIZE, affinity, dns_label, k8s_memory, labels};
use crate::api::objects::*;
use crate::model::Resources;
use std::collections::BTreeMap;

const POD_SPEC: &[&str] = &[
    "containers",
    "initContainers",
    "nodeSelector",
    "tolerations",
    "affinity",
    "volumes",
];
pub(crate) const POD_SPEC_IGNORED: &[&str] = &[
    "restartPolicy",
    "terminationGracePeriodSeconds",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "securityContext",
    "dnsPolicy",
    "dnsConfig",
    "imagePullSecrets",
    "hostname",
    "subdomain",
    "enableServiceLinks",
];
pub(crate) const CONTAINER_IGNORED: &[&str] = &[
    "ports",
    "env",
    "envFrom",
    "command",
    "args",
    "imagePullPolicy",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "volumeMounts",
    "securityContext",
    "workingDir",
    "lifecycle",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "stdin",
    "tty",
];
/// Volume sources other than a claim: no capacity to model.
/// The extended resource of NVIDIA's device plugin: whole GPUs.
const GPU: &str = "nvidia.com/gpu";

pub(crate) const VOLUME_IGNORED: &[&str] = &[
    "configMap",
    "secret",
    "emptyDir",
    "projected",
    "downwardAPI",
];
pub(crate) const RS_SPEC_IGNORED: &[&str] = &[
    "minReadySeconds",
    "revisionHistoryLimit",
    "progressDeadlineSeconds",
];

/// A new pod: Pending, not bound, no address.
pub(crate) fn new_pod(spec: PodSpec) -> Pod {
    Pod {
        spec,
        node: None,
        phase: PodPhase::Pending,
        reason: None,
        ip: None,
        started: None,
    }
}

pub(crate) fn parse_pod_spec(node: &Node, path: &str) -> PResult<PodSpec> {
    let f = Fields::with_ignored(node, path, POD_SPEC, POD_SPEC_IGNORED)?;
    let containers = read::non_empty_seq(
        f.req("containers")?,
        &f.sub("containers"),
        "a pod needs at least one container",
    )?;
    let (requests, limits, containers) = sum_containers(containers, &f.sub("containers"))?;
    // An init container runs alone, before the others: the pod needs the
    // larger of the two (the kube-scheduler's effective request).
    let (requests, limits) = match f.opt("initContainers") {
        Some(n) => {
            let path = f.sub("initContainers");
            let mut req = requests;
            let mut lim = limits;
            for (i, c) in read::seq(n, &path)?.iter().enumerate() {
                let c = container(c, &format!("{path}[{i}]"))?;
                req = max(req, c.requests);
                lim = max(lim, c.limits);
            }
            (req, lim)
        }
        None => (requests, limits),
    };
    let node_selector = f
        .opt("nodeSelector")
        .map(|n| labels(n, &f.sub("nodeSelector")))
        .transpose()?
        .unwrap_or_default();
    let tolerations = match f.opt("tolerations") {
        Some(n) => read::seq(n, &f.sub("tolerations"))?
            .iter()
            .enumerate()
            .map(|(i, t)| toleration(t, &format!("{}[{i}]", f.sub("tolerations"))))
            .collect::<PResult<_>>()?,
        None => Vec::new(),
    };
    let affinity = f
        .opt("affinity")
        .map(|n| affinity::parse_affinity(n, &f.sub("affinity")))
        .transpose()?
        .unwrap_or_default();
    let volumes = f
        .opt("volumes")
        .map(|n| pod_volumes(n, &f.sub("volumes")))
        .transpose()?
        .unwrap_or_default();
    Ok(PodSpec {
        requests,
        limits,
        node_selector,
        tolerations,
        affinity,
        volumes,
        run_for: None,
        containers: containers.into(),
        annotations: BTreeMap::new(),
    })
}

fn max(a: Resources, b: Resources) -> Resources {
    Resources {
        cpu_millis: a.cpu_millis.max(b.cpu_millis),
        memory_bytes: a.memory_bytes.max(b.memory_bytes),
        gpu_millis: a.gpu_millis.max(b.gpu_millis),
    }
}

/// The containers' summed requests and limits, and the containers.
fn sum_containers(
    items: &[Node],
    path: &str,
) -> PResult<(Resources, Resources, Vec<crate::api::objects::Container>)> {
    let mut kept: Vec<crate::api::objects::Container> = Vec::new();
    let (mut req, mut lim) = (Resources::default(), Resources::default());
    for (i, node) in items.iter().enumerate() {
        let c = container(node, &format!("{path}[{i}]"))?;
        if kept.iter().any(|k| k.name == c.name) {
            return Err(Diag::new(
                c.name_loc,
                format!("duplicate container name `{}`", c.name),
            ));
        }
        let (r, l) = (c.requests, c.limits);
        kept.push(crate::api::objects::Container {
            name: c.name,
            image: c.image,
            requests: r,
            limits: l,
        });
        req.cpu_millis = req.cpu_millis.saturating_add(r.cpu_millis);
        req.memory_bytes = req.memory_bytes.saturating_add(r.memory_bytes);
        lim.cpu_millis = lim.cpu_millis.saturating_add(l.cpu_millis);
        lim.memory_bytes = lim.memory_bytes.saturating_add(l.memory_bytes);
    }
    Ok((req, lim, kept))
}

struct Container {
    name: String,
    image: String,
    name_loc: super::super::model::Location,
    requests: Resources,
    limits: Resources,
}

/// One container's requests and limits. As in Kubernetes, a resource with
/// a limit and no request requests its limit.
fn container(node: &Node, path: &str) -> PResult<Container> {
    let f = Fields::with_ignored(
        node,
        path,
        &["name", "image", "resources"],
        CONTAINER_IGNORED,
    )?;
    let name_node = f.req("name")?;
    let name = read::string(name_node, &f.sub("name"))?;
    dns_label(&name).map_err(|why| {
        Diag::new(
            name_node.loc,
            format!("invalid container name `{name}`: {why}"),
        )
    })?;
    let image = read::string(f.req("image")?, &f.sub("image"))?;
    let mut c = Container {
        name,
        image,
        name_loc: name_node.loc,
        requests: Resources::default(),
        limits: Resources::default(),
    };
    let Some(res) = f.opt("resources") else {
        return Ok(c);
    };
    let path = f.sub("resources");
    let rf = Fields::with_ignored(res, &path, &["requests", "limits"], &["claims"])?;
    let amounts = |key: &str| -> PResult<[Option<(u64, &Node)>; 3]> {
        let Some(n) = rf.opt(key) else {
            return Ok([None, None, None]);
        };
        let path = rf.sub(key);
        let q = Fields::with_ignored(n, &path, &["cpu", "memory", GPU], &["ephemeral-storage"])?;
        let cpu = q
            .opt("cpu")
            .map(|n| {
                read::unit(n, "a cpu quantity", &q.sub("cpu"), units::parse_cpu).map(|v| (v, n))
            })
            .transpose()?;
        let mem = q
            .opt("memory")
            .map(|n| {
                read::unit(n, "a memory quantity", &q.sub("memory"), k8s_memory).map(|v| (v, n))
            })
            .transpose()?;
        // Whole devices, as the device plugin counts them.
        let max_gpus = crate::model::limits::MAX_GPU_MILLIS / 1000;
        let gpu = q
            .opt(GPU)
            .map(|n| read::int_in(n, &q.sub(GPU), 0, max_gpus).map(|v| (v * 1000, n)))
            .transpose()?;
        Ok([cpu, mem, gpu])
    };
    let requests = amounts("requests")?;
    let limits = amounts("limits")?;
    let mut out = [[0u64; 3]; 2];
    for i in 0..3 {
        if let (Some((r, node)), Some((l, _))) = (requests[i], limits[i])
            && r > l
        {
            let what = ["cpu", "memory", GPU][i];
            return Err(Diag::new(
                node.loc,
                format!(
                    "the {what} request of container `{}` is above its limit",
                    c.name
                ),
            ));
        }
        out[0][i] = requests[i].or(limits[i]).map_or(0, |(v, _)| v);
        out[1][i] = limits[i].map_or(0, |(v, _)| v);
    }
    let res = |[cpu_millis, memory_bytes, gpu_millis]: [u64; 3]| Resources {
        cpu_millis,
        memory_bytes,
        gpu_millis,
    };
    c.requests = res(out[0]);
    c.limits = res(out[1]);
    Ok(c)
}

fn toleration(node: &Node, path: &str) -> PResult<Toleration> {
    let f = Fields::with_ignored(
        node,
        path,
        &["key", "operator", "value", "effect"],
        &["tolerationSeconds"],
    )?;
    let text = |key: &str| -> PResult<String> {
        f.opt(key)
            .map(|n| read::string(n, &f.sub(key)))
            .transpose()
            .map(Option::unwrap_or_default)
    };
    let key = text("key")?;
    let value = text("value")?;
    let operator = match f.opt("operator") {
        Some(n) => match read::choice(n, "operator", &f.sub("operator"), &["Equal", "Exists"])? {
            0 => TolerationOperator::Equal,
            _ => TolerationOperator::Exists,
        },
        None => TolerationOperator::Equal,
    };
    if operator == TolerationOperator::Exists && !value.is_empty() {
        return Err(Diag::new(
            f.loc,
            format!("`{path}` has `operator: Exists` and a `value`; `Exists` takes no value"),
        ));
    }
    if operator == TolerationOperator::Equal && key.is_empty() {
        return Err(Diag::new(
            f.loc,
            format!("`{path}` has no `key`: tolerating every taint needs `operator: Exists`"),
        ));
    }
    let effect = f
        .opt("effect")
        .map(|n| taint_effect(n, &f.sub("effect")))
        .transpose()?;
    Ok(Toleration {
        key,
        operator,
        value,
        effect,
    })
}

/// `NoSchedule`, `PreferNoSchedule` or `NoExecute` (taints and tolerations).
pub(crate) fn taint_effect(node: &Node, field: &str) -> PResult<TaintEffect> {
    let names = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
    Ok(match read::choice(node, "taint effect", field, &names)? {
        0 => TaintEffect::NoSchedule,
        1 => TaintEffect::PreferNoSchedule,
        _ => TaintEffect::NoExecute,
    })
}

/// Pod volumes: the claim names of `persistentVolumeClaim` sources.
fn pod_volumes(node: &Node, path: &str) -> PResult<Vec<String>> {
    claim_volumes(node, path, VOLUME_IGNORED)
}

/// `volumes[] {name, persistentVolumeClaim {claimName}}` (pods and VMs);
/// other sources in `ignored` are accepted and hold no claim.
pub(crate) fn claim_volumes(node: &Node, path: &str, ignored: &[&str]) -> PResult<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let mut claims = Vec::new();
    for (i, v) in read::seq(node, path)?.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let f = Fields::with_ignored(v, &path, &["name", "persistentVolumeClaim"], ignored)?;
        let name_node = f.req("name")?;
        let name = read::string(name_node, &f.sub("name"))?;
        if names.contains(&name) {
            return Err(Diag::new(
                name_node.loc,
                format!("duplicate volume name `{name}`"),
            ));
        }
        names.push(name.clone());
        // Any other field is a source pacsim does not model (`emptyDir`,
        // `csi`, a VM's `vSphereVolume`...).
        let sources = f
            .names()
            .filter(|n| !matches!(*n, "name" | "persistentVolumeClaim"))
            .count();
        match (f.opt("persistentVolumeClaim"), sources) {
            (Some(c), 0) => {
                let cf = Fields::with_ignored(
                    c,
                    &f.sub("persistentVolumeClaim"),
                    &["claimName"],
                    &["readOnly", "instanceVolumeClaim"],
                )?;
                let claim_node = cf.req("claimName")?;
                let claim = read::string(claim_node, &cf.sub("claimName"))?;
                super::check_name(claim_node, &claim)?;
                claims.push(claim);
            }
            (None, 1) => {}
            _ => {
                return Err(Diag::new(
                    f.loc,
                    format!(
                        "volume `{name}` needs exactly one source, e.g. `persistentVolumeClaim: {{claimName: data}}`"
                    ),
                ));
            }
        }
    }
    Ok(claims)
}

/// apps/v1 ReplicaSet spec, and the set's annotations.
pub(crate) fn parse_replica_set(
    node: &Node,
    path: &str,
    annotations: BTreeMap<String, String>,
) -> PResult<ReplicaSet> {
    let f = Fields::with_ignored(
        node,
        path,
        &["replicas", "selector", "template"],
        RS_SPEC_IGNORED,
    )?;
    let (replicas, template_labels, template) = parse_set(&f)?;
    Ok(ReplicaSet {
        replicas,
        template_labels,
        template,
        revision: 0,
        annotations: without_controllers(annotations),
    })
}

/// apps/v1 Deployment spec: a ReplicaSet's, its `strategy` and `paused`;
/// and the Deployment's annotations.
pub(crate) fn parse_deployment(
    node: &Node,
    path: &str,
    annotations: BTreeMap<String, String>,
) -> PResult<Deployment> {
    let f = Fields::with_ignored(
        node,
        path,
        &["replicas", "selector", "template", "strategy", "paused"],
        RS_SPEC_IGNORED,
    )?;
    let (replicas, template_labels, template) = parse_set(&f)?;
    let strategy = match f.opt("strategy") {
        Some(n) => parse_strategy(n, &f.sub("strategy"))?,
        None => Strategy::default(),
    };
    let paused = f
        .opt("paused")
        .map(|n| read::boolean(n, &f.sub("paused")))
        .transpose()?
        .unwrap_or(false);
    Ok(Deployment {
        replicas,
        template_labels,
        template,
        strategy,
        annotations: without_controllers(annotations),
        paused,
    })
}

/// Annotations but the Deployment controller's own
/// (`deployment.kubernetes.io/revision` and the like), which pacsim
/// derives: a body read back and written again does not freeze them.
fn without_controllers(mut annotations: BTreeMap<String, String>) -> BTreeMap<String, String> {
    annotations.retain(|k, _| !k.starts_with("deployment.kubernetes.io/"));
    annotations
}

/// `strategy: {type: RollingUpdate|Recreate, rollingUpdate: {maxSurge,
/// maxUnavailable}}` (an empty one is the default).
fn parse_strategy(node: &Node, path: &str) -> PResult<Strategy> {
    let f = Fields::new(node, path, &["type", "rollingUpdate"])?;
    let kind = match f.opt("type") {
        Some(n) => read::scalar(n, "a strategy type", &f.sub("type"))?,
        None => "RollingUpdate",
    };
    match kind {
        "Recreate" => {
            if let Some(n) = f.opt("rollingUpdate") {
                return Err(Diag::new(
                    n.loc,
                    format!(
                        "`{}` is for type RollingUpdate only",
                        f.sub("rollingUpdate")
                    ),
                ));
            }
            Ok(Strategy::Recreate)
        }
        "RollingUpdate" => {
            let Strategy::RollingUpdate {
                mut max_surge,
                mut max_unavailable,
            } = Strategy::default()
            else {
                unreachable!("the default is a rolling update")
            };
            if let Some(n) = f.opt("rollingUpdate") {
                let rf = Fields::new(n, &f.sub("rollingUpdate"), &["maxSurge", "maxUnavailable"])?;
                if let Some(v) = rf.opt("maxSurge") {
                    max_surge = amount(v, &rf.sub("maxSurge"))?;
                }
                if let Some(v) = rf.opt("maxUnavailable") {
                    max_unavailable = amount(v, &rf.sub("maxUnavailable"))?;
                }
            }
            if max_surge == Amount::Count(0) && max_unavailable == Amount::Count(0)
                || max_surge == Amount::Percent(0) && max_unavailable == Amount::Percent(0)
            {
                return Err(Diag::new(
                    node.loc,
                    format!("`{path}`: maxSurge and maxUnavailable may not both be 0"),
                ));
            }
            Ok(Strategy::RollingUpdate {
                max_surge,
                max_unavailable,
            })
        }
        other => Err(Diag::new(
            f.req("type")?.loc,
            format!(
                "unknown `{}` `{other}`: RollingUpdate or Recreate{}",
                f.sub("type"),
                crate::scenario::error::suggestion(other, ["RollingUpdate", "Recreate"])
            ),
        )),
    }
}

/// An intstr: a count (`1`) or a percentage (`25%`).
fn amount(node: &Node, path: &str) -> PResult<Amount> {
    let text = read::scalar(node, "a count or a percentage", path)?;
    let bad = || {
        Diag::new(
            node.loc,
            format!("`{path}`: expected a count (`1`) or a percentage (`25%`), found `{text}`"),
        )
    };
    match text.strip_suffix('%') {
        Some(p) => match p.parse::<u32>() {
            Ok(p) if p <= 100 => Ok(Amount::Percent(p)),
            _ => Err(bad()),
        },
        None => text
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= crate::model::limits::MAX_REPLICAS as u32)
            .map(Amount::Count)
            .ok_or_else(bad),
    }
}

/// A set's `replicas`, template labels (checked against `selector`) and
/// pod template.
fn parse_set(f: &Fields) -> PResult<(u32, std::collections::BTreeMap<String, String>, PodSpec)> {
    let replicas = match f.opt("replicas") {
        Some(n) => {
            read::int_in(n, &f.sub("replicas"), 0, crate::model::limits::MAX_REPLICAS)? as u32
        }
        None => 1,
    };
    let sel_node = f.req("selector")?;
    let selector = affinity::selector(sel_node, &f.sub("selector"))?;
    let tpath = f.sub("template");
    let tf = Fields::new(f.req("template")?, &tpath, &["metadata", "spec"])?;
    let meta = tf.req("metadata")?;
    let mpath = tf.sub("metadata");
    let mf = Fields::with_ignored(
        meta,
        &mpath,
        &["labels", "annotations"],
        &["name", "creationTimestamp"],
    )?;
    let template_labels = labels(mf.req("labels")?, &mf.sub("labels"))?;
    // apps/v1 rejects a selector that does not select its own template.
    if let Some((k, v)) = selector
        .iter()
        .find(|(k, v)| template_labels.get(*k) != Some(*v))
    {
        return Err(Diag::new(
            sel_node.loc,
            format!(
                "`{}` does not match the template's labels: `{k}: {v}` is not among `{}`",
                f.sub("selector"),
                mf.sub("labels")
            ),
        ));
    }
    let annotations = mf
        .opt("annotations")
        .map(|n| Annotations::parse(n, &mf.sub("annotations")))
        .transpose()?
        .unwrap_or_default();
    annotations.reject(DISK_SIZE, "it sizes a `VirtualMachineImage`, not a pod")?;
    let run_for = annotations.run_for()?;
    let template = parse_pod_spec(tf.req("spec")?, &tf.sub("spec"))?;
    Ok((
        replicas,
        template_labels,
        PodSpec {
            run_for,
            annotations: annotations.others(),
            ..template
        },
    ))
}
