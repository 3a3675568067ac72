//! `supervisor.guest_clusters`: how Cluster API brings guest-cluster
//! machines up (VM boot, kubeadm init / join) and its MachineHealthCheck.

use super::super::error::{Diag, PResult};
use super::super::read::{self, Fields};
use super::super::yaml::Node;
use crate::model::SimDuration;
use crate::scenario::Expander;
use crate::scenario::GuestClustersConfig;

pub(super) fn guest_clusters(node: Option<&Node>) -> PResult<GuestClustersConfig> {
    let mut g = GuestClustersConfig::default();
    let Some(node) = node else { return Ok(g) };
    let f = Fields::new(
        node,
        "supervisor.guest_clusters",
        &[
            "vm_boot",
            "kubeadm_init",
            "kubeadm_join",
            "unhealthy_timeout",
            "node_startup_timeout",
            "max_unhealthy",
            "pod_start_latency",
            "not_ready_toleration",
            "autoscaler_scan_interval",
            "scale_down_unneeded_time",
            "scale_down_utilization_threshold",
            "autoscaler_expander",
        ],
    )?;
    for (key, slot) in [
        ("vm_boot", &mut g.vm_boot),
        ("kubeadm_init", &mut g.kubeadm_init),
        ("kubeadm_join", &mut g.kubeadm_join),
        ("pod_start_latency", &mut g.pod_start_latency),
    ] {
        if let Some(n) = f.opt(key) {
            *slot = read::dist(n, &f.sub(key))?;
        }
    }
    for (key, slot) in [
        ("unhealthy_timeout", &mut g.unhealthy_timeout),
        ("node_startup_timeout", &mut g.node_startup_timeout),
        ("autoscaler_scan_interval", &mut g.scan_interval),
    ] {
        if let Some(n) = f.opt(key) {
            let d = read::duration(n, &f.sub(key))?;
            if d == 0 {
                return Err(Diag::new(
                    n.loc,
                    format!("`{key}` must be greater than zero"),
                ));
            }
            *slot = SimDuration(d);
        }
    }
    if let Some(n) = f.opt("max_unhealthy") {
        g.max_unhealthy_percent = percent(n, &f.sub("max_unhealthy"))?;
    }
    // The guest's own loops (taint manager, cluster autoscaler); zero is
    // allowed for these: at once.
    for (key, slot) in [
        ("not_ready_toleration", &mut g.not_ready_toleration),
        ("scale_down_unneeded_time", &mut g.scale_down_unneeded_time),
    ] {
        if let Some(n) = f.opt(key) {
            *slot = SimDuration(read::duration(n, &f.sub(key))?);
        }
    }
    if let Some(n) = f.opt("scale_down_utilization_threshold") {
        let key = "scale_down_utilization_threshold";
        g.scale_down_utilization_pct = percent(n, &f.sub(key))?;
    }
    if let Some(n) = f.opt("autoscaler_expander") {
        let field = f.sub("autoscaler_expander");
        g.expander = Expander::from_index(read::choice(n, "expander", &field, &Expander::NAMES)?);
    }
    Ok(g)
}

/// `40%` (Cluster API's maxUnhealthy), 0 to 100.
fn percent(node: &Node, field: &str) -> PResult<u32> {
    let text = read::scalar(node, "a percentage like `40%`", field)?.trim();
    match text.strip_suffix('%').map(|n| n.trim().parse::<u32>()) {
        Some(Ok(p)) if p <= 100 => Ok(p),
        _ => Err(Diag::new(
            node.loc,
            format!("expected a percentage from `0%` to `100%` for `{field}`, found `{text}`"),
        )),
    }
}
