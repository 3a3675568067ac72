//! From the YAML tree to a validated [`Scenario`]: the top-level fields and
//! `placement:` here, the larger sections in their own modules.

use super::calls::CallScope;
use super::error::{Diag, PResult, backticked, suggestion};
use super::include::Includes;
use super::model::*;
use super::read::{self, Fields};
use super::yaml::{self, Node, NodeKind};
use super::{datacenter, drs, expect, faults, ha, supervisor, workloads};
use crate::model::{Dist, SimDuration};

const TOP_FIELDS: [&str; 12] = [
    "name",
    "seed",
    "duration",
    "datacenter",
    "placement",
    "workloads",
    "faults",
    "expect",
    "ha",
    "expect_recovery_within",
    "debug",
    "supervisor",
];

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
    let (mut datacenter, rules) = datacenter::parse_datacenter(f.req("datacenter")?)?;
    let placement = match f.opt("placement") {
        Some(n) => parse_placement(n)?,
        None => PlacementConfig {
            policy: PlacementPolicy::Drs,
            power_on_delay: Dist::Fixed(0),
        },
    };
    // Before workloads: their API calls refer to its users and namespaces.
    let includes = Includes::for_file(file).with_bundle(text);
    let supervisor = f
        .opt("supervisor")
        .map(|n| supervisor::parse_supervisor(n, &datacenter, &includes))
        .transpose()?;
    let call_scope = supervisor.as_ref().map(|s| CallScope {
        supervisor: s,
        includes: &includes,
    });
    let workloads = f
        .opt("workloads")
        .map(|n| workloads::parse_workloads(n, &datacenter, call_scope.as_ref()))
        .transpose()?
        .unwrap_or_default();
    drs::resolve_rules(rules, &mut datacenter, &workloads)?;
    let faults = f
        .opt("faults")
        .map(|n| faults::parse_faults(n, &datacenter))
        .transpose()?
        .unwrap_or_default();
    supervisor::check_faults(&faults.supervisor, supervisor.as_ref())?;
    let expect = f
        .opt("expect")
        .map(expect::parse_expectations)
        .transpose()?
        .unwrap_or_default();
    let ha = f
        .opt("ha")
        .map(|n| ha::parse_ha(n, &datacenter))
        .transpose()?;
    let expect_recovery_within = f
        .opt("expect_recovery_within")
        .map(|n| read::duration(n, "expect_recovery_within").map(SimDuration))
        .transpose()?;
    let debug = f
        .opt("debug")
        .map(ha::parse_debug)
        .transpose()?
        .unwrap_or_default();
    Ok(Scenario {
        name,
        file: file.to_string(),
        source: includes.bundle_into(text),
        seed,
        duration: SimDuration(duration),
        datacenter,
        placement,
        workloads,
        faults,
        expect,
        ha,
        expect_recovery_within,
        debug,
        supervisor: supervisor.map(Box::new),
        notices: Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_name_is_the_file_stem() {
        assert_eq!(default_name("scenarios/quickstart.yaml"), "quickstart");
        assert_eq!(default_name("<inline>"), "scenario");
        assert_eq!(default_name(""), "scenario");
    }
}
