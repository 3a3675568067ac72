//! Utilization over time per cluster, for the recommended configuration's
//! detailed run: the allocation on a cluster's hosts over the capacity of
//! all its hosts (up or down, as the datacenter-wide series), at the same
//! instants as that series. Plus its CSV (one row per cluster and instant).

use crate::model::Resources;
use crate::report::detail::Detail;
use crate::report::numbers::{pct, round3};
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterPoint {
    pub t_s: f64,
    pub cpu_pct: f64,
    pub memory_pct: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterSeries {
    pub name: String,
    /// Hosts in the cluster in this configuration (may be 0 when the plan
    /// removed them all; the series is then 0).
    pub hosts: u64,
    pub capacity_cores: f64,
    pub capacity_gib: f64,
    pub series: Vec<ClusterPoint>,
}

/// One series per cluster of `s`, in the scenario's cluster order.
pub fn cluster_series(s: &Scenario, d: &Detail) -> Vec<ClusterSeries> {
    let dc = &s.datacenter;
    dc.clusters
        .iter()
        .enumerate()
        .map(|(c, spec)| {
            let members = dc.hosts.iter().filter(|h| h.cluster == c);
            let cap = members
                .clone()
                .fold(Resources::ZERO, |a, h| a + dc.models[h.model].capacity);
            let series = d
                .samples
                .iter()
                .map(|p| {
                    let used = p.clusters.get(c).copied().unwrap_or(Resources::ZERO);
                    ClusterPoint {
                        t_s: round3(p.at_ns as f64 / 1e9),
                        cpu_pct: pct(used.cpu_millis, cap.cpu_millis),
                        memory_pct: pct(used.memory_bytes, cap.memory_bytes),
                    }
                })
                .collect();
            ClusterSeries {
                name: spec.name.clone(),
                hosts: members.count() as u64,
                capacity_cores: cap.cpu_cores_f64(),
                capacity_gib: round3(cap.memory_gib_f64()),
                series,
            }
        })
        .collect()
}

/// `cluster,t_s,cpu_pct,memory_pct`, clusters in order, then time.
pub fn clusters_csv(clusters: &[ClusterSeries]) -> String {
    let mut s = String::from("cluster,t_s,cpu_pct,memory_pct\n");
    for c in clusters {
        let name = csv_field(&c.name);
        for p in &c.series {
            s += &format!("{name},{},{},{}\n", p.t_s, p.cpu_pct, p.memory_pct);
        }
    }
    s
}

/// Cluster names are free text: quote them when they hold a separator.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Note;
    use crate::model::{HostId, SimTime, VmId};
    use crate::scenario::parse_scenario;

    /// Cluster `a`: two 8-core / 16 GiB hosts; `b, c`: one 4-core / 8 GiB host.
    const TWO: &str = "name: t\nseed: 1\nduration: 10s\ndatacenter:\n  host_models:\n    - { name: m8, cpu: 8, memory: 16Gi }\n    - { name: m4, cpu: 4, memory: 8Gi }\n  clusters:\n    - name: a\n      hosts:\n        - { model: m8, count: 2 }\n    - name: \"b, c\"\n      hosts:\n        - { model: m4, count: 1 }\n";

    #[test]
    fn each_cluster_is_its_allocation_over_all_its_hosts_capacity() {
        let s = parse_scenario(TWO, "<inline>").unwrap();
        let mut d = Detail::new(SimTime(10_000_000_000), 2, vec![0, 0, 1], 2);
        let start = |host: u32, cores: u64, gib: u64| Note::VmStarted {
            vm: VmId(0),
            host: HostId(host),
            size: Resources::cores(cores, gib),
        };
        d.note(SimTime(0), &start(1, 4, 4));
        d.note(SimTime(5_000_000_000), &start(2, 1, 2));
        d.finish(SimTime(10_000_000_000));
        let c = cluster_series(&s, &d);
        assert_eq!(
            (c[0].hosts, c[0].capacity_cores, c[0].capacity_gib),
            (2, 16.0, 32.0)
        );
        let pts = |i: usize| -> Vec<(f64, f64, f64)> {
            c[i].series
                .iter()
                .map(|p| (p.t_s, p.cpu_pct, p.memory_pct))
                .collect()
        };
        assert_eq!(
            pts(0),
            vec![(0.0, 25.0, 12.5), (5.0, 25.0, 12.5), (10.0, 25.0, 12.5)]
        );
        assert_eq!(
            pts(1),
            vec![(0.0, 0.0, 0.0), (5.0, 25.0, 25.0), (10.0, 25.0, 25.0)]
        );
        let csv = clusters_csv(&c);
        assert!(csv.starts_with("cluster,t_s,cpu_pct,memory_pct\na,0,25,12.5\n"));
        assert!(csv.ends_with("\"b, c\",10,25,25\n"));
    }
}
