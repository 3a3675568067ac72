//! From the YAML tree to a validated [`Scenario`]: one function per section,
//! names resolved to indices, every rule checked with a located message.

use super::datacenter::{self, parse_size};
use super::error::{Diag, PResult, backticked, suggestion};
use super::model::*;
use super::read::{self, Fields};
use super::units;
use super::yaml::{self, Node, NodeKind};
use crate::model::{Dist, HostId, SimDuration, SimTime, SizeMix, WeightedSize};
use std::collections::HashSet;

const TOP_FIELDS: [&str; 8] = [
    "name",
    "seed",
    "duration",
    "datacenter",
    "placement",
    "workloads",
    "faults",
    "expect",
];
const FAULT_KINDS: [&str; 1] = ["crash"];

pub(crate) fn parse(text: &str, file: &str) -> PResult<Scenario> {
    let root = yaml::parse(text)?;
    if !matches!(root.kind, NodeKind::Map(_)) {
        return Err(Diag::new(
            root.loc,
            format!(
                "expected a mapping (`seed:`, `duration:`, `datacenter:`...) at the top of the scenario, found {}",
                root.describe()
            ),
        ));
    }
    let f = Fields::new(&root, "scenario", &TOP_FIELDS)?;
    let name = match f.opt("name") {
        Some(n) => read::string(n, "name")?,
        None => default_name(file),
    };
    let seed = read::u64_value(f.req("seed")?, "seed")?;
    let duration_node = f.req("duration")?;
    let duration = read::duration(duration_node, "duration")?;
    if duration == 0 {
        return Err(Diag::new(
            duration_node.loc,
            "`duration` must be greater than zero",
        ));
    }
    let datacenter = datacenter::parse_datacenter(f.req("datacenter")?)?;
    let placement = match f.opt("placement") {
        Some(n) => parse_placement(n)?,
        None => PlacementConfig {
            policy: PlacementPolicy::Drs,
            power_on_delay: Dist::Fixed(0),
        },
    };
    let workloads = f
        .opt("workloads")
        .map(parse_workloads)
        .transpose()?
        .unwrap_or_default();
    let faults = f
        .opt("faults")
        .map(|n| parse_faults(n, &datacenter))
        .transpose()?
        .unwrap_or_default();
    let expect = f
        .opt("expect")
        .map(parse_expectations)
        .transpose()?
        .unwrap_or_default();
    Ok(Scenario {
        name,
        file: file.to_string(),
        source: text.to_string(),
        seed,
        duration: SimDuration(duration),
        datacenter,
        placement,
        workloads,
        faults,
        expect,
    })
}

/// The file stem (`quickstart` for `scenarios/quickstart.yaml`), or
/// `scenario` for text that came from no file (`<inline>`).
fn default_name(file: &str) -> String {
    let stem = std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    if stem.is_empty() || file.starts_with('<') {
        "scenario".to_string()
    } else {
        stem.to_string()
    }
}

fn parse_placement(node: &Node) -> PResult<PlacementConfig> {
    let f = Fields::new(node, "placement", &["policy", "power_on_delay"])?;
    let policy = match f.opt("policy") {
        Some(n) => {
            let name = read::scalar(n, "a policy name", "placement.policy")?;
            PlacementPolicy::from_name(name).ok_or_else(|| {
                Diag::new(
                    n.loc,
                    format!(
                        "unknown placement policy `{name}`; expected one of {}{}",
                        backticked(PlacementPolicy::NAMES),
                        suggestion(name, PlacementPolicy::NAMES)
                    ),
                )
            })?
        }
        None => PlacementPolicy::Drs,
    };
    let power_on_delay = match f.opt("power_on_delay") {
        Some(n) => read::dist(n, "placement.power_on_delay")?,
        None => Dist::Fixed(0),
    };
    Ok(PlacementConfig {
        policy,
        power_on_delay,
    })
}

fn parse_workloads(node: &Node) -> PResult<Workloads> {
    let f = Fields::new(node, "workloads", &["vms", "generators"])?;
    let mut workloads = Workloads::default();
    if let Some(vms) = f.opt("vms") {
        for (i, vm) in read::seq(vms, "workloads.vms")?.iter().enumerate() {
            let (name_node, parsed) = parse_vm(vm, &format!("workloads.vms[{i}]"))?;
            if workloads.vms.iter().any(|v| v.name == parsed.name) {
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
            let (name_node, parsed) = parse_generator(g, &format!("workloads.generators[{i}]"))?;
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

fn parse_vm<'a>(node: &'a Node, path: &str) -> PResult<(&'a Node, ExplicitVm)> {
    let f = Fields::new(
        node,
        path,
        &["name", "cpu", "memory", "gpus", "at", "delete_at"],
    )?;
    let name_node = f.req("name")?;
    let name = read::string(name_node, &f.sub("name"))?;
    let size = parse_size(&f)?;
    let at = f
        .opt("at")
        .map(|n| read::duration(n, &f.sub("at")))
        .transpose()?
        .unwrap_or(0);
    let delete_at = match f.opt("delete_at") {
        Some(n) => {
            let t = read::duration(n, &f.sub("delete_at"))?;
            if t <= at {
                return Err(Diag::new(
                    n.loc,
                    format!(
                        "`delete_at` ({}) must be later than `at` ({})",
                        SimTime(t),
                        SimTime(at)
                    ),
                ));
            }
            Some(SimTime(t))
        }
        None => None,
    };
    Ok((
        name_node,
        ExplicitVm {
            name,
            size,
            at: SimTime(at),
            delete_at,
        },
    ))
}

fn parse_generator<'a>(node: &'a Node, path: &str) -> PResult<(&'a Node, Generator)> {
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
        ],
    )?;
    let name_node = f.req("name")?;
    let name = read::string(name_node, &f.sub("name"))?;
    let interarrival = match (f.opt("rate"), f.opt("interarrival")) {
        (Some(rate), Some(_)) => {
            let later = [f.key("rate"), f.key("interarrival")]
                .into_iter()
                .flatten()
                .max_by_key(|k| (k.loc.line, k.loc.col));
            let loc = later.map_or(rate.loc, |k| k.loc);
            return Err(Diag::new(
                loc,
                format!("generator `{name}` has both `rate` and `interarrival`; give exactly one"),
            ));
        }
        (None, None) => {
            return Err(Diag::new(
                f.loc,
                format!(
                    "generator `{name}` needs an arrival process: give `rate` (e.g. `1.5/s`) or `interarrival` (a distribution)"
                ),
            ));
        }
        (Some(rate), None) => read::unit(rate, "a rate", &f.sub("rate"), units::parse_rate)?,
        (None, Some(n)) => {
            let d = read::dist(n, &f.sub("interarrival"))?;
            // A zero mean would mean infinitely many arrivals at one instant.
            if d.mean_nanos() <= 0.0 {
                return Err(Diag::new(
                    n.loc,
                    "`interarrival` must have a mean greater than zero",
                ));
            }
            d
        }
    };
    let lifetime = read::dist(f.req("lifetime")?, &f.sub("lifetime"))?;
    let sizes = parse_sizes(f.req("sizes")?, &f.sub("sizes"))?;
    let start = f
        .opt("start")
        .map(|n| read::duration(n, &f.sub("start")))
        .transpose()?
        .unwrap_or(0);
    let stop = match f.opt("stop") {
        Some(n) => {
            let t = read::duration(n, &f.sub("stop"))?;
            if t <= start {
                return Err(Diag::new(
                    n.loc,
                    format!(
                        "`stop` ({}) must be later than `start` ({})",
                        SimTime(t),
                        SimTime(start)
                    ),
                ));
            }
            Some(SimTime(t))
        }
        None => None,
    };
    let count = f
        .opt("count")
        .map(|n| read::u64_value(n, &f.sub("count")))
        .transpose()?;
    let generator = Generator {
        name,
        interarrival,
        lifetime,
        sizes,
        start: SimTime(start),
        stop,
        count,
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
            Some(n) => {
                let w = read::positive_u64(n, &f.sub("weight"))?;
                u32::try_from(w).map_err(|_| {
                    Diag::new(
                        n.loc,
                        format!("`weight` {w} is too large (at most {})", u32::MAX),
                    )
                })?
            }
            None => 1,
        };
        entries.push(WeightedSize { size, weight });
    }
    Ok(SizeMix { entries })
}

fn parse_faults(node: &Node, dc: &Datacenter) -> PResult<Faults> {
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
            let mut seen = HashSet::new();
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

fn parse_expectations(node: &Node) -> PResult<Vec<Expectation>> {
    read::seq(node, "expect")?
        .iter()
        .map(|item| {
            let text = read::scalar(item, "an expectation like `lost == 0`", "expect")?;
            parse_expectation(text)
                .map_err(|m| Diag::new(item.loc, m))
                .map(|(metric, op, value)| Expectation {
                    metric,
                    op,
                    value,
                    text: text.to_string(),
                    location: item.loc,
                })
        })
        .collect()
}

/// `<metric> <op> <number>`, spaces optional around the operator.
fn parse_expectation(text: &str) -> Result<(String, CmpOp, f64), String> {
    let malformed = || {
        format!(
            "malformed expectation `{text}`: expected `<metric> <op> <number>` with op one of <, <=, ==, !=, >=, >, e.g. `rejected_ratio <= 0.01`"
        )
    };
    let s = text.trim();
    let metric_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(s.len());
    let metric = &s[..metric_end];
    if !metric.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err(malformed());
    }
    let rest = s[metric_end..].trim_start();
    // Two-character operators first, so `<=` is not read as `<` then `=`.
    let ops = [
        ("<=", CmpOp::Le),
        (">=", CmpOp::Ge),
        ("==", CmpOp::Eq),
        ("!=", CmpOp::Ne),
        ("<", CmpOp::Lt),
        (">", CmpOp::Gt),
    ];
    let (op, number) = ops
        .iter()
        .find_map(|(sym, op)| rest.strip_prefix(sym).map(|n| (*op, n.trim())))
        .ok_or_else(malformed)?;
    let value: f64 = number.parse().map_err(|_| malformed())?;
    if !value.is_finite() {
        return Err(malformed());
    }
    Ok((metric.to_string(), op, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations() {
        assert_eq!(
            parse_expectation("rejected_ratio <= 0.01"),
            Ok(("rejected_ratio".into(), CmpOp::Le, 0.01))
        );
        assert_eq!(
            parse_expectation("vms.lost==0"),
            Ok(("vms.lost".into(), CmpOp::Eq, 0.0))
        );
        assert_eq!(
            parse_expectation("a != -1.5"),
            Ok(("a".into(), CmpOp::Ne, -1.5))
        );
        assert_eq!(parse_expectation("a > 1"), Ok(("a".into(), CmpOp::Gt, 1.0)));
        assert_eq!(parse_expectation("a < 1"), Ok(("a".into(), CmpOp::Lt, 1.0)));
        assert_eq!(
            parse_expectation("a >= 1e3"),
            Ok(("a".into(), CmpOp::Ge, 1000.0))
        );
        for bad in [
            "lost = 0",
            "lost",
            "== 0",
            "lost == many",
            "1x == 0",
            "lost == inf",
            "lost == 0 extra",
        ] {
            assert!(
                parse_expectation(bad)
                    .unwrap_err()
                    .starts_with("malformed expectation"),
                "{bad}"
            );
        }
    }

    #[test]
    fn default_name_is_the_file_stem() {
        assert_eq!(default_name("scenarios/quickstart.yaml"), "quickstart");
        assert_eq!(default_name("<inline>"), "scenario");
        assert_eq!(default_name(""), "scenario");
    }
}
