//! The `faults:` section: scheduled host crashes and random failure/repair
//! processes, with host and cluster names resolved to `HostId`s.

use super::error::{Diag, PResult, backticked, suggestion};
use super::model::*;
use super::read::{self, Fields};
use super::yaml::{Node, NodeKind};
use crate::model::{HostId, SimDuration, SimTime};
use std::collections::BTreeSet;

/// A slow host's power-ons take at most this many times their delay.
const MAX_SLOW_FACTOR: u64 = 1_000;

const FAULT_KINDS: [&str; 9] = [
    "crash",
    "maintenance",
    "partition",
    "slow",
    "spherelet-crash",
    "spherelet-hang",
    "control-plane-crash",
    "control-plane-vm",
    "datastore-failure",
];

/// The kinds that fault a Supervisor part rather than a host.
const SUPERVISOR_FAULT_KINDS: [&str; 5] = [
    "spherelet-crash",
    "spherelet-hang",
    "control-plane-crash",
    "control-plane-vm",
    "datastore-failure",
];
const CLASSES: [&str; 3] = ["placement", "host", "workload"];

pub(crate) fn parse_faults(node: &Node, dc: &Datacenter) -> PResult<Faults> {
    let host_names: Vec<&str> = dc.hosts.iter().map(|h| h.name.as_str()).collect();
    let mut faults = Faults::default();
    for (i, entry) in read::seq(node, "faults")?.iter().enumerate() {
        let path = format!("faults[{i}]");
        let f = Fields::new(
            entry,
            &path,
            &[
                "at",
                "host",
                "hosts",
                "fault",
                "repair_after",
                "duration",
                "factor",
                "random",
                "messages",
                "components",
                "member",
                "datastore",
            ],
        )?;
        if let Some(n) = f.opt("messages") {
            if faults.messages.is_some() {
                return Err(Diag::new(n.loc, "only one `messages` rule is supported"));
            }
            faults.messages = Some(parse_messages(n, &f.sub("messages"))?);
            continue;
        }
        match f.key("random") {
            Some(random_key) => {
                if let Some(other) = [
                    "at",
                    "host",
                    "hosts",
                    "fault",
                    "repair_after",
                    "duration",
                    "factor",
                ]
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
            None if is_supervisor_fault(&f) => faults
                .supervisor
                .push(parse_supervisor_fault(&f, &host_names)?),
            None => faults
                .scheduled
                .push(parse_scheduled_fault(&f, &host_names)?),
        }
    }
    Ok(faults)
}

fn is_supervisor_fault(f: &Fields) -> bool {
    f.opt("fault")
        .and_then(|n| n.as_scalar())
        .is_some_and(|k| SUPERVISOR_FAULT_KINDS.contains(&k))
}

/// `{at: 2h, fault: spherelet-crash, host: esx-03, repair_after: 5m}`,
/// `spherelet-hang` (host, duration), `control-plane-crash` (components,
/// default all; repair_after), `control-plane-vm` (member), and
/// `datastore-failure` (datastore; repair_after).
fn parse_supervisor_fault(
    f: &Fields,
    host_names: &[&str],
) -> PResult<crate::scenario::SupervisorFault> {
    use crate::api::addrs::Part;
    use crate::scenario::SupervisorFaultKind as K;
    let components = Part::components();
    let at = SimTime(read::duration(f.req("at")?, &f.sub("at"))?);
    let kind_node = f.req("fault")?;
    let kind_name = read::scalar(kind_node, "a fault kind", &f.sub("fault"))?;
    let allowed: &[&str] = match kind_name {
        "spherelet-crash" => &["at", "fault", "host", "repair_after"],
        "spherelet-hang" => &["at", "fault", "host", "duration"],
        "control-plane-crash" => &["at", "fault", "components", "repair_after"],
        "control-plane-vm" => &["at", "fault", "member"],
        _ => &["at", "fault", "datastore", "repair_after"],
    };
    for key in [
        "host",
        "hosts",
        "repair_after",
        "duration",
        "factor",
        "components",
        "member",
        "datastore",
    ] {
        if let Some(k) = f.key(key)
            && !allowed.contains(&key)
        {
            return Err(Diag::new(
                k.loc,
                format!(
                    "`{key}` does not apply to a `{kind_name}` fault; it takes {}",
                    backticked(allowed.iter().copied())
                ),
            ));
        }
    }
    let host = || -> PResult<HostId> {
        let node = f.req("host")?;
        let name = read::scalar(node, "a host name", &f.sub("host"))?;
        Ok(host_id(read::resolve(node, "host", name, host_names)?))
    };
    let span = |key: &str| -> PResult<Option<SimDuration>> {
        f.opt(key)
            .map(|n| read::duration(n, &f.sub(key)).map(SimDuration))
            .transpose()
    };
    let (kind, lasts) = match kind_name {
        "spherelet-crash" => (K::SphereletCrash(host()?), span("repair_after")?),
        "spherelet-hang" => {
            let d = read::duration(f.req("duration")?, &f.sub("duration"))?;
            (K::SphereletHang(host()?), Some(SimDuration(d)))
        }
        "control-plane-crash" => {
            let parts = match f.opt("components") {
                None => components.iter().map(|c| c.to_string()).collect(),
                Some(node) => {
                    let path = f.sub("components");
                    let mut parts = Vec::new();
                    for item in
                        read::non_empty_seq(node, &path, "`components` must name at least one")?
                    {
                        let name = read::scalar(item, "a component name", &path)?;
                        let i = read::resolve(item, "component", name, &components)?;
                        parts.push(components[i].to_string());
                    }
                    parts
                }
            };
            (K::ControlPlaneCrash(parts), span("repair_after")?)
        }
        "control-plane-vm" => {
            let node = f.req("member")?;
            let member = read::int_in(node, &f.sub("member"), 0, u32::MAX.into())? as u32;
            (K::ControlPlaneVm(member), None)
        }
        _ => {
            let node = f.req("datastore")?;
            let name = read::string(node, &f.sub("datastore"))?;
            (K::Datastore(name), span("repair_after")?)
        }
    };
    Ok(crate::scenario::SupervisorFault {
        at,
        kind,
        lasts,
        location: kind_node.loc,
    })
}

fn parse_scheduled_fault(f: &Fields, host_names: &[&str]) -> PResult<ScheduledFault> {
    if let Some((key, k)) = ["components", "member", "datastore"]
        .iter()
        .find_map(|key| f.key(key).map(|k| (key, k)))
    {
        return Err(Diag::new(
            k.loc,
            format!("`{key}` only applies to faults of the Supervisor's parts"),
        ));
    }
    let at = read::duration(f.req("at")?, &f.sub("at"))?;
    let kind_node = f.req("fault")?;
    let kind = match read::scalar(kind_node, "a fault kind", &f.sub("fault"))? {
        "crash" => HostFaultKind::Crash,
        "maintenance" => HostFaultKind::Maintenance,
        "partition" => HostFaultKind::Partition,
        "slow" => HostFaultKind::Slow,
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
    let hosts = if kind == HostFaultKind::Partition {
        let node = f.req("hosts")?;
        let path = f.sub("hosts");
        let items = read::non_empty_seq(node, &path, "`hosts` must name at least one host")?;
        let mut ids = Vec::new();
        for item in items {
            let name = read::scalar(item, "a host name", &path)?;
            ids.push(host_id(read::resolve(item, "host", name, host_names)?));
        }
        ids.sort();
        ids.dedup();
        ids
    } else {
        let host_node = f.req("host")?;
        let host_name = read::scalar(host_node, "a host name", &f.sub("host"))?;
        vec![host_id(read::resolve(
            host_node, "host", host_name, host_names,
        )?)]
    };
    let repair_after = f
        .opt("repair_after")
        .map(|n| read::duration(n, &f.sub("repair_after")))
        .transpose()?;
    let duration = match kind {
        HostFaultKind::Crash => None,
        _ => Some(SimDuration(read::duration(
            f.req("duration")?,
            &f.sub("duration"),
        )?)),
    };
    let factor = match kind {
        HostFaultKind::Slow => {
            let n = f.req("factor")?;
            read::positive_u64(n, &f.sub("factor"), MAX_SLOW_FACTOR)? as u32
        }
        _ => 1,
    };
    Ok(ScheduledFault {
        at: SimTime(at),
        host: hosts[0],
        kind,
        repair_after: repair_after.map(SimDuration),
        duration,
        hosts,
        factor,
    })
}

/// `{drop: 1/1000, delay: {p: 1/100, by: exp(2s)}, duplicate: 1/1000,
/// between: [placement, host], resend_after: 1s}`.
fn parse_messages(node: &Node, path: &str) -> PResult<MessageFaults> {
    let f = Fields::new(
        node,
        path,
        &["drop", "delay", "duplicate", "between", "resend_after"],
    )?;
    let ratio = |k: &str| {
        f.opt(k)
            .map(|n| read::ratio(n, &f.sub(k)))
            .transpose()
            .map(|r| r.unwrap_or(Ratio::ZERO))
    };
    let (delay, delay_by) = match f.opt("delay") {
        None => (Ratio::ZERO, crate::model::Dist::Fixed(0)),
        Some(n) => {
            let d = Fields::new(n, &f.sub("delay"), &["p", "by"])?;
            (
                read::ratio(d.req("p")?, &d.sub("p"))?,
                read::dist(d.req("by")?, &d.sub("by"))?,
            )
        }
    };
    let resend_after = match f.opt("resend_after") {
        Some(n) => SimDuration(read::duration(n, &f.sub("resend_after"))?),
        None => SimDuration(1_000_000_000),
    };
    let between = match f.opt("between") {
        None => (ActorClass::Placement, ActorClass::Host),
        Some(n) => {
            let items = read::seq(n, &f.sub("between"))?;
            if items.len() != 2 {
                return Err(Diag::new(
                    n.loc,
                    format!("`{}` names exactly two actor classes", f.sub("between")),
                ));
            }
            (class(&items[0])?, class(&items[1])?)
        }
    };
    Ok(MessageFaults {
        drop: ratio("drop")?,
        resend_after,
        delay,
        delay_by,
        duplicate: ratio("duplicate")?,
        between,
    })
}

fn class(node: &Node) -> PResult<ActorClass> {
    match read::scalar(node, "an actor class", "between")? {
        "placement" => Ok(ActorClass::Placement),
        "host" => Ok(ActorClass::Host),
        "workload" => Ok(ActorClass::Workload),
        other => Err(Diag::new(
            node.loc,
            format!(
                "unknown actor class `{other}`; expected one of {}{}",
                backticked(CLASSES),
                suggestion(other, CLASSES)
            ),
        )),
    }
}

fn host_id(index: usize) -> HostId {
    // The host count is capped far below u32::MAX (limits::MAX_HOSTS).
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
