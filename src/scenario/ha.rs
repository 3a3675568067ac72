//! The `ha:` section (vSphere HA: restart delay, admission control,
//! isolation response, failure detection delay), `debug:` and VM restart
//! priorities.

use super::error::{Diag, PResult, backticked, suggestion};
use super::model::*;
use super::read::{self, Fields};
use super::yaml::Node;
use crate::model::{Dist, SimDuration};

const PRIORITIES: [&str; 3] = ["high", "medium", "low"];
const RESPONSES: [&str; 2] = ["leave_powered_on", "power_off"];
/// vSphere HA declares a silent host failed after 15 s.
pub const DEFAULT_DETECTION_DELAY: SimDuration = SimDuration(15_000_000_000);

pub(crate) fn parse_priority(node: &Node, path: &str) -> PResult<RestartPriority> {
    match read::scalar(node, "a restart priority", path)? {
        "high" => Ok(RestartPriority::High),
        "medium" => Ok(RestartPriority::Medium),
        "low" => Ok(RestartPriority::Low),
        other => Err(Diag::new(
            node.loc,
            format!(
                "unknown restart priority `{other}`; expected one of {}{}",
                backticked(PRIORITIES),
                suggestion(other, PRIORITIES)
            ),
        )),
    }
}

pub(crate) fn parse_ha(node: &Node, dc: &Datacenter) -> PResult<HaConfig> {
    let f = Fields::new(
        node,
        "ha",
        &[
            "restart_delay",
            "host_failures_tolerated",
            "reserved_percent",
            "failover_hosts",
            "isolation_response",
            "detection_delay",
        ],
    )?;
    let restart_delay = match f.opt("restart_delay") {
        Some(n) => read::dist(n, "ha.restart_delay")?,
        None => Dist::Fixed(0),
    };
    let detection_delay = match f.opt("detection_delay") {
        Some(n) => SimDuration(read::duration(n, "ha.detection_delay")?),
        None => DEFAULT_DETECTION_DELAY,
    };
    let isolation_response = match f.opt("isolation_response") {
        None => IsolationResponse::LeavePoweredOn,
        Some(n) => match read::scalar(n, "an isolation response", "ha.isolation_response")? {
            "leave_powered_on" => IsolationResponse::LeavePoweredOn,
            "power_off" => IsolationResponse::PowerOff,
            other => {
                return Err(Diag::new(
                    n.loc,
                    format!(
                        "unknown isolation response `{other}`; expected one of {}{}",
                        backticked(RESPONSES),
                        suggestion(other, RESPONSES)
                    ),
                ));
            }
        },
    };
    Ok(HaConfig {
        restart_delay,
        admission: parse_admission(&f, dc)?,
        isolation_response,
        detection_delay,
    })
}

fn parse_admission(f: &Fields, dc: &Datacenter) -> PResult<Admission> {
    let given: Vec<&str> = [
        "host_failures_tolerated",
        "reserved_percent",
        "failover_hosts",
    ]
    .into_iter()
    .filter(|k| f.opt(k).is_some())
    .collect();
    if given.len() > 1 {
        let loc = f.key(given[1]).map_or(f.loc, |k| k.loc);
        return Err(Diag::new(
            loc,
            format!(
                "`ha` sets both `{}` and `{}`; choose one admission-control policy",
                given[0], given[1]
            ),
        ));
    }
    if let Some(n) = f.opt("host_failures_tolerated") {
        let v = read::int_in(
            n,
            "ha.host_failures_tolerated",
            0,
            crate::model::limits::MAX_HOSTS,
        )?;
        if v as usize >= dc.hosts.len() {
            return Err(Diag::new(
                n.loc,
                format!(
                    "`ha.host_failures_tolerated` ({v}) must be less than the host count ({})",
                    dc.hosts.len()
                ),
            ));
        }
        return Ok(Admission::HostFailuresTolerated(v as u32));
    }
    if let Some(n) = f.opt("reserved_percent") {
        let r = Fields::new(n, "ha.reserved_percent", &["cpu", "memory"])?;
        let pct = |key: &str| -> PResult<u32> {
            match r.opt(key) {
                None => Ok(0),
                Some(v) => Ok(read::int_in(v, &r.sub(key), 0, 100)? as u32),
            }
        };
        return Ok(Admission::ReservedPercent {
            cpu: pct("cpu")?,
            memory: pct("memory")?,
        });
    }
    if let Some(n) = f.opt("failover_hosts") {
        let names: Vec<&str> = dc.hosts.iter().map(|h| h.name.as_str()).collect();
        let items = read::non_empty_seq(
            n,
            "ha.failover_hosts",
            "`ha.failover_hosts` must name at least one host",
        )?;
        let mut hosts = Vec::new();
        for item in items {
            let name = read::scalar(item, "a host name", "ha.failover_hosts")?;
            let i = read::resolve(item, "host", name, &names)?;
            hosts.push(crate::model::HostId(i as u32));
        }
        hosts.sort();
        hosts.dedup();
        return Ok(Admission::FailoverHosts(hosts));
    }
    Ok(Admission::None)
}

pub(crate) fn parse_debug(node: &Node) -> PResult<DebugSwitches> {
    const IGNORES_MEMORY: &str = "placement_ignores_memory";
    const FORGETS_PODS: &str = "spherelet_forgets_pods_at_restart";
    const FORGETS_DELETES: &str = "capi_forgets_refused_deletes";
    let f = Fields::new(
        node,
        "debug",
        &[IGNORES_MEMORY, FORGETS_PODS, FORGETS_DELETES],
    )?;
    let flag = |name: &str| -> PResult<bool> {
        let Some(n) = f.opt(name) else {
            return Ok(false);
        };
        read::boolean(n, &format!("debug.{name}"))
    };
    Ok(DebugSwitches {
        placement_ignores_memory: flag(IGNORES_MEMORY)?,
        spherelet_forgets_pods_at_restart: flag(FORGETS_PODS)?,
        capi_forgets_refused_deletes: flag(FORGETS_DELETES)?,
    })
}
