//! The `datacenter:` section: host models, clusters, and the host list with
//! generated names (`esx-01`...) and explicit ones.

use super::drs::{self, PendingRule};
use super::error::{Diag, PResult};
use super::model::{ClusterSpec, Datacenter, HostModel, HostSpec, Location};
use super::read::{self, Fields};
use super::units;
use super::yaml::Node;
use crate::model::Resources;
use crate::model::limits::MAX_HOSTS;
use std::collections::BTreeMap;

/// The datacenter, and its clusters' DRS rules awaiting their VMs (see
/// [`super::drs::resolve_rules`]).
pub(crate) fn parse_datacenter(node: &Node) -> PResult<(Datacenter, Vec<PendingRule>)> {
    let f = Fields::new(
        node,
        "datacenter",
        &["host_prefix", "host_models", "clusters"],
    )?;
    let prefix = match f.opt("host_prefix") {
        Some(n) => read::string(n, &f.sub("host_prefix"))?,
        None => "esx".to_string(),
    };
    let models_node = f.req("host_models")?;
    let model_nodes = read::non_empty_seq(
        models_node,
        "datacenter.host_models",
        "empty datacenter: `host_models` must list at least one host model",
    )?;
    let models = parse_models(model_nodes)?;
    let cluster_nodes = read::non_empty_seq(
        f.req("clusters")?,
        "datacenter.clusters",
        "empty datacenter: `clusters` must list at least one cluster",
    )?;
    let (clusters, planned) = parse_clusters(cluster_nodes, &models)?;
    let hosts = name_hosts(&prefix, planned)?;
    let mut datacenter = Datacenter {
        models,
        clusters,
        hosts,
        rules: Vec::new(),
        pools: Vec::new(),
    };
    datacenter
        .total_memory()
        .map_err(|e| Diag::new(node.loc, format!("the datacenter is too large: {e}")))?;
    let mut rules = Vec::new();
    let mut pools = Vec::new();
    for (c, cluster_node) in cluster_nodes.iter().enumerate() {
        let f = Fields::new(
            cluster_node,
            &format!("datacenter.clusters[{c}]"),
            &CLUSTER_FIELDS,
        )?;
        drs::parse_cluster_drs(&f, c, &datacenter, &mut rules, &mut pools)?;
    }
    datacenter.pools = pools;
    Ok((datacenter, rules))
}

const CLUSTER_FIELDS: [&str; 5] = ["name", "hosts", "host_groups", "rules", "resource_pools"];

fn parse_models(nodes: &[Node]) -> PResult<Vec<HostModel>> {
    let mut models: Vec<HostModel> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let path = format!("datacenter.host_models[{i}]");
        let f = Fields::new(node, &path, &["name", "cpu", "memory", "gpus", "gpu_model"])?;
        let name_node = f.req("name")?;
        let name = read::string(name_node, &f.sub("name"))?;
        if models.iter().any(|m| m.name == name) {
            return Err(Diag::new(
                name_node.loc,
                format!("duplicate host model name `{name}`"),
            ));
        }
        let capacity = parse_size(&f)?;
        let gpu_model = f
            .opt("gpu_model")
            .map(|n| read::string(n, &f.sub("gpu_model")))
            .transpose()?;
        models.push(HostModel {
            name,
            capacity,
            gpu_model,
        });
    }
    Ok(models)
}

/// `cpu`, `memory` (both > 0) and optional `gpus` of a host model or VM.
pub fn parse_size(f: &Fields) -> PResult<Resources> {
    let cpu_node = f.req("cpu")?;
    let cpu = read::unit(cpu_node, "a cpu quantity", &f.sub("cpu"), units::parse_cpu)?;
    let cpu_millis = read::positive(cpu_node, "cpu", cpu)?;
    let mem_node = f.req("memory")?;
    let mem = read::unit(
        mem_node,
        "a memory quantity",
        &f.sub("memory"),
        units::parse_memory,
    )?;
    let memory_bytes = read::positive(mem_node, "memory", mem)?;
    let gpu_millis = match f.opt("gpus") {
        Some(n) => read::unit(n, "a gpu count", &f.sub("gpus"), units::parse_gpus)?,
        None => 0,
    };
    Ok(Resources {
        cpu_millis,
        memory_bytes,
        gpu_millis,
    })
}

/// A host before naming: explicit name, or a slot in the generated sequence.
struct PlannedHost {
    explicit: Option<String>,
    /// The explicit name, or the `count:` value that generated the host.
    loc: Location,
    cluster: usize,
    model: usize,
}

fn parse_clusters(
    nodes: &[Node],
    models: &[HostModel],
) -> PResult<(Vec<ClusterSpec>, Vec<PlannedHost>)> {
    let model_names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
    let mut clusters: Vec<ClusterSpec> = Vec::new();
    let mut planned = Vec::new();
    for (ci, node) in nodes.iter().enumerate() {
        let path = format!("datacenter.clusters[{ci}]");
        let f = Fields::new(node, &path, &CLUSTER_FIELDS)?;
        let name_node = f.req("name")?;
        let name = read::string(name_node, &f.sub("name"))?;
        if clusters.iter().any(|c| c.name == name) {
            return Err(Diag::new(
                name_node.loc,
                format!("duplicate cluster name `{name}`"),
            ));
        }
        let groups = read::non_empty_seq(
            f.req("hosts")?,
            &f.sub("hosts"),
            &format!("empty cluster `{name}`: `hosts` must list at least one host group"),
        )?;
        for (gi, group) in groups.iter().enumerate() {
            plan_group(
                group,
                &format!("{path}.hosts[{gi}]"),
                ci,
                &model_names,
                &mut planned,
            )?;
        }
        clusters.push(ClusterSpec { name });
    }
    Ok((clusters, planned))
}

fn plan_group(
    node: &Node,
    path: &str,
    cluster: usize,
    models: &[&str],
    out: &mut Vec<PlannedHost>,
) -> PResult<()> {
    let f = Fields::new(node, path, &["model", "count", "names"])?;
    let model_node = f.req("model")?;
    let model_name = read::string(model_node, &f.sub("model"))?;
    let model = read::resolve(model_node, "host model", &model_name, models)?;
    match (f.opt("count"), f.opt("names")) {
        (Some(_), Some(names)) => Err(Diag::new(
            names.loc,
            format!("`{path}` has both `count` and `names`; give exactly one"),
        )),
        (None, None) => Err(Diag::new(
            f.loc,
            format!("missing field `count` (or `names`) in `{path}`"),
        )),
        (Some(count_node), None) => {
            let count = read::positive_u64(count_node, &f.sub("count"), MAX_HOSTS)?;
            if count > MAX_HOSTS - out.len() as u64 {
                return Err(Diag::new(
                    count_node.loc,
                    format!("too many hosts: at most {MAX_HOSTS} in a datacenter"),
                ));
            }
            out.extend((0..count).map(|_| PlannedHost {
                explicit: None,
                loc: count_node.loc,
                cluster,
                model,
            }));
            Ok(())
        }
        (None, Some(names_node)) => {
            let names = read::non_empty_seq(
                names_node,
                &f.sub("names"),
                "`names` must list at least one host name",
            )?;
            if names.len() as u64 + out.len() as u64 > MAX_HOSTS {
                return Err(Diag::new(
                    names_node.loc,
                    format!("too many hosts: at most {MAX_HOSTS} in a datacenter"),
                ));
            }
            for n in names {
                let name = read::string(n, &f.sub("names"))?;
                out.push(PlannedHost {
                    explicit: Some(name),
                    loc: n.loc,
                    cluster,
                    model,
                });
            }
            Ok(())
        }
    }
}

/// Generated names are `{prefix}-{NN}`, numbered across the datacenter in
/// file order, zero-padded to the width of the counted total (at least 2)
/// so that they sort the way they are numbered.
fn name_hosts(prefix: &str, planned: Vec<PlannedHost>) -> PResult<Vec<HostSpec>> {
    let total = planned.iter().filter(|p| p.explicit.is_none()).count();
    let width = total.to_string().len().max(2);
    let mut seen: BTreeMap<String, (Location, bool)> = BTreeMap::new();
    let mut hosts = Vec::with_capacity(planned.len());
    let mut number = 0;
    for p in planned {
        let explicit = p.explicit.is_some();
        let name = p.explicit.unwrap_or_else(|| {
            number += 1;
            format!("{prefix}-{number:0width$}")
        });
        if let Some(&(first_loc, first_explicit)) = seen.get(&name) {
            return Err(duplicate_host(
                &name,
                (p.loc, explicit),
                (first_loc, first_explicit),
            ));
        }
        seen.insert(name.clone(), (p.loc, explicit));
        hosts.push(HostSpec {
            name,
            cluster: p.cluster,
            model: p.model,
        });
    }
    Ok(hosts)
}

/// Reports a clash at the explicit name involved, since that is what the
/// author typed; generated names are only located at their `count:`.
fn duplicate_host(
    name: &str,
    (loc, explicit): (Location, bool),
    (first_loc, first_explicit): (Location, bool),
) -> Diag {
    match (explicit, first_explicit) {
        (true, true) => Diag::new(
            loc,
            format!(
                "duplicate host name `{name}` (first given at line {})",
                first_loc.line
            ),
        ),
        (true, false) => Diag::new(
            loc,
            format!(
                "duplicate host name `{name}`: a host with `count` at line {} is already named so",
                first_loc.line
            ),
        ),
        (false, _) => Diag::new(
            first_loc,
            format!(
                "duplicate host name `{name}`: a host with `count` at line {} is also named so",
                loc.line
            ),
        ),
    }
}
