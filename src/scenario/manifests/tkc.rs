//! run.tanzu.vmware.com TanzuKubernetesCluster: the topology (control
//! plane and node pools) and the Tanzu Kubernetes release. pacsim
//! extension: `nodePools[].autoscaler: {min, max}` lets the guest
//! cluster's autoscaler set the pool's replicas within those bounds.

use super::super::error::{Diag, PResult};
use super::super::read::{self, Fields};
use super::super::yaml::Node;
use crate::api::objects::*;
use crate::model::limits::MAX_NODES;

pub(crate) const TKC_VERSIONS: &[&str] = &[
    "run.tanzu.vmware.com/v1alpha1",
    "run.tanzu.vmware.com/v1alpha2",
    "run.tanzu.vmware.com/v1alpha3",
];
const SPEC_IGNORED: &[&str] = &["settings"];
const POOL_IGNORED: &[&str] = &[
    "volumes",
    "nodeDrainTimeout",
    "failureDomain",
    "labels",
    "taints",
    "vmClassRef",
];
/// The control plane's pool name, and so no node pool's.
pub(crate) const CONTROL_PLANE: &str = "control-plane";

/// A new TKC: Creating, no endpoint, no node Ready.
pub(crate) fn new_tkc(
    version: String,
    control_plane: NodePool,
    node_pools: Vec<NodePool>,
) -> TanzuKubernetesCluster {
    TanzuKubernetesCluster {
        version,
        control_plane,
        node_pools,
        phase: ClusterPhase::Creating,
        endpoint: None,
        nodes_ready: 0,
    }
}

pub(crate) fn parse_tkc(node: &Node, path: &str) -> PResult<TanzuKubernetesCluster> {
    let f = Fields::with_ignored(node, path, &["topology", "distribution"], SPEC_IGNORED)?;
    let tf = Fields::new(
        f.req("topology")?,
        &f.sub("topology"),
        &["controlPlane", "nodePools", "workers"],
    )?;
    let cp_node = tf.req("controlPlane")?;
    let (control_plane, tkr) = pool(cp_node, &tf.sub("controlPlane"), Role::ControlPlane)?;
    if control_plane.replicas.is_multiple_of(2) {
        return Err(Diag::new(
            replicas_loc(cp_node).unwrap_or(cp_node.loc),
            format!(
                "`{}.replicas` must be odd (1, 3, 5...) so that etcd keeps a quorum, found {}",
                tf.sub("controlPlane"),
                control_plane.replicas
            ),
        ));
    }
    let distribution = f
        .opt("distribution")
        .map(|n| distribution(n, &f.sub("distribution")))
        .transpose()?;
    let version = match (tkr, distribution) {
        (Some((v, _)), Some((d, dn))) if v != d => {
            return Err(Diag::new(
                dn.loc,
                format!(
                    "`{}.version` `{d}` differs from the control plane's `tkr.reference.name` `{v}`; give one",
                    f.sub("distribution")
                ),
            ));
        }
        (Some((v, _)), _) | (None, Some((v, _))) => v,
        (None, None) => {
            return Err(Diag::new(
                cp_node.loc,
                format!(
                    "missing version: set `{}.tkr.reference.name` (or `{}.version`)",
                    tf.sub("controlPlane"),
                    f.sub("distribution")
                ),
            ));
        }
    };
    let mut node_pools: Vec<NodePool> = Vec::new();
    // v1alpha1: one worker pool, `workers`.
    if let Some(n) = tf.opt("workers") {
        node_pools.push(pool(n, &tf.sub("workers"), Role::Workers)?.0);
    }
    if let Some(n) = tf.opt("nodePools") {
        for (i, item) in read::seq(n, &tf.sub("nodePools"))?.iter().enumerate() {
            let p = format!("{}[{i}]", tf.sub("nodePools"));
            let (np, tkr) = pool(item, &p, Role::NodePool)?;
            if let Some((v, vn)) = tkr
                && v != version
            {
                return Err(Diag::new(
                    vn.loc,
                    format!("`{p}.tkr` `{v}` differs from the cluster's version `{version}`"),
                ));
            }
            if np.name == CONTROL_PLANE || node_pools.iter().any(|o| o.name == np.name) {
                return Err(Diag::new(
                    item.loc,
                    format!(
                        "duplicate node pool name `{}` (`{CONTROL_PLANE}` is the control plane's)",
                        np.name
                    ),
                ));
            }
            node_pools.push(np);
        }
    }
    Ok(new_tkc(version, control_plane, node_pools))
}

fn replicas_loc(node: &Node) -> Option<crate::scenario::Location> {
    match &node.kind {
        super::super::yaml::NodeKind::Map(e) => e
            .iter()
            .find(|(k, _)| k.as_scalar() == Some("replicas"))
            .map(|(_, v)| v.loc),
        _ => None,
    }
}

/// The version and where it was written.
type Version<'a> = Option<(String, &'a Node)>;

/// Which pool of a cluster's topology.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    ControlPlane,
    /// A named `nodePools[]` entry (v1alpha2 on).
    NodePool,
    /// v1alpha1's single `workers` pool.
    Workers,
}

/// A pool and its `tkr`, if any. v1alpha1 spells `replicas` as `count` and
/// `vmClass` as `class`.
fn pool<'a>(node: &'a Node, path: &str, role: Role) -> PResult<(NodePool, Version<'a>)> {
    let control_plane = role == Role::ControlPlane;
    let mut allowed = vec![
        "replicas",
        "count",
        "vmClass",
        "class",
        "storageClass",
        "tkr",
    ];
    if role == Role::NodePool {
        allowed.extend(["name", "autoscaler"]);
    }
    let f = Fields::with_ignored(node, path, &allowed, POOL_IGNORED)?;
    let name = match role {
        Role::ControlPlane => CONTROL_PLANE.to_string(),
        Role::Workers => "workers".to_string(),
        Role::NodePool => {
            let n = f.req("name")?;
            let v = read::string(n, &f.sub("name"))?;
            super::check_name(n, &v)?;
            v
        }
    };
    let count_key = match f.opt("count").is_some() && f.opt("replicas").is_none() {
        true => "count",
        false => "replicas",
    };
    let replicas = match f.opt(count_key) {
        Some(n) => {
            let r = read::int_in(n, &f.sub(count_key), 0, MAX_NODES)?;
            if control_plane && r == 0 {
                return Err(Diag::new(
                    n.loc,
                    "the control plane needs at least 1 replica",
                ));
            }
            r as u32
        }
        None => 1,
    };
    // v1alpha1 spells it `class`.
    let class_key = if f.opt("class").is_some() && f.opt("vmClass").is_none() {
        "class"
    } else {
        "vmClass"
    };
    let vm_class = {
        let n = f.req(class_key)?;
        let v = read::string(n, &f.sub(class_key))?;
        super::check_name(n, &v)?;
        v
    };
    let sc_node = f.req("storageClass")?;
    let storage_class = read::string(sc_node, &f.sub("storageClass"))?;
    super::check_name(sc_node, &storage_class)?;
    let tkr = f.opt("tkr").map(|n| tkr(n, &f.sub("tkr"))).transpose()?;
    let autoscale = match f.opt("autoscaler") {
        Some(n) => {
            let af = Fields::new(n, &f.sub("autoscaler"), &["min", "max"])?;
            let min = read::int_in(af.req("min")?, &af.sub("min"), 0, MAX_NODES)?;
            let max_node = af.req("max")?;
            let max = read::positive_u64(max_node, &af.sub("max"), MAX_NODES)?;
            if min > max {
                return Err(Diag::new(
                    max_node.loc,
                    format!("`{}` ({max}) is below `min` ({min})", af.sub("max")),
                ));
            }
            if !(min..=max).contains(&(replicas as u64)) {
                let at = f.opt("replicas").map_or(n.loc, |r| r.loc);
                return Err(Diag::new(
                    at,
                    format!(
                        "`{}` ({replicas}) must be within the autoscaler's bounds {min}..={max}",
                        f.sub("replicas")
                    ),
                ));
            }
            Some((min as u32, max.min(u32::MAX as u64) as u32))
        }
        None => None,
    };
    let pool = NodePool {
        name,
        replicas,
        vm_class,
        storage_class,
        autoscale,
    };
    Ok((pool, tkr))
}

/// `tkr: {reference: {name: v1.21.6---vmware.1-tkg.1}}`: the release, which
/// names the VirtualMachineImage the machines boot. Any string, as the API
/// takes it: a release no image has fails the machines at run time.
fn tkr<'a>(node: &'a Node, path: &str) -> PResult<(String, &'a Node)> {
    let f = Fields::new(node, path, &["reference"])?;
    let rf = Fields::new(f.req("reference")?, &f.sub("reference"), &["name"])?;
    let n = rf.req("name")?;
    let v = read::string(n, &rf.sub("name"))?;
    Ok((v, n))
}

/// `distribution: {version: v1.21.6}` (v1alpha1; `fullVersion` too), as the
/// release name it resolves to: `v` in front, `+` spelled `---`
/// (`1.20.2+vmware.1-tkg.1` is `v1.20.2---vmware.1-tkg.1`).
fn distribution<'a>(node: &'a Node, path: &str) -> PResult<(String, &'a Node)> {
    let f = Fields::new(node, path, &["version", "fullVersion"])?;
    let n = f.opt("fullVersion").map_or_else(|| f.req("version"), Ok)?;
    let v = read::string(n, path)?;
    Ok((release_name(&v), n))
}

fn release_name(version: &str) -> String {
    let v = version.replace('+', "---");
    match v.starts_with('v') {
        true => v,
        false => format!("v{v}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_version_resolves_to_its_release_name() {
        use super::release_name;
        assert_eq!(
            release_name("1.20.2+vmware.1-tkg.1"),
            "v1.20.2---vmware.1-tkg.1"
        );
        assert_eq!(
            release_name("v1.21.6---vmware.1-tkg.1"),
            "v1.21.6---vmware.1-tkg.1"
        );
        assert_eq!(release_name("v1.23"), "v1.23");
    }
}
