//! Evaluating a host count: every seed run in memory (in parallel), then,
//! with `failures = k`, every seed run again with its k busiest hosts at the
//! cpu peak crashing at that time (no repair). A count passes when every SLO
//! holds, at the quantile, over the plain runs and over the N+k runs.

use super::exec::par_map;
use super::outcome::{self, Candidate, PlanReport};
use super::resize::with_host_count;
use super::runs::WorldFor;
use super::runs::{PlanConfig, Ran, RunRecord};
use super::search;
use super::slo::{aggregate, badness};
use super::verdict;
use crate::inputs::{Input, RecordedInputs, WorldSource};
use crate::model::{ActorId, SimTime};
use crate::report::Stats;
use crate::report::detail::Detail;
use crate::report::expect::{Verdict, check};
use crate::run::{simulate_with, simulate_world_with};
use crate::scenario::{Expectation, HostFaultKind, Scenario, ScheduledFault};
use crate::store::{EventLog, StoreError};
use crate::world::World;
use std::collections::BTreeMap;

/// At most this many samples per time series.
pub const SERIES_POINTS: u64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    UnknownMetric(String),
    #[error("no SLOs: give --slo or an `expect:` section in the scenario")]
    NoSlos,
    #[error("no seeds to run")]
    NoSeeds,
    #[error("run failed: {0}")]
    Store(#[from] StoreError),
    /// The watchdog stopped a run (memory budget, stalled clock): its
    /// numbers would be a verdict on a run that did not happen.
    #[error("a run with {hosts} hosts (seed {seed}) could not finish: {why}")]
    Stopped { hosts: u64, seed: u64, why: String },
    #[error("{0}")]
    TooLarge(String),
}

fn run_one(
    scenario: &Scenario,
    seed: u64,
    (crash, at_ns): (&[usize], u64),
    slos: &[Expectation],
    world_for: Option<&WorldFor>,
) -> Result<Ran, PlanError> {
    let mut s = scenario.clone();
    s.seed = seed;
    for h in crash {
        s.faults.scheduled.push(ScheduledFault {
            at: crate::model::SimTime(at_ns),
            host: crate::model::HostId(*h as u32),
            kind: HostFaultKind::Crash,
            repair_after: None,
            duration: None,
            hosts: vec![crate::model::HostId(*h as u32)],
            factor: 1,
        });
    }
    let end = crate::model::SimTime(s.duration.0);
    let mut stats = Stats::default();
    let dc = &s.datacenter;
    let cluster_of = dc.hosts.iter().map(|h| h.cluster).collect();
    stats.detail = Some(Detail::new(
        end,
        SERIES_POINTS,
        cluster_of,
        dc.clusters.len(),
    ));
    let mut out = match world_for {
        None => simulate_with(&s, EventLog::in_memory(), stats, |_, _| {})?,
        Some(build) => {
            let mut world = (build.0)(&s);
            crash_at(&mut world, &s, crash, at_ns);
            simulate_world_with(&s, world, EventLog::in_memory(), stats, |_, _| {})?
        }
    };
    if let Some(stopped) = &out.stopped {
        return Err(PlanError::Stopped {
            hosts: s.datacenter.hosts.len() as u64,
            seed,
            why: stopped.to_string(),
        });
    }
    let summary = out.summary(&s, 0.0).to_json();
    let mut values = Vec::with_capacity(slos.len());
    for e in slos {
        match check(e, &summary, &s.file) {
            Verdict::Held { actual } | Verdict::Failed { actual } => values.push(Some(actual)),
            Verdict::NoSamples => values.push(None),
            Verdict::Unknown(m) => return Err(PlanError::UnknownMetric(m)),
        }
    }
    let detail = out.stats.detail.take().expect("detail was attached");
    let record = RunRecord {
        hosts: s.datacenter.hosts.len() as u64,
        seed,
        failed_hosts: crash
            .iter()
            .map(|h| s.datacenter.hosts[*h].name.clone())
            .collect(),
        fail_at_ns: (!crash.is_empty()).then_some(at_ns),
        values,
        events: out.events,
        digest: out.digest.to_string(),
    };
    Ok(Ran {
        record,
        detail,
        summary,
    })
}

/// The N+k crashes of a recorded workload's world, as a source of its own
/// (the recorded world runs none of the scenario's scheduled faults).
fn crash_at(world: &mut World, s: &Scenario, crash: &[usize], at_ns: u64) {
    let inputs: Vec<Input> = crash
        .iter()
        .filter_map(|h| {
            let name = format!("host/{}", s.datacenter.hosts[*h].name);
            let to = world.names.iter().position(|n| *n == name)?;
            Some(Input {
                at: SimTime(at_ns),
                to: ActorId(to as u32),
                event: crate::event::Event::HostCrash,
            })
        })
        .collect();
    if !inputs.is_empty() {
        world.add_source(
            "plan/failures".to_string(),
            WorldSource::Recorded(RecordedInputs::new(inputs)),
        );
    }
}

/// Evaluates `count` hosts of the planned model; `tick` after every run.
pub fn evaluate(
    base: &Scenario,
    cfg: &PlanConfig,
    count: u64,
    tick: &(dyn Fn() + Sync),
) -> Result<Candidate, PlanError> {
    let scenario = with_host_count(base, cfg.model, cfg.cluster, count);
    let mut all = evaluate_many(&[(count, scenario)], cfg, tick)?;
    Ok(all.remove(0))
}

/// Evaluates several configurations (labelled with their planned-model
/// host count) at once, all their runs in one parallel batch per phase.
/// Runs found in `cfg.cache` (both the plain and, with N+k, the failing
/// run of a seed) are not run again.
pub fn evaluate_many(
    scenarios: &[(u64, Scenario)],
    cfg: &PlanConfig,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<Candidate>, PlanError> {
    let cached = |count: u64, seed: u64, failing: bool| cfg.cache.get(&(count, seed, failing));
    let needs_run = |count: u64, seed: u64| {
        cached(count, seed, false).is_none()
            || (cfg.failures > 0 && cached(count, seed, true).is_none())
    };
    let plain_jobs: Vec<(usize, u64)> = (0..scenarios.len())
        .flat_map(|i| cfg.seeds.iter().map(move |s| (i, *s)))
        .filter(|(i, seed)| needs_run(scenarios[*i].0, *seed))
        .collect();
    let plain: Vec<Result<Ran, PlanError>> = par_map(
        &plain_jobs,
        cfg.jobs,
        |(i, seed)| {
            run_one(
                &scenarios[*i].1,
                *seed,
                (&[], 0),
                &cfg.slos,
                cfg.world_for.as_ref(),
            )
        },
        tick,
    );
    let mut fresh: BTreeMap<(usize, u64), Ran> = BTreeMap::new();
    for (job, r) in plain_jobs.iter().zip(plain) {
        fresh.insert(*job, r?);
    }
    let mut failing: BTreeMap<(usize, u64), RunRecord> = BTreeMap::new();
    if cfg.failures > 0 {
        let jobs: Vec<(usize, u64, Vec<usize>, u64)> = fresh
            .iter()
            .map(|((i, seed), r)| {
                let d = &r.detail;
                (*i, *seed, d.busiest_at_peak(cfg.failures), d.peak_at.0)
            })
            .collect();
        let failed: Vec<Result<Ran, PlanError>> = par_map(
            &jobs,
            cfg.jobs,
            |(i, seed, crash, at)| {
                run_one(
                    &scenarios[*i].1,
                    *seed,
                    (crash, *at),
                    &cfg.slos,
                    cfg.world_for.as_ref(),
                )
            },
            tick,
        );
        for ((i, seed, ..), r) in jobs.iter().zip(failed) {
            failing.insert((*i, *seed), r?.record);
        }
    }
    Ok(scenarios
        .iter()
        .enumerate()
        .map(|(i, (count, _))| {
            let record = |seed: u64, fail: bool| -> RunRecord {
                let run = if fail {
                    failing.get(&(i, seed))
                } else {
                    fresh.get(&(i, seed)).map(|r| &r.record)
                };
                run.or_else(|| cached(*count, seed, fail))
                    .expect("every run was cached or has just run")
                    .clone()
            };
            let mut records: Vec<RunRecord> = cfg.seeds.iter().map(|s| record(*s, false)).collect();
            if cfg.failures > 0 {
                records.extend(cfg.seeds.iter().map(|s| record(*s, true)));
            }
            judge(cfg, *count, records)
        })
        .collect())
}

/// Aggregates runs of one count into SLO values and a verdict.
pub fn judge(cfg: &PlanConfig, count: u64, runs: Vec<RunRecord>) -> Candidate {
    let mut values = Vec::new();
    let mut pass = true;
    for (i, e) in cfg.slos.iter().enumerate() {
        let holds = |v: Option<f64>| v.is_some_and(|v| e.op.holds(v, e.value));
        let mut worst: Option<Option<f64>> = None;
        for failing in [false, true] {
            let v: Vec<Option<f64>> = runs
                .iter()
                .filter(|r| r.fail_at_ns.is_some() == failing)
                .map(|r| r.values[i])
                .collect();
            if let Some(a) = aggregate(e, &v, cfg.quantile) {
                pass &= holds(a);
                // The worse of the plain and the N+k aggregates: a failing
                // one if either fails.
                let bad = |v: Option<f64>| v.map_or(f64::INFINITY, |v| badness(e, v));
                worst = Some(match worst {
                    Some(w) if bad(w) >= bad(a) => w,
                    _ => a,
                });
            }
        }
        values.push(worst.flatten());
    }
    let spread = cfg
        .slos
        .iter()
        .enumerate()
        .map(|(i, e)| verdict::spread(e, i, &runs))
        .collect();
    Candidate {
        hosts: count,
        pass,
        slo_values: values,
        spread,
        runs,
    }
}

/// The whole plan: search, then the report (with the recommended count's
/// first plain run in detail). `tick` after every run.
pub fn plan(
    base: &Scenario,
    cfg: &PlanConfig,
    tick: &(dyn Fn() + Sync),
) -> Result<PlanReport, PlanError> {
    if cfg.slos.is_empty() {
        return Err(PlanError::NoSlos);
    }
    if cfg.seeds.is_empty() {
        return Err(PlanError::NoSeeds);
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    let found = search::search(cfg.max_hosts, |n| {
        let c = evaluate(base, cfg, n, tick)?;
        let pass = c.pass;
        candidates.push(c);
        Ok::<bool, PlanError>(pass)
    })?;
    // The detail of the recommended count's first seed, and of the run that
    // decided it: runs again (the searched runs keep only their records).
    let (mut detail, mut deciding) = (None, None);
    if let Some(rec) = found.recommended {
        let s = with_host_count(base, cfg.model, cfg.cluster, rec);
        let ran = run_one(
            &s,
            cfg.seeds[0],
            (&[], 0),
            &cfg.slos,
            cfg.world_for.as_ref(),
        )?;
        let chosen = candidates
            .iter()
            .find(|c| c.hosts == rec)
            .and_then(|c| verdict::deciding(cfg, c));
        if let Some((slo, run)) = chosen {
            let crash: Vec<usize> = run
                .failed_hosts
                .iter()
                .filter_map(|name| s.datacenter.hosts.iter().position(|h| h.name == *name))
                .collect();
            let at = run.fail_at_ns.unwrap_or(0);
            let again = run_one(
                &s,
                run.seed,
                (&crash, at),
                &cfg.slos,
                cfg.world_for.as_ref(),
            )?;
            deciding = Some((s.clone(), again, slo));
        }
        detail = Some((s, ran));
    }
    Ok(outcome::build(
        base, cfg, &found, candidates, detail, deciding,
    ))
}
