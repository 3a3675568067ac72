//! `report.html`: one self-contained page (inline CSS and SVG, no scripts,
//! no network) from a `PlanReport`. The answer and why come first, then
//! the probes, the run that decided, and the recommended configuration.
//! Every number is shown with three significant digits; report.json keeps
//! the values themselves.

use super::chart::{Axis, Chart, Mark, Series, esc, render as chart};
use super::clusters::ClusterSeries;
use super::outcome::{DetailOut, PlanReport};
use super::ticks::Scale;
use super::verdict::describe_run;
use crate::report::numbers::sig3;
use std::fmt::Write;

/// Shared with the grid's page. Charts and wide tables fit a narrow window
/// (the SVGs have a viewBox; tables scroll sideways).
pub const CSS: &str = "body{font-family:sans-serif;max-width:820px;margin:2em auto;padding:0 .6em;color:#222;line-height:1.4}\
table{border-collapse:collapse;margin:1em 0;display:block;overflow-x:auto;max-width:100%}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#eee}td.l,th.l{text-align:left}.pass{color:#1e8449}.fail{color:#a93226}\
.answer{font-size:1.6em;font-weight:bold;margin:.3em 0}.why{font-size:1.1em}\
figure.chart{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.3em}svg{display:block;max-width:100%;height:auto}\
.legend span{margin-right:1.2em;font-size:.9em;white-space:nowrap;display:inline-block}.legend i{display:inline-block;width:1em;height:.6em;margin-right:.3em}\
@media print{body{margin:0}figure{page-break-inside:avoid}}";

const CPU: &str = "#C0392B";
const MEMORY: &str = "#2471A3";
const EVENT: &str = "#7D3C98";
/// A probe chart shows at most this many times its SLO's threshold.
const ZOOM: f64 = 4.0;

/// A latency given in ms, in seconds from a second up: "11.2 s", not
/// "11200 ms".
fn latency(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{} s", sig3(ms / 1000.0))
    } else {
        format!("{} ms", sig3(ms))
    }
}

fn num(v: Option<f64>) -> String {
    v.map_or("no samples".to_string(), sig3)
}

pub fn render(r: &PlanReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>pacsim plan: {}</title><style>{CSS}</style></head><body><h1>Capacity plan: {}</h1>",
        esc(&r.scenario),
        esc(&r.scenario)
    );
    let answer = r.recommended().map_or(
        "No recommendation: the SLOs fail at the largest count tried".to_string(),
        |n| {
            let within =
                (r.cluster.as_deref()).map_or(String::new(), |c| format!(" in cluster {}", esc(c)));
            format!("Recommended: {n} hosts of {}{within}", esc(&r.model))
        },
    );
    let _ = write!(
        h,
        "<p class=\"answer\">{answer}</p><p class=\"why\">{}</p>",
        esc(&r.why)
    );
    h.push_str(&facts(r));
    h.push_str(&slo_table(r));
    h.push_str("<h2>Probes</h2><p>Each host count the search tried: the median over the seeds, and their spread (each seed's worse of its plain and N+k runs). The table under the charts gives the value each count was judged by: the quantile of its plain runs or of its N+k runs, whichever is worse.</p>");
    for i in 0..r.slo.len() {
        h.push_str(&chart(&probe_chart(r, i)));
    }
    h.push_str(&probe_table(r));
    if let Some(d) = &r.deciding {
        let run = esc(&describe_run(d.seed, &d.failed_hosts, d.fail_at_s));
        let _ = write!(
            h,
            "<h2>The deciding run</h2><p>At the recommended count, {} came closest to failing in {run}, which measured {}.</p>",
            esc(&d.slo),
            num(d.value)
        );
        let mut c = utilization("deciding", "Utilization in the deciding run", &d.detail);
        if let Some(at) = d.fail_at_s {
            c.series.push(Series {
                name: "hosts fail".into(),
                color: EVENT,
                mark: Mark::VRule(at),
            });
        }
        h.push_str(&chart(&c));
    }
    if let Some(d) = &r.detail {
        let _ = write!(
            h,
            "<h2>The recommended configuration, seed {} without failures</h2>",
            d.seed
        );
        h.push_str(&chart(&utilization(
            "utilization",
            "Utilization over time",
            d,
        )));
        h.push_str(&cluster_charts(
            &d.clusters,
            r.cluster.as_deref(),
            time_range(d),
        ));
        h.push_str(&chart(&rejected(d)));
        h.push_str(&chart(&host_histogram(d)));
    }
    if !r.non_monotone.is_empty() {
        h.push_str("<h2>Non-monotonicity</h2><ul>");
        for n in &r.non_monotone {
            let _ = write!(h, "<li>{}</li>", esc(n));
        }
        h.push_str("</ul>");
    }
    let _ = writeln!(
        h,
        "<h2>Inputs</h2><table><tr><th class=\"l\">scenario</th><td class=\"l\">{}</td></tr><tr><th class=\"l\">blake3</th><td class=\"l\">{}</td></tr><tr><th class=\"l\">seeds</th><td class=\"l\">{:?}</td></tr><tr><th class=\"l\">pacsim</th><td class=\"l\">{}</td></tr></table></body></html>",
        esc(&r.scenario),
        r.scenario_blake3,
        r.seeds,
        esc(&r.pacsim_version)
    );
    h
}

/// The plan's terms and the recommended configuration's margins.
fn facts(r: &PlanReport) -> String {
    let mut rows = vec![(
        "tolerates".to_string(),
        format!(
            "{} host failure{} at the peak (N+{})",
            r.failures,
            if r.failures == 1 { "" } else { "s" },
            r.failures
        ),
    )];
    rows.push((
        "seeds".into(),
        format!(
            "{}, each SLO held on {}% of them; {} runs",
            r.seeds.len(),
            sig3(100.0 * r.quantile),
            r.runs
        ),
    ));
    for (m, n) in &r.fixed_hosts {
        rows.push(("fixed".into(), format!("{n} hosts of {}", esc(m))));
    }
    if let Some(d) = &r.detail {
        let of = |what: &str| match &d.scope {
            Some(c) => format!("{what} (cluster {})", esc(c)),
            None => what.to_string(),
        };
        rows.push((
            of("binding resource"),
            format!(
                "{}: peak cpu {}%, memory {}%{}",
                d.binding,
                sig3(d.peak_cpu_pct),
                sig3(d.peak_memory_pct),
                if d.peak_gpu_pct > 0.0 {
                    format!(", gpus {}%", sig3(d.peak_gpu_pct))
                } else {
                    String::new()
                }
            ),
        ));
        rows.push((
            of("headroom at peak"),
            format!(
                "cpu {}% ({} cores), memory {}% ({} GiB){}: {} hosts of {} by {}",
                sig3(100.0 - d.peak_cpu_pct),
                sig3(d.headroom_cores),
                sig3(100.0 - d.peak_memory_pct),
                sig3(d.headroom_gib),
                // The binding resource may be the GPUs: say how much is left.
                if d.peak_gpu_pct > 0.0 {
                    format!(", gpus {}%", sig3(100.0 - d.peak_gpu_pct))
                } else {
                    String::new()
                },
                sig3(d.headroom_hosts),
                esc(&r.model),
                d.binding
            ),
        ));
        rows.push((
            of("capacity"),
            format!(
                "{} cores, {} GiB",
                sig3(d.capacity_cores),
                sig3(d.capacity_gib)
            ),
        ));
        rows.push((
            "stranded at end".into(),
            format!(
                "{} cores, {} GiB",
                sig3(d.stranded_cores),
                sig3(d.stranded_gib)
            ),
        ));
        let ms = |k: &str| d.placement_latency_ms[k].as_f64().map(latency);
        rows.push((
            "placement latency".into(),
            match (ms("p50"), ms("p99"), ms("max")) {
                (Some(p50), Some(p99), Some(max)) => format!("p50 {p50}, p99 {p99}, max {max}"),
                _ => "no samples".to_string(),
            },
        ));
    }
    let mut h = String::from("<table>");
    for (k, v) in rows {
        let _ = write!(
            h,
            "<tr><th class=\"l\">{k}</th><td class=\"l\">{v}</td></tr>"
        );
    }
    h.push_str("</table>");
    h
}

fn slo_table(r: &PlanReport) -> String {
    let mut h = String::from(
        "<h2>SLOs</h2><table><tr><th class=\"l\">SLO</th><th>at the recommended count</th><th>one host fewer</th></tr>",
    );
    for s in &r.slo {
        let _ = write!(
            h,
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&s.slo),
            r.recommended()
                .map_or("-".to_string(), |_| num(s.at_recommended)),
            s.at_recommended_minus_1.map_or("-".to_string(), sig3)
        );
    }
    h.push_str("</table>");
    h
}

fn probe_table(r: &PlanReport) -> String {
    let mut probes: Vec<_> = r.probes.iter().collect();
    probes.sort_by_key(|c| c.hosts);
    let mut h = String::from("<table><tr><th>hosts</th><th>verdict</th><th>runs</th>");
    for s in &r.slo {
        let _ = write!(h, "<th>{}</th>", esc(&s.metric));
    }
    h.push_str("</tr>");
    for c in probes {
        let (class, word) = if c.pass {
            ("pass", "pass")
        } else {
            ("fail", "fail")
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"{class}\">{word}</td><td>{}</td>",
            c.hosts,
            c.runs.len()
        );
        for v in &c.slo_values {
            let _ = write!(h, "<td>{}</td>", num(*v));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
    h
}

/// SLO `i` against the probed counts: the seeds' spread and median at each
/// probe only, a ring on each count that fails this SLO, the threshold,
/// and the recommended count.
pub fn probe_chart(r: &PlanReport, i: usize) -> Chart {
    let s = &r.slo[i];
    let slo = super::slo::parse_slo(&s.slo).ok();
    let fails = |c: &super::runs::Candidate| match (&slo, c.slo_values.get(i).copied().flatten()) {
        (Some(e), Some(v)) => !e.op.holds(v, e.value),
        (Some(_), None) => true,
        (None, _) => false,
    };
    let mut probes: Vec<_> = r.probes.iter().collect();
    probes.sort_by_key(|c| c.hosts);
    let spreads: Vec<(f64, super::outcome::Spread)> = probes
        .iter()
        .filter_map(|c| {
            c.spread
                .get(i)
                .copied()
                .flatten()
                .map(|p| (c.hosts as f64, p))
        })
        .filter(|(_, p)| p.min.is_finite() && p.max.is_finite())
        .collect();
    let hosts = probes.iter().map(|c| c.hosts as f64);
    let x_lo = hosts.clone().fold(f64::INFINITY, f64::min);
    let x_hi = hosts.fold(f64::NEG_INFINITY, f64::max);
    let values = spreads
        .iter()
        .flat_map(|(_, p)| [p.min, p.max])
        .chain([s.threshold, 0.0]);
    let y_lo = values.clone().fold(f64::INFINITY, f64::min);
    let mut y_hi = values.fold(f64::NEG_INFINITY, f64::max);
    // A threshold far below the worst probes would sit on the axis: zoom
    // on it, and mark the probes above the scale at its top.
    if s.threshold > 0.0 && y_lo >= 0.0 && y_hi > ZOOM * s.threshold {
        y_hi = ZOOM * s.threshold;
    }
    let clip = |v: f64| v.min(y_hi);
    let (inside, above): (Vec<_>, Vec<_>) = spreads.iter().partition(|(_, p)| p.median <= y_hi);
    let mut series = vec![
        Series {
            name: "min–max over seeds".into(),
            color: "#F1948A",
            mark: Mark::Spans(
                spreads
                    .iter()
                    .map(|(x, p)| (*x, clip(p.min), clip(p.max)))
                    .collect(),
            ),
        },
        Series {
            name: "median over seeds".into(),
            color: "#922B21",
            mark: Mark::Dots(inside.iter().map(|(x, p)| (*x, p.median)).collect()),
        },
        Series {
            name: format!("SLO: {} {}", s.op, sig3(s.threshold)),
            color: "#566573",
            mark: Mark::HRule(s.threshold),
        },
    ];
    // A count (VMs, pods, calls) gets whole ticks: every run measured a
    // whole number, and the threshold is one.
    let whole = s.threshold.fract() == 0.0
        && (probes.iter())
            .flat_map(|c| {
                c.runs
                    .iter()
                    .filter_map(|run| run.values.get(i).copied().flatten())
            })
            .all(|v| v.fract() == 0.0);
    // Failures are marked whatever the scale: a count that fails by one
    // pod on an axis of hundreds would look like one that passes.
    let failing: Vec<(f64, f64)> = probes
        .iter()
        .filter(|c| fails(c))
        .filter_map(|c| {
            let median = c.spread.get(i).copied().flatten()?.median;
            median
                .is_finite()
                .then_some((c.hosts as f64, median.min(y_hi)))
        })
        .collect();
    if !failing.is_empty() {
        series.push(Series {
            name: "fails this SLO".into(),
            color: "#17202A",
            mark: Mark::Rings(failing),
        });
    }
    if !above.is_empty() {
        series.push(Series {
            name: "median above the scale (the table has the value)".into(),
            color: "#E67E22",
            mark: Mark::Dots(above.iter().map(|(x, _)| (*x, y_hi)).collect()),
        });
    }
    if let Some(n) = r.recommended() {
        series.push(Series {
            name: format!("recommended: {n}"),
            color: "#1E8449",
            mark: Mark::VRule(n as f64),
        });
    }
    Chart {
        id: format!("slo-{i}"),
        title: format!("{} by host count", s.metric),
        x: Axis {
            label: format!("hosts of {}", r.model),
            scale: Scale::Count,
            lo: (x_lo - 1.0).max(0.0),
            hi: x_hi + 1.0,
        },
        y: Axis {
            label: s.metric.clone(),
            scale: if whole { Scale::Count } else { Scale::Value },
            lo: y_lo,
            hi: y_hi,
        },
        series,
        x_names: vec![],
    }
}

fn time_range(d: &DetailOut) -> (f64, f64) {
    let t = d.series.iter().map(|p| p.t_s);
    (
        t.clone().fold(f64::INFINITY, f64::min),
        t.fold(f64::NEG_INFINITY, f64::max),
    )
}

fn time_axis((lo, hi): (f64, f64)) -> Axis {
    Axis {
        label: "virtual time".into(),
        scale: Scale::Time,
        lo,
        hi,
    }
}

fn percent_axis(label: &str) -> Axis {
    Axis {
        label: label.into(),
        scale: Scale::Percent,
        lo: 0.0,
        hi: 100.0,
    }
}

fn cpu_and_memory(points: impl Iterator<Item = (f64, f64, f64)> + Clone) -> Vec<Series> {
    vec![
        Series {
            name: "cpu".into(),
            color: CPU,
            mark: Mark::Line(points.clone().map(|(t, c, _)| (t, c)).collect()),
        },
        Series {
            name: "memory".into(),
            color: MEMORY,
            mark: Mark::Line(points.map(|(t, _, m)| (t, m)).collect()),
        },
    ]
}

fn utilization(id: &str, title: &str, d: &DetailOut) -> Chart {
    Chart {
        id: id.into(),
        title: title.into(),
        x: time_axis(time_range(d)),
        y: percent_axis("allocated, % of capacity"),
        series: cpu_and_memory(d.series.iter().map(|p| (p.t_s, p.cpu_pct, p.memory_pct))),
        x_names: vec![],
    }
}

fn rejected(d: &DetailOut) -> Chart {
    let top = d.series.iter().map(|p| p.rejected).max().unwrap_or(0);
    Chart {
        id: "rejected".into(),
        title: "Rejected VMs over time (cumulative)".into(),
        x: time_axis(time_range(d)),
        y: Axis {
            label: "VMs".into(),
            scale: Scale::Count,
            lo: 0.0,
            hi: top as f64,
        },
        series: vec![Series {
            name: "rejected".into(),
            color: EVENT,
            mark: Mark::Line(
                d.series
                    .iter()
                    .map(|p| (p.t_s, p.rejected as f64))
                    .collect(),
            ),
        }],
        x_names: vec![],
    }
}

fn host_histogram(d: &DetailOut) -> Chart {
    let top = d.host_cpu_histogram.iter().copied().max().unwrap_or(0);
    Chart {
        id: "hosts-at-end".into(),
        title: "Hosts by cpu utilization at the end".into(),
        x: percent_axis("host cpu utilization (10 % buckets)"),
        y: Axis {
            label: "hosts".into(),
            scale: Scale::Count,
            lo: 0.0,
            hi: top as f64,
        },
        series: vec![Series {
            name: "hosts".into(),
            color: MEMORY,
            mark: Mark::Bars(
                d.host_cpu_histogram
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (i as f64 * 10.0 + 1.0, i as f64 * 10.0 + 9.0, *n as f64))
                    .collect(),
            ),
        }],
        x_names: vec![],
    }
}

/// One utilization chart per cluster, on the same scales, each in a
/// `data-cluster` block so a reader (or a test) can tell them apart;
/// `resized`: the cluster `plan --cluster` varied.
fn cluster_charts(clusters: &[ClusterSeries], resized: Option<&str>, times: (f64, f64)) -> String {
    let mut out = String::new();
    if clusters.is_empty() {
        return out;
    }
    out.push_str("<h3>Utilization per cluster</h3><p>Allocation on a cluster's hosts over the capacity of all of them, up or down.</p>");
    for (i, c) in clusters.iter().enumerate() {
        let _ = write!(
            out,
            "<div class=\"cluster\" data-cluster=\"{}\">",
            esc(&c.name)
        );
        if c.hosts == 0 {
            let _ = write!(
                out,
                "<p>Cluster {}: no hosts in this configuration.</p>",
                esc(&c.name)
            );
        } else {
            out.push_str(&chart(&Chart {
                id: format!("cluster-{i}"),
                title: format!(
                    "Cluster {}{}: {} hosts, {} cores, {} GiB",
                    c.name,
                    if resized == Some(c.name.as_str()) {
                        " (resized)"
                    } else {
                        ""
                    },
                    c.hosts,
                    sig3(c.capacity_cores),
                    sig3(c.capacity_gib)
                ),
                x: time_axis(times),
                y: percent_axis("allocated, % of the cluster"),
                series: cpu_and_memory(c.series.iter().map(|p| (p.t_s, p.cpu_pct, p.memory_pct))),
                x_names: vec![],
            }));
        }
        out.push_str("</div>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_read_in_seconds_from_a_second_up() {
        assert_eq!(latency(11_200.0), "11.2 s");
        assert_eq!(latency(1000.0), "1 s");
        assert_eq!(latency(250.0), "250 ms");
    }
    use crate::plan::clusters::ClusterPoint;

    fn cluster(name: &str, hosts: u64) -> ClusterSeries {
        ClusterSeries {
            name: name.to_string(),
            hosts,
            capacity_cores: 8.0 * hosts as f64,
            capacity_gib: 0.0,
            series: vec![ClusterPoint {
                t_s: 0.0,
                cpu_pct: 0.0,
                memory_pct: 0.0,
            }],
        }
    }

    #[test]
    fn a_cluster_without_hosts_gets_a_note_and_names_are_quoted() {
        let html = cluster_charts(
            &[cluster("a\"b", 2), cluster("empty", 0)],
            None,
            (0.0, 60.0),
        );
        assert!(html.contains("data-cluster=\"a&quot;b\""));
        assert_eq!(html.matches("<svg").count(), 1);
        assert!(html.contains("Cluster empty: no hosts"));
        assert!(cluster_charts(&[], None, (0.0, 1.0)).is_empty());
        let marked = cluster_charts(&[cluster("a", 2), cluster("b", 1)], Some("b"), (0.0, 60.0));
        assert!(
            marked.contains("Cluster b (resized): 1 hosts")
                && marked.contains("Cluster a: 2 hosts")
        );
    }
}
