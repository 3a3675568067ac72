//! A TanzuKubernetesCluster expanded into its Cluster API objects: the
//! Cluster, one KubeadmControlPlane and one MachineDeployment per node
//! pool (each a desired replica count and a machine template), and the
//! objects Cluster API creates in the Supervisor for them: one
//! VirtualMachine per Machine and the API endpoint's LoadBalancer Service.
//! Pure: no state, no messages.

use crate::api::objects::*;
use std::collections::BTreeMap;

/// The control plane's pool name (KubeadmControlPlane).
pub const CONTROL_PLANE: &str = "control-plane";
/// Label on every object of a cluster (as Cluster API sets it).
pub const CLUSTER_LABEL: &str = "cluster.x-k8s.io/cluster-name";
/// Label naming a machine VM's pool.
pub const POOL_LABEL: &str = "pacsim.io/node-pool";

/// What a machine is made from: a change is a rolling replacement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// The Tanzu Kubernetes release (also the VirtualMachineImage name).
    pub version: String,
    pub vm_class: String,
    pub storage_class: String,
}

/// A KubeadmControlPlane or a MachineDeployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolSpec {
    pub name: String,
    pub control_plane: bool,
    pub replicas: u32,
    pub template: Template,
    /// Autoscaler bounds (min, max).
    pub autoscale: Option<(u32, u32)>,
}

/// The Cluster API objects of one TKC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expansion {
    /// The Cluster (same name as the TKC).
    pub cluster: String,
    /// KubeadmControlPlane `<cluster>-control-plane`.
    pub control_plane: PoolSpec,
    /// MachineDeployments `<cluster>-<pool>`, in the TKC's order.
    pub deployments: Vec<PoolSpec>,
}

impl Expansion {
    /// Control plane first, then the node pools: the rollout order.
    pub fn pools(&self) -> impl Iterator<Item = &PoolSpec> {
        std::iter::once(&self.control_plane).chain(&self.deployments)
    }

    pub fn pool(&self, name: &str) -> Option<&PoolSpec> {
        self.pools().find(|p| p.name == name)
    }

    /// Nodes wanted in all.
    pub fn desired_nodes(&self) -> u32 {
        self.pools().map(|p| p.replicas).sum()
    }
}

/// Expands `tkc`; `scaled` holds the autoscaler's replicas per pool (they
/// win over the TKC's for pools that autoscale, within their bounds).
pub fn expand(
    name: &str,
    tkc: &TanzuKubernetesCluster,
    scaled: &BTreeMap<String, u32>,
) -> Expansion {
    let pool = |p: &NodePool, control_plane: bool| {
        let replicas = match (p.autoscale, scaled.get(&p.name)) {
            (Some((min, max)), Some(&r)) => r.clamp(min, max),
            _ => p.replicas,
        };
        PoolSpec {
            name: p.name.clone(),
            control_plane,
            replicas,
            template: Template {
                version: tkc.version.clone(),
                vm_class: p.vm_class.clone(),
                storage_class: p.storage_class.clone(),
            },
            autoscale: if control_plane { None } else { p.autoscale },
        }
    };
    Expansion {
        cluster: name.to_string(),
        control_plane: pool(&tkc.control_plane, true),
        deployments: tkc.node_pools.iter().map(|p| pool(p, false)).collect(),
    }
}

/// `<cluster>-control-plane-<n>` / `<cluster>-<pool>-<n>`: the Machine,
/// its VirtualMachine and the guest's node share it.
pub fn machine_name(cluster: &str, pool: &str, index: u32) -> String {
    format!("{cluster}-{pool}-{index}")
}

pub fn endpoint_service_name(cluster: &str) -> String {
    format!("{cluster}-control-plane-service")
}

fn labels(cluster: &str, pool: Option<&str>) -> BTreeMap<String, String> {
    let mut l = BTreeMap::from([(CLUSTER_LABEL.to_string(), cluster.to_string())]);
    if let Some(p) = pool {
        l.insert(POOL_LABEL.to_string(), p.to_string());
    }
    l
}

/// A machine VM's labels: its cluster and pool, and its cluster module
/// (one per control plane and per node pool, as CAPV makes them), which
/// the VM Operator turns into soft anti-affinity.
fn machine_labels(cluster: &str, pool: &str) -> BTreeMap<String, String> {
    let mut l = labels(cluster, Some(pool));
    l.insert(
        crate::supervisor::vm_operator::CLUSTER_MODULE_LABEL.to_string(),
        format!("{cluster}-{pool}"),
    );
    l
}

/// The VirtualMachine of machine `name` of `pool`, powered on.
pub fn machine_vm(namespace: &str, cluster: &str, pool: &PoolSpec, name: &str) -> Object {
    let t = &pool.template;
    Object {
        meta: Meta {
            name: name.to_string(),
            namespace: namespace.to_string(),
            labels: machine_labels(cluster, &pool.name),
            ..Meta::default()
        },
        body: Body::VirtualMachine(VirtualMachine {
            class_name: t.vm_class.clone(),
            image_name: t.version.clone(),
            storage_class: t.storage_class.clone(),
            power_state: PowerState::PoweredOn,
            volumes: Vec::new(),
            phase: VmPhase::Creating,
            actual_power: PowerState::PoweredOff,
            host: None,
            ip: None,
            reason: None,
        }),
    }
}

/// The API endpoint: a LoadBalancer Service selecting the control plane,
/// whose VIP NSX gives at creation.
pub fn endpoint_service(namespace: &str, cluster: &str) -> Object {
    Object {
        meta: Meta {
            name: endpoint_service_name(cluster),
            namespace: namespace.to_string(),
            labels: labels(cluster, None),
            ..Meta::default()
        },
        body: Body::Service(Service {
            load_balancer: true,
            selector: labels(cluster, Some(CONTROL_PLANE)),
            vip: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(name: &str, replicas: u32, autoscale: Option<(u32, u32)>) -> NodePool {
        NodePool {
            name: name.into(),
            replicas,
            vm_class: "small".into(),
            storage_class: "shared".into(),
            autoscale,
        }
    }

    fn tkc() -> TanzuKubernetesCluster {
        TanzuKubernetesCluster {
            version: "v1-21".into(),
            control_plane: pool(CONTROL_PLANE, 3, None),
            node_pools: vec![pool("workers", 2, None), pool("burst", 1, Some((1, 4)))],
            phase: ClusterPhase::Creating,
            endpoint: None,
            nodes_ready: 0,
        }
    }

    #[test]
    fn a_tkc_expands_into_a_control_plane_and_one_deployment_per_pool() {
        let e = expand("tkc-a", &tkc(), &BTreeMap::new());
        let names: Vec<(&str, bool, u32)> = e
            .pools()
            .map(|p| (p.name.as_str(), p.control_plane, p.replicas))
            .collect();
        assert_eq!(
            names,
            [
                ("control-plane", true, 3),
                ("workers", false, 2),
                ("burst", false, 1)
            ]
        );
        assert_eq!(e.desired_nodes(), 6);
        assert_eq!(e.control_plane.template.version, "v1-21");
        assert_eq!(machine_name("tkc-a", "workers", 4), "tkc-a-workers-4");
        let vm = machine_vm("ns", "tkc-a", &e.deployments[0], "tkc-a-workers-0");
        assert_eq!(vm.meta.labels[CLUSTER_LABEL], "tkc-a");
        let Body::VirtualMachine(v) = vm.body else {
            panic!()
        };
        assert_eq!(
            (v.image_name.as_str(), v.power_state),
            ("v1-21", PowerState::PoweredOn)
        );
    }

    #[test]
    fn the_autoscaler_sets_only_autoscaled_pools_within_bounds() {
        let scaled = BTreeMap::from([("burst".to_string(), 9), ("workers".to_string(), 7)]);
        let e = expand("tkc-a", &tkc(), &scaled);
        assert_eq!(e.pool("burst").unwrap().replicas, 4);
        assert_eq!(e.pool("workers").unwrap().replicas, 2);
    }
}
