//! The `faults:` section: scheduled host crashes and random failure/repair
//! processes, with host and cluster names resolved to `HostId`s.

use super::error::{Diag, PResult, backticked, suggestion};
use super::model::*;
use super::read::{self, Fields};
use super::yaml::{Node, NodeKind};
use crate::model::{HostId, SimDuration, SimTime};
use std::collections::BTreeSet;

const FAULT_KINDS: [&str; 1] = ["crash"];

pub(crate) fn parse_faults(node: &Node, dc: &Datacenter) -> PResult<Faults> {
    let host_names: Vec<&str> = dc.hosts.iter().map(|h| h.name.as_str()).collect();
    let mut faults = Faults::default();
    for (i, entry) in read::seq(node, "faults")?.iter().enumerate() {
        let path = format!("faults[{i}]");
        let f = Fields::new(
            entry,
            &path,
            &["at", "host", "fault", "repair_after", "random"],
        )?;
        match f.key("random") {
            Some(random_key) => {
                if let Some(other) = ["at", "host", "fault", "repair_after"]
                    .iter()
                    .find_map(|k| f.key(k))
                {
                    let loc = if other.loc.line > random_key.loc.line {
                        other.loc
                    } else {
                        random_key.loc
                    };
                    return Err(Diag::new(
                        loc,
                        format!(
                            "`{path}` mixes `random` with scheduled-fault fields; a fault is either scheduled (`at`, `host`, `fault`) or `random`"
                        ),
                    ));
                }
                faults.random.push(parse_random_faults(
                    f.req("random")?,
                    &f.sub("random"),
                    dc,
                    &host_names,
                )?);
            }
            None => faults
                .scheduled
                .push(parse_scheduled_fault(&f, &host_names)?),
        }
    }
    Ok(faults)
}

fn parse_scheduled_fault(f: &Fields, host_names: &[&str]) -> PResult<ScheduledFault> {
    let at = read::duration(f.req("at")?, &f.sub("at"))?;
    let host_node = f.req("host")?;
    let host_name = read::scalar(host_node, "a host name", &f.sub("host"))?;
    let host = read::resolve(host_node, "host", host_name, host_names)?;
    let kind_node = f.req("fault")?;
    let kind = match read::scalar(kind_node, "a fault kind", &f.sub("fault"))? {
        "crash" => HostFaultKind::Crash,
        other => {
            return Err(Diag::new(
                kind_node.loc,
                format!(
                    "unsupported fault `{other}`; supported: {}{}",
                    backticked(FAULT_KINDS),
                    suggestion(other, FAULT_KINDS)
                ),
            ));
        }
    };
    let repair_after = f
        .opt("repair_after")
        .map(|n| read::duration(n, &f.sub("repair_after")))
        .transpose()?;
    Ok(ScheduledFault {
        at: SimTime(at),
        host: host_id(host),
        kind,
        repair_after: repair_after.map(SimDuration),
    })
}

fn host_id(index: usize) -> HostId {
    // The host count is capped far below u32::MAX (datacenter::MAX_HOSTS).
    HostId(index as u32)
}

fn parse_random_faults(
    node: &Node,
    path: &str,
    dc: &Datacenter,
    host_names: &[&str],
) -> PResult<RandomHostFaults> {
    let f = Fields::new(node, path, &["hosts", "mtbf", "mttr"])?;
    let hosts = parse_host_selection(f.req("hosts")?, &f.sub("hosts"), dc, host_names)?;
    let mtbf_node = f.req("mtbf")?;
    let mtbf = read::dist(mtbf_node, &f.sub("mtbf"))?;
    // A host that fails after zero time would fail again forever at one instant.
    if mtbf.mean_nanos() <= 0.0 {
        return Err(Diag::new(
            mtbf_node.loc,
            "`mtbf` must have a mean greater than zero",
        ));
    }
    let mttr = read::dist(f.req("mttr")?, &f.sub("mttr"))?;
    Ok(RandomHostFaults { hosts, mtbf, mttr })
}

/// `all`, a cluster name, or a list of host names.
fn parse_host_selection(
    node: &Node,
    path: &str,
    dc: &Datacenter,
    host_names: &[&str],
) -> PResult<Vec<HostId>> {
    match &node.kind {
        NodeKind::Scalar(s) if s == "all" => Ok((0..dc.hosts.len()).map(host_id).collect()),
        NodeKind::Scalar(s) => {
            let clusters: Vec<&str> = dc.clusters.iter().map(|c| c.name.as_str()).collect();
            let cluster = clusters.iter().position(|c| c == s).ok_or_else(|| {
                Diag::new(
                    node.loc,
                    format!(
                        "unknown cluster `{s}` in `{path}`; expected `all`, a cluster name ({}), or a list of host names{}",
                        backticked(clusters.iter().copied()),
                        suggestion(s, clusters.iter().copied())
                    ),
                )
            })?;
            Ok(dc
                .hosts
                .iter()
                .enumerate()
                .filter(|(_, h)| h.cluster == cluster)
                .map(|(i, _)| host_id(i))
                .collect())
        }
        _ => {
            let items = read::non_empty_seq(node, path, "`hosts` must name at least one host")?;
            let mut seen = BTreeSet::new();
            let mut ids = Vec::with_capacity(items.len());
            for item in items {
                let name = read::scalar(item, "a host name", path)?;
                let index = read::resolve(item, "host", name, host_names)?;
                if !seen.insert(index) {
                    return Err(Diag::new(
                        item.loc,
                        format!("host `{name}` is listed twice in `{path}`"),
                    ));
                }
                ids.push(host_id(index));
            }
            Ok(ids)
        }
    }
}
