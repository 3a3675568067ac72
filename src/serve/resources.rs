//! The one table of what `pacsim serve` serves: each REST resource with its
//! group, version, kind, the store kind it maps to, its scope and short
//! names. Discovery, routing, rendering and the tables all read it.

use crate::api::objects::Kind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource {
    /// "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    /// Lower-case plural, as in URLs.
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    /// The store's kind.
    pub store: Kind,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Users may write it (the rest are read-only: nodes).
    pub writable: bool,
    /// Has a `scale` subresource.
    pub scale: bool,
    /// Guest clusters' APIs serve it too.
    pub guest: bool,
}

/// Which API is asked: the Supervisor's, or a guest cluster's (which
/// serves its nodes, pods and Deployments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    Supervisor,
    Guest,
}

impl Api {
    pub fn serves(self, res: &Resource) -> bool {
        self == Api::Supervisor || res.guest
    }
}

impl Resource {
    /// Discovery's categories: `all` for what `kubectl get all` lists, as
    /// kube-apiserver puts pods, services, deployments and replicasets in it.
    pub fn categories(&self) -> &'static [&'static str] {
        match (self.group, self.plural) {
            ("", "pods" | "services") | ("apps", "deployments" | "replicasets") => &["all"],
            _ => &[],
        }
    }

    pub fn api_version(&self) -> String {
        match self.group {
            "" => self.version.to_string(),
            g => format!("{g}/{}", self.version),
        }
    }

    pub fn group_version(&self) -> (&'static str, &'static str) {
        (self.group, self.version)
    }
}

/// One row of the table: a resource served at each of `versions` (the
/// preferred first).
struct Row {
    group: &'static str,
    versions: &'static [&'static str],
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    store: Kind,
    namespaced: bool,
    short_names: &'static [&'static str],
    writable: bool,
    scale: bool,
    guest: bool,
}

const fn row(
    group: &'static str,
    versions: &'static [&'static str],
    (plural, singular, kind): (&'static str, &'static str, &'static str),
    store: Kind,
    namespaced: bool,
    short_names: &'static [&'static str],
) -> Row {
    Row {
        group,
        versions,
        plural,
        singular,
        kind,
        store,
        namespaced,
        short_names,
        writable: true,
        scale: false,
        guest: false,
    }
}

const V1: &[&str] = &["v1"];
const VMOP: &str = "vmoperator.vmware.com";
/// vm-operator's versions differ only in how `powerState` is spelled
/// (v1alpha1: `poweredOn`).
const VMOP_VERSIONS: &[&str] = &["v1alpha3", "v1alpha2", "v1alpha1"];
const TKC: &str = "run.tanzu.vmware.com";
const TKC_VERSIONS: &[&str] = &["v1alpha3", "v1alpha2"];

/// Every served resource.
const ROWS: &[Row] = &[
    row(
        "",
        V1,
        ("namespaces", "namespace", "Namespace"),
        Kind::Namespace,
        false,
        &["ns"],
    ),
    Row {
        writable: false,
        guest: true,
        ..row(
            "",
            V1,
            ("nodes", "node", "Node"),
            Kind::Node,
            false,
            &["no"],
        )
    },
    Row {
        guest: true,
        ..row("", V1, ("pods", "pod", "Pod"), Kind::Pod, true, &["po"])
    },
    row(
        "",
        V1,
        ("services", "service", "Service"),
        Kind::Service,
        true,
        &["svc"],
    ),
    row(
        "",
        V1,
        (
            "persistentvolumeclaims",
            "persistentvolumeclaim",
            "PersistentVolumeClaim",
        ),
        Kind::PersistentVolumeClaim,
        true,
        &["pvc"],
    ),
    Row {
        scale: true,
        guest: true,
        ..row(
            "apps",
            V1,
            ("deployments", "deployment", "Deployment"),
            Kind::Deployment,
            true,
            &["deploy"],
        )
    },
    Row {
        scale: true,
        ..row(
            "apps",
            V1,
            ("replicasets", "replicaset", "ReplicaSet"),
            Kind::ReplicaSet,
            true,
            &["rs"],
        )
    },
    row(
        "storage.k8s.io",
        V1,
        ("storageclasses", "storageclass", "StorageClass"),
        Kind::StorageClass,
        false,
        &["sc"],
    ),
    row(
        VMOP,
        VMOP_VERSIONS,
        ("virtualmachines", "virtualmachine", "VirtualMachine"),
        Kind::VirtualMachine,
        true,
        &["vm"],
    ),
    row(
        VMOP,
        VMOP_VERSIONS,
        (
            "virtualmachineclasses",
            "virtualmachineclass",
            "VirtualMachineClass",
        ),
        Kind::VirtualMachineClass,
        false,
        &["vmclass"],
    ),
    row(
        VMOP,
        VMOP_VERSIONS,
        (
            "virtualmachineimages",
            "virtualmachineimage",
            "VirtualMachineImage",
        ),
        Kind::VirtualMachineImage,
        false,
        &["vmimage"],
    ),
    row(
        TKC,
        TKC_VERSIONS,
        (
            "tanzukubernetesclusters",
            "tanzukubernetescluster",
            "TanzuKubernetesCluster",
        ),
        Kind::TanzuKubernetesCluster,
        true,
        &["tkc"],
    ),
];

/// Every served resource at every version, in table order.
pub fn all() -> &'static [Resource] {
    static ALL: std::sync::OnceLock<Vec<Resource>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut out = Vec::new();
        for version in ["v1", "v1alpha3", "v1alpha2", "v1alpha1"] {
            for r in ROWS.iter().filter(|r| r.versions.contains(&version)) {
                out.push(Resource {
                    group: r.group,
                    version,
                    plural: r.plural,
                    singular: r.singular,
                    kind: r.kind,
                    store: r.store,
                    namespaced: r.namespaced,
                    short_names: r.short_names,
                    writable: r.writable,
                    scale: r.scale,
                    guest: r.guest,
                });
            }
        }
        out
    })
}

/// What `api` serves, in table order.
pub fn served(api: Api) -> impl Iterator<Item = &'static Resource> {
    all().iter().filter(move |r| api.serves(r))
}

/// The groups `api` serves in discovery order, each with its versions
/// (the preferred first).
pub fn groups(api: Api) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for res in served(api).filter(|r| !r.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == res.group) {
            Some((_, versions)) if !versions.contains(&res.version) => versions.push(res.version),
            Some(_) => {}
            None => out.push((res.group, vec![res.version])),
        }
    }
    out
}

/// The resources `api` serves in one group version.
pub fn of(api: Api, group: &str, version: &str) -> impl Iterator<Item = &'static Resource> {
    served(api).filter(move |r| r.group == group && r.version == version)
}

/// The resource a URL of `api` names.
pub fn find(api: Api, group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    of(api, group, version).find(|r| r.plural == plural)
}

/// The resource of an `apiVersion` and `kind` (from a body).
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static Resource> {
    all()
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_is_found_by_its_url_and_by_its_kind() {
        for res in all() {
            let sup = Api::Supervisor;
            assert_eq!(find(sup, res.group, res.version, res.plural), Some(res));
            assert_eq!(by_kind(&res.api_version(), res.kind), Some(res));
        }
        let rs = find(Api::Supervisor, "apps", "v1", "replicasets").expect("served");
        assert!(rs.writable && rs.store == Kind::ReplicaSet);
        assert_eq!(find(Api::Supervisor, "apps", "v1", "statefulsets"), None);
    }

    #[test]
    fn a_guest_cluster_serves_its_nodes_pods_and_deployments_only() {
        let guest: Vec<&str> = served(Api::Guest).map(|r| r.plural).collect();
        assert_eq!(guest, ["nodes", "pods", "deployments"]);
        assert!(find(Api::Guest, "", "v1", "services").is_none());
        assert_eq!(groups(Api::Guest), [("apps", vec!["v1"])]);
    }

    #[test]
    fn groups_list_each_version_once_preferred_first() {
        let g = groups(Api::Supervisor);
        assert_eq!(g[0], ("apps", vec!["v1"]));
        let vmop = g.iter().find(|(n, _)| *n == VMOP).unwrap();
        assert_eq!(vmop.1, vec!["v1alpha3", "v1alpha2", "v1alpha1"]);
    }
}
