//! The `supervisor.guest_clusters` section of the summary: per guest
//! cluster, what its own actor holds at the end (nodes, pods, autoscaler
//! and disruption counts) with Cluster API's view of the same cluster
//! (desired nodes, phase, provisioning and upgrade times, remediations).

use crate::actors::{WorldActor, sup_parts};
use crate::api::objects::{Kind, ObjectKey};
use crate::supervisor::actors::SupActor;
use crate::supervisor::capi::Capi;
use crate::supervisor::guest::{GuestCluster, GuestPhase};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct GuestClusterSummary {
    /// Cluster API's phase at the end (Creating, Running, Updating,
    /// Deleting, Failed); empty when its TKC was never accepted.
    pub phase: String,
    /// Control-plane replicas plus every pool's (the autoscaler's when it
    /// changed them).
    pub nodes_desired: u64,
    /// Ready at the end, as the guest sees them.
    pub nodes_ready: u64,
    pub pods_pending: u64,
    pub pods_running: u64,
    /// TKC created -> every desired node Ready, the first time.
    pub provisioning_seconds: Option<f64>,
    /// Rolling upgrades finished, and the last one's duration.
    pub upgrades: u64,
    pub upgrade_seconds: Option<f64>,
    /// Machines MachineHealthCheck replaced.
    pub remediations: u64,
    /// Cluster autoscaler: scale-up and scale-down decisions, and the
    /// nodes they added or removed.
    pub autoscaler_scale_ups: u64,
    pub autoscaler_scale_downs: u64,
    pub autoscaler_nodes_added: u64,
    pub autoscaler_nodes_removed: u64,
    /// Pods moved off drained nodes (upgrade, scale-down, remediation).
    pub disrupted_pods: u64,
    /// Pods taken off NotReady nodes after the toleration, or off nodes
    /// deleted without a drain.
    pub evicted_pods: u64,
    /// Calls on the guest's own API.
    pub calls_accepted: u64,
    pub calls_refused: u64,
}

impl GuestClusterSummary {
    /// One table row.
    pub fn row(&self, name: &str) -> String {
        let secs = |s: Option<f64>| s.map_or("-".to_string(), |v| format!("{v:.1} s"));
        format!(
            "{name}: {} | nodes {}/{} Ready | pods {} running, {} pending | provisioned in {} | {} upgrade(s), last {} | {} remediation(s) | autoscaler +{}/-{} nodes | {} pods disrupted, {} evicted",
            if self.phase.is_empty() {
                "-"
            } else {
                &self.phase
            },
            self.nodes_ready,
            self.nodes_desired,
            self.pods_running,
            self.pods_pending,
            secs(self.provisioning_seconds),
            self.upgrades,
            secs(self.upgrade_seconds),
            self.remediations,
            self.autoscaler_nodes_added,
            self.autoscaler_nodes_removed,
            self.disrupted_pods,
            self.evicted_pods,
        )
    }
}

fn parts(actors: &[WorldActor]) -> (Vec<&GuestCluster>, Option<&Capi>) {
    let mut guests = Vec::new();
    let mut capi = None;
    for part in sup_parts(actors) {
        match part {
            SupActor::Guest(g) => guests.push(g),
            SupActor::Capi(c) => capi = Some(c),
            _ => {}
        }
    }
    (guests, capi)
}

pub fn summarize(actors: &[WorldActor]) -> BTreeMap<String, GuestClusterSummary> {
    let (guests, capi) = parts(actors);
    let round1 = |d: crate::model::SimDuration| (d.0 as f64 / 1e8).round() / 10.0;
    guests
        .into_iter()
        .map(|g| {
            let (ns, name) = g.name.split_once('/').unwrap_or(("", &g.name));
            let key = ObjectKey::new(Kind::TanzuKubernetesCluster, ns, name);
            let c = capi.and_then(|c| c.cluster(&key));
            let pods =
                |phase: GuestPhase| g.pods().values().filter(|p| p.phase == phase).count() as u64;
            let n = &g.counters;
            let summary = GuestClusterSummary {
                phase: c.map_or(String::new(), |c| c.phase().name().to_string()),
                nodes_desired: c.map_or(g.nodes_desired(), |c| c.expansion(name).desired_nodes())
                    as u64,
                nodes_ready: g.nodes().values().filter(|n| n.ready).count() as u64,
                // Bound but not yet started counts as Pending, as upstream.
                pods_pending: pods(GuestPhase::Pending) + pods(GuestPhase::Starting),
                pods_running: pods(GuestPhase::Running),
                provisioning_seconds: c.and_then(|c| c.provisioning_time()).map(round1),
                upgrades: c.map_or(0, |c| c.upgrades.len() as u64),
                upgrade_seconds: c.and_then(|c| c.upgrades.last().copied()).map(round1),
                remediations: c.map_or(0, |c| u64::from(c.remediations)),
                autoscaler_scale_ups: n.scale_ups,
                autoscaler_scale_downs: n.scale_downs,
                autoscaler_nodes_added: n.nodes_added,
                autoscaler_nodes_removed: n.nodes_removed,
                disrupted_pods: n.disrupted,
                evicted_pods: n.evicted,
                calls_accepted: n.calls_accepted,
                calls_refused: n.calls_refused,
            };
            (g.name.clone(), summary)
        })
        .collect()
}
