//! The validated, typed scenario: what the parser produces and the world
//! builder consumes. Every name is already resolved to an index here, so a
//! `Scenario` that exists is a scenario that can run.

use crate::model::{Dist, HostId, Resources, SimDuration, SimTime, SizeMix};
pub use crate::placement::PlacementPolicy;

/// A 1-based line and column in a scenario file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub col: usize,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    /// `name:`; defaults to the file stem.
    pub name: String,
    /// The file it was read from, for error messages (`<inline>` for strings).
    pub file: String,
    /// The full text, kept so that traces can embed it.
    pub source: String,
    pub seed: u64,
    pub duration: SimDuration,
    pub datacenter: Datacenter,
    pub placement: PlacementConfig,
    pub workloads: Workloads,
    pub faults: Faults,
    pub expect: Vec<Expectation>,
    /// `ha:`; `None` keeps the immediate re-placement of a failed host's VMs.
    pub ha: Option<HaConfig>,
    /// `expect_recovery_within:` — liveness bound after the last scheduled
    /// fault, checked by the invariant checker.
    pub expect_recovery_within: Option<SimDuration>,
    /// `debug:` — switches that plant bugs, for testing the checker.
    pub debug: DebugSwitches,
    /// `supervisor:` — turns the cluster into a Supervisor (control plane,
    /// Spherelets, namespaces...). `None`: a plain vSphere cluster.
    pub supervisor: Option<Box<crate::scenario::SupervisorConfig>>,
    /// Lines worth a warning that are not errors (`file:line:col: ...`),
    /// e.g. manifest fields accepted without being modelled.
    pub notices: Vec<String>,
}

/// vSphere HA: restart delay and order, admission control, isolation.
#[derive(Clone, Debug)]
pub struct HaConfig {
    /// Time from placement learning of a failure to the restarts.
    pub restart_delay: Dist,
    pub admission: Admission,
    pub isolation_response: IsolationResponse,
    /// Time from a partition to placement declaring the isolated hosts failed.
    pub detection_delay: SimDuration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    None,
    /// The capacity of the N largest hosts is reserved.
    HostFailuresTolerated(u32),
    /// Percent of the cluster's cpu and memory reserved.
    ReservedPercent {
        cpu: u32,
        memory: u32,
    },
    /// Dedicated failover hosts: not used for normal placement.
    FailoverHosts(Vec<HostId>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsolationResponse {
    LeavePoweredOn,
    PowerOff,
}

/// HA restart priority of a VM; restarts go high, then medium, then low.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum RestartPriority {
    Low = 0,
    #[default]
    Medium = 1,
    High = 2,
}

impl RestartPriority {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => RestartPriority::Low,
            2 => RestartPriority::High,
            _ => RestartPriority::Medium,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DebugSwitches {
    /// Placement selects hosts by cpu only (a planted bug).
    pub placement_ignores_memory: bool,
    /// A restarted Spherelet does not ask WPS for its pods again, so a
    /// start lost while it was down is never made (a planted bug, for the
    /// Supervisor's liveness check).
    pub spherelet_forgets_pods_at_restart: bool,
    /// Cluster API does not ask a refused VM delete again, so the machine
    /// stays Deleting with its VM (a planted bug that was real, for the
    /// guest-cluster part of the liveness check).
    pub capi_forgets_refused_deletes: bool,
}

#[derive(Clone, Debug)]
pub struct Datacenter {
    pub models: Vec<HostModel>,
    pub clusters: Vec<ClusterSpec>,
    /// Every host, in file order; `HostId(i)` is `hosts[i]`. A cluster's
    /// hosts are contiguous (see [`Datacenter::cluster_hosts`]).
    pub hosts: Vec<HostSpec>,
    /// Every cluster's DRS rules, in file order.
    pub rules: Vec<DrsRule>,
    /// Every cluster's resource pools, in file order.
    pub pools: Vec<ResourcePool>,
}

impl Datacenter {
    /// The hosts of cluster `c`, as a range of host ids: the parser lists a
    /// cluster's hosts together, and resizing keeps them so.
    pub fn cluster_hosts(&self, c: usize) -> std::ops::Range<u32> {
        let first = self.hosts.iter().position(|h| h.cluster == c);
        let Some(first) = first else {
            return 0..0;
        };
        let count = self.hosts[first..]
            .iter()
            .take_while(|h| h.cluster == c)
            .count();
        first as u32..(first + count) as u32
    }

    /// Every cluster's host range, in cluster order.
    pub fn cluster_ranges(&self) -> Vec<std::ops::Range<u32>> {
        let ranges: Vec<_> = (0..self.clusters.len())
            .map(|c| self.cluster_hosts(c))
            .collect();
        debug_assert_eq!(
            ranges.iter().map(|r| r.len()).sum::<usize>(),
            self.hosts.len(),
            "a cluster's hosts are contiguous"
        );
        ranges
    }

    /// The cluster's name, for messages.
    pub fn cluster_name(&self, c: usize) -> &str {
        &self.clusters[c].name
    }

    /// The hosts' memory summed, or why it cannot be: past what pacsim
    /// counts in one datacenter (`limits::MAX_TOTAL_BYTES`). Cpu and GPUs
    /// cannot pass theirs (per-host bounds times the most hosts fit).
    pub fn total_memory(&self) -> Result<u64, String> {
        let total = self.hosts.iter().fold(0u128, |sum, h| {
            sum + u128::from(self.models[h.model].capacity.memory_bytes)
        });
        let max = crate::model::limits::MAX_TOTAL_BYTES;
        if total > u128::from(max) || self.hosts.len() as u64 > crate::model::limits::MAX_HOSTS {
            return Err(format!(
                "{} hosts with {total} bytes of memory in all; pacsim counts at most {} hosts and {max} bytes (4Ei) in one datacenter",
                self.hosts.len(),
                crate::model::limits::MAX_HOSTS
            ));
        }
        Ok(total as u64)
    }
}

#[derive(Clone, Debug)]
pub struct HostModel {
    pub name: String,
    pub capacity: Resources,
    /// e.g. `a100`; `None` for hosts without GPUs.
    pub gpu_model: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ClusterSpec {
    pub name: String,
}

/// A DRS rule of one cluster, as vSphere has them: VM-VM (keep together,
/// separate) or VM-Host against a host group (must / should, run on / not
/// run on).
#[derive(Clone, Debug)]
pub struct DrsRule {
    pub name: String,
    pub cluster: usize,
    pub kind: RuleKind,
    /// The VMs it binds: names of explicit VMs and of generators (a
    /// generator stands for every VM it creates).
    pub vms: Vec<String>,
    /// VM-Host rules: the host group's hosts. Empty for VM-VM rules.
    pub hosts: Vec<HostId>,
    /// VM-Host rules: the host group's name.
    pub host_group: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// VM-VM affinity: every VM of the rule on one host.
    KeepTogether,
    /// VM-VM anti-affinity: no two VMs of the rule on one host.
    Separate,
    MustRunOn,
    ShouldRunOn,
    MustNotRunOn,
    ShouldNotRunOn,
}

impl RuleKind {
    pub const NAMES: [&'static str; 6] = [
        "keep_together",
        "separate",
        "must_run_on",
        "should_run_on",
        "must_not_run_on",
        "should_not_run_on",
    ];
    pub const ALL: [RuleKind; 6] = [
        RuleKind::KeepTogether,
        RuleKind::Separate,
        RuleKind::MustRunOn,
        RuleKind::ShouldRunOn,
        RuleKind::MustNotRunOn,
        RuleKind::ShouldNotRunOn,
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// VM-Host rules name a host group; VM-VM rules do not.
    pub fn is_vm_host(self) -> bool {
        !matches!(self, RuleKind::KeepTogether | RuleKind::Separate)
    }

    /// "must" rules and VM-VM rules refuse a VM rather than bend.
    pub fn is_hard(self) -> bool {
        !matches!(self, RuleKind::ShouldRunOn | RuleKind::ShouldNotRunOn)
    }
}

/// A resource pool directly under a cluster's root, with vSphere's
/// admission check: the VMs in it may not pass its limit, and what they
/// use beyond its reservation is borrowed from the cluster only when the
/// reservation is expandable.
#[derive(Clone, Debug)]
pub struct ResourcePool {
    pub name: String,
    pub cluster: usize,
    /// Cpu and memory set aside for the pool (others cannot use it).
    pub reservation: Resources,
    /// The most its VMs may use (`Resources::UNLIMITED` when not given).
    pub limit: Resources,
    pub expandable: bool,
}

#[derive(Clone, Debug)]
pub struct HostSpec {
    /// e.g. `esx-03`; unique in the datacenter.
    pub name: String,
    /// Index into `Datacenter::clusters`.
    pub cluster: usize,
    /// Index into `Datacenter::models`.
    pub model: usize,
}

#[derive(Clone, Debug)]
pub struct PlacementConfig {
    pub policy: PlacementPolicy,
    /// Time from a request reaching the placement actor to the power-on
    /// reaching the host (DRS decision plus power-on). Default: fixed 0.
    pub power_on_delay: Dist,
}

#[derive(Clone, Debug, Default)]
pub struct Workloads {
    pub vms: Vec<ExplicitVm>,
    pub generators: Vec<Generator>,
    /// Kubernetes-style objects created, changed and deleted through the
    /// Supervisor's API (needs `supervisor:`).
    pub manifests: crate::scenario::Manifests,
}

/// One VM written out in the scenario.
#[derive(Clone, Debug)]
pub struct ExplicitVm {
    pub name: String,
    pub size: Resources,
    pub at: SimTime,
    /// `None`: lives until the end of the run.
    pub delete_at: Option<SimTime>,
    /// `None`: not written (medium; the request keeps its old encoding).
    pub restart_priority: Option<RestartPriority>,
    /// Index into `Datacenter::clusters`.
    pub cluster: usize,
    /// Index into `Datacenter::pools`.
    pub pool: Option<usize>,
}

/// Poisson (or other renewal) arrivals of VMs drawn from a size mix.
#[derive(Clone, Debug)]
pub struct Generator {
    pub name: String,
    /// Time between arrivals; `rate: 1.5/s` becomes Exponential{mean: 1/1.5 s}.
    pub interarrival: Dist,
    pub lifetime: Dist,
    pub sizes: SizeMix,
    /// First arrival not before this time. Default 0.
    pub start: SimTime,
    /// No arrival at or after this time. Default: end of run.
    pub stop: Option<SimTime>,
    /// At most this many arrivals. Default: unlimited.
    pub count: Option<u64>,
    /// Index into `Datacenter::clusters`.
    pub cluster: usize,
    /// Index into `Datacenter::pools`.
    pub pool: Option<usize>,
}

#[derive(Clone, Debug, Default)]
pub struct Faults {
    pub scheduled: Vec<ScheduledFault>,
    pub random: Vec<RandomHostFaults>,
    /// `- messages: {...}`: loss, delay and duplication between actor classes.
    pub messages: Option<MessageFaults>,
    /// Faults of the Supervisor's parts (needs `supervisor:`).
    pub supervisor: Vec<crate::scenario::SupervisorFault>,
}

impl Faults {
    /// No fault of any kind: the scenario has no `faults:` entries.
    pub fn is_empty(&self) -> bool {
        self.scheduled.is_empty()
            && self.random.is_empty()
            && self.messages.is_none()
            && self.supervisor.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostFaultKind {
    Crash,
    /// Placement evacuates the host, which then stays out for `duration`.
    Maintenance,
    /// `hosts` are cut off from placement for `duration`.
    Partition,
    /// Power-ons on the host take `factor` times longer for `duration`.
    Slow,
}

/// A probability as an integer ratio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ratio {
    pub num: u64,
    pub den: u64,
}

impl Ratio {
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };
}

/// The actor classes a message rule can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ActorClass {
    Placement,
    Host,
    Workload,
}

#[derive(Clone, Debug)]
pub struct MessageFaults {
    /// Lost on the wire; the reliable transport resends after `resend_after`.
    pub drop: Ratio,
    pub resend_after: SimDuration,
    pub delay: Ratio,
    pub delay_by: Dist,
    pub duplicate: Ratio,
    /// The two classes whose messages (either way) the rule applies to.
    pub between: (ActorClass, ActorClass),
}

#[derive(Clone, Debug)]
pub struct ScheduledFault {
    pub at: SimTime,
    pub host: HostId,
    pub kind: HostFaultKind,
    /// `None`: the host stays down.
    pub repair_after: Option<SimDuration>,
    /// Maintenance and partition: how long.
    pub duration: Option<SimDuration>,
    /// Partition: every isolated host (`host` is the first). Else `[host]`.
    pub hosts: Vec<HostId>,
    /// Slow: the power-on delay multiplier (1 otherwise).
    pub factor: u32,
}

/// Every selected host fails after a draw from `mtbf` while up, and is
/// repaired after a draw from `mttr`.
#[derive(Clone, Debug)]
pub struct RandomHostFaults {
    pub hosts: Vec<HostId>,
    pub mtbf: Dist,
    pub mttr: Dist,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Ge => ">=",
            CmpOp::Gt => ">",
        }
    }

    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CmpOp::Lt => left < right,
            CmpOp::Le => left <= right,
            CmpOp::Eq => left == right,
            CmpOp::Ne => left != right,
            CmpOp::Ge => left >= right,
            CmpOp::Gt => left > right,
        }
    }
}

/// `rejected_ratio <= 0.01`: a metric of the run summary, compared.
/// The metric name is checked against the summary when the run ends, so the
/// location is kept for that error.
#[derive(Clone, Debug)]
pub struct Expectation {
    pub metric: String,
    pub op: CmpOp,
    pub value: f64,
    /// The expectation as written, for messages.
    pub text: String,
    pub location: Location,
}
