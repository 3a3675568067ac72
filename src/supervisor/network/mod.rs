//! NSX (NCP): one segment per Supervisor Namespace and the load-balancer
//! VIP pool. The API server asks for an address before it acknowledges a
//! Pod, VirtualMachine or LoadBalancer Service and gives it back when the
//! object goes; an exhausted pool refuses the create with the reason.
//!
//! Namespace i (in `supervisor.namespaces` order) owns the i-th block of
//! `segment_size` addresses from `pod_cidr_base`. Addresses are handed out
//! lowest-free-first (see [`pool::Pool`]), so runs are reproducible and a
//! released address is the next one given.

pub mod pool;

use crate::actor::{Actor, Context, Note};
use crate::api::addrs::Addrs;
use crate::api::msg::SupMsg;
use crate::event::Event;
use crate::model::SimDuration;
use crate::scenario::SupervisorConfig;
use pool::{Pool, format_block, format_ip, format_range, ip_to_u32, parse_ip};
use std::collections::BTreeMap;

/// One namespace's segment.
#[derive(Clone, Debug)]
struct Segment {
    /// The block as printed: `10.244.0.16/28`.
    cidr: String,
    pool: Pool,
}

/// What the summary and tests see of one pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolUsage {
    /// `10.244.0.16/28`, or `first-last` for the VIP pool.
    pub block: String,
    pub in_use: u32,
    pub usable: u32,
}

#[derive(Clone, Debug)]
pub struct Network {
    #[allow(dead_code)]
    addrs: Addrs,
    segments: BTreeMap<String, Segment>,
    vip_block: String,
    vips: Pool,
}

impl Network {
    pub fn new(config: &SupervisorConfig, addrs: Addrs) -> Self {
        let net = &config.network;
        let base = ip_to_u32(net.pod_cidr_base);
        let segments = config
            .namespaces
            .iter()
            .enumerate()
            .map(|(i, ns)| {
                let first = base.saturating_add((i as u32).saturating_mul(net.segment_size));
                let segment = Segment {
                    cidr: format_block(first, net.segment_size),
                    pool: Pool::segment(first, net.segment_size),
                };
                (ns.name.clone(), segment)
            })
            .collect();
        let vip_base = ip_to_u32(net.vip_base);
        Network {
            addrs,
            segments,
            vip_block: format_range(vip_base, net.vip_count),
            // Every VIP is usable: the pool is a range, not a subnet.
            vips: Pool::new(vip_base, net.vip_count),
        }
    }

    /// A namespace's segment usage.
    pub fn segment(&self, namespace: &str) -> Option<PoolUsage> {
        self.segments.get(namespace).map(|s| PoolUsage {
            block: s.cidr.clone(),
            in_use: s.pool.in_use(),
            usable: s.pool.usable(),
        })
    }

    /// The addresses in use in a namespace's segment, ascending.
    pub fn addresses(&self, namespace: &str) -> Vec<String> {
        self.segments
            .get(namespace)
            .map(|s| s.pool.addresses().map(format_ip).collect())
            .unwrap_or_default()
    }

    pub fn vip_pool(&self) -> PoolUsage {
        PoolUsage {
            block: self.vip_block.clone(),
            in_use: self.vips.in_use(),
            usable: self.vips.usable(),
        }
    }

    /// An address (or VIP) as text, or the reason there is none.
    pub fn allocate(&mut self, namespace: &str, vip: bool) -> Result<String, String> {
        if vip {
            return self.vips.allocate().map(format_ip).ok_or_else(|| {
                format!(
                    "no free VIP in the load-balancer pool {} ({} in use)",
                    self.vip_block,
                    self.vips.in_use()
                )
            });
        }
        let Some(seg) = self.segments.get_mut(namespace) else {
            return Err(format!("namespace {namespace} has no network segment"));
        };
        seg.pool.allocate().map(format_ip).ok_or_else(|| {
            format!(
                "no free address in segment {} of namespace {namespace} ({} in use)",
                seg.cidr,
                seg.pool.in_use()
            )
        })
    }

    /// False when the address was not in use (a duplicate or a stray).
    pub fn release(&mut self, namespace: &str, ip: &str, vip: bool) -> bool {
        let Some(ip) = parse_ip(ip) else {
            return false;
        };
        if vip {
            return self.vips.release(ip);
        }
        self.segments
            .get_mut(namespace)
            .is_some_and(|s| s.pool.release(ip))
    }
}

impl Actor for Network {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        let Event::Supervisor(msg) = event else {
            return; // Start: nothing to arm
        };
        match *msg {
            SupMsg::IpRequest {
                ticket,
                namespace,
                vip,
            } => {
                let reply = match self.allocate(&namespace, vip) {
                    Ok(ip) => SupMsg::IpGranted { ticket, ip },
                    Err(reason) => SupMsg::IpRefused { ticket, reason },
                };
                ctx.send(ctx.sender(), SimDuration::ZERO, reply.event());
            }
            SupMsg::IpRelease { namespace, ip, vip } => {
                if !self.release(&namespace, &ip, vip) {
                    tracing::warn!(%namespace, %ip, vip, "nsx: release of an address not in use");
                }
            }
            other => ctx.note(Note::Unexpected {
                actor: "nsx",
                kind: other.kind(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::model::ActorId;
    use crate::supervisor::testkit;

    fn network(segment_size: u32, namespaces: &[&str], vip_count: u32) -> Network {
        let mut config = testkit::config(namespaces);
        config.network.segment_size = segment_size;
        config.network.pod_cidr_base = [10, 244, 0, 0];
        config.network.vip_base = [192, 168, 100, 8];
        config.network.vip_count = vip_count;
        Network::new(&config, testkit::addrs(3))
    }

    fn ask(net: &mut Network, ctx: &mut TestCtx, ticket: u64, ns: &str, vip: bool) -> SupMsg {
        let msg = SupMsg::IpRequest {
            ticket,
            namespace: ns.into(),
            vip,
        };
        net.handle(msg.event(), ctx);
        let mut sent = ctx.take_sent();
        assert_eq!(sent.len(), 1);
        let (to, delay, event) = sent.remove(0);
        assert_eq!((to, delay), (ctx.sender, SimDuration::ZERO));
        match event {
            Event::Supervisor(m) => *m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn namespace_i_gets_segment_i_in_config_order() {
        let mut net = network(16, &["team-b", "team-a"], 2);
        assert_eq!(net.segment("team-b").unwrap().block, "10.244.0.0/28");
        assert_eq!(net.segment("team-a").unwrap().block, "10.244.0.16/28");
        assert_eq!(net.allocate("team-a", false).unwrap(), "10.244.0.18");
        assert_eq!(net.allocate("team-b", false).unwrap(), "10.244.0.2");
        assert_eq!(net.allocate("team-b", false).unwrap(), "10.244.0.3");
        assert_eq!(net.addresses("team-b"), vec!["10.244.0.2", "10.244.0.3"]);
        assert!(
            net.allocate("nobody", false)
                .unwrap_err()
                .contains("nobody")
        );
    }

    #[test]
    fn an_exhausted_segment_refuses_with_the_cidr_and_namespace() {
        let mut net = network(16, &["team-a", "team-b"], 2);
        let mut ctx = TestCtx::new(ActorId(7));
        ctx.sender = ActorId(3);
        for t in 0..13 {
            assert!(matches!(
                ask(&mut net, &mut ctx, t, "team-b", false),
                SupMsg::IpGranted { ticket, .. } if ticket == t
            ));
        }
        assert_eq!(
            ask(&mut net, &mut ctx, 13, "team-b", false),
            SupMsg::IpRefused {
                ticket: 13,
                reason: "no free address in segment 10.244.0.16/28 of namespace team-b \
                         (13 in use)"
                    .into()
            }
        );
        // The other namespace is untouched.
        assert!(matches!(
            ask(&mut net, &mut ctx, 14, "team-a", false),
            SupMsg::IpGranted { .. }
        ));
        // A release makes room again, and that address is the one reused.
        let msg = SupMsg::IpRelease {
            namespace: "team-b".into(),
            ip: "10.244.0.21".into(),
            vip: false,
        };
        net.handle(msg.event(), &mut ctx);
        assert!(ctx.take_sent().is_empty());
        assert_eq!(
            ask(&mut net, &mut ctx, 15, "team-b", false),
            SupMsg::IpGranted {
                ticket: 15,
                ip: "10.244.0.21".into()
            }
        );
    }

    #[test]
    fn the_vip_pool_is_shared_and_every_address_in_it_is_usable() {
        let mut net = network(16, &["a", "b"], 2);
        assert_eq!(net.allocate("a", true).unwrap(), "192.168.100.8");
        assert_eq!(net.allocate("b", true).unwrap(), "192.168.100.9");
        assert_eq!(
            net.allocate("a", true).unwrap_err(),
            "no free VIP in the load-balancer pool 192.168.100.8-192.168.100.9 (2 in use)"
        );
        assert!(net.release("b", "192.168.100.8", true));
        assert!(!net.release("b", "192.168.100.8", true));
        assert_eq!(net.vip_pool().in_use, 1);
        assert_eq!(net.allocate("b", true).unwrap(), "192.168.100.8");
        // Segment and VIP pools are separate.
        assert_eq!(net.segment("a").unwrap().in_use, 0);
    }

    #[test]
    fn releases_of_unknown_or_malformed_addresses_change_nothing() {
        let mut net = network(8, &["a"], 1);
        assert_eq!(net.allocate("a", false).unwrap(), "10.244.0.2");
        assert!(!net.release("a", "10.244.0.3", false));
        assert!(!net.release("a", "not-an-ip", false));
        assert!(!net.release("zz", "10.244.0.2", false));
        assert_eq!(net.segment("a").unwrap().in_use, 1);
        assert_eq!(net.segment("a").unwrap().usable, 5);
    }
}
