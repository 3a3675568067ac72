//! v1 Service and VM Operator's VirtualMachineService: a LoadBalancer takes
//! a VIP from NSX's pool; the other types need no address pacsim models.

use super::super::error::PResult;
use super::super::read::{self, Fields};
use super::super::yaml::Node;
use super::labels;
use crate::api::objects::Service;
use crate::scenario::notices;

pub(crate) const SERVICE_SPEC_IGNORED: &[&str] = &[
    "externalName",
    "clusterIP",
    "clusterIPs",
    "sessionAffinity",
    "externalTrafficPolicy",
    "internalTrafficPolicy",
    "loadBalancerIP",
    "loadBalancerSourceRanges",
    "ipFamilies",
    "ipFamilyPolicy",
    "publishNotReadyAddresses",
];
pub(crate) const PORT_IGNORED: &[&str] = &["name", "protocol", "targetPort", "nodePort"];

pub(crate) fn parse_service(node: &Node, path: &str) -> PResult<Service> {
    let f = Fields::with_ignored(
        node,
        path,
        &["type", "selector", "ports"],
        SERVICE_SPEC_IGNORED,
    )?;
    let load_balancer = match f.opt("type") {
        Some(n) => {
            let types = ["ClusterIP", "LoadBalancer", "NodePort", "ExternalName"];
            let t = read::choice(n, "service type", &f.sub("type"), &types)?;
            if t >= 2 {
                // No VIP and nothing else pacsim models: named in the warning.
                notices::accept_unmodelled(format!("{}: {}", f.sub("type"), types[t]));
            }
            t == 1
        }
        None => false,
    };
    let selector = f
        .opt("selector")
        .map(|n| labels(n, &f.sub("selector")))
        .transpose()?
        .unwrap_or_default();
    // Ports carry no capacity; they are checked so that typos surface.
    if let Some(ports) = f.opt("ports") {
        for (i, p) in read::seq(ports, &f.sub("ports"))?.iter().enumerate() {
            let pf = Fields::with_ignored(
                p,
                &format!("{}[{i}]", f.sub("ports")),
                &["port"],
                PORT_IGNORED,
            )?;
            let n = pf.req("port")?;
            read::int_in(n, &pf.sub("port"), 1, 65535)?;
        }
    }
    Ok(Service {
        load_balancer,
        selector,
        vip: None,
    })
}
