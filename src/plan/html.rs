//! `report.html`: one self-contained page (inline CSS and SVG, no scripts,
//! no network) from a `PlanReport`.

use super::clusters::{ClusterPoint, ClusterSeries};
use super::outcome::PlanReport;
use super::svg::{Line, bar_chart, line_chart};
use std::fmt::Write;

const CSS: &str = "body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#eee}.pass{color:#070}.fail{color:#a00}svg{display:block;margin:1em 0}\
@media print{body{margin:0}svg{page-break-inside:avoid}}";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// For attribute values: `esc` plus the quote.
fn attr(s: &str) -> String {
    esc(s).replace('"', "&quot;")
}

fn opt(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |v| v.to_string())
}

pub fn render(r: &PlanReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>pacsim plan: {}</title><style>{CSS}</style></head><body>",
        esc(&r.scenario)
    );
    let rec = r.recommended().map_or(
        "none (SLOs fail at the largest count tried)".to_string(),
        |n| format!("{n} hosts of {}", esc(&r.model)),
    );
    let _ = write!(
        h,
        "<h1>Capacity plan: {}</h1><p><b>Recommended: {rec}</b> (N+{}, quantile {}, {} seeds, {} runs)</p>",
        esc(&r.scenario),
        r.failures,
        r.quantile,
        r.seeds.len(),
        r.runs
    );
    for (m, n) in &r.fixed_hosts {
        let _ = write!(h, "<p>Fixed: {n} hosts of {}</p>", esc(m));
    }
    h.push_str("<h2>SLOs and margin</h2><table><tr><th>SLO</th><th>at recommended</th><th>at recommended − 1</th></tr>");
    for s in &r.slo {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&s.slo),
            opt(s.at_recommended),
            opt(s.at_recommended_minus_1)
        );
    }
    h.push_str("</table><h2>Probes</h2><table><tr><th>hosts</th><th>verdict</th><th>runs</th><th>SLO values</th></tr>");
    for c in &r.probes {
        let (class, word) = if c.pass {
            ("pass", "pass")
        } else {
            ("fail", "fail")
        };
        let vals: Vec<String> = c
            .slo_values
            .iter()
            .map(|v| v.map_or("no samples".to_string(), |v| v.to_string()))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"{class}\">{word}</td><td>{}</td><td>{}</td></tr>",
            c.hosts,
            c.runs.len(),
            vals.join(", ")
        );
    }
    h.push_str("</table>");
    h.push_str(&probe_charts(r));
    if !r.non_monotone.is_empty() {
        h.push_str("<h2>Non-monotonicity</h2><ul>");
        for n in &r.non_monotone {
            let _ = write!(h, "<li>{}</li>", esc(n));
        }
        h.push_str("</ul>");
    }
    if let Some(d) = &r.detail {
        let _ = write!(
            h,
            "<h2>Recommended configuration (seed {})</h2><table><tr><th>capacity</th><td>{} cores, {} GiB</td></tr><tr><th>headroom at peak</th><td>{} cores, {} GiB</td></tr><tr><th>stranded at end</th><td>{} cores, {} GiB</td></tr><tr><th>placement latency (ms)</th><td>p50 {} · p99 {} · max {}</td></tr></table>",
            d.seed,
            d.capacity_cores,
            d.capacity_gib,
            d.headroom_cores,
            d.headroom_gib,
            d.stranded_cores,
            d.stranded_gib,
            latency(&d.placement_latency_ms["p50"]),
            latency(&d.placement_latency_ms["p99"]),
            latency(&d.placement_latency_ms["max"])
        );
        let pts = |f: &dyn Fn(&super::outcome::SeriesPoint) -> f64| {
            d.series.iter().map(|p| (p.t_s, f(p))).collect::<Vec<_>>()
        };
        h.push_str(&line_chart(
            "Utilization over time",
            "virtual time (s)",
            "% of capacity",
            &[
                Line {
                    name: "cpu",
                    color: "#c0392b",
                    points: pts(&|p| p.cpu_pct),
                },
                Line {
                    name: "memory",
                    color: "#2471a3",
                    points: pts(&|p| p.memory_pct),
                },
            ],
        ));
        h.push_str(&cluster_charts(&d.clusters));
        h.push_str(&line_chart(
            "Rejected VMs over time (cumulative)",
            "virtual time (s)",
            "VMs",
            &[Line {
                name: "rejected",
                color: "#7d3c98",
                points: pts(&|p| p.rejected as f64),
            }],
        ));
        let bars: Vec<(String, f64)> = d
            .host_cpu_histogram
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("{}–{}%", i * 10, i * 10 + 10), *n as f64))
            .collect();
        h.push_str(&bar_chart(
            "Host cpu utilization at the end",
            ("host cpu utilization (%), 10 % buckets", (0.0, 100.0)),
            "hosts",
            &bars,
        ));
    }
    let _ = writeln!(
        h,
        "<h2>Inputs</h2><table><tr><th>scenario</th><td>{}</td></tr><tr><th>blake3</th><td>{}</td></tr><tr><th>seeds</th><td>{:?}</td></tr><tr><th>pacsim</th><td>{}</td></tr></table></body></html>",
        esc(&r.scenario),
        r.scenario_blake3,
        r.seeds,
        esc(&r.pacsim_version)
    );
    h
}

/// One utilization chart per cluster, each in a `data-cluster` block so a
/// reader (or a test) can tell them apart; the lines are named as in the
/// datacenter-wide chart.
fn cluster_charts(clusters: &[ClusterSeries]) -> String {
    let mut out = String::new();
    if clusters.is_empty() {
        return out;
    }
    out.push_str("<h3>Utilization per cluster</h3><p>Allocation on a cluster's hosts over the capacity of all of them, up or down.</p>");
    for c in clusters {
        let _ = write!(
            out,
            "<div class=\"cluster\" data-cluster=\"{}\">",
            attr(&c.name)
        );
        if c.hosts == 0 {
            let _ = write!(
                out,
                "<p>Cluster {}: no hosts in this configuration.</p>",
                esc(&c.name)
            );
        } else {
            let pts = |f: &dyn Fn(&ClusterPoint) -> f64| {
                c.series.iter().map(|p| (p.t_s, f(p))).collect::<Vec<_>>()
            };
            out.push_str(&line_chart(
                &format!(
                    "Cluster {}: {} hosts, {} cores, {} GiB",
                    c.name, c.hosts, c.capacity_cores, c.capacity_gib
                ),
                "virtual time (s)",
                "% of cluster capacity",
                &[
                    Line {
                        name: "cpu",
                        color: "#c0392b",
                        points: pts(&|p| p.cpu_pct),
                    },
                    Line {
                        name: "memory",
                        color: "#2471a3",
                        points: pts(&|p| p.memory_pct),
                    },
                ],
            ));
        }
        out.push_str("</div>");
    }
    out
}

/// A latency from the summary JSON; `null` means nothing was placed.
fn latency(v: &serde_json::Value) -> String {
    if v.is_null() {
        "no samples".to_string()
    } else {
        v.to_string()
    }
}

/// Each SLO's value against the probed host counts, with its threshold.
fn probe_charts(r: &PlanReport) -> String {
    let mut probes: Vec<&super::outcome::Candidate> = r.probes.iter().collect();
    probes.sort_by_key(|c| c.hosts);
    let mut out = String::new();
    for (i, s) in r.slo.iter().enumerate() {
        let points: Vec<(f64, f64)> = probes
            .iter()
            .filter_map(|c| c.slo_values[i].map(|v| (c.hosts as f64, v)))
            .filter(|(_, v)| v.is_finite())
            .collect();
        let threshold: Vec<(f64, f64)> = points.iter().map(|(x, _)| (*x, s.threshold)).collect();
        out.push_str(&line_chart(
            &format!("{} by host count", s.metric),
            &format!("hosts of {}", r.model),
            &s.metric,
            &[
                Line {
                    name: &s.metric,
                    color: "#c0392b",
                    points,
                },
                Line {
                    name: "threshold",
                    color: "#999",
                    points: threshold,
                },
            ],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let html = cluster_charts(&[cluster("a\"b", 2), cluster("empty", 0)]);
        assert!(html.contains("data-cluster=\"a&quot;b\""));
        assert_eq!(html.matches("<svg").count(), 1);
        assert!(html.contains("Cluster empty: no hosts"));
        assert!(cluster_charts(&[]).is_empty());
    }
}
