//! A guest cluster's API as `serve` shows it: the guest cluster actor's
//! nodes, pods and Deployments as API objects, so that the Supervisor's
//! routes, tables and renderings serve them too; and the kubeconfig that
//! reaches it.
//!
//! Each guest cluster is served under `/guest/<namespace>/<name>` of the
//! Supervisor's address, the way each TanzuKubernetesCluster has its own
//! API endpoint.

use super::rollout::SetCounts;
use crate::api::objects::{
    Body, Deployment, Kind, Meta, Node, Object, ObjectKey, Pod, PodPhase, Strategy,
    TanzuKubernetesCluster,
};
use crate::model::HostId;
use crate::supervisor::guest::{GuestCluster, GuestPhase};
use serde_json::Value;
use std::collections::BTreeMap;

/// The path prefix of a guest cluster's API.
pub fn prefix(tkc: &ObjectKey) -> String {
    format!("/guest/{}/{}", tkc.namespace, tkc.name)
}

/// The label kubectl reads a node's roles from.
const CONTROL_PLANE_ROLE: &str = "node-role.kubernetes.io/control-plane";

/// A guest cluster's objects at one moment.
pub struct GuestStore {
    objects: BTreeMap<ObjectKey, Object>,
    counts: BTreeMap<ObjectKey, SetCounts>,
    rv: u64,
    /// The TKC's Kubernetes version: its kubelets'.
    pub version: String,
}

impl GuestStore {
    pub fn of(guest: &GuestCluster, tkc: &TanzuKubernetesCluster) -> GuestStore {
        let rv = guest.resource_version();
        let mut objects = BTreeMap::new();
        let mut put = |o: Object| {
            objects.insert(o.key(), o);
        };
        for (name, n) in guest.nodes() {
            let mut labels = BTreeMap::from([
                ("kubernetes.io/hostname".to_string(), name.clone()),
                (
                    crate::supervisor::guest::place::POOL_LABEL.to_string(),
                    n.pool.clone(),
                ),
            ]);
            if n.control_plane {
                labels.insert(CONTROL_PLANE_ROLE.to_string(), String::new());
            }
            put(Object {
                meta: meta(name, "", labels, rv, n.joined),
                body: Body::Node(Node {
                    // Not a host's: a guest node is a VM (its host is the
                    // VirtualMachine's, in the Supervisor).
                    host: HostId(0),
                    capacity: n.capacity,
                    ready: n.ready,
                    taints: Vec::new(),
                    unschedulable: n.cordoned,
                }),
            });
        }
        let mut counts: BTreeMap<ObjectKey, SetCounts> = BTreeMap::new();
        for ((ns, name), set) in guest.sets() {
            let o = Object {
                meta: meta(name, ns, set.labels.clone(), rv, set.created),
                // The guest's model keeps no ReplicaSets of its own.
                body: Body::Deployment(Deployment {
                    replicas: set.replicas,
                    template_labels: set.labels.clone(),
                    template: set.template.clone(),
                    strategy: Strategy::default(),
                    annotations: BTreeMap::new(),
                    paused: false,
                }),
            };
            counts.insert(o.key(), SetCounts::default());
            put(o);
        }
        for ((ns, name), p) in guest.pods() {
            let running = p.phase == GuestPhase::Running;
            if let Some(owner) = &p.owner {
                let set = ObjectKey::new(Kind::Deployment, ns, owner);
                // One set per Deployment and no revisions: every pod it
                // has is of its template, so `kubectl rollout status` ends
                // once they run.
                let c = counts.entry(set).or_default();
                c.pods += 1;
                c.running += u32::from(running);
                c.updated += 1;
                c.updated_running += u32::from(running);
            }
            let mut m = meta(name, ns, p.labels.clone(), rv, p.created);
            m.owner = p.owner.clone();
            put(Object {
                meta: m,
                body: Body::Pod(Pod {
                    spec: p.spec.clone(),
                    node: p.node.clone(),
                    phase: if running {
                        PodPhase::Running
                    } else {
                        PodPhase::Pending
                    },
                    reason: p.reason.clone(),
                    ip: None,
                    started: None,
                }),
            });
        }
        GuestStore {
            objects,
            counts,
            rv,
            version: kubelet_version(&tkc.version),
        }
    }

    pub fn objects(&self) -> impl Iterator<Item = &Object> {
        self.objects.values()
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.objects.get(key)
    }

    pub(super) fn get_mut(&mut self, key: &ObjectKey) -> Option<&mut Object> {
        self.objects.get_mut(key)
    }

    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// The list version serve gives this look (see `guest_versions`).
    pub(super) fn set_resource_version(&mut self, rv: u64) {
        self.rv = rv;
    }

    /// A store of `objects`, none a Deployment with pods (for tests).
    #[cfg(test)]
    pub(super) fn from_objects(objects: impl Iterator<Item = Object>, version: &str) -> GuestStore {
        GuestStore {
            objects: objects.map(|o| (o.key(), o)).collect(),
            counts: BTreeMap::new(),
            rv: 0,
            version: version.to_string(),
        }
    }

    /// A Deployment's pods, as its status shows them.
    pub fn counts(&self, o: &Object) -> Option<SetCounts> {
        matches!(o.body, Body::Deployment(_))
            .then(|| self.counts.get(&o.key()).copied().unwrap_or_default())
    }

    /// A guest node as its kubelet reports itself (the Supervisor's nodes
    /// are Spherelets on ESXi).
    pub fn kubelet(&self, rendered: &mut Value) {
        if rendered["kind"] != "Node" {
            return;
        }
        rendered["status"]["nodeInfo"] = serde_json::json!({
            "kubeletVersion": self.version,
            "operatingSystem": "linux",
            "osImage": "VMware Photon OS/Linux",
            "architecture": "amd64",
        });
        if let Some(c) = rendered["status"]["conditions"].get_mut(0) {
            c["reason"] = if c["status"] == "True" {
                "KubeletReady"
            } else {
                "NodeStatusUnknown"
            }
            .into();
        }
    }
}

/// The Kubernetes version of a Tanzu Kubernetes release: its name with
/// `---` for `+` and without the `-tkg.N` build
/// (`v1.26.5---vmware.2-fips.1-tkg.1` is `v1.26.5+vmware.2-fips.1`).
fn kubelet_version(tkr: &str) -> String {
    let version = tkr.replace("---", "+");
    match version.rsplit_once("-tkg.") {
        Some((v, build)) if build.chars().all(|c| c.is_ascii_digit()) => v.to_string(),
        _ => version,
    }
}

fn meta(
    name: &str,
    namespace: &str,
    labels: BTreeMap<String, String>,
    rv: u64,
    creation: crate::model::SimTime,
) -> Meta {
    Meta {
        name: name.to_string(),
        namespace: namespace.to_string(),
        labels,
        resource_version: rv,
        creation,
        owner: None,
    }
}

/// A node's roles, as kubectl's ROLES column shows them.
pub fn roles(labels: &BTreeMap<String, String>) -> String {
    let roles: Vec<&str> = labels
        .keys()
        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
        .collect();
    if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    }
}

/// The kubeconfig of `user` for the guest cluster of `tkc`, made from the
/// user's Supervisor kubeconfig (`text`, as `serve` wrote it): the same
/// server at the guest's prefix, CA and token, in the guest's `default`
/// namespace.
pub fn kubeconfig(text: &str, tkc: &ObjectKey, user: &str) -> Result<String, String> {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .map(|v| v.trim().to_string())
            .ok_or(format!("no `{key}` in the user's kubeconfig"))
    };
    let server = field("server:")?;
    let ca = field("certificate-authority-data:")?;
    let token = field("token:")?;
    let name = format!("{}-{}", tkc.namespace, tkc.name);
    Ok(super::access::kubeconfig_named(
        &name,
        &format!("{server}{}", prefix(tkc)),
        &ca,
        user,
        &token,
        Some("default"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_releases_name_reads_as_its_kubernetes_version() {
        assert_eq!(
            kubelet_version("v1.26.5---vmware.2-fips.1-tkg.1"),
            "v1.26.5+vmware.2-fips.1"
        );
        assert_eq!(kubelet_version("v1.29.4"), "v1.29.4");
    }

    #[test]
    fn roles_come_from_the_node_role_labels() {
        let cp = BTreeMap::from([(CONTROL_PLANE_ROLE.to_string(), String::new())]);
        assert_eq!(roles(&cp), "control-plane");
        assert_eq!(roles(&BTreeMap::new()), "<none>");
    }
}
