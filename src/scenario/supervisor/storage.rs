//! CNS storage: datastores (capacity, which hosts see them) and the
//! storage policies that pick among them.

use super::super::error::{Diag, PResult};
use super::super::read::{self, Fields};
use super::super::units;
use super::super::yaml::Node;
use super::{host_list, unique};
use crate::model::HostId;
use crate::scenario::{DatastoreConfig, StoragePolicyConfig};

/// `cluster`: the Supervisor's hosts, which a datastore sees by default.
pub(super) fn datastores(
    node: &Node,
    hosts: &[&str],
    cluster: std::ops::Range<u32>,
) -> PResult<Vec<DatastoreConfig>> {
    let mut out: Vec<DatastoreConfig> = Vec::new();
    for (i, item) in read::seq(node, "supervisor.datastores")?.iter().enumerate() {
        let path = format!("supervisor.datastores[{i}]");
        let f = Fields::new(item, &path, &["name", "capacity", "hosts"])?;
        let name_node = f.req("name")?;
        let name = read::string(name_node, &f.sub("name"))?;
        let seen: Vec<&str> = out.iter().map(|d| d.name.as_str()).collect();
        unique(name_node, "datastore", &name, &seen)?;
        let cap_node = f.req("capacity")?;
        let cap = read::unit(
            cap_node,
            "a storage quantity",
            &f.sub("capacity"),
            units::parse_memory,
        )?;
        let capacity_bytes = read::positive(cap_node, &f.sub("capacity"), cap)?;
        let hosts = match f.opt("hosts") {
            Some(n) => host_list(n, &f.sub("hosts"), hosts)?,
            None => cluster.clone().map(HostId).collect(),
        };
        out.push(DatastoreConfig {
            name,
            capacity_bytes,
            hosts,
        });
    }
    Ok(out)
}

pub(super) fn storage_policies(
    node: &Node,
    datastores: &[DatastoreConfig],
) -> PResult<Vec<StoragePolicyConfig>> {
    let names: Vec<&str> = datastores.iter().map(|d| d.name.as_str()).collect();
    let mut out: Vec<StoragePolicyConfig> = Vec::new();
    for (i, item) in read::seq(node, "supervisor.storage_policies")?
        .iter()
        .enumerate()
    {
        let path = format!("supervisor.storage_policies[{i}]");
        let f = Fields::new(item, &path, &["name", "datastores"])?;
        let name_node = f.req("name")?;
        let name = read::string(name_node, &f.sub("name"))?;
        let seen: Vec<&str> = out.iter().map(|p| p.name.as_str()).collect();
        unique(name_node, "storage policy", &name, &seen)?;
        let field = f.sub("datastores");
        let mut picked = Vec::new();
        let list = read::non_empty_seq(
            f.req("datastores")?,
            &field,
            &format!("storage policy `{name}` must list at least one datastore"),
        )?;
        for n in list {
            let ds = read::string(n, &field)?;
            let idx = read::resolve(n, "datastore", &ds, &names)?;
            if picked.contains(&idx) {
                return Err(Diag::new(
                    n.loc,
                    format!("datastore `{ds}` is listed twice"),
                ));
            }
            picked.push(idx);
        }
        out.push(StoragePolicyConfig {
            name,
            datastores: picked,
        });
    }
    Ok(out)
}
