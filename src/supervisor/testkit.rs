//! Shared fixtures for the Supervisor's unit tests (test builds only).

use crate::actor::testing::TestCtx;
use crate::api::addrs::Addrs;
use crate::api::msg::SupMsg;
use crate::api::objects::Object;
use crate::event::Event;
use crate::model::{ActorId, Dist, Resources, SimDuration};
use crate::scenario::*;

/// A config with the given namespaces (unlimited, no classes), a /28 per
/// namespace from 10.244.0.0, 4 VIPs, no datastores.
pub fn config(namespaces: &[&str]) -> SupervisorConfig {
    SupervisorConfig {
        control_plane: ControlPlaneConfig {
            vms: 0,
            size: Resources::cores(4, 16),
            boot: Dist::Fixed(0),
        },
        spherelet: SphereletConfig {
            heartbeat_interval: SimDuration(10_000_000_000),
            node_grace_period: SimDuration(40_000_000_000),
            not_ready_toleration: SimDuration(300_000_000_000),
            pod_start_latency: Dist::Fixed(0),
        },
        network: NetworkConfig {
            segment_size: 16,
            pod_cidr_base: [10, 244, 0, 0],
            network_size: 4096,
            vip_base: [192, 168, 100, 0],
            vip_count: 4,
        },
        datastores: Vec::new(),
        storage_policies: Vec::new(),
        users: Vec::new(),
        namespaces: namespaces
            .iter()
            .map(|n| NamespaceConfig::new(*n))
            .collect(),
        node_taints: Vec::new(),
        objects: Vec::new(),
        guest_clusters: Default::default(),
        cluster: 0,
    }
}

/// Addresses laid out as `build` does from actor 100, with `hosts` hosts
/// named esx-01...; placement is actor 0.
pub fn addrs(hosts: usize) -> Addrs {
    let names = (1..=hosts).map(|h| format!("esx-{h:02}")).collect();
    Addrs::laid_out(ActorId(0), ActorId(100), names, [])
}

/// The API server's watch event for `object` (at resourceVersion 1).
pub fn changed(object: Object, deleted: bool) -> Event {
    SupMsg::Changed {
        rv: 1,
        object: std::sync::Arc::new(object),
        deleted,
    }
    .event()
}

/// The Supervisor messages sent since the last call, as (to, delay,
/// message) in send order; other events are left out.
pub fn sup_sent(ctx: &mut TestCtx) -> Vec<(ActorId, SimDuration, SupMsg)> {
    ctx.take_sent()
        .into_iter()
        .filter_map(|(to, delay, e)| match e {
            Event::Supervisor(m) => Some((to, delay, *m)),
            _ => None,
        })
        .collect()
}
