//! A cluster's DRS configuration: `host_groups`, `rules` (VM-VM and
//! VM-Host, as vSphere has them) and `resource_pools`; and the `cluster:` /
//! `resource_pool:` fields that put a VM, a generator or the Supervisor in
//! one of them.

use super::error::{Diag, PResult, backticked, suggestion};
use super::model::{Datacenter, DrsRule, Location, ResourcePool, RuleKind, Workloads};
use super::read::{self, Fields};
use super::units;
use super::yaml::Node;
use crate::model::{HostId, Resources};
use std::collections::BTreeMap;

/// What a rule names before the workloads are read: its VMs, located.
pub(crate) struct PendingRule {
    pub rule: DrsRule,
    pub vm_locations: Vec<Location>,
}

/// `host_groups`, `rules` and `resource_pools` of cluster `c` (its hosts
/// already named). Rules keep their VM names until the workloads are read.
pub(crate) fn parse_cluster_drs(
    f: &Fields,
    c: usize,
    dc: &Datacenter,
    rules: &mut Vec<PendingRule>,
    pools: &mut Vec<ResourcePool>,
) -> PResult<()> {
    let cluster = &dc.clusters[c].name;
    let range = dc.cluster_hosts(c);
    let members: Vec<&str> = dc.hosts[range.start as usize..range.end as usize]
        .iter()
        .map(|h| h.name.as_str())
        .collect();
    let mut groups: BTreeMap<String, Vec<HostId>> = BTreeMap::new();
    if let Some(n) = f.opt("host_groups") {
        for (i, g) in read::seq(n, &f.sub("host_groups"))?.iter().enumerate() {
            let gf = Fields::new(
                g,
                &format!("{}[{i}]", f.sub("host_groups")),
                &["name", "hosts"],
            )?;
            let name_node = gf.req("name")?;
            let name = read::string(name_node, &gf.sub("name"))?;
            if groups.contains_key(&name) {
                return Err(Diag::new(
                    name_node.loc,
                    format!("duplicate host group `{name}` in cluster `{cluster}`"),
                ));
            }
            let hosts = read::non_empty_seq(
                gf.req("hosts")?,
                &gf.sub("hosts"),
                "a host group must list at least one host",
            )?;
            let mut ids = Vec::with_capacity(hosts.len());
            for h in hosts {
                let host = read::string(h, &gf.sub("hosts"))?;
                let kind = format!("host of cluster `{cluster}`");
                let i = read::resolve(h, &kind, &host, &members)?;
                ids.push(HostId(range.start + i as u32));
            }
            groups.insert(name, ids);
        }
    }
    if let Some(n) = f.opt("rules") {
        for (i, r) in read::seq(n, &f.sub("rules"))?.iter().enumerate() {
            let path = format!("{}[{i}]", f.sub("rules"));
            let rule = parse_rule(r, &path, c, &groups)?;
            if rules.iter().any(|p| p.rule.name == rule.rule.name) {
                return Err(Diag::new(
                    r.loc,
                    format!("duplicate rule name `{}`", rule.rule.name),
                ));
            }
            rules.push(rule);
        }
    }
    if let Some(n) = f.opt("resource_pools") {
        for (i, p) in read::seq(n, &f.sub("resource_pools"))?.iter().enumerate() {
            let path = format!("{}[{i}]", f.sub("resource_pools"));
            let pool = parse_pool(p, &path, c)?;
            if pools.iter().any(|q| q.name == pool.name) {
                return Err(Diag::new(
                    p.loc,
                    format!("duplicate resource pool name `{}`", pool.name),
                ));
            }
            pools.push(pool);
        }
    }
    Ok(())
}

fn parse_rule(
    node: &Node,
    path: &str,
    cluster: usize,
    groups: &BTreeMap<String, Vec<HostId>>,
) -> PResult<PendingRule> {
    let f = Fields::new(node, path, &["name", "type", "vms", "host_group"])?;
    let name = read::string(f.req("name")?, &f.sub("name"))?;
    let type_node = f.req("type")?;
    let kind =
        RuleKind::ALL[read::choice(type_node, "rule type", &f.sub("type"), &RuleKind::NAMES)?];
    let vm_nodes = read::non_empty_seq(
        f.req("vms")?,
        &f.sub("vms"),
        "a rule must list at least one VM or generator",
    )?;
    let mut vms = Vec::with_capacity(vm_nodes.len());
    let mut vm_locations = Vec::with_capacity(vm_nodes.len());
    for v in vm_nodes {
        vms.push(read::string(v, &f.sub("vms"))?);
        vm_locations.push(v.loc);
    }
    let (hosts, host_group) = match (kind.is_vm_host(), f.opt("host_group")) {
        (true, Some(g)) => {
            let group = read::string(g, &f.sub("host_group"))?;
            let names: Vec<&str> = groups.keys().map(String::as_str).collect();
            let i = read::resolve(g, "host group", &group, &names)?;
            (groups[names[i]].clone(), Some(group))
        }
        (true, None) => {
            return Err(Diag::new(
                f.loc,
                format!(
                    "missing field `host_group` in `{path}`: a `{}` rule names the host group its VMs go to or avoid",
                    kind.name()
                ),
            ));
        }
        (false, Some(_)) => {
            let key = f.key("host_group").map_or(f.loc, |k| k.loc);
            return Err(Diag::new(
                key,
                format!(
                    "a `{}` rule is between VMs and takes no `host_group`",
                    kind.name()
                ),
            ));
        }
        (false, None) => (Vec::new(), None),
    };
    Ok(PendingRule {
        rule: DrsRule {
            name,
            cluster,
            kind,
            vms,
            hosts,
            host_group,
        },
        vm_locations,
    })
}

fn parse_pool(node: &Node, path: &str, cluster: usize) -> PResult<ResourcePool> {
    let f = Fields::new(
        node,
        path,
        &[
            "name",
            "cpu_reservation",
            "memory_reservation",
            "cpu_limit",
            "memory_limit",
            "expandable",
        ],
    )?;
    let name = read::string(f.req("name")?, &f.sub("name"))?;
    let cpu = |key: &str| {
        f.opt(key)
            .map(|n| read::unit(n, "a cpu quantity", &f.sub(key), units::parse_cpu))
            .transpose()
    };
    let memory = |key: &str| {
        f.opt(key)
            .map(|n| read::unit(n, "a memory quantity", &f.sub(key), units::parse_memory))
            .transpose()
    };
    let reservation = Resources::new(
        cpu("cpu_reservation")?.unwrap_or(0),
        memory("memory_reservation")?.unwrap_or(0),
        0,
    );
    let limit = Resources::new(
        cpu("cpu_limit")?.unwrap_or(u64::MAX),
        memory("memory_limit")?.unwrap_or(u64::MAX),
        u64::MAX,
    );
    if !reservation.fits_in(&limit) {
        return Err(Diag::new(
            node.loc,
            format!("resource pool `{name}` reserves more than its limit allows"),
        ));
    }
    let expandable = f
        .opt("expandable")
        .map(|n| read::boolean(n, &f.sub("expandable")))
        .transpose()?
        .unwrap_or(true);
    Ok(ResourcePool {
        name,
        cluster,
        reservation,
        limit,
        expandable,
    })
}

/// `cluster:` of a VM, a generator or the Supervisor (`what`: "the VM goes
/// to"...): the named cluster, or
/// the only one. With several clusters the field is required: a VM placed
/// in a cluster nobody chose is the surprise this field exists to avoid.
pub(crate) fn cluster_of(f: &Fields, dc: &Datacenter, what: &str) -> PResult<usize> {
    let names: Vec<&str> = dc.clusters.iter().map(|c| c.name.as_str()).collect();
    match f.opt("cluster") {
        Some(n) => {
            let name = read::string(n, &f.sub("cluster"))?;
            read::resolve(n, "cluster", &name, &names)
        }
        None if names.len() == 1 => Ok(0),
        None => Err(Diag::new(
            f.loc,
            format!(
                "the datacenter has {} clusters ({}): say which one {what} with `cluster:`",
                names.len(),
                backticked(names.iter().copied())
            ),
        )),
    }
}

/// `resource_pool:` of a VM or generator: a pool of its cluster.
pub(crate) fn pool_of(f: &Fields, dc: &Datacenter, cluster: usize) -> PResult<Option<usize>> {
    let Some(n) = f.opt("resource_pool") else {
        return Ok(None);
    };
    let name = read::string(n, &f.sub("resource_pool"))?;
    let in_cluster: Vec<(usize, &str)> = (dc.pools.iter().enumerate())
        .filter(|(_, p)| p.cluster == cluster)
        .map(|(i, p)| (i, p.name.as_str()))
        .collect();
    match in_cluster.iter().find(|(_, p)| *p == name) {
        Some((i, _)) => Ok(Some(*i)),
        None => {
            let names = in_cluster.iter().map(|(_, p)| *p);
            let known = if in_cluster.is_empty() {
                "it has none".to_string()
            } else {
                format!("known: {}", backticked(names.clone()))
            };
            Err(Diag::new(
                n.loc,
                format!(
                    "unknown resource pool `{name}` in cluster `{}`; {known}{}",
                    dc.cluster_name(cluster),
                    suggestion(&name, names)
                ),
            ))
        }
    }
}

/// Checks that every rule's VMs are VMs or generators of its cluster, and
/// keeps the rules.
pub(crate) fn resolve_rules(
    pending: Vec<PendingRule>,
    dc: &mut Datacenter,
    workloads: &Workloads,
) -> PResult<()> {
    let mut in_cluster: BTreeMap<&str, usize> = BTreeMap::new();
    for v in &workloads.vms {
        in_cluster.insert(&v.name, v.cluster);
    }
    for g in &workloads.generators {
        in_cluster.insert(&g.name, g.cluster);
    }
    for p in pending {
        let cluster = dc.cluster_name(p.rule.cluster).to_string();
        for (vm, loc) in p.rule.vms.iter().zip(&p.vm_locations) {
            match in_cluster.get(vm.as_str()) {
                Some(c) if *c == p.rule.cluster => {}
                Some(c) => {
                    return Err(Diag::new(
                        *loc,
                        format!(
                            "rule `{}` of cluster `{cluster}` names `{vm}`, which goes to cluster `{}`: a DRS rule binds VMs of its own cluster",
                            p.rule.name,
                            dc.cluster_name(*c)
                        ),
                    ));
                }
                None => {
                    return Err(Diag::new(
                        *loc,
                        format!(
                            "rule `{}` names `{vm}`, which is neither a VM nor a generator under `workloads`{}",
                            p.rule.name,
                            suggestion(vm, in_cluster.keys().copied())
                        ),
                    ));
                }
            }
        }
        dc.rules.push(p.rule);
    }
    Ok(())
}
