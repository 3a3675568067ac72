//! The Supervisor's part of the run summary (`supervisor` in `--json`):
//! what the API store holds at the end (usage against limits, pods and VMs
//! by phase, nodes), with the folded statistics (API outcomes, latencies,
//! evictions, node readiness over time).

use super::numbers::{Latency, round3};
use super::supervisor_stats::SupStats;
use crate::actors::{WorldActor, api_server, sup_parts};
use crate::api::objects::{Body, PodPhase, PowerState, VmPhase};
use crate::model::SimTime;
use crate::model::resources::GIB;
use crate::supervisor::actors::SupActor;
use crate::supervisor::api_server::admission::Usage;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct SupervisorSummary {
    pub control_plane: ControlPlaneSummary,
    pub api: ApiSummary,
    pub namespaces: BTreeMap<String, NamespaceSummary>,
    pub pods: PodSummary,
    pub vms: VmSummary,
    pub nodes: NodeSummary,
    pub services: ServiceSummary,
    /// CNS: per datastore, in config order of names (ordered map).
    pub datastores: BTreeMap<String, DatastoreSummary>,
    /// NSX: per namespace segment, and the VIP pool.
    pub network: NetworkSummary,
    /// Parts rebuilt from their journals after a crash, and how many of
    /// those rebuilds differed from the state at the crash (must be 0).
    pub rebuilds: RebuildSummary,
    /// Per guest cluster, by `namespace/name` of its TanzuKubernetesCluster.
    pub guest_clusters: BTreeMap<String, super::guest::GuestClusterSummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RebuildSummary {
    pub count: u64,
    pub mismatches: u64,
    /// Restarted watching parts that listed the API server's objects again
    /// before starting, and the watch events they had missed while down.
    pub relists: u64,
    pub missed_watch_events: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct DatastoreSummary {
    pub used_gib: f64,
    pub capacity_gib: f64,
    pub failed: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct PoolSummary {
    /// `10.244.0.16/28`, or `first-last` for the VIP pool.
    pub block: String,
    pub in_use: u64,
    pub usable: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct NetworkSummary {
    pub segments: BTreeMap<String, PoolSummary>,
    pub vips: PoolSummary,
}

#[derive(Clone, Debug, Serialize)]
pub struct ControlPlaneSummary {
    pub vms: u64,
    pub running_at_end: u64,
    pub available_at_end: bool,
    pub outages: u64,
    pub unavailable_seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ApiSummary {
    pub accepted: u64,
    pub refused: u64,
    /// Refusals by reason: quota_exceeded, invalid, ip_exhausted, ...
    pub refused_by_reason: BTreeMap<String, u64>,
    /// Denied by the authentication proxy (each one an audit record).
    pub denied: u64,
    /// Refused and denied calls grouped by reason and resource, most
    /// frequent first, each with its first call.
    pub refusals: Vec<RefusalGroup>,
}

/// Calls refused (or denied) for one reason on one resource.
#[derive(Clone, Debug, Serialize)]
pub struct RefusalGroup {
    /// The refusal's kind (`quota_exceeded`, `ip_exhausted`...) or `denied`.
    pub reason: String,
    /// `pods`, `virtualmachines`...; `-` when the call named no object.
    pub resource: String,
    pub count: u64,
    /// The first such call: `namespace/name` (or `name`) of the object...
    pub example_object: String,
    /// ...and the message it got.
    pub example_message: String,
}

impl RefusalGroup {
    fn of(stats: &crate::report::supervisor_stats::SupStats) -> Vec<RefusalGroup> {
        let mut groups: Vec<RefusalGroup> = (stats.call_problems.iter())
            .map(|((reason, resource), (count, example))| RefusalGroup {
                reason: reason.to_string(),
                resource: resource.to_string(),
                count: *count,
                example_object: example.object.as_ref().map_or(String::new(), |k| {
                    match k.namespace.as_str() {
                        "" => k.name.clone(),
                        ns => format!("{ns}/{}", k.name),
                    }
                }),
                example_message: example.message.clone(),
            })
            .collect();
        // Stable: equal counts keep (reason, resource) order.
        groups.sort_by_key(|g| std::cmp::Reverse(g.count));
        groups
    }
}

/// Usage against limits; limits are absent when unlimited.
#[derive(Clone, Debug, Serialize)]
pub struct NamespaceSummary {
    pub cpu_used_cores: f64,
    pub cpu_limit_cores: Option<f64>,
    pub memory_used_gib: f64,
    pub memory_limit_gib: Option<f64>,
    pub storage_used_gib: f64,
    pub storage_limit_gib: Option<f64>,
    pub pods: u64,
    pub vms: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct PodSummary {
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Evicted from NotReady nodes (their owners recreate them).
    pub evicted: u64,
    /// Asked to start → Running, at the Spherelet.
    pub start_latency_ms: Latency,
    /// Created → Running.
    pub time_to_ready_ms: Latency,
}

#[derive(Clone, Debug, Serialize)]
pub struct VmSummary {
    /// By status phase: Creating, Created, Unplaceable, Failed.
    pub by_phase: BTreeMap<String, u64>,
    pub powered_on: u64,
    pub powered_off: u64,
    /// VMs not running at the end that should (Failed or Unplaceable), as
    /// `namespace/name` with their status reason: the ones a fault took.
    pub not_running: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeSummary {
    pub ready: u64,
    pub not_ready: u64,
    /// Every change: [seconds, Ready, NotReady].
    pub timeline: Vec<(f64, u32, u32)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServiceSummary {
    pub load_balancers: u64,
    pub with_vip: u64,
}

/// The API server among a world's actors, if the world has a Supervisor.
/// The first Supervisor part `pick` finds in the world.
fn part<'a, T>(
    actors: &'a [WorldActor],
    pick: impl Fn(&'a SupActor) -> Option<&'a T>,
) -> Option<&'a T> {
    sup_parts(actors).find_map(pick)
}

fn pool(p: crate::supervisor::network::PoolUsage) -> PoolSummary {
    PoolSummary {
        block: p.block,
        in_use: p.in_use.into(),
        usable: p.usable.into(),
    }
}

/// NSX's pools and CNS's datastores at the end.
fn network_and_storage(
    actors: &[WorldActor],
    namespaces: impl Iterator<Item = String>,
) -> (NetworkSummary, BTreeMap<String, DatastoreSummary>) {
    let gib = |b: u64| round3(b as f64 / GIB as f64);
    let datastores = part(actors, |a| match a {
        SupActor::Storage(s) => Some(s),
        _ => None,
    })
    .map(|s| {
        s.datastores()
            .iter()
            .map(|d| {
                let summary = DatastoreSummary {
                    used_gib: gib(d.used_bytes),
                    capacity_gib: gib(d.capacity_bytes),
                    failed: d.failed,
                };
                (d.name.clone(), summary)
            })
            .collect()
    })
    .unwrap_or_default();
    let net = part(actors, |a| match a {
        SupActor::Network(n) => Some(n),
        _ => None,
    });
    let network = NetworkSummary {
        segments: namespaces
            .filter_map(|ns| Some((ns.clone(), pool(net?.segment(&ns)?))))
            .collect(),
        vips: net.map_or(
            PoolSummary {
                block: String::new(),
                in_use: 0,
                usable: 0,
            },
            |n| pool(n.vip_pool()),
        ),
    };
    (network, datastores)
}

pub fn summarize(
    actors: &[WorldActor],
    stats: &SupStats,
    end: SimTime,
) -> Option<SupervisorSummary> {
    let api = api_server(actors)?;
    let mut namespaces: BTreeMap<String, NamespaceSummary> = api
        .namespace_usage()
        .map(|(ns, used)| (ns.name.clone(), namespace_summary(ns, used)))
        .collect();
    let mut pods = PodSummary {
        pending: 0,
        running: 0,
        succeeded: 0,
        failed: 0,
        evicted: stats.pods_evicted,
        start_latency_ms: Latency::of(&stats.pod_start),
        time_to_ready_ms: Latency::of(&stats.pod_ready),
    };
    let mut vms = VmSummary {
        by_phase: BTreeMap::new(),
        powered_on: 0,
        powered_off: 0,
        not_running: BTreeMap::new(),
    };
    let (mut ready, mut not_ready) = (0, 0);
    let mut services = ServiceSummary {
        load_balancers: 0,
        with_vip: 0,
    };
    for object in api.objects() {
        let ns = namespaces.get_mut(&object.meta.namespace);
        match &object.body {
            Body::Pod(p) => {
                match p.phase {
                    PodPhase::Pending => pods.pending += 1,
                    PodPhase::Running => pods.running += 1,
                    PodPhase::Succeeded => pods.succeeded += 1,
                    PodPhase::Failed => pods.failed += 1,
                }
                if let Some(ns) = ns {
                    ns.pods += 1;
                }
            }
            Body::VirtualMachine(v) => {
                *vms.by_phase.entry(v.phase.name().to_string()).or_default() += 1;
                match v.actual_power {
                    PowerState::PoweredOn => vms.powered_on += 1,
                    _ => vms.powered_off += 1,
                }
                if matches!(v.phase, VmPhase::Failed | VmPhase::Unplaceable) {
                    let name = format!("{}/{}", object.meta.namespace, object.meta.name);
                    let reason = v.reason.clone().unwrap_or_else(|| v.phase.name().into());
                    vms.not_running.insert(name, reason);
                }
                if let Some(ns) = ns {
                    ns.vms += 1;
                }
            }
            Body::Node(n) if n.ready => ready += 1,
            Body::Node(_) => not_ready += 1,
            Body::Service(s) if s.load_balancer => {
                services.load_balancers += 1;
                services.with_vip += u64::from(s.vip.is_some());
            }
            _ => {}
        }
    }
    let (running, total) = api.control_plane_running();
    let (network, datastores) = network_and_storage(actors, namespaces.keys().cloned());
    Some(SupervisorSummary {
        control_plane: ControlPlaneSummary {
            vms: total as u64,
            running_at_end: running as u64,
            available_at_end: api.available(),
            outages: stats.control_plane_outages,
            unavailable_seconds: stats.unavailable_nanos(end) as f64 / 1e9,
        },
        api: ApiSummary {
            accepted: stats.calls_accepted,
            refused: stats.calls_refused.values().sum(),
            // Every reason, zeros included, so `expect:` can name any.
            refused_by_reason: crate::api::msg::ApiError::KINDS
                .iter()
                .map(|k| {
                    (
                        k.to_string(),
                        stats.calls_refused.get(k).copied().unwrap_or(0),
                    )
                })
                .collect(),
            denied: stats.calls_denied,
            refusals: RefusalGroup::of(stats),
        },
        namespaces,
        pods,
        vms,
        nodes: NodeSummary {
            ready,
            not_ready,
            timeline: stats
                .node_timeline
                .iter()
                .map(|(t, r, n)| (t.as_secs_f64(), *r, *n))
                .collect(),
        },
        services,
        datastores,
        network,
        rebuilds: RebuildSummary {
            count: stats.rebuilds,
            mismatches: stats.rebuild_mismatches,
            relists: stats.relists,
            missed_watch_events: stats.relist_missed,
        },
        guest_clusters: super::guest::summarize(actors),
    })
}

fn namespace_summary(ns: &crate::scenario::NamespaceConfig, used: Usage) -> NamespaceSummary {
    let gib = |b: u64| round3(b as f64 / GIB as f64);
    NamespaceSummary {
        cpu_used_cores: used.cpu_millis as f64 / 1000.0,
        cpu_limit_cores: ns.cpu_limit_millis.map(|m| m as f64 / 1000.0),
        memory_used_gib: gib(used.memory_bytes),
        memory_limit_gib: ns.memory_limit_bytes.map(gib),
        storage_used_gib: gib(used.storage_bytes),
        storage_limit_gib: ns.storage_limit_bytes.map(gib),
        pods: 0,
        vms: 0,
    }
}

impl SupervisorSummary {
    /// Rows for the human table.
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        let cp = &self.control_plane;
        let p = &self.pods;
        let mut rows = vec![
            (
                "control plane",
                format!(
                    "{}/{} VMs running, {} outage(s), {:.1} s unavailable",
                    cp.running_at_end, cp.vms, cp.outages, cp.unavailable_seconds
                ),
            ),
            (
                "API calls",
                format!(
                    "{} accepted, {} refused, {} denied",
                    self.api.accepted, self.api.refused, self.api.denied
                ),
            ),
            (
                "pods",
                format!(
                    "{} running, {} pending, {} succeeded, {} failed, {} evicted",
                    p.running, p.pending, p.succeeded, p.failed, p.evicted
                ),
            ),
            (
                "pod start latency",
                format!(
                    "{}  (time to Ready {})",
                    p.start_latency_ms.text(false),
                    p.time_to_ready_ms.text(false)
                ),
            ),
            ("Supervisor VMs", {
                let phases: Vec<String> = (self.vms.by_phase.iter())
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                let on_off = format!(
                    "{} powered on, {} off",
                    self.vms.powered_on, self.vms.powered_off
                );
                // No VMs, no phases: nothing after the counts.
                match phases.is_empty() {
                    true => on_off,
                    false => format!("{on_off}; {}", phases.join(", ")),
                }
            }),
            (
                "nodes",
                format!(
                    "{} Ready, {} NotReady",
                    self.nodes.ready, self.nodes.not_ready
                ),
            ),
        ];
        for (name, d) in &self.datastores {
            let failed = if d.failed { " (failed)" } else { "" };
            rows.push((
                "datastore",
                format!("{name}: {}/{} GiB used{failed}", d.used_gib, d.capacity_gib),
            ));
        }
        let v = &self.network.vips;
        if v.usable > 0 {
            rows.push((
                "load-balancer VIPs",
                format!("{}/{} in use ({})", v.in_use, v.usable, v.block),
            ));
        }
        for g in &self.api.refusals {
            let what = match g.reason.as_str() {
                "denied" => "denied".to_string(),
                reason => format!("refused: {reason}"),
            };
            let on = match g.resource.as_str() {
                "-" => "calls",
                r => r,
            };
            let example = match g.example_object.as_str() {
                "" => g.example_message.clone(),
                o => format!("{o}: {}", g.example_message),
            };
            rows.push((
                "calls refused",
                format!("{} {on} {what}, e.g. {example}", g.count),
            ));
        }
        for (vm, reason) in &self.vms.not_running {
            rows.push(("VM not running", format!("{vm}: {reason}")));
        }
        if self.rebuilds.count > 0 {
            let r = &self.rebuilds;
            let mut text = format!(
                "{} ({} differed from the state before the crash)",
                r.count, r.mismatches
            );
            if r.relists > 0 {
                text += &format!(
                    "; {} relists made up for {} missed watch events",
                    r.relists, r.missed_watch_events
                );
            }
            rows.push(("crash rebuilds", text));
        }
        for (name, g) in &self.guest_clusters {
            rows.push(("guest cluster", g.row(name)));
        }
        for (name, ns) in &self.namespaces {
            let limit = |l: Option<f64>| l.map_or("unlimited".to_string(), |v| format!("{v}"));
            rows.push((
                "namespace",
                format!(
                    "{name}: cpu {}/{} cores, memory {}/{} GiB, storage {}/{} GiB, {} pods, {} VMs",
                    ns.cpu_used_cores,
                    limit(ns.cpu_limit_cores),
                    ns.memory_used_gib,
                    limit(ns.memory_limit_gib),
                    ns.storage_used_gib,
                    limit(ns.storage_limit_gib),
                    ns.pods,
                    ns.vms
                ),
            ));
        }
        rows
    }
}
