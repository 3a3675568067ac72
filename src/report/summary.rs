//! The run summary: one struct, printed as a table for people and as one
//! JSON object (`--json`) for scripts. JSON keys are a public contract:
//! `events`, `wall_seconds`, `events_per_sec`, `digest`, `sim_seconds`,
//! `vms.{requested,placed,rejected,deleted,lost,replaced,alive_at_end}`,
//! `peak_allocated.{cpu_cores,memory_gib}` must stay.

use super::Stats;
pub use super::numbers::Latency;
use super::numbers::round3;
use crate::model::SimTime;
use crate::model::resources::GIB;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub policy: String,
    pub sim_seconds: f64,
    /// Set when an invariant stopped the run: `at 03:19:26 by invariant
    /// \`host-capacity\``; `sim_seconds` is then that moment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    pub events: u64,
    pub wall_seconds: f64,
    pub events_per_sec: f64,
    pub digest: String,
    pub vms: VmCounts,
    pub hosts: HostCounts,
    pub capacity: Amount,
    pub peak_allocated: Amount,
    pub mean_allocated: Amount,
    pub utilization: Utilization,
    pub placement_latency_ms: Latency,
    /// Faults injected, by kind (`crash`, `partition`, `maintenance`,
    /// `message_drop`, `message_delay`, `message_duplicate`).
    pub faults: BTreeMap<String, u64>,
    /// Failure → HA restart of each restarted VM.
    pub recovery_ms: Latency,
    pub invariant_checks: u64,
    /// Messages an actor had no case for, as `actor got kind` → count: a
    /// bug in pacsim, shown so that a run without `--check` reveals it too.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub unexpected: BTreeMap<String, u64>,
    /// Each cluster's plain VMs, by cluster name: only when the datacenter
    /// has several clusters (`clusters.gpu.rejected_ratio`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub clusters: BTreeMap<String, ClusterVms>,
    /// Only when the scenario has a Supervisor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<crate::report::supervisor::SupervisorSummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct VmCounts {
    pub requested: u64,
    pub placed: u64,
    pub rejected: u64,
    pub deleted: u64,
    pub lost: u64,
    pub replaced: u64,
    pub alive_at_end: u64,
    /// rejected / requested (0 when nothing was requested).
    pub rejected_ratio: f64,
    /// Rejections by reason: `no_capacity`, `ha_admission`, and
    /// `drs_rule:NAME`, `resource_pool_limit:NAME`,
    /// `resource_pool_reservation:NAME` naming the rule or pool, and
    /// `reserved_by_pools:CLUSTER`.
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Restarted by HA after a host failure or isolation.
    pub restarted: u64,
    /// Moved off hosts entering maintenance.
    pub migrated: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClusterVms {
    pub hosts: u64,
    pub requested: u64,
    /// Rejected or refused at their request.
    pub rejected: u64,
    pub lost: u64,
    pub rejected_ratio: f64,
}

/// `part / whole`, 0 when `whole` is 0 (nothing requested, nothing refused).
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Each cluster's VM counts, when the datacenter has several clusters.
pub fn cluster_vms(
    dc: &crate::scenario::Datacenter,
    placement: &crate::actors::Placement,
) -> BTreeMap<String, ClusterVms> {
    if dc.clusters.len() < 2 {
        return BTreeMap::new();
    }
    (dc.clusters.iter().enumerate())
        .zip(placement.cluster_counts())
        .map(|((c, spec), n)| {
            let vms = ClusterVms {
                hosts: dc.cluster_hosts(c).len() as u64,
                requested: n.requested,
                rejected: n.rejected,
                lost: n.lost,
                rejected_ratio: ratio(n.rejected, n.requested),
            };
            (spec.name.clone(), vms)
        })
        .collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct HostCounts {
    pub count: u64,
    pub failures: u64,
    pub repairs: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Amount {
    pub cpu_cores: f64,
    pub memory_gib: f64,
}

/// Percent of the datacenter's total capacity.
#[derive(Clone, Debug, Serialize)]
pub struct Utilization {
    pub cpu_peak_pct: f64,
    pub cpu_mean_pct: f64,
    pub memory_peak_pct: f64,
    pub memory_mean_pct: f64,
}

/// What the run was, besides its statistics.
pub struct RunFacts<'a> {
    pub scenario: &'a str,
    pub seed: u64,
    pub policy: &'a str,
    pub end: SimTime,
    pub events: u64,
    pub wall_seconds: f64,
    pub digest: String,
    pub hosts: u64,
    pub capacity: crate::model::Resources,
    pub invariant_checks: u64,
    /// The invariant that stopped the run, if one did (the run ends at
    /// `end`, its moment).
    pub stopped_by: Option<&'static str>,
    /// Names the rules and pools that refused VMs.
    pub datacenter: &'a crate::scenario::Datacenter,
}

impl Summary {
    pub fn new(facts: RunFacts<'_>, stats: &mut Stats) -> Summary {
        let (mean_cpu, mean_mem) = stats.mean_allocated(facts.end);
        let cap = facts.capacity;
        let pct = |v: f64, total: u64| {
            if total == 0 {
                0.0
            } else {
                round3(100.0 * v / total as f64)
            }
        };
        Summary {
            scenario: facts.scenario.to_string(),
            seed: facts.seed,
            policy: facts.policy.to_string(),
            sim_seconds: facts.end.as_secs_f64(),
            stopped: facts
                .stopped_by
                .map(|i| format!("at {} by invariant `{i}`", facts.end)),
            events: facts.events,
            wall_seconds: round3(facts.wall_seconds),
            events_per_sec: (facts.events as f64 / facts.wall_seconds.max(1e-9)).round(),
            digest: facts.digest,
            vms: VmCounts {
                requested: stats.requested,
                placed: stats.placed,
                rejected: stats.rejected,
                deleted: stats.deleted,
                lost: stats.lost,
                replaced: stats.replaced,
                alive_at_end: stats.running_vms,
                rejected_ratio: ratio(stats.rejected, stats.requested),
                rejected_by_reason: rejected_by_reason(stats, facts.datacenter),
                restarted: stats.restarted,
                migrated: stats.migrated,
            },
            hosts: HostCounts {
                count: facts.hosts,
                failures: stats.host_failures,
                repairs: stats.host_repairs,
            },
            capacity: Amount {
                cpu_cores: cap.cpu_cores_f64(),
                memory_gib: cap.memory_gib_f64(),
            },
            peak_allocated: Amount {
                cpu_cores: stats.peak_cpu_millis as f64 / 1000.0,
                memory_gib: round3(stats.peak_memory_bytes as f64 / GIB as f64),
            },
            mean_allocated: Amount {
                cpu_cores: round3(mean_cpu / 1000.0),
                memory_gib: round3(mean_mem / GIB as f64),
            },
            utilization: Utilization {
                cpu_peak_pct: pct(stats.peak_cpu_millis as f64, cap.cpu_millis),
                cpu_mean_pct: pct(mean_cpu, cap.cpu_millis),
                memory_peak_pct: pct(stats.peak_memory_bytes as f64, cap.memory_bytes),
                memory_mean_pct: pct(mean_mem, cap.memory_bytes),
            },
            placement_latency_ms: Latency::of(stats.placement_latency()),
            faults: stats
                .faults
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            recovery_ms: Latency::of(&stats.recovery),
            invariant_checks: facts.invariant_checks,
            unexpected: stats
                .unexpected
                .iter()
                .map(|((actor, kind), n)| (format!("{actor} got {kind}"), *n))
                .collect(),
            clusters: BTreeMap::new(),
            supervisor: None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("summary serializes")
    }

    /// The human table.
    pub fn table(&self) -> String {
        let v = &self.vms;
        let u = &self.utilization;
        let l = &self.placement_latency_ms;
        let mut rows: Vec<(&str, String)> = vec![
            (
                "scenario",
                format!(
                    "{} (seed {}, policy {})",
                    self.scenario, self.seed, self.policy
                ),
            ),
            (
                "simulated time",
                crate::model::time::format_nanos((self.sim_seconds * 1e9) as u64),
            ),
        ];
        if let Some(stopped) = &self.stopped {
            rows.push(("stopped", stopped.clone()));
        }
        rows.extend([
            ("events delivered", group(self.events)),
            ("wall time", format!("{:.3} s", self.wall_seconds)),
            ("events/s", group(self.events_per_sec as u64)),
        ]);
        // A Supervisor run without plain VMs shows its workloads in the
        // Supervisor's rows below, not as zeros here.
        let plain_vms = v.requested > 0 || self.supervisor.is_none();
        let first_vm_row = rows.len();
        rows.extend([
            ("VMs requested", group(v.requested)),
            ("VMs placed", group(v.placed)),
            (
                "VMs rejected",
                format!("{} ({:.3}%)", group(v.rejected), 100.0 * v.rejected_ratio),
            ),
            ("VMs deleted", group(v.deleted)),
            ("VMs lost", group(v.lost)),
            ("VMs alive at end", group(v.alive_at_end)),
        ]);
        if !plain_vms {
            rows.truncate(first_vm_row);
        }
        rows.extend([(
            "host failures",
            format!(
                "{} (repairs {})",
                group(self.hosts.failures),
                group(self.hosts.repairs)
            ),
        )]);
        if plain_vms {
            rows.push(("re-placements", group(v.replaced)));
        }
        rows.extend([
            (
                "cpu utilization",
                format!("peak {:.1}%  mean {:.1}%", u.cpu_peak_pct, u.cpu_mean_pct),
            ),
            (
                "memory utilization",
                format!(
                    "peak {:.1}%  mean {:.1}%",
                    u.memory_peak_pct, u.memory_mean_pct
                ),
            ),
            (
                "peak allocated",
                format!(
                    "{} cores, {:.1} GiB",
                    self.peak_allocated.cpu_cores, self.peak_allocated.memory_gib
                ),
            ),
        ]);
        if plain_vms {
            rows.push(("placement latency", l.text(true)));
        }
        self.fault_rows(&mut rows);
        if let Some(sup) = &self.supervisor {
            rows.extend(sup.rows());
        }
        rows.push(("digest", self.digest.clone()));
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        rows.iter()
            .map(|(k, val)| format!("{k:<width$}  {val}\n"))
            .collect()
    }
}

impl Summary {
    /// Rows shown only when a run has them, so older tables stay as they were.
    fn fault_rows(&self, rows: &mut Vec<(&'static str, String)>) {
        let list = |m: &BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k} {}", group(*v)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let refused: BTreeMap<String, u64> = self
            .vms
            .rejected_by_reason
            .iter()
            .filter(|(k, _)| k.as_str() != "no_capacity")
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        if !refused.is_empty() {
            rows.push(("rejected by reason", list(&self.vms.rejected_by_reason)));
        }
        for (name, c) in &self.clusters {
            rows.push((
                "cluster",
                format!(
                    "{name}: {} hosts, VMs requested {}, rejected {} ({:.3}%), lost {}",
                    c.hosts,
                    group(c.requested),
                    group(c.rejected),
                    100.0 * c.rejected_ratio,
                    group(c.lost)
                ),
            ));
        }
        if !self.faults.is_empty() {
            rows.push(("faults injected", list(&self.faults)));
        }
        if !self.unexpected.is_empty() {
            rows.push(("unexpected messages (a bug)", list(&self.unexpected)));
        }
        if self.vms.restarted > 0 {
            rows.push((
                "HA restarts",
                format!(
                    "{} (time to recover {})",
                    group(self.vms.restarted),
                    self.recovery_ms.text(false)
                ),
            ));
        }
        if self.vms.migrated > 0 {
            rows.push(("migrations", group(self.vms.migrated)));
        }
        if self.invariant_checks > 0 {
            rows.push(("invariant checks", group(self.invariant_checks)));
        }
    }
}

/// `no_capacity`, `ha_admission`, and for rules and pools the reason with
/// the rule's or pool's name: `drs_rule:gpu-only`.
fn rejected_by_reason(stats: &Stats, dc: &crate::scenario::Datacenter) -> BTreeMap<String, u64> {
    use crate::event::RejectReason as R;
    let refused: u64 = stats.refused.values().sum();
    let name = |r: &R| -> String {
        let named = |list: Option<&str>| format!("{}:{}", r.name(), list.unwrap_or("?"));
        match *r {
            R::HaAdmission => r.name().to_string(),
            R::DrsRule { rule } => named(dc.rules.get(rule as usize).map(|x| x.name.as_str())),
            R::ResourcePoolLimit { pool } | R::ResourcePoolReservation { pool } => {
                named(dc.pools.get(pool as usize).map(|x| x.name.as_str()))
            }
            R::PoolReservations { cluster } => {
                named(dc.clusters.get(cluster as usize).map(|x| x.name.as_str()))
            }
        }
    };
    let mut m: BTreeMap<String, u64> = BTreeMap::new();
    for (k, v) in &stats.refused {
        *m.entry(name(k)).or_default() += *v;
    }
    m.insert("no_capacity".into(), stats.rejected - refused);
    m
}

/// 1234567 → "1,234,567".
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
