//! The plan's result as data: what `--json` prints, `report.json` holds and
//! `--merge` combines; plus its terminal summary and CSV. No wall times, so
//! the same plan gives the same JSON.

use super::clusters::{ClusterSeries, cluster_series};
pub use super::runs::{Candidate, Spread};
use super::runs::{PlanConfig, Ran, RunCache};
use super::search::{self, Outcome};
use super::slo::badness;
use super::verdict;
use crate::report::numbers::{pct, round3};
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SloOut {
    pub slo: String,
    pub metric: String,
    pub op: String,
    pub threshold: f64,
    pub at_recommended: Option<f64>,
    pub at_recommended_minus_1: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub t_s: f64,
    pub cpu_pct: f64,
    pub memory_pct: f64,
    pub rejected: u64,
}

/// The recommended configuration's first plain run, in detail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetailOut {
    pub seed: u64,
    pub series: Vec<SeriesPoint>,
    pub capacity_cores: f64,
    pub capacity_gib: f64,
    pub headroom_cores: f64,
    pub headroom_gib: f64,
    /// Free capacity at the end on up hosts that cannot fit the smallest
    /// request of the run (component-wise minimum of requested sizes).
    pub stranded_cores: f64,
    pub stranded_gib: f64,
    /// Per host cpu utilization at the end, percent.
    pub host_cpu_pct_at_end: Vec<f64>,
    /// Hosts per 10 % bucket of `host_cpu_pct_at_end` (last bucket: 90–100).
    pub host_cpu_histogram: Vec<u64>,
    pub placement_latency_ms: serde_json::Value,
    /// Utilization over time per cluster, at the instants of `series`
    /// (default: reports written before it existed still merge).
    #[serde(default)]
    pub clusters: Vec<ClusterSeries>,
    /// Peak allocation over capacity, percent.
    #[serde(default)]
    pub peak_cpu_pct: f64,
    #[serde(default)]
    pub peak_memory_pct: f64,
    /// Peak GPUs allocated over the GPUs there are, percent (0 without
    /// GPUs), at the sampled instants.
    #[serde(default)]
    pub peak_gpu_pct: f64,
    /// The resource with the higher peak: the one that runs out first.
    #[serde(default)]
    pub binding: String,
    /// The binding resource's headroom at peak in hosts of the planned
    /// model (fractional: how much of a host is left).
    #[serde(default)]
    pub headroom_hosts: f64,
    /// The cluster the capacity, headroom, peaks and binding resource are
    /// of (`plan --cluster`: its VMs can use no other); absent: the
    /// datacenter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// The run at the recommended count that came closest to failing an SLO
/// (an N+k run when the plan has failures): the run that decided it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecidingOut {
    pub slo: String,
    pub value: Option<f64>,
    pub seed: u64,
    pub failed_hosts: Vec<String>,
    pub fail_at_s: Option<f64>,
    pub detail: DetailOut,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanReport {
    pub pacsim_version: String,
    pub scenario: String,
    pub scenario_blake3: String,
    pub model: String,
    /// The cluster resized (`plan --cluster`); the others keep their hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Hosts of the other models, kept fixed.
    pub fixed_hosts: Vec<(String, u64)>,
    pub seeds: Vec<u64>,
    pub failures: usize,
    pub quantile: f64,
    /// A number (one model) or `{model: count}` (several).
    pub recommended_hosts: serde_json::Value,
    pub slo: Vec<SloOut>,
    /// Evaluated counts, in probe order.
    pub probes: Vec<Candidate>,
    /// Where the probes contradict monotonicity (verdicts or SLO values).
    pub non_monotone: Vec<String>,
    pub runs: usize,
    pub detail: Option<DetailOut>,
    #[serde(default)]
    pub deciding: Option<DecidingOut>,
    /// Why the recommended count and not one host fewer, in one sentence.
    #[serde(default)]
    pub why: String,
    /// `I/N` for a partial result of `--shard`.
    pub shard: Option<String>,
}

impl PlanReport {
    pub fn recommended(&self) -> Option<u64> {
        match &self.recommended_hosts {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::Object(m) => m.get(&self.model).and_then(|v| v.as_u64()),
            _ => None,
        }
    }
}

pub fn build(
    base: &Scenario,
    cfg: &PlanConfig,
    found: &Outcome,
    probes: Vec<Candidate>,
    detail: Option<(Scenario, Ran)>,
    deciding: Option<(Scenario, Ran, usize)>,
) -> PlanReport {
    let dc = &base.datacenter;
    let model = dc.models[cfg.model].name.clone();
    let fixed_hosts: Vec<(String, u64)> = dc
        .models
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != cfg.model)
        .map(|(i, m)| {
            let n = dc.hosts.iter().filter(|h| h.model == i).count() as u64;
            (m.name.clone(), n)
        })
        .collect();
    let recommended_hosts = match (found.recommended, fixed_hosts.is_empty()) {
        (None, _) => serde_json::Value::Null,
        (Some(n), true) => n.into(),
        (Some(n), false) => {
            let mut m = serde_json::Map::new();
            m.insert(model.clone(), n.into());
            for (name, c) in &fixed_hosts {
                m.insert(name.clone(), (*c).into());
            }
            serde_json::Value::Object(m)
        }
    };
    let mut report = PlanReport {
        pacsim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: base.name.clone(),
        scenario_blake3: blake3::hash(base.source.as_bytes()).to_hex().to_string(),
        model,
        cluster: cfg.cluster.map(|c| dc.cluster_name(c).to_string()),
        fixed_hosts,
        seeds: cfg.seeds.clone(),
        failures: cfg.failures,
        quantile: cfg.quantile,
        recommended_hosts,
        slo: Vec::new(),
        runs: probes.iter().map(|c| c.runs.len()).sum(),
        probes,
        non_monotone: Vec::new(),
        detail: detail.map(|(s, r)| detail_out(&s, &r, cfg)),
        deciding: deciding.map(|(s, r, slo)| DecidingOut {
            slo: cfg.slos[slo].text.clone(),
            value: r.record.values[slo],
            seed: r.record.seed,
            failed_hosts: r.record.failed_hosts.clone(),
            fail_at_s: r.record.fail_at_ns.map(|t| round3(t as f64 / 1e9)),
            detail: detail_out(&s, &r, cfg),
        }),
        why: String::new(),
        shard: None,
    };
    finish(&mut report, cfg);
    report
}

/// Fills the SLO table and the monotonicity notes from the probes.
pub fn finish(report: &mut PlanReport, cfg: &PlanConfig) {
    let rec = report.recommended();
    let at = |n: Option<u64>, i: usize| {
        n.and_then(|n| report.probes.iter().find(|c| c.hosts == n))
            .and_then(|c| c.slo_values[i])
    };
    report.slo = cfg
        .slos
        .iter()
        .enumerate()
        .map(|(i, e)| SloOut {
            slo: e.text.clone(),
            metric: e.metric.clone(),
            op: e.op.symbol().to_string(),
            threshold: e.value,
            at_recommended: at(rec, i),
            at_recommended_minus_1: at(rec.and_then(|r| r.checked_sub(1)), i),
        })
        .collect();
    let verdicts: Vec<search::Probe> = report
        .probes
        .iter()
        .map(|c| search::Probe {
            hosts: c.hosts,
            pass: c.pass,
        })
        .collect();
    let mut notes: Vec<String> = search::inversions(&verdicts)
        .into_iter()
        .map(|(a, b)| format!("{a} hosts passed but {b} hosts failed"))
        .collect();
    let mut sorted: Vec<&Candidate> = report.probes.iter().collect();
    sorted.sort_by_key(|c| c.hosts);
    for (i, e) in cfg.slos.iter().enumerate() {
        for w in sorted.windows(2) {
            let (Some(a), Some(b)) = (w[0].slo_values[i], w[1].slo_values[i]) else {
                continue;
            };
            if badness(e, b) > badness(e, a) {
                notes.push(format!(
                    "{}: {a} at {} hosts but {b} at {} hosts",
                    e.metric, w[0].hosts, w[1].hosts
                ));
            }
        }
    }
    report.non_monotone = notes;
    report.why = verdict::why(&report.probes, report.recommended(), cfg);
}

/// The run's detail. With `cfg.cluster`, the capacity, headroom, peaks and
/// binding resource are the cluster's (its peaks at the sampled instants).
fn detail_out(s: &Scenario, r: &Ran, cfg: &PlanConfig) -> DetailOut {
    let model = cfg.model;
    let caps: Vec<crate::model::Resources> = s
        .datacenter
        .hosts
        .iter()
        .map(|h| s.datacenter.models[h.model].capacity)
        .collect();
    let cap = caps
        .iter()
        .fold(crate::model::Resources::ZERO, |a, c| a + *c);
    let d = &r.detail;
    let series = d
        .samples
        .iter()
        .map(|p| SeriesPoint {
            t_s: round3(p.at_ns as f64 / 1e9),
            cpu_pct: pct(p.cpu_millis, cap.cpu_millis),
            memory_pct: pct(p.memory_bytes, cap.memory_bytes),
            rejected: p.rejected,
        })
        .collect();
    let host_pct: Vec<f64> = caps
        .iter()
        .zip(&d.hosts)
        .map(|(c, u)| pct(u.cpu_millis, c.cpu_millis))
        .collect();
    let mut histogram = vec![0u64; 10];
    for p in &host_pct {
        histogram[((*p / 10.0) as usize).min(9)] += 1;
    }
    let stranded = d.stranded(&caps);
    let peak = &r.summary["peak_allocated"];
    let gib = crate::model::resources::GIB as f64;
    let mut peak_cores = peak["cpu_cores"].as_f64().unwrap_or(0.0);
    let mut peak_gib = peak["memory_gib"].as_f64().unwrap_or(0.0);
    let mut cap = cap;
    // GPUs at the sampled instants (the summary's peak has none).
    let gpus = |u: &crate::model::Resources| u.gpu_millis;
    let mut peak_gpus = (d.samples.iter())
        .map(|p| p.clusters.iter().map(gpus).sum::<u64>())
        .max()
        .unwrap_or(0) as f64
        / 1000.0;
    if let Some(c) = cfg.cluster {
        let range = s.datacenter.cluster_hosts(c);
        cap = caps[range.start as usize..range.end as usize]
            .iter()
            .fold(crate::model::Resources::ZERO, |a, c| a + *c);
        let used = d.samples.iter().filter_map(|p| p.clusters.get(c));
        peak_cores = used.clone().map(|u| u.cpu_millis).max().unwrap_or(0) as f64 / 1000.0;
        peak_gib = used.clone().map(|u| u.memory_bytes).max().unwrap_or(0) as f64 / gib;
        peak_gpus = used.map(gpus).max().unwrap_or(0) as f64 / 1000.0;
    }
    let share = |used: f64, of: f64| {
        if of > 0.0 {
            round3(100.0 * used / of)
        } else {
            0.0
        }
    };
    let peak_cpu_pct = share(peak_cores, cap.cpu_cores_f64());
    let peak_memory_pct = share(peak_gib, cap.memory_gib_f64());
    let cap_gpus = cap.gpu_millis as f64 / 1000.0;
    let peak_gpu_pct = share(peak_gpus, cap_gpus);
    let one = s.datacenter.models[model].capacity;
    let one_gpus = one.gpu_millis as f64 / 1000.0;
    // GPUs bind only where the planned model has them: more hosts of a
    // model without GPUs add none.
    let (binding, headroom_hosts) =
        if one_gpus > 0.0 && peak_gpu_pct > peak_cpu_pct && peak_gpu_pct > peak_memory_pct {
            ("gpus", (cap_gpus - peak_gpus) / one_gpus)
        } else if peak_cpu_pct >= peak_memory_pct {
            (
                "cpu",
                (cap.cpu_cores_f64() - peak_cores) / one.cpu_cores_f64(),
            )
        } else {
            (
                "memory",
                (cap.memory_gib_f64() - peak_gib) / one.memory_gib_f64(),
            )
        };
    DetailOut {
        seed: r.record.seed,
        series,
        capacity_cores: cap.cpu_cores_f64(),
        capacity_gib: round3(cap.memory_gib_f64()),
        headroom_cores: round3(cap.cpu_cores_f64() - peak_cores),
        headroom_gib: round3(cap.memory_gib_f64() - peak_gib),
        stranded_cores: stranded.cpu_millis as f64 / 1000.0,
        stranded_gib: round3(stranded.memory_bytes as f64 / gib),
        host_cpu_pct_at_end: host_pct,
        host_cpu_histogram: histogram,
        placement_latency_ms: r.summary["placement_latency_ms"].clone(),
        clusters: cluster_series(s, d),
        peak_cpu_pct,
        peak_memory_pct,
        peak_gpu_pct,
        binding: binding.to_string(),
        headroom_hosts: round3(headroom_hosts),
        scope: cfg
            .cluster
            .map(|c| s.datacenter.cluster_name(c).to_string()),
    }
}

/// The runs of `--shard` partial results as a cache for `--merge`, which
/// replays the whole search over it: the merged result is the unsharded
/// one, and only runs that no shard did (counts one shard's search did not
/// probe) are run again.
pub fn runs_cache(parts: &[PlanReport]) -> RunCache {
    let mut cache = RunCache::new();
    for p in parts {
        for c in &p.probes {
            for r in &c.runs {
                cache.insert((c.hosts, r.seed, r.fail_at_ns.is_some()), r.clone());
            }
        }
    }
    cache
}

/// The terminal summary.
pub fn summary_text(r: &PlanReport) -> String {
    let mut s = String::new();
    let within = r
        .cluster
        .as_ref()
        .map_or(String::new(), |c| format!(" in cluster {c}"));
    let rec = match r.recommended() {
        Some(n) => format!("{n} hosts of {}{within}", r.model),
        None => "none: the SLOs fail at the largest count tried".to_string(),
    };
    s += &format!(
        "scenario         {} (blake3 {})\n",
        r.scenario,
        &r.scenario_blake3[..16]
    );
    s += &format!(
        "seeds            {} ({} runs), N+{}, quantile {}\n",
        r.seeds.len(),
        r.runs,
        r.failures,
        r.quantile
    );
    for (m, n) in &r.fixed_hosts {
        s += &format!("fixed            {n} hosts of {m}\n");
    }
    s += &format!("recommended      {rec}\n");
    if !r.why.is_empty() {
        s += &format!("why              {}\n", r.why);
    }
    for o in &r.slo {
        let f = |v: Option<f64>| v.map_or("-".to_string(), terminal_number);
        s += &format!(
            "SLO              {:<32} at rec: {:<10} at rec-1: {}\n",
            o.slo,
            f(o.at_recommended),
            f(o.at_recommended_minus_1)
        );
    }
    let probes: Vec<String> = r
        .probes
        .iter()
        .map(|c| format!("{}{}", c.hosts, if c.pass { "✓" } else { "✗" }))
        .collect();
    s += &format!("probes           {}\n", probes.join(" "));
    if let Some(d) = &r.detail
        && d.clusters.len() > 1
    {
        for c in &d.clusters {
            let peak = |f: fn(&super::clusters::ClusterPoint) -> f64| {
                c.series.iter().map(f).fold(0.0, f64::max)
            };
            let resized = if r.cluster.as_ref() == Some(&c.name) {
                " (resized)"
            } else {
                ""
            };
            s += &format!(
                "cluster          {}: {} hosts{resized}, peak cpu {} %, memory {} %\n",
                c.name,
                c.hosts,
                crate::report::numbers::sig3(peak(|p| p.cpu_pct)),
                crate::report::numbers::sig3(peak(|p| p.memory_pct)),
            );
        }
    }
    if let Some(d) = &r.detail {
        let of = d
            .scope
            .as_ref()
            .map_or(String::new(), |c| format!(" in cluster {c}"));
        s += &format!(
            "headroom         {} cores, {} GiB (of {} cores, {} GiB{of})\n",
            d.headroom_cores, d.headroom_gib, d.capacity_cores, d.capacity_gib
        );
        s += &format!(
            "stranded at end  {} cores, {} GiB\n",
            d.stranded_cores, d.stranded_gib
        );
    }
    for n in &r.non_monotone {
        s += &format!("non-monotone     {n}\n");
    }
    s
}

/// One CSV row per run.
pub fn runs_csv(r: &PlanReport) -> String {
    let mut s = String::from("hosts,seed,failed_hosts,fail_at_s,events,digest");
    for o in &r.slo {
        s += &format!(",{}", o.metric);
    }
    s.push('\n');
    for c in &r.probes {
        for run in &c.runs {
            s += &format!(
                "{},{},{},{},{},{}",
                c.hosts,
                run.seed,
                run.failed_hosts.join(" "),
                run.fail_at_ns
                    .map_or(String::new(), |t| format!("{}", t as f64 / 1e9)),
                run.events,
                run.digest
            );
            for v in &run.values {
                s += &format!(",{}", v.map_or(String::new(), |v| v.to_string()));
            }
            s.push('\n');
        }
    }
    s
}

/// A value for the terminal: whole numbers as they are, others to six
/// decimals without trailing zeros (`0.041667`, not
/// `0.041666666666666664`), tiny ones in exponent form.
fn terminal_number(v: f64) -> String {
    if v.fract() == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    if v.abs() < 1e-3 {
        return format!("{v:.3e}");
    }
    let fixed = format!("{v:.6}");
    fixed
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_numbers_are_short() {
        assert_eq!(terminal_number(1.0 / 24.0), "0.041667");
        assert_eq!(terminal_number(7969.178), "7969.178");
        assert_eq!(terminal_number(3.0), "3");
        assert_eq!(terminal_number(0.00001), "1.000e-5");
    }
}
