//! Kubernetes manifests (apiVersion, kind, metadata, spec with the real
//! field names) to the Supervisor's [`Object`]s, so that users can paste the
//! YAML they already have. Fields pacsim does not model but real manifests
//! carry are accepted and ignored (each module lists them); anything else is
//! an error with a did-you-mean.
//!
//! One module per kind family: `pod` (Pod, Deployment, ReplicaSet, with
//! `affinity`), `vm`
//! (VirtualMachine, VirtualMachineClass, VirtualMachineImage), `storage`
//! (PersistentVolumeClaim, StorageClass), `service`, `tkc`
//! (TanzuKubernetesCluster).

mod affinity;
mod pod;
mod service;
mod storage;
mod tkc;
mod vm;

use super::error::{Diag, PResult, backticked, did_you_mean, suggestion};
use super::notices;
use super::read::{self, Fields};
use super::units;
use super::yaml::{Node, NodeKind};
use crate::api::objects::*;
use crate::model::SimTime;
use std::collections::BTreeMap;

pub(crate) use pod::taint_effect;

const VMOP: &[&str] = &[
    "vmoperator.vmware.com/v1alpha1",
    "vmoperator.vmware.com/v1alpha2",
    "vmoperator.vmware.com/v1alpha3",
    "vmoperator.vmware.com/v1alpha4",
    "vmoperator.vmware.com/v1alpha5",
];

/// Every modelled `kind:` a manifest may have: its object kind and
/// apiVersions. Deployment and ReplicaSet are both modelled as a
/// ReplicaSet, a VirtualMachineService as a Service (a VIP from NSX for
/// the VMs its selector picks).
const KINDS: [(&str, Kind, &[&str]); 11] = [
    ("Pod", Kind::Pod, &["v1"]),
    ("Deployment", Kind::Deployment, &["apps/v1"]),
    ("ReplicaSet", Kind::ReplicaSet, &["apps/v1"]),
    ("Service", Kind::Service, &["v1"]),
    (
        "PersistentVolumeClaim",
        Kind::PersistentVolumeClaim,
        &["v1"],
    ),
    ("StorageClass", Kind::StorageClass, &["storage.k8s.io/v1"]),
    ("VirtualMachine", Kind::VirtualMachine, VMOP),
    ("VirtualMachineClass", Kind::VirtualMachineClass, VMOP),
    ("VirtualMachineImage", Kind::VirtualMachineImage, VMOP),
    ("VirtualMachineService", Kind::Service, VMOP),
    (
        "TanzuKubernetesCluster",
        Kind::TanzuKubernetesCluster,
        tkc::TKC_VERSIONS,
    ),
];

/// Kinds a real Supervisor stores that pacsim does not model: a manifest
/// of one is accepted with a warning and not created.
const STORED_KINDS: &[&str] = &[
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "HorizontalPodAutoscaler",
    "Ingress",
    "IngressClass",
    "PodDisruptionBudget",
    "PriorityClass",
    "Endpoints",
    "EndpointSlice",
    "PersistentVolume",
    "VolumeSnapshot",
    "VolumeSnapshotClass",
    "CustomResourceDefinition",
    "Cluster",
    "ClusterClass",
    "MachineDeployment",
    "KubeadmConfigTemplate",
    "VirtualMachineClassBinding",
    "VirtualMachineImageBinding",
    "ClusterVirtualMachineImage",
    "VirtualMachinePublishRequest",
    "VirtualMachineSetResourcePolicy",
    "VirtualMachineWebConsoleRequest",
    "ContentLibraryProvider",
    "ContentSource",
    "ContentSourceBinding",
    "TanzuKubernetesRelease",
    "KubernetesCluster",
    "ReplicationController",
    "VirtualMachineGroup",
];

/// metadata fields real objects carry that the store sets itself.
const META_IGNORED: &[&str] = &[
    "uid",
    "generation",
    "resourceVersion",
    "creationTimestamp",
    "managedFields",
    "ownerReferences",
    "finalizers",
    "selfLink",
];

/// pacsim's own annotations (`pacsim.io/...`); other annotations are kept
/// out of the model.
pub(crate) const RUN_FOR: &str = "pacsim.io/run-for";
pub(crate) const DISK_SIZE: &str = "pacsim.io/disk-size";

/// What a manifest may refer to, and where it may appear.
pub(crate) struct Scope<'a> {
    /// Declared `supervisor.namespaces` names.
    pub namespaces: &'a [String],
    /// `supervisor.storage_policies` names (StorageClass storagePolicyID).
    pub storage_policies: &'a [String],
    /// `supervisor.objects` takes cluster-scoped kinds only.
    pub cluster_scoped_only: bool,
    /// A call's `namespace:`: the namespace of objects that name none, as
    /// `kubectl apply -n`; an object naming another one is an error.
    pub default_namespace: Option<&'a str>,
    /// Inside a guest cluster (`cluster:`): Pods, Deployments and
    /// ReplicaSets only, in any namespace (default `default`).
    pub guest: bool,
    /// A served API's body: any namespace name is read, and the API
    /// server answers whether it exists (the administrator may add some).
    pub any_namespace: bool,
}

/// The kinds a guest cluster's API takes.
const GUEST_KINDS: [&str; 3] = ["Pod", "Deployment", "ReplicaSet"];

/// A manifest's `kind:` resolved: the name as written and the object kind.
#[derive(Clone, Copy)]
pub(crate) struct KindInfo {
    pub name: &'static str,
    pub kind: Kind,
    api_versions: &'static [&'static str],
}

/// One manifest (a mapping with apiVersion, kind, metadata...) as an object
/// with its status at the initial values; `None` for a kind pacsim does not
/// model (see [`STORED_KINDS`]). Either way with at most one warning, which
/// names what was accepted without being modelled.
pub(crate) fn parse_manifest(node: &Node, scope: &Scope) -> PResult<Option<Object>> {
    if kind_name(node) == Some("Namespace") {
        let name = name_of(node).map_or(String::new(), |n| format!(" `{n}`"));
        notices::push(
            node.loc,
            format!(
                "Namespace{name}: not created: Supervisor Namespaces are made in vCenter; declare it under `supervisor.namespaces`"
            ),
        );
        return Ok(None);
    }
    if let Some(kind) = stored_kind(node) {
        let name = name_of(node).map_or(String::new(), |n| format!(" `{n}`"));
        notices::push(
            node.loc,
            format!("{kind}{name}: accepted, not created: pacsim does not model `{kind}` objects"),
        );
        return Ok(None);
    }
    let (parsed, ignored) = notices::unmodelled_fields(|| parse_object(node, scope));
    let (info, object) = parsed?;
    if !ignored.is_empty() {
        let prefix = format!("{}.", info.name);
        // `ports[0].name, ports[1].name` once, as `ports[].name`.
        let mut fields: Vec<String> = Vec::new();
        for path in &ignored {
            let field = without_indices(path.strip_prefix(&prefix).unwrap_or(path));
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        let at = match object.meta.namespace.as_str() {
            "" => object.meta.name.clone(),
            ns => format!("{ns}/{}", object.meta.name),
        };
        notices::push(
            node.loc,
            format!(
                "{} {at}: not modelled, ignored: {}",
                info.name,
                fields.join(", ")
            ),
        );
    }
    Ok(Some(object))
}

/// `a[0].b[12].c` as `a[].b[].c`.
fn without_indices(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index && c.is_ascii_digit() => {}
            _ => out.push(c),
        }
    }
    out
}

/// The `kind:` of a manifest if it is one of [`STORED_KINDS`].
fn stored_kind(node: &Node) -> Option<&'static str> {
    let kind = kind_name(node)?;
    STORED_KINDS.iter().copied().find(|k| *k == kind)
}

/// The value of `key` in a mapping node.
fn entry<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    let NodeKind::Map(entries) = &node.kind else {
        return None;
    };
    entries
        .iter()
        .find(|(k, _)| k.as_scalar() == Some(key))
        .map(|(_, v)| v)
}

/// `kind:`, when written as a plain string.
fn kind_name(node: &Node) -> Option<&str> {
    entry(node, "kind")?.as_scalar()
}

/// `metadata.name`, when written as a plain string.
fn name_of(node: &Node) -> Option<&str> {
    entry(entry(node, "metadata")?, "name")?.as_scalar()
}

fn parse_object(node: &Node, scope: &Scope) -> PResult<(KindInfo, Object)> {
    let info = kind_of(node, true, scope)?;
    let top: Vec<&str> = match info.kind {
        Kind::StorageClass => storage::STORAGE_CLASS_TOP.to_vec(),
        _ => vec!["apiVersion", "kind", "metadata", "spec"],
    };
    let ignored: &[&str] = match info.kind {
        Kind::StorageClass => storage::STORAGE_CLASS_IGNORED,
        _ => &["status"],
    };
    let f = Fields::with_ignored(node, info.name, &top, ignored)?;
    check_api_version(f.req("apiVersion")?, info)?;
    let (meta, annotations) = parse_meta(f.req("metadata")?, info, scope)?;
    annotations.check_kind(info)?;
    let path = |field: &str| format!("{}.{field}", info.name);
    let body = match info.kind {
        Kind::Pod => {
            let run_for = annotations.run_for()?;
            let spec = pod::parse_pod_spec(f.req("spec")?, &path("spec"))?;
            let annotations = annotations.others();
            Body::Pod(pod::new_pod(PodSpec {
                run_for,
                annotations,
                ..spec
            }))
        }
        Kind::ReplicaSet => Body::ReplicaSet(pod::parse_replica_set(
            f.req("spec")?,
            &path("spec"),
            annotations.others(),
        )?),
        Kind::Deployment => Body::Deployment(pod::parse_deployment(
            f.req("spec")?,
            &path("spec"),
            annotations.others(),
        )?),
        Kind::VirtualMachine => {
            let v1alpha1 = f.req("apiVersion")?.as_scalar() == Some(VMOP[0]);
            Body::VirtualMachine(vm::parse_vm(f.req("spec")?, &path("spec"), v1alpha1)?)
        }
        Kind::VirtualMachineClass => {
            Body::VirtualMachineClass(vm::parse_class(f.req("spec")?, &path("spec"))?)
        }
        Kind::VirtualMachineImage => {
            if let Some(spec) = f.opt("spec") {
                vm::check_image_spec(spec, &path("spec"))?;
            }
            let disk_bytes = annotations.disk_size()?;
            Body::VirtualMachineImage(VirtualMachineImage { disk_bytes })
        }
        Kind::PersistentVolumeClaim => {
            Body::PersistentVolumeClaim(storage::parse_pvc(f.req("spec")?, &path("spec"))?)
        }
        Kind::StorageClass => Body::StorageClass(storage::parse_storage_class(&f, scope)?),
        Kind::Service => Body::Service(service::parse_service(f.req("spec")?, &path("spec"))?),
        Kind::TanzuKubernetesCluster => {
            Body::TanzuKubernetesCluster(tkc::parse_tkc(f.req("spec")?, &path("spec"))?)
        }
        Kind::Namespace | Kind::Node => {
            unreachable!("kind_of never returns {:?}", info.kind)
        }
    };
    Ok((info, Object { meta, body }))
}

/// `{kind, namespace, name}` (apiVersion optional): the object a `delete:`
/// names. Only the key matters, so the body is a placeholder of the kind.
pub(crate) fn parse_key(node: &Node, path: &str, scope: &Scope) -> PResult<Object> {
    let info = kind_of(node, false, scope)?;
    let f = Fields::new(node, path, &["apiVersion", "kind", "namespace", "name"])?;
    if let Some(v) = f.opt("apiVersion") {
        check_api_version(v, info)?;
    }
    let name_node = f.req("name")?;
    let name = read::string(name_node, &f.sub("name"))?;
    check_name(name_node, &name)?;
    let namespace = namespace_of(info, f.opt("namespace"), f.loc, &f.sub("namespace"), scope)?;
    Ok(Object {
        meta: Meta {
            name,
            namespace,
            ..Meta::default()
        },
        body: placeholder(info.kind),
    })
}

/// Finds and checks `kind:` before anything else, since the kind decides
/// which fields the rest of the mapping may have.
fn kind_of(node: &Node, manifest: bool, scope: &Scope) -> PResult<KindInfo> {
    let NodeKind::Map(entries) = &node.kind else {
        return Err(Diag::new(
            node.loc,
            format!(
                "expected a manifest (a mapping with `apiVersion`, `kind`, `metadata`...), found {}",
                node.describe()
            ),
        ));
    };
    let Some((_, kind_node)) = entries.iter().find(|(k, _)| k.as_scalar() == Some("kind")) else {
        let what = if manifest {
            "manifest"
        } else {
            "object reference"
        };
        return Err(Diag::new(
            node.loc,
            format!("missing field `kind` in the {what}"),
        ));
    };
    let name = read::scalar(kind_node, "a kind", "kind")?;
    let names = KINDS.map(|(n, ..)| n);
    if name == "Namespace" {
        return Err(Diag::new(
            kind_node.loc,
            "namespaces are not created by manifests: declare them under `supervisor.namespaces`",
        ));
    }
    let Some(&(name, kind, api_versions)) = KINDS.iter().find(|(n, ..)| *n == name) else {
        return Err(Diag::new(
            kind_node.loc,
            format!(
                "unsupported kind `{name}`; supported kinds: {}{}",
                backticked(names),
                suggestion(name, names)
            ),
        ));
    };
    if scope.guest && !GUEST_KINDS.contains(&name) {
        return Err(Diag::new(
            kind_node.loc,
            format!(
                "a guest cluster's API (`cluster:`) takes {} here, not a `{name}`",
                backticked(GUEST_KINDS)
            ),
        ));
    }
    if scope.cluster_scoped_only && !kind.cluster_scoped() {
        return Err(Diag::new(
            kind_node.loc,
            format!(
                "`supervisor.objects` holds cluster-scoped objects only (`VirtualMachineClass`, `VirtualMachineImage`, `StorageClass`); create a `{name}` under `workloads.manifests`"
            ),
        ));
    }
    Ok(KindInfo {
        name,
        kind,
        api_versions,
    })
}

fn check_api_version(node: &Node, info: KindInfo) -> PResult<()> {
    let v = read::scalar(node, "an apiVersion", "apiVersion")?;
    if info.api_versions.contains(&v) {
        return Ok(());
    }
    Err(Diag::new(
        node.loc,
        format!(
            "`apiVersion: {v}` is not an API version of `{}`; expected {}",
            info.name,
            backticked(info.api_versions.iter().copied())
        ),
    ))
}

/// metadata: name, namespace, labels, annotations.
fn parse_meta(node: &Node, info: KindInfo, scope: &Scope) -> PResult<(Meta, Annotations)> {
    let path = format!("{}.metadata", info.name);
    let f = Fields::with_ignored(
        node,
        &path,
        &["name", "namespace", "labels", "annotations"],
        META_IGNORED,
    )?;
    let name_node = f.req("name")?;
    let name = read::string(name_node, &f.sub("name"))?;
    check_name(name_node, &name)?;
    let namespace = namespace_of(info, f.opt("namespace"), f.loc, &f.sub("namespace"), scope)?;
    let labels = f
        .opt("labels")
        .map(|n| labels(n, &f.sub("labels")))
        .transpose()?
        .unwrap_or_default();
    let annotations = f
        .opt("annotations")
        .map(|n| Annotations::parse(n, &f.sub("annotations")))
        .transpose()?
        .unwrap_or_default();
    let meta = Meta {
        name,
        namespace,
        labels,
        resource_version: 0,
        creation: SimTime(0),
        owner: None,
    };
    Ok((meta, annotations))
}

/// Namespaced kinds need a declared namespace; cluster-scoped ones none.
fn namespace_of(
    info: KindInfo,
    node: Option<&Node>,
    parent: super::model::Location,
    field: &str,
    scope: &Scope,
) -> PResult<String> {
    if let (Some(n), Some(default)) = (node, scope.default_namespace) {
        let ns = read::string(n, field)?;
        if ns != default && !info.kind.cluster_scoped() {
            return Err(Diag::new(
                n.loc,
                format!(
                    "the object's namespace `{ns}` does not match the call's `namespace: {default}`; drop one of them"
                ),
            ));
        }
    }
    if scope.guest {
        // The guest cluster's own namespaces: any DNS label.
        let Some(n) = node else {
            return Ok(scope.default_namespace.unwrap_or("default").to_string());
        };
        let ns = read::string(n, field)?;
        dns_label(&ns)
            .map_err(|why| Diag::new(n.loc, format!("invalid namespace `{ns}`: {why}")))?;
        return Ok(ns);
    }
    match node {
        None if info.kind.cluster_scoped() => Ok(String::new()),
        None if scope.default_namespace.is_some() => {
            Ok(scope.default_namespace.unwrap_or_default().to_string())
        }
        None => Err(Diag::new(
            parent,
            format!(
                "missing field `namespace`: a `{}` lives in a namespace (or give the call a `namespace:`)",
                info.name
            ),
        )),
        // Namespaced from v1alpha2 on; pacsim keeps one set for the
        // whole Supervisor, as v1alpha1 did.
        Some(_)
            if matches!(
                info.kind,
                Kind::VirtualMachineClass | Kind::VirtualMachineImage
            ) =>
        {
            notices::accept_unmodelled(format!("{field} (kept cluster-wide)"));
            Ok(String::new())
        }
        Some(n) if info.kind.cluster_scoped() => Err(Diag::new(
            n.loc,
            format!("`{}` is cluster-scoped: remove `{field}`", info.name),
        )),
        Some(n) if scope.any_namespace => {
            let ns = read::string(n, field)?;
            dns_label(&ns)
                .map_err(|why| Diag::new(n.loc, format!("invalid namespace `{ns}`: {why}")))?;
            Ok(ns)
        }
        Some(n) => {
            let ns = read::string(n, field)?;
            let names: Vec<&str> = scope.namespaces.iter().map(String::as_str).collect();
            if !names.contains(&ns.as_str()) {
                return Err(Diag::new(
                    n.loc,
                    format!(
                        "namespace `{ns}` is not declared under `supervisor.namespaces`{}{}",
                        if names.len() <= 10 && !names.is_empty() {
                            format!("; declared: {}", backticked(names.iter().copied()))
                        } else {
                            String::new()
                        },
                        suggestion(&ns, names.iter().copied())
                    ),
                ));
            }
            Ok(ns)
        }
    }
}

/// Object names are DNS-1123 subdomains, as the API server requires.
pub(crate) fn check_name(node: &Node, name: &str) -> PResult<()> {
    dns_subdomain(name).map_err(|why| Diag::new(node.loc, format!("invalid name `{name}`: {why}")))
}

/// Lower-case letters, digits, `-` and `.`, starting and ending with a
/// letter or digit, at most 253 characters.
pub(crate) fn dns_subdomain(name: &str) -> Result<(), String> {
    dns_name(name, 253, true)
}

/// As a subdomain, without `.` and at most 63 characters (namespace and
/// container names).
pub(crate) fn dns_label(name: &str) -> Result<(), String> {
    dns_name(name, 63, false)
}

fn dns_name(name: &str, max: usize, dots: bool) -> Result<(), String> {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let allowed = if dots {
        "lower-case letters, digits, `-` and `.`"
    } else {
        "lower-case letters, digits and `-`"
    };
    if name.is_empty() || name.len() > max {
        return Err(format!("must be 1 to {max} characters"));
    }
    if !name
        .chars()
        .all(|c| alnum(c) || c == '-' || (dots && c == '.'))
    {
        return Err(format!("only {allowed} are allowed"));
    }
    if !name.starts_with(alnum) || !name.ends_with(alnum) {
        return Err("must start and end with a lower-case letter or digit".to_string());
    }
    Ok(())
}

fn labels(node: &Node, field: &str) -> PResult<BTreeMap<String, String>> {
    let map = read::string_map(node, field)?;
    if let Some((k, _)) = map.iter().find(|(k, _)| k.is_empty()) {
        return Err(Diag::new(
            node.loc,
            format!("empty label key `{k}` in `{field}`"),
        ));
    }
    Ok(map)
}

/// The annotations pacsim reads (`pacsim.io/...`), with where they were
/// written; others are accepted and dropped.
#[derive(Default)]
pub(crate) struct Annotations {
    ours: Vec<(String, Node)>,
    /// The others (not `pacsim.io/`), as strings.
    others: BTreeMap<String, String>,
}

impl Annotations {
    const KNOWN: [&str; 2] = [RUN_FOR, DISK_SIZE];

    pub fn parse(node: &Node, field: &str) -> PResult<Self> {
        let mut ours = Vec::new();
        let mut others = BTreeMap::new();
        for (key, key_node, value) in read::entries(node, field)? {
            if let Some(rest) = key.strip_prefix("pacsim.io/") {
                if !Self::KNOWN.contains(&key) {
                    let close = did_you_mean(rest, Self::KNOWN.map(|k| &k["pacsim.io/".len()..]));
                    return Err(Diag::new(
                        key_node.loc,
                        format!(
                            "unknown pacsim annotation `{key}`; known: {}{}",
                            backticked(Self::KNOWN),
                            close.map_or(String::new(), |c| format!(
                                "; did you mean `pacsim.io/{c}`?"
                            ))
                        ),
                    ));
                }
                ours.push((key.to_string(), value.clone()));
            } else if !matches!(value.kind, NodeKind::Scalar(_) | NodeKind::Null) {
                return Err(Diag::new(
                    value.loc,
                    format!(
                        "expected a string for annotation `{key}`, found {}",
                        value.describe()
                    ),
                ));
            } else {
                let text = value.as_scalar().unwrap_or_default().to_string();
                others.insert(key.to_string(), text);
            }
        }
        Ok(Annotations { ours, others })
    }

    /// The annotations that are not pacsim's own.
    pub fn others(&self) -> BTreeMap<String, String> {
        self.others.clone()
    }

    fn get(&self, key: &str) -> Option<&Node> {
        self.ours.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// An error if `key` was given here: it belongs elsewhere (`hint`).
    pub fn reject(&self, key: &str, hint: &str) -> PResult<()> {
        match self.get(key) {
            Some(n) => Err(Diag::new(
                n.loc,
                format!("`{key}` does not apply here: {hint}"),
            )),
            None => Ok(()),
        }
    }

    /// Each pacsim annotation is read on one kind only; elsewhere it would
    /// silently do nothing, so it is an error.
    pub fn check_kind(&self, info: KindInfo) -> PResult<()> {
        if info.kind != Kind::Pod {
            let hint = match info.kind {
                Kind::ReplicaSet | Kind::Deployment => {
                    "put it on `spec.template.metadata.annotations`".to_string()
                }
                _ => format!("it applies to pods, not a `{}`", info.name),
            };
            self.reject(RUN_FOR, &hint)?;
        }
        if info.kind != Kind::VirtualMachineImage {
            self.reject(
                DISK_SIZE,
                &format!("it sizes a `VirtualMachineImage`, not a `{}`", info.name),
            )?;
        }
        Ok(())
    }

    /// `pacsim.io/run-for: 10m`: how long a pod runs before it Succeeds.
    pub fn run_for(&self) -> PResult<Option<crate::model::SimDuration>> {
        self.get(RUN_FOR)
            .map(|n| read::duration(n, RUN_FOR).map(crate::model::SimDuration))
            .transpose()
    }

    /// `pacsim.io/disk-size: 20Gi`: a VirtualMachineImage's boot disk
    /// (default 0: not counted against storage limits).
    pub fn disk_size(&self) -> PResult<u64> {
        self.get(DISK_SIZE)
            .map(|n| read::unit(n, "a memory quantity", DISK_SIZE, k8s_memory))
            .transpose()
            .map(Option::unwrap_or_default)
    }
}

/// A body of `kind` with empty spec and initial status, for `delete:`.
fn placeholder(kind: Kind) -> Body {
    match kind {
        Kind::Pod => Body::Pod(pod::new_pod(PodSpec::default())),
        Kind::ReplicaSet => Body::ReplicaSet(ReplicaSet {
            replicas: 0,
            template_labels: BTreeMap::new(),
            template: PodSpec::default(),
            revision: 0,
            annotations: BTreeMap::new(),
        }),
        Kind::Deployment => Body::Deployment(Deployment {
            replicas: 0,
            template_labels: BTreeMap::new(),
            template: PodSpec::default(),
            strategy: Strategy::default(),
            annotations: BTreeMap::new(),
            paused: false,
        }),
        Kind::VirtualMachine => Body::VirtualMachine(vm::new_vm(
            String::new(),
            String::new(),
            String::new(),
            PowerState::PoweredOn,
            Vec::new(),
        )),
        Kind::VirtualMachineClass => Body::VirtualMachineClass(VirtualMachineClass {
            hardware: Default::default(),
            requests: Default::default(),
        }),
        Kind::VirtualMachineImage => {
            Body::VirtualMachineImage(VirtualMachineImage { disk_bytes: 0 })
        }
        Kind::PersistentVolumeClaim => Body::PersistentVolumeClaim(PersistentVolumeClaim {
            storage_class: String::new(),
            bytes: 0,
            datastore: None,
        }),
        Kind::StorageClass => Body::StorageClass(StorageClass {
            storage_policy: String::new(),
        }),
        Kind::Service => Body::Service(Service {
            load_balancer: false,
            selector: BTreeMap::new(),
            vip: None,
        }),
        Kind::TanzuKubernetesCluster => {
            let pool = NodePool {
                name: tkc::CONTROL_PLANE.to_string(),
                replicas: 1,
                vm_class: String::new(),
                storage_class: String::new(),
                autoscale: None,
            };
            Body::TanzuKubernetesCluster(tkc::new_tkc(String::new(), pool, Vec::new()))
        }
        // Only keys: a denied read of them is recorded with one.
        Kind::Namespace => Body::Namespace(NamespaceObj {}),
        Kind::Node => Body::Node(crate::api::objects::Node {
            host: crate::model::HostId(0),
            capacity: crate::model::Resources::ZERO,
            ready: false,
            taints: Vec::new(),
            unschedulable: false,
        }),
    }
}

/// Kubernetes memory quantities also use a lower-case `k` for kilo.
pub(crate) fn k8s_memory(text: &str) -> Result<u64, String> {
    match text.trim().strip_suffix('k') {
        Some(num) => units::parse_memory(&format!("{num}K")),
        None => units::parse_memory(text),
    }
}

/// What an API body's fields that look like typos of modelled ones do:
/// refuse the body (`fieldValidation=Strict`, and scenario files), or
/// are dropped and named (`Warn` and `Ignore`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Typos {
    Refuse,
    Drop,
}

/// A request body read: the object, or `None` for a kind stored but not
/// modelled; and the fields dropped as typos (`spec.replcas`).
#[derive(Debug)]
pub struct ParsedBody {
    pub object: Option<Object>,
    pub dropped: Vec<String>,
}

/// A request body (JSON or YAML, one object) as `kubectl` sends it to a
/// served Supervisor; or the parser's message with its line and column in
/// the body.
pub fn parse_body(
    text: &str,
    config: &super::SupervisorConfig,
    namespace: Option<&str>,
    typos: Typos,
) -> Result<ParsedBody, String> {
    let namespaces: Vec<String> = config.namespaces.iter().map(|n| n.name.clone()).collect();
    let policies: Vec<String> = config
        .storage_policies
        .iter()
        .map(|p| p.name.clone())
        .collect();
    let scope = Scope {
        namespaces: &namespaces,
        storage_policies: &policies,
        cluster_scoped_only: false,
        default_namespace: namespace,
        guest: false,
        any_namespace: true,
    };
    parse_in(text, &scope, typos)
}

/// One API body as an object of `scope`.
fn parse_in(text: &str, scope: &Scope, typos: Typos) -> Result<ParsedBody, String> {
    let parse = || {
        let node = super::yaml::parse(text)?;
        if !scope.guest && kind_name(&node) == Some("Namespace") {
            return namespace_body(&node).map(Some);
        }
        parse_manifest(&node, scope)
    };
    let ((parsed, dropped), _notices) = notices::collect("body", || match typos {
        Typos::Refuse => (parse(), Vec::new()),
        Typos::Drop => notices::accepting_typos(parse),
    });
    // Paths start at the kind (`Deployment.spec.replcas`); the API names
    // fields from the object's root.
    let dropped = dropped
        .into_iter()
        .map(|p| {
            p.split_once('.')
                .map_or(p.clone(), |(_, rest)| rest.to_string())
        })
        .collect();
    parsed
        .map(|object| ParsedBody { object, dropped })
        .map_err(|d| format!("body:{}:{}: {}", d.loc.line, d.loc.col, d.message))
}

/// A Namespace the vSphere administrator creates through the API: its
/// name is kept, nothing else (its limits and permissions are vCenter's,
/// so it has none).
fn namespace_body(node: &Node) -> PResult<Object> {
    let missing = |at: &Node, what: &str| Diag::new(at.loc, format!("missing field `{what}`"));
    let meta = entry(node, "metadata").ok_or_else(|| missing(node, "metadata"))?;
    let name_node = entry(meta, "name").ok_or_else(|| missing(meta, "name"))?;
    let name = read::scalar(name_node, "a name", "name")?;
    dns_label(name).map_err(|why| {
        Diag::new(
            name_node.loc,
            format!("invalid namespace name `{name}`: {why}"),
        )
    })?;
    Ok(Object {
        meta: Meta {
            name: name.to_string(),
            ..Meta::default()
        },
        body: Body::Namespace(NamespaceObj {}),
    })
}

/// [`parse_body`] for a guest cluster's API: Pods and Deployments, in
/// any namespace.
pub fn parse_guest_body(
    text: &str,
    namespace: Option<&str>,
    typos: Typos,
) -> Result<ParsedBody, String> {
    let scope = Scope {
        namespaces: &[],
        storage_policies: &[],
        cluster_scoped_only: false,
        default_namespace: namespace,
        guest: true,
        any_namespace: true,
    };
    parse_in(text, &scope, typos)
}

/// An object of `kind` that only names its key (the body of a delete or
/// read call).
pub fn key_object(kind: Kind, namespace: &str, name: &str) -> Object {
    Object {
        meta: Meta {
            name: name.to_string(),
            namespace: namespace.to_string(),
            ..Meta::default()
        },
        body: placeholder(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        assert!(dns_subdomain("web-1.a").is_ok());
        assert!(dns_subdomain("Web").is_err());
        assert!(dns_subdomain("-web").is_err());
        assert!(dns_subdomain("web_1").is_err());
        assert!(dns_label("a.b").is_err());
        assert!(dns_label(&"a".repeat(64)).is_err());
    }

    #[test]
    fn indices_fold_away() {
        assert_eq!(without_indices("ports[0].name"), "ports[].name");
        assert_eq!(without_indices("a[12].b[3]"), "a[].b[]");
        assert_eq!(without_indices("plain"), "plain");
    }

    #[test]
    fn lower_case_k_is_kilo() {
        assert_eq!(k8s_memory("2k"), Ok(2000));
        assert_eq!(k8s_memory("1Ki"), Ok(1024));
    }
}
