//! NSX (NCP): the namespace network, carved into subnets for the
//! Supervisor Namespaces, and the load-balancer VIP pool. The API server
//! asks for an address before it acknowledges a Pod, VirtualMachine or
//! LoadBalancer Service and gives it back when the object goes; an
//! exhausted pool refuses the create with the reason.
//!
//! Namespace i (in `supervisor.namespaces` order) starts with the i-th
//! subnet of `segment_size` addresses from `pod_cidr_base`; when all its
//! subnets are full it takes the next free subnet of the namespace network,
//! as NSX does, until the network has none left. Subnets stay with their
//! namespace. Addresses are handed out lowest-free-first, in the subnets'
//! order (see [`pool::Pool`]), so runs are reproducible and a released
//! address is the next one given.

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
    /// Each namespace's subnets, in the order it took them.
    segments: BTreeMap<String, Vec<Segment>>,
    /// The namespace network, as printed (`10.244.0.0/20`).
    network_block: String,
    network_base: u32,
    segment_size: u32,
    /// Subnets in the namespace network, and the next one not yet taken.
    subnets: u64,
    next_subnet: u64,
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
                (
                    ns.name.clone(),
                    vec![subnet(base, net.segment_size, i as u64)],
                )
            })
            .collect();
        let vip_base = ip_to_u32(net.vip_base);
        Network {
            addrs,
            segments,
            network_block: format_block(base, net.network_size.min(u32::MAX as u64 + 1) as u32),
            network_base: base,
            segment_size: net.segment_size,
            subnets: net.network_size / net.segment_size as u64,
            next_subnet: config.namespaces.len() as u64,
            vip_block: format_range(vip_base, net.vip_count),
            // Every VIP is usable: the pool is a range, not a subnet.
            vips: Pool::new(vip_base, net.vip_count),
        }
    }

    /// A namespace's address usage over its subnets (`block`: their
    /// CIDRs, comma-separated).
    pub fn segment(&self, namespace: &str) -> Option<PoolUsage> {
        self.segments.get(namespace).map(|subnets| PoolUsage {
            block: (subnets.iter().map(|s| s.cidr.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
            in_use: subnets.iter().map(|s| s.pool.in_use()).sum(),
            usable: subnets.iter().map(|s| s.pool.usable()).sum(),
        })
    }

    /// The addresses in use in a namespace, by subnet then ascending.
    pub fn addresses(&self, namespace: &str) -> Vec<String> {
        (self.segments.get(namespace).into_iter().flatten())
            .flat_map(|s| s.pool.addresses().map(format_ip))
            .collect()
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
        // A namespace created at run time gets its segment with its first
        // address (NCP makes it when the namespace is made: the same).
        let subnets = self.segments.entry(namespace.to_string()).or_default();
        if let Some(ip) = subnets.iter_mut().find_map(|s| s.pool.allocate()) {
            return Ok(format_ip(ip));
        }
        if self.next_subnet < self.subnets {
            let mut fresh = subnet(self.network_base, self.segment_size, self.next_subnet);
            self.next_subnet += 1;
            let ip = fresh.pool.allocate().expect("a fresh subnet has room");
            subnets.push(fresh);
            return Ok(format_ip(ip));
        }
        let in_use: u32 = subnets.iter().map(|s| s.pool.in_use()).sum();
        Err(format!(
            "namespace network {} is exhausted: namespace {namespace} holds {} subnet(s) of {} addresses, all {in_use} usable ones in use",
            self.network_block,
            subnets.len(),
            self.segment_size
        ))
    }

    /// False when the address was not in use (a duplicate or a stray).
    pub fn release(&mut self, namespace: &str, ip: &str, vip: bool) -> bool {
        let Some(ip) = parse_ip(ip) else {
            return false;
        };
        if vip {
            return self.vips.release(ip);
        }
        (self.segments.get_mut(namespace).into_iter().flatten()).any(|s| s.pool.release(ip))
    }
}

/// Subnet `index` of the namespace network at `base`.
fn subnet(base: u32, size: u32, index: u64) -> Segment {
    let first = (base as u64 + index * size as u64).min(u32::MAX as u64) as u32;
    Segment {
        cidr: format_block(first, size),
        pool: Pool::segment(first, size),
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
        // A namespace made at run time takes the next free subnet.
        assert_eq!(net.allocate("sandbox", false).unwrap(), "10.244.0.34");
        assert_eq!(net.segment("sandbox").unwrap().block, "10.244.0.32/28");
    }

    #[test]
    fn a_full_namespace_takes_the_next_free_subnet_until_the_network_is_exhausted() {
        // Three /28 subnets: one each for team-a and team-b, one to spare.
        let mut config = testkit::config(&["team-a", "team-b"]);
        config.network.network_size = 48;
        let mut net = Network::new(&config, testkit::addrs(3));
        let mut ctx = TestCtx::new(ActorId(7));
        ctx.sender = ActorId(3);
        for t in 0..13 {
            assert!(matches!(
                ask(&mut net, &mut ctx, t, "team-b", false),
                SupMsg::IpGranted { ticket, .. } if ticket == t
            ));
        }
        // The 14th address comes from the spare subnet.
        assert_eq!(
            ask(&mut net, &mut ctx, 13, "team-b", false),
            SupMsg::IpGranted {
                ticket: 13,
                ip: "10.244.0.34".into()
            }
        );
        assert_eq!(
            net.segment("team-b").unwrap(),
            PoolUsage {
                block: "10.244.0.16/28, 10.244.0.32/28".into(),
                in_use: 14,
                usable: 26,
            }
        );
        for t in 14..26 {
            assert!(matches!(
                ask(&mut net, &mut ctx, t, "team-b", false),
                SupMsg::IpGranted { .. }
            ));
        }
        assert_eq!(
            ask(&mut net, &mut ctx, 26, "team-b", false),
            SupMsg::IpRefused {
                ticket: 26,
                reason: "namespace network 10.244.0.0-10.244.0.47 is exhausted: namespace \
                         team-b holds 2 subnet(s) of 16 addresses, all 26 usable ones in use"
                    .into()
            }
        );
        // The other namespace keeps its own subnet.
        assert!(matches!(
            ask(&mut net, &mut ctx, 27, "team-a", false),
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
            ask(&mut net, &mut ctx, 28, "team-b", false),
            SupMsg::IpGranted {
                ticket: 28,
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
