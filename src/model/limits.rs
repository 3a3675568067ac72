//! The largest numbers pacsim accepts from a scenario, a trace or a flag.
//!
//! Each bound is far above any real datacenter and low enough that the
//! model's arithmetic cannot wrap: a host's capacity, summed over the most
//! hosts, fits in a `u64`; any time plus any duration fits too. Input past
//! a bound is an error that names the field and the bound (exit 2), never a
//! wrapped number or an allocation sized by it.

/// Nanoseconds in a day.
const DAY_NANOS: u64 = 86_400 * 1_000_000_000;

/// Hosts in one datacenter.
pub const MAX_HOSTS: u64 = 1_000_000;

/// Cpu of one host, VM, pod, class or limit: a million cores.
pub const MAX_CPU_MILLIS: u64 = 1_000_000 * 1_000;

/// Bytes of one memory or storage quantity: 8 PiB.
pub const MAX_BYTES: u64 = 8 << 50;

/// GPUs of one host or VM: a thousand.
pub const MAX_GPU_MILLIS: u64 = 1_000 * 1_000;

/// Memory or storage of a whole datacenter or namespace, summed: 4 EiB.
/// Sums are checked against it when a scenario loads, so that adding one
/// more quantity to any total can never wrap.
pub const MAX_TOTAL_BYTES: u64 = 4 << 60;

/// Any duration or point in time: 100 years (36,500 days). Two of them
/// added still fit in a `u64` of nanoseconds with room to spare.
pub const MAX_DURATION_NANOS: u64 = 36_500 * DAY_NANOS;

/// Arrivals per second of one generator (the mean gap is then 1 µs).
pub const MAX_RATE_PER_SEC: u64 = 1_000_000;

/// The smallest mean gap between arrivals, the same bound as a rate.
pub const MIN_INTERARRIVAL_NANOS: u64 = 1_000_000_000 / MAX_RATE_PER_SEC;

/// The weight of one entry of a size mix.
pub const MAX_WEIGHT: u64 = 1_000_000;

/// Replicas of one Deployment or ReplicaSet: upstream Kubernetes' limit of
/// pods in a whole cluster ("Considerations for large clusters").
pub const MAX_REPLICAS: u64 = 150_000;

/// Nodes of one guest cluster's pool, and the autoscaler's bounds: upstream
/// Kubernetes' limit of nodes in a cluster.
pub const MAX_NODES: u64 = 5_000;

/// A count with no model meaning beyond "how many" (a generator's `count`).
pub const MAX_COUNT: u64 = 1_000_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    /// The bounds keep the sums the model makes inside a u64.
    #[test]
    fn sums_of_bounded_quantities_fit() {
        assert!(MAX_HOSTS.checked_mul(MAX_CPU_MILLIS).is_some());
        assert!(MAX_HOSTS.checked_mul(MAX_GPU_MILLIS).is_some());
        assert!(MAX_TOTAL_BYTES.checked_add(MAX_BYTES).is_some());
        assert!(MAX_DURATION_NANOS.checked_mul(4).is_some());
        assert!(MAX_REPLICAS.checked_mul(MAX_CPU_MILLIS).is_some());
        assert_eq!(
            super::super::time::format_span(MAX_DURATION_NANOS),
            "36500d"
        );
    }
}
