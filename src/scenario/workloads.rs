//! The `workloads:` section: VMs written out one by one, and generators
//! that create VMs from an arrival process and a size mix. The Supervisor's
//! timed API calls (`manifests`, `object_generators`) are in `calls`.

use super::calls::{self, CallScope};
use super::datacenter::parse_size;
use super::drs;
use super::error::{Diag, PResult};
use super::model::*;
use super::read::{self, Fields};
use super::timing::{arrivals, delete_at, window};
use super::yaml::Node;
use crate::model::{SimTime, SizeMix, WeightedSize, limits};

/// `supervisor`: the parsed `supervisor:` section and where includes are
/// resolved, `None` when the scenario has no Supervisor.
pub(crate) fn parse_workloads(
    node: &Node,
    dc: &Datacenter,
    supervisor: Option<&CallScope>,
) -> PResult<Workloads> {
    let f = Fields::new(
        node,
        "workloads",
        &["vms", "generators", "manifests", "object_generators"],
    )?;
    let mut workloads = Workloads::default();
    for key in ["manifests", "object_generators"] {
        let (Some(k), None) = (f.key(key), supervisor) else {
            continue;
        };
        return Err(Diag::new(
            k.loc,
            format!(
                "`workloads.{key}` are calls to the Supervisor's API, but the scenario has no `supervisor:` section (add one, e.g. `supervisor: {{namespaces: [{{name: team-a}}]}}`)"
            ),
        ));
    }
    if let Some(scope) = supervisor {
        if let Some(n) = f.opt("manifests") {
            workloads.manifests.calls = calls::parse_calls(n, scope)?;
        }
        if let Some(n) = f.opt("object_generators") {
            workloads.manifests.generators =
                calls::parse_object_generators(n, scope, &workloads.manifests.calls)?;
        }
    }
    if let Some(vms) = f.opt("vms") {
        // A set, not a scan: imported traces list hundreds of thousands of VMs.
        let mut names = std::collections::BTreeSet::new();
        for (i, vm) in read::seq(vms, "workloads.vms")?.iter().enumerate() {
            let (name_node, parsed) = parse_vm(vm, &format!("workloads.vms[{i}]"), dc)?;
            if !names.insert(parsed.name.clone()) {
                return Err(Diag::new(
                    name_node.loc,
                    format!("duplicate vm name `{}`", parsed.name),
                ));
            }
            workloads.vms.push(parsed);
        }
    }
    if let Some(gens) = f.opt("generators") {
        for (i, g) in read::seq(gens, "workloads.generators")?.iter().enumerate() {
            let (name_node, parsed) =
                parse_generator(g, &format!("workloads.generators[{i}]"), dc)?;
            if workloads.generators.iter().any(|x| x.name == parsed.name) {
                return Err(Diag::new(
                    name_node.loc,
                    format!("duplicate generator name `{}`", parsed.name),
                ));
            }
            workloads.generators.push(parsed);
        }
    }
    Ok(workloads)
}

fn parse_vm<'a>(node: &'a Node, path: &str, dc: &Datacenter) -> PResult<(&'a Node, ExplicitVm)> {
    let f = Fields::new(
        node,
        path,
        &[
            "name",
            "cpu",
            "memory",
            "gpus",
            "at",
            "delete_at",
            "restart_priority",
            "cluster",
            "resource_pool",
        ],
    )?;
    let cluster = drs::cluster_of(&f, dc, "the VM goes to")?;
    let pool = drs::pool_of(&f, dc, cluster)?;
    let restart_priority = f
        .opt("restart_priority")
        .map(|n| super::ha::parse_priority(n, &f.sub("restart_priority")))
        .transpose()?;
    let name_node = f.req("name")?;
    let name = read::string(name_node, &f.sub("name"))?;
    let size = parse_size(&f)?;
    let at = f
        .opt("at")
        .map(|n| read::duration(n, &f.sub("at")))
        .transpose()?
        .unwrap_or(0);
    let delete_at = delete_at(&f, at)?;
    Ok((
        name_node,
        ExplicitVm {
            name,
            size,
            at: SimTime(at),
            delete_at,
            restart_priority,
            cluster,
            pool,
        },
    ))
}

fn parse_generator<'a>(
    node: &'a Node,
    path: &str,
    dc: &Datacenter,
) -> PResult<(&'a Node, Generator)> {
    let f = Fields::new(
        node,
        path,
        &[
            "name",
            "rate",
            "interarrival",
            "lifetime",
            "sizes",
            "start",
            "stop",
            "count",
            "cluster",
            "resource_pool",
        ],
    )?;
    let cluster = drs::cluster_of(&f, dc, "the generator's VMs go to")?;
    let pool = drs::pool_of(&f, dc, cluster)?;
    let name_node = f.req("name")?;
    let name = read::string(name_node, &f.sub("name"))?;
    let interarrival = arrivals(&f, &name)?;
    let lifetime = read::dist(f.req("lifetime")?, &f.sub("lifetime"))?;
    let sizes = parse_sizes(f.req("sizes")?, &f.sub("sizes"))?;
    let (start, stop) = window(&f)?;
    let count = f
        .opt("count")
        .map(|n| read::int_in(n, &f.sub("count"), 0, limits::MAX_COUNT))
        .transpose()?;
    let generator = Generator {
        name,
        interarrival,
        lifetime,
        sizes,
        start,
        stop,
        count,
        cluster,
        pool,
    };
    Ok((name_node, generator))
}

fn parse_sizes(node: &Node, path: &str) -> PResult<SizeMix> {
    let items = read::non_empty_seq(node, path, "`sizes` must list at least one VM size")?;
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let f = Fields::new(
            item,
            &format!("{path}[{i}]"),
            &["cpu", "memory", "gpus", "weight"],
        )?;
        let size = parse_size(&f)?;
        let weight = match f.opt("weight") {
            Some(n) => read::positive_u64(n, &f.sub("weight"), limits::MAX_WEIGHT)? as u32,
            None => 1,
        };
        entries.push(WeightedSize { size, weight });
    }
    Ok(SizeMix::new(entries))
}
