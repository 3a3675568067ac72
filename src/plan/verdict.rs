//! What a reader of a plan asks after "how many hosts": how far the seeds
//! spread at each count, which run decided the answer, and why not one
//! host fewer. Pure functions over the probes' run records.

use super::runs::{Candidate, PlanConfig, RunRecord, Spread};
use super::slo::{badness, larger_is_worse};
use crate::report::numbers::sig3;
use crate::scenario::Expectation;

/// `a` is worse than `b` for SLO `e` (see [`badness`]; a run that
/// measured nothing is worst).
fn worse(e: &Expectation, a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, Some(_)) => true,
        (_, None) => false,
        (Some(a), Some(b)) => badness(e, a) > badness(e, b),
    }
}

/// The worst of `runs` for SLO `i` (the first of equals).
fn worst_run<'a>(
    e: &Expectation,
    i: usize,
    runs: impl Iterator<Item = &'a RunRecord>,
) -> Option<&'a RunRecord> {
    runs.fold(None, |w: Option<&RunRecord>, r| match w {
        Some(w) if !worse(e, r.values[i], w.values[i]) => Some(w),
        _ => Some(r),
    })
}

/// Min, median and max over the seeds of each seed's worst run for SLO
/// `i`; `None` when no seed measured it.
pub fn spread(e: &Expectation, i: usize, runs: &[RunRecord]) -> Option<Spread> {
    let mut seeds: Vec<u64> = runs.iter().map(|r| r.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let mut values: Vec<f64> = seeds
        .iter()
        .filter_map(|s| worst_run(e, i, runs.iter().filter(|r| r.seed == *s)))
        .filter_map(|r| r.values[i])
        .collect();
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    Some(Spread {
        min: values[0],
        median,
        max: values[n - 1],
    })
}

/// How far `v` is from failing `e`, relative to the threshold (negative:
/// it fails). An `==` or `!=` that holds says nothing of how close it
/// came: `None`, as a value not measured.
fn margin(e: &Expectation, v: Option<f64>) -> Option<f64> {
    let v = v?;
    let scale = e.value.abs().max(1e-12);
    match larger_is_worse(e.op) {
        Some(true) => Some((e.value - v) / scale),
        Some(false) => Some((v - e.value) / scale),
        None => (!e.op.holds(v, e.value)).then_some(-1.0),
    }
}

/// The run that decided a passing count: the SLO with the least margin
/// (an ordered one: an equality that holds has no margin to compare, so
/// it decides only when every SLO is one), and its worst N+k run (its
/// worst plain run when the plan has no failures). Returns the SLO's
/// index and the run.
pub fn deciding<'a>(cfg: &PlanConfig, c: &'a Candidate) -> Option<(usize, &'a RunRecord)> {
    let tightest = (0..cfg.slos.len()).min_by(|a, b| {
        let m = |i: usize| margin(&cfg.slos[i], c.slo_values[i]).unwrap_or(f64::INFINITY);
        m(*a).total_cmp(&m(*b))
    })?;
    let failing = cfg.failures > 0;
    let runs = c.runs.iter().filter(|r| r.fail_at_ns.is_some() == failing);
    worst_run(&cfg.slos[tightest], tightest, runs).map(|r| (tightest, r))
}

/// "seed 2, with esx-07 failed at 3.5 h" or "seed 2 (no failure)".
fn run_words(r: &RunRecord) -> String {
    describe_run(
        r.seed,
        &r.failed_hosts,
        r.fail_at_ns.map(|at| at as f64 / 1e9),
    )
}

/// A run as the report names it: its seed, and the hosts that failed and
/// when (seconds of virtual time), if any.
pub fn describe_run(seed: u64, failed_hosts: &[String], fail_at_s: Option<f64>) -> String {
    match fail_at_s {
        Some(at) => format!(
            "seed {seed}, with {} failed at {}",
            failed_hosts.join(", "),
            duration_words(at)
        ),
        None => format!("seed {seed} (no failure)"),
    }
}

/// Seconds as "45 s", "12 min", "3.5 h" or "2.1 d".
pub fn duration_words(s: f64) -> String {
    if s < 60.0 {
        format!("{} s", sig3(s))
    } else if s < 3600.0 {
        format!("{} min", sig3(s / 60.0))
    } else if s < 86_400.0 {
        format!("{} h", sig3(s / 3600.0))
    } else {
        format!("{} d", sig3(s / 86_400.0))
    }
}

fn value_words(v: Option<f64>) -> String {
    v.map_or("nothing measured".to_string(), sig3)
}

/// One sentence: why the recommended count and not one host fewer, naming
/// the SLO and the run that failed there.
pub fn why(probes: &[Candidate], recommended: Option<u64>, cfg: &PlanConfig) -> String {
    let by_count = |n: u64| probes.iter().find(|c| c.hosts == n);
    let Some(n) = recommended else {
        let top = probes.iter().max_by_key(|c| c.hosts);
        return match top.and_then(|c| first_failure(cfg, c)) {
            Some((i, run)) => format!(
                "No count passes: at {} hosts, the most tried, {} was {} in {}.",
                top.map_or(0, |c| c.hosts),
                cfg.slos[i].text,
                value_words(run.values[i]),
                run_words(run)
            ),
            None => "No count passes.".to_string(),
        };
    };
    let fewer = n.checked_sub(1).filter(|m| *m > 0).and_then(by_count);
    match fewer.and_then(|c| first_failure(cfg, c).map(|f| (c, f))) {
        Some((c, (i, run))) => format!(
            "{n} hosts and not {}: at {} hosts, {} fails ({} = {} in {}).",
            c.hosts,
            c.hosts,
            cfg.slos[i].text,
            cfg.slos[i].metric,
            value_words(run.values[i]),
            run_words(run)
        ),
        None if n == 1 => "1 host is the fewest possible, and it passes.".to_string(),
        None => format!("{n} hosts is the fewest the search tried, and it passes."),
    }
}

/// The first SLO a count fails and that SLO's worst run.
fn first_failure<'a>(cfg: &PlanConfig, c: &'a Candidate) -> Option<(usize, &'a RunRecord)> {
    let holds = |e: &Expectation, v: Option<f64>| v.is_some_and(|v| e.op.holds(v, e.value));
    let i = (0..cfg.slos.len()).find(|i| !holds(&cfg.slos[*i], c.slo_values[*i]))?;
    let e = &cfg.slos[i];
    worst_run(e, i, c.runs.iter().filter(|r| !holds(e, r.values[i]))).map(|r| (i, r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::slo::parse_slo;

    fn run(seed: u64, failed: bool, v: Option<f64>) -> RunRecord {
        RunRecord {
            hosts: 4,
            seed,
            failed_hosts: if failed { vec!["esx-2".into()] } else { vec![] },
            fail_at_ns: failed.then_some(3 * 3_600_000_000_000 + 1_800_000_000_000),
            values: vec![v],
            events: 0,
            digest: String::new(),
        }
    }

    fn cfg(slo: &str) -> PlanConfig {
        PlanConfig {
            model: 0,
            cluster: None,
            seeds: vec![1, 2, 3],
            slos: vec![parse_slo(slo).unwrap()],
            failures: 1,
            quantile: 1.0,
            jobs: 1,
            max_hosts: 64,
            cache: Default::default(),
            world_for: None,
        }
    }

    #[test]
    fn the_spread_is_over_each_seeds_worst_run() {
        let runs = [
            run(1, false, Some(0.1)),
            run(1, true, Some(0.4)),
            run(2, false, Some(0.2)),
            run(2, true, Some(0.1)),
            run(3, false, Some(0.0)),
            run(3, true, Some(0.3)),
        ];
        let (le, ge) = (parse_slo("x <= 1").unwrap(), parse_slo("x >= 0").unwrap());
        let s = spread(&le, 0, &runs).unwrap();
        assert_eq!((s.min, s.median, s.max), (0.2, 0.3, 0.4));
        let s = spread(&ge, 0, &runs).unwrap();
        assert_eq!((s.min, s.median, s.max), (0.0, 0.1, 0.1));
        assert_eq!(spread(&le, 0, &[run(1, false, None)]), None);
        // `== 0.4`: each seed's run farthest from 0.4, below it or above.
        let eq = parse_slo("x == 0.4").unwrap();
        let s = spread(&eq, 0, &runs).unwrap();
        assert_eq!((s.min, s.median, s.max), (0.0, 0.1, 0.1));
    }

    #[test]
    fn the_deciding_run_is_the_worst_failure_run_of_the_tightest_slo() {
        let c = Candidate {
            hosts: 4,
            pass: true,
            slo_values: vec![Some(0.4)],
            spread: vec![],
            runs: vec![
                run(1, false, Some(0.45)),
                run(1, true, Some(0.2)),
                run(2, true, Some(0.4)),
            ],
        };
        let (i, r) = deciding(&cfg("x <= 0.5"), &c).unwrap();
        assert_eq!((i, r.seed, r.fail_at_ns.is_some()), (0, 2, true));
    }

    #[test]
    fn an_equality_that_holds_does_not_decide_over_an_ordered_slo() {
        let mut cfg = cfg("vms.lost == 0");
        cfg.slos.push(parse_slo("x <= 10").unwrap());
        let run2 = |seed: u64, lost: f64, x: f64| RunRecord {
            values: vec![Some(lost), Some(x)],
            ..run(seed, true, None)
        };
        let c = Candidate {
            hosts: 4,
            pass: true,
            slo_values: vec![Some(0.0), Some(9.0)],
            spread: vec![],
            runs: vec![run2(1, 0.0, 4.0), run2(2, 0.0, 9.0)],
        };
        let (i, r) = deciding(&cfg, &c).unwrap();
        assert_eq!((i, r.seed), (1, 2), "x <= 10 came closest, in seed 2");
    }

    #[test]
    fn why_names_the_slo_and_the_run_that_failed_one_host_fewer() {
        let cfg = cfg("vms.lost <= 0");
        let candidate = |hosts: u64, pass: bool, runs: Vec<RunRecord>| Candidate {
            hosts,
            pass,
            slo_values: vec![runs.iter().filter_map(|r| r.values[0]).reduce(f64::max)],
            spread: vec![],
            runs,
        };
        let probes = vec![
            candidate(5, true, vec![run(1, true, Some(0.0))]),
            candidate(
                4,
                false,
                vec![run(1, false, Some(0.0)), run(2, true, Some(3.0))],
            ),
        ];
        assert_eq!(
            why(&probes, Some(5), &cfg),
            "5 hosts and not 4: at 4 hosts, vms.lost <= 0 fails (vms.lost = 3 in seed 2, with esx-2 failed at 3.5 h)."
        );
        let one = vec![candidate(1, true, vec![run(1, false, Some(0.0))])];
        assert_eq!(
            why(&one, Some(1), &cfg),
            "1 host is the fewest possible, and it passes."
        );
        let none = vec![candidate(8, false, vec![run(1, false, None)])];
        assert_eq!(
            why(&none, None, &cfg),
            "No count passes: at 8 hosts, the most tried, vms.lost <= 0 was nothing measured in seed 1 (no failure)."
        );
    }
}
