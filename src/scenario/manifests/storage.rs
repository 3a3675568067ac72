//! PersistentVolumeClaim and StorageClass (a vSphere storage policy exposed
//! to namespaces).

use super::super::error::{Diag, PResult, backticked, suggestion};
use super::super::notices;
use super::super::read::{self, Fields};
use super::super::yaml::Node;
use super::{Scope, k8s_memory};
use crate::api::objects::*;

/// A StorageClass has no `spec`: its fields are at the top.
pub(crate) const STORAGE_CLASS_TOP: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "provisioner",
    "parameters",
];
pub(crate) const STORAGE_CLASS_IGNORED: &[&str] = &[
    "reclaimPolicy",
    "allowVolumeExpansion",
    "volumeBindingMode",
    "mountOptions",
    "allowedTopologies",
];
pub(crate) const PARAMETERS_IGNORED: &[&str] = &["svStorageClass", "csi.storage.k8s.io/fstype"];
pub(crate) const PVC_SPEC_IGNORED: &[&str] = &[
    "volumeMode",
    "volumeName",
    "selector",
    "dataSource",
    "dataSourceRef",
];
const ACCESS_MODES: [&str; 4] = [
    "ReadWriteOnce",
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOncePod",
];

pub(crate) fn parse_pvc(node: &Node, path: &str) -> PResult<PersistentVolumeClaim> {
    let f = Fields::with_ignored(
        node,
        path,
        &["storageClassName", "resources", "accessModes"],
        PVC_SPEC_IGNORED,
    )?;
    // Without a class, Kubernetes takes the default one; a Supervisor
    // namespace has none, so such a claim is refused at run time.
    let storage_class = match f.opt("storageClassName") {
        Some(sc_node) => {
            let storage_class = read::string(sc_node, &f.sub("storageClassName"))?;
            super::check_name(sc_node, &storage_class)?;
            storage_class
        }
        None => {
            notices::accept_unmodelled(format!(
                "{}: absent (no default class)",
                f.sub("storageClassName")
            ));
            String::new()
        }
    };
    let rf = Fields::with_ignored(
        f.req("resources")?,
        &f.sub("resources"),
        &["requests"],
        &["limits"],
    )?;
    let qf = Fields::new(rf.req("requests")?, &rf.sub("requests"), &["storage"])?;
    let size_node = qf.req("storage")?;
    let size = read::unit(
        size_node,
        "a storage quantity",
        &qf.sub("storage"),
        k8s_memory,
    )?;
    let bytes = read::positive(size_node, &qf.sub("storage"), size)?;
    // Checked for typos; CNS volumes here are attached to one VM or pod.
    if let Some(modes) = f.opt("accessModes") {
        for m in read::seq(modes, &f.sub("accessModes"))? {
            read::choice(m, "access mode", &f.sub("accessModes"), &ACCESS_MODES)?;
        }
    }
    Ok(PersistentVolumeClaim {
        storage_class,
        bytes,
        datastore: None,
    })
}

/// `parameters.storagePolicyID` names a `supervisor.storage_policies`
/// entry (in vSphere it is the policy's id; here its name).
pub(crate) fn parse_storage_class(f: &Fields, scope: &Scope) -> PResult<StorageClass> {
    if let Some(p) = f.opt("provisioner") {
        read::string(p, &f.sub("provisioner"))?;
    }
    // A class of another provisioner has no vSphere storage policy: its
    // claims are refused at run time.
    let no_policy = || {
        notices::accept_unmodelled(format!("{}: no storagePolicyID", f.sub("parameters")));
        Ok(StorageClass {
            storage_policy: String::new(),
        })
    };
    let Some(parameters) = f.opt("parameters") else {
        return no_policy();
    };
    let pf = Fields::with_ignored(
        parameters,
        &f.sub("parameters"),
        &["storagePolicyID"],
        PARAMETERS_IGNORED,
    )?;
    let Some(id_node) = pf.opt("storagePolicyID") else {
        return no_policy();
    };
    let storage_policy = read::string(id_node, &pf.sub("storagePolicyID"))?;
    let names: Vec<&str> = scope.storage_policies.iter().map(String::as_str).collect();
    if !names.contains(&storage_policy.as_str()) {
        let known = if names.is_empty() {
            "; none declared".to_string()
        } else {
            format!("; declared: {}", backticked(names.iter().copied()))
        };
        return Err(Diag::new(
            id_node.loc,
            format!(
                "`storagePolicyID: {storage_policy}` does not name a `supervisor.storage_policies` entry{known}{}",
                suggestion(&storage_policy, names.iter().copied())
            ),
        ));
    }
    Ok(StorageClass { storage_policy })
}
