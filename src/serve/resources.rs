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
}

impl Resource {
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

// One row of the table, positionally: the rows read as a table this way.
#[allow(clippy::too_many_arguments)]
const fn r(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    store: Kind,
    namespaced: bool,
    short_names: &'static [&'static str],
) -> Resource {
    Resource {
        group,
        version,
        plural,
        singular,
        kind,
        store,
        namespaced,
        short_names,
        writable: true,
        scale: false,
    }
}

const VMOP: &str = "vmoperator.vmware.com";
const TKC: &str = "run.tanzu.vmware.com";

/// Every served resource. Deployments are the store's ReplicaSets (pacsim
/// models a Deployment as the ReplicaSet it owns), so `replicasets` is not
/// served separately. vm-operator's versions differ only in how
/// `powerState` is spelled (v1alpha1: `poweredOn`).
pub const RESOURCES: &[Resource] = &[
    r(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        Kind::Namespace,
        false,
        &["ns"],
    ),
    Resource {
        writable: false,
        ..r(
            "",
            "v1",
            "nodes",
            "node",
            "Node",
            Kind::Node,
            false,
            &["no"],
        )
    },
    r("", "v1", "pods", "pod", "Pod", Kind::Pod, true, &["po"]),
    r(
        "",
        "v1",
        "services",
        "service",
        "Service",
        Kind::Service,
        true,
        &["svc"],
    ),
    r(
        "",
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        Kind::PersistentVolumeClaim,
        true,
        &["pvc"],
    ),
    Resource {
        scale: true,
        ..r(
            "apps",
            "v1",
            "deployments",
            "deployment",
            "Deployment",
            Kind::ReplicaSet,
            true,
            &["deploy"],
        )
    },
    r(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "storageclass",
        "StorageClass",
        Kind::StorageClass,
        false,
        &["sc"],
    ),
    r(
        VMOP,
        "v1alpha3",
        "virtualmachines",
        "virtualmachine",
        "VirtualMachine",
        Kind::VirtualMachine,
        true,
        &["vm"],
    ),
    r(
        VMOP,
        "v1alpha3",
        "virtualmachineclasses",
        "virtualmachineclass",
        "VirtualMachineClass",
        Kind::VirtualMachineClass,
        false,
        &["vmclass"],
    ),
    r(
        VMOP,
        "v1alpha3",
        "virtualmachineimages",
        "virtualmachineimage",
        "VirtualMachineImage",
        Kind::VirtualMachineImage,
        false,
        &["vmimage"],
    ),
    r(
        VMOP,
        "v1alpha2",
        "virtualmachines",
        "virtualmachine",
        "VirtualMachine",
        Kind::VirtualMachine,
        true,
        &["vm"],
    ),
    r(
        VMOP,
        "v1alpha2",
        "virtualmachineclasses",
        "virtualmachineclass",
        "VirtualMachineClass",
        Kind::VirtualMachineClass,
        false,
        &["vmclass"],
    ),
    r(
        VMOP,
        "v1alpha2",
        "virtualmachineimages",
        "virtualmachineimage",
        "VirtualMachineImage",
        Kind::VirtualMachineImage,
        false,
        &["vmimage"],
    ),
    r(
        VMOP,
        "v1alpha1",
        "virtualmachines",
        "virtualmachine",
        "VirtualMachine",
        Kind::VirtualMachine,
        true,
        &["vm"],
    ),
    r(
        VMOP,
        "v1alpha1",
        "virtualmachineclasses",
        "virtualmachineclass",
        "VirtualMachineClass",
        Kind::VirtualMachineClass,
        false,
        &["vmclass"],
    ),
    r(
        VMOP,
        "v1alpha1",
        "virtualmachineimages",
        "virtualmachineimage",
        "VirtualMachineImage",
        Kind::VirtualMachineImage,
        false,
        &["vmimage"],
    ),
    r(
        TKC,
        "v1alpha3",
        "tanzukubernetesclusters",
        "tanzukubernetescluster",
        "TanzuKubernetesCluster",
        Kind::TanzuKubernetesCluster,
        true,
        &["tkc"],
    ),
    r(
        TKC,
        "v1alpha2",
        "tanzukubernetesclusters",
        "tanzukubernetescluster",
        "TanzuKubernetesCluster",
        Kind::TanzuKubernetesCluster,
        true,
        &["tkc"],
    ),
];

/// The served groups in discovery order, each with its versions (the
/// preferred first).
pub fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for res in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == res.group) {
            Some((_, versions)) if !versions.contains(&res.version) => versions.push(res.version),
            Some(_) => {}
            None => out.push((res.group, vec![res.version])),
        }
    }
    out
}

/// The resources of one group version.
pub fn of(group: &str, version: &str) -> impl Iterator<Item = &'static Resource> {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

/// The resource a URL names.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    of(group, version).find(|r| r.plural == plural)
}

/// The resource of an `apiVersion` and `kind` (from a body).
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_is_found_by_its_url_and_by_its_kind() {
        for res in RESOURCES {
            assert_eq!(find(res.group, res.version, res.plural), Some(res));
            assert_eq!(by_kind(&res.api_version(), res.kind), Some(res));
        }
        assert_eq!(find("apps", "v1", "replicasets"), None);
    }

    #[test]
    fn groups_list_each_version_once_preferred_first() {
        let g = groups();
        assert_eq!(g[0], ("apps", vec!["v1"]));
        let vmop = g.iter().find(|(n, _)| *n == VMOP).unwrap();
        assert_eq!(vmop.1, vec!["v1alpha3", "v1alpha2", "v1alpha1"]);
    }
}
