//! What-if replay: the external inputs recorded in a trace (records with no
//! cause: VM requests and deletions, scheduled host crashes and repairs)
//! re-driven against a changed configuration.
//!
//! Inputs are mapped by actor *name*: the original world (built from the
//! header's scenario) names each input's sender and target, the new world
//! resolves the names to its own ids; an input for a host the new world does
//! not have is dropped and counted. The new world runs none of the
//! scenario's own generators, explicit VMs or scheduled faults (the recorded
//! inputs replace them), but its hosts keep their random failures as
//! configured, and it sends its own `Start`s (recorded `Start`s are skipped,
//! or hosts would arm their failure timers twice).
//!
//! Each original input source becomes one recorded source with the same
//! owner name, in the original order, so with an unchanged configuration the
//! what-if run is the original run, tie for tie.

use super::reader::TraceReader;
use super::recorded::{Group, collect_input, recorded_world};
use super::{ReplayError, header_scenario};
use crate::event::Record;
use crate::model::{ActorId, Resources, SimTime};
use crate::report::Stats;
use crate::report::summary::{RunFacts, Summary};
use crate::scenario::{PlacementPolicy, Scenario, units};
use crate::store::{Digest, EventLog};
use crate::world::World;
use std::collections::BTreeMap;
use std::path::Path;

/// Both runs' summaries and what the mapping had to drop.
pub struct WhatIf {
    pub original: Summary,
    pub what_if: Summary,
    pub inputs: u64,
    pub dropped: u64,
    /// `--salvage`: what was lost from a damaged trace.
    pub salvage: Option<String>,
}

/// Applies `KEY=VALUE` overrides to a scenario. Keys: `policy`,
/// `hosts` (total host count: fewer keeps the first N in file order, more
/// adds hosts of the first host's model in its cluster, named `whatif-01`…),
/// `model.<name>.cpu`, `model.<name>.memory`, `power_on_delay`.
pub fn apply_override(scenario: &mut Scenario, kv: &str) -> Result<(), String> {
    let (key, value) = kv
        .split_once('=')
        .ok_or_else(|| format!("`{kv}` is not KEY=VALUE"))?;
    let bad = |e: String| format!("what-if `{key}`: {e}");
    match key {
        "policy" => {
            scenario.placement.policy = PlacementPolicy::from_name(value).ok_or_else(|| {
                bad(format!(
                    "unknown policy `{value}` (one of {:?})",
                    PlacementPolicy::NAMES
                ))
            })?;
        }
        "hosts" => {
            let n: usize = value
                .parse()
                .ok()
                .filter(|&n| n as u64 <= crate::model::limits::MAX_HOSTS)
                .ok_or_else(|| {
                    bad(format!(
                        "`{value}` is not a host count from 1 to {}",
                        crate::model::limits::MAX_HOSTS
                    ))
                })?;
            set_host_count(scenario, n).map_err(bad)?;
        }
        "power_on_delay" => {
            scenario.placement.power_on_delay = units::parse_dist(value).map_err(bad)?;
        }
        _ => {
            let Some((model, field)) = key
                .strip_prefix("model.")
                .and_then(|rest| rest.rsplit_once('.'))
            else {
                return Err(format!(
                    "unknown what-if key `{key}` (policy, hosts, model.<name>.cpu, model.<name>.memory, power_on_delay)"
                ));
            };
            let m = scenario
                .datacenter
                .models
                .iter_mut()
                .find(|m| m.name == model)
                .ok_or_else(|| bad(format!("no host model named `{model}`")))?;
            let (amount, parsed) = match field {
                "cpu" => (&mut m.capacity.cpu_millis, units::parse_cpu(value)),
                "memory" => (&mut m.capacity.memory_bytes, units::parse_memory(value)),
                _ => return Err(bad(format!("unknown model field `{field}` (cpu, memory)"))),
            };
            *amount = parsed.map_err(&bad)?;
            // As a scenario's host model: a host of nothing holds nothing.
            if *amount == 0 {
                return Err(bad(format!("{field} must be greater than zero")));
            }
        }
    }
    Ok(())
}

fn set_host_count(scenario: &mut Scenario, n: usize) -> Result<(), String> {
    let dc = &mut scenario.datacenter;
    let before = dc.hosts.len();
    // Hosts go and come at the end: the last cluster's, so that every
    // cluster's hosts stay contiguous; new ones copy its first host.
    let last = dc.clusters.len().saturating_sub(1);
    let Some(first) = dc.hosts.iter().find(|h| h.cluster == last).cloned() else {
        return Err("the datacenter has no hosts to copy".into());
    };
    if n == 0 {
        return Err("at least one host is needed".into());
    }
    dc.hosts.truncate(n);
    for i in before..n {
        let mut host = first.clone();
        host.name = format!("whatif-{:02}", i + 1 - before);
        dc.hosts.push(host);
    }
    for r in &mut scenario.faults.random {
        let covered_all = r.hosts.len() == before;
        r.hosts.retain(|h| (h.0 as usize) < n);
        if covered_all {
            // `hosts: all` was resolved to every host; keep meaning all.
            r.hosts = (0..n as u32).map(crate::model::HostId).collect();
        }
    }
    Ok(())
}

/// Replays the trace's inputs against the header scenario changed by
/// `overrides`, and summarizes both runs.
pub fn what_if(path: &Path, overrides: &[String], salvage: bool) -> Result<WhatIf, ReplayError> {
    let mut reader = TraceReader::open(path)?;
    let header = reader.header().clone();
    let original_scenario = header_scenario(&header.scenario, header.seed)?;
    let mut scenario = original_scenario.clone();
    for kv in overrides {
        apply_override(&mut scenario, kv).map_err(ReplayError::Argument)?;
    }
    scenario
        .datacenter
        .total_memory()
        .map_err(|e| ReplayError::Argument(format!("the what-if datacenter is too large: {e}")))?;
    let names = World::build(&original_scenario).names;

    // One pass: rebuild the original statistics and collect the inputs.
    let mut groups: BTreeMap<ActorId, Group> = BTreeMap::new();
    let mut failed = None;
    let mut foreign = None;
    let mut count = 0u64;
    let mut last = SimTime::ZERO;
    // Replay hands each record to `actors[to]`: a checksummed record for an
    // actor the header's world does not have ends the reading, not the process.
    let records = reader.records().map_while(|r| match r {
        Ok(r) if (r.to.0 as usize) < names.len() => Some(r),
        Ok(r) => {
            foreign = Some(r);
            None
        }
        Err(e) => {
            failed = Some(e);
            None
        }
    });
    let collect = |r: &Record| {
        count += 1;
        last = r.at;
        collect_input(&mut groups, &names, r);
    };
    let (_, mut original_stats) =
        crate::run::replay_records(&original_scenario, records.inspect(collect));
    if let Some(r) = foreign {
        return Err(ReplayError::UnknownActor {
            path: path.to_path_buf(),
            seq: r.seq,
            actor: r.to,
            actors: names.len(),
        });
    }
    let salvage_note = match failed {
        None => None,
        Some(e) if salvage => Some(reader.salvage(e, None).with_file(path).describe()),
        Some(e) => return Err(e.into()),
    };
    let footer_digest = reader.footer().map(|f| f.digest.to_string());
    // A served session runs until it was stopped, not for its scenario's
    // duration: the what-if world stops at the same instant.
    let (mut original_scenario, mut scenario) = (original_scenario, scenario);
    if super::session::is_session(&header.scenario) {
        for s in [&mut original_scenario, &mut scenario] {
            s.duration.0 = last.0;
        }
    }

    let original_world = World::build(&original_scenario);
    let original = summarize(
        &original_scenario,
        &original_world,
        count,
        footer_digest.unwrap_or_else(|| "(no footer)".into()),
        &mut original_stats,
    );

    let (world, inputs, dropped) = recorded_world(&scenario, groups);
    let facts_world = World::build_bare(&scenario);
    let mut log = EventLog::in_memory();
    let mut driven = crate::run::drive(world, &mut log, |_, _, _| true);
    let digest: Digest = log.finish().map_err(ReplayError::Store)?;
    let what_if = summarize(
        &scenario,
        &facts_world,
        driven.events,
        digest.to_string(),
        &mut driven.stats,
    );
    Ok(WhatIf {
        original,
        what_if,
        inputs,
        dropped,
        salvage: salvage_note,
    })
}

fn summarize(
    scenario: &Scenario,
    world: &World,
    events: u64,
    digest: String,
    stats: &mut Stats,
) -> Summary {
    let capacity = world
        .host_capacities
        .iter()
        .fold(Resources::ZERO, |a, c| a + *c);
    let facts = RunFacts {
        scenario: &scenario.name,
        seed: scenario.seed,
        policy: scenario.placement.policy.name(),
        end: SimTime(scenario.duration.0),
        events,
        wall_seconds: 0.0,
        digest,
        hosts: world.host_capacities.len() as u64,
        capacity,
        invariant_checks: 0,
        stopped_by: None,
        datacenter: &scenario.datacenter,
    };
    Summary::new(facts, stats)
}

/// `(row, original, what-if, difference)` rows for the side-by-side table.
pub fn comparison_rows(w: &WhatIf) -> Vec<(String, String, String, String)> {
    let (a, b) = (&w.original, &w.what_if);
    let int = |name: &str, x: u64, y: u64| {
        let d = y as i128 - x as i128;
        let diff = if d == 0 {
            String::new()
        } else {
            format!("{d:+}")
        };
        (name.to_string(), x.to_string(), y.to_string(), diff)
    };
    let pct = |name: &str, x: f64, y: f64| {
        let diff = if x == y {
            String::new()
        } else {
            format!("{:+.3}", y - x)
        };
        (name.to_string(), format!("{x:.3}"), format!("{y:.3}"), diff)
    };
    // A latency with no samples (nothing placed) shows as `-`.
    let maybe = |name: &str, x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => pct(name, x, y),
        _ => {
            let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
            (name.to_string(), show(x), show(y), String::new())
        }
    };
    vec![
        (
            "policy".into(),
            a.policy.clone(),
            b.policy.clone(),
            String::new(),
        ),
        int("hosts", a.hosts.count, b.hosts.count),
        pct("capacity cores", a.capacity.cpu_cores, b.capacity.cpu_cores),
        pct("capacity GiB", a.capacity.memory_gib, b.capacity.memory_gib),
        int("events", a.events, b.events),
        int("VMs requested", a.vms.requested, b.vms.requested),
        int("VMs placed", a.vms.placed, b.vms.placed),
        int("VMs rejected", a.vms.rejected, b.vms.rejected),
        int("VMs deleted", a.vms.deleted, b.vms.deleted),
        int("VMs lost", a.vms.lost, b.vms.lost),
        int("VMs alive at end", a.vms.alive_at_end, b.vms.alive_at_end),
        int("re-placements", a.vms.replaced, b.vms.replaced),
        int("host failures", a.hosts.failures, b.hosts.failures),
        int("host repairs", a.hosts.repairs, b.hosts.repairs),
        pct(
            "cpu peak %",
            a.utilization.cpu_peak_pct,
            b.utilization.cpu_peak_pct,
        ),
        pct(
            "cpu mean %",
            a.utilization.cpu_mean_pct,
            b.utilization.cpu_mean_pct,
        ),
        pct(
            "memory peak %",
            a.utilization.memory_peak_pct,
            b.utilization.memory_peak_pct,
        ),
        pct(
            "memory mean %",
            a.utilization.memory_mean_pct,
            b.utilization.memory_mean_pct,
        ),
        maybe(
            "latency p99 ms",
            a.placement_latency_ms.p99,
            b.placement_latency_ms.p99,
        ),
    ]
}
