//! What a scenario may hold (`model::limits`, which the scenario loader
//! checks), applied to what an importer writes so that it always loads. A
//! record outside them is a bad row (an error naming file and line, or
//! skipped and counted under `--skip-bad-rows`); a datacenter the import
//! itself sizes past them is an error of the whole import.

use crate::model::Resources;
use crate::model::limits::{
    MAX_BYTES, MAX_CPU_MILLIS, MAX_DURATION_NANOS, MAX_GPU_MILLIS, MAX_TOTAL_BYTES,
};
use crate::model::time::NANOS_PER_SEC;

pub use crate::model::limits::MAX_HOSTS;

pub const HOUR_NS: u64 = 3600 * NANOS_PER_SEC;
/// The latest creation or deletion: a scenario runs up to an hour past its
/// last one (`export.rs`), and its duration is bounded too.
pub const MAX_EVENT_NS: u64 = MAX_DURATION_NANOS - HOUR_NS;

/// Whether `size` (of a VM or a host model, `what`) fits the limits.
pub fn check_size(what: &str, size: &Resources) -> Result<(), String> {
    let over = |amount: String, limit: String| {
        Err(format!(
            "{what} {amount} is more than a scenario may hold ({limit})"
        ))
    };
    if size.cpu_millis > MAX_CPU_MILLIS {
        let limit = format!("{} cores", MAX_CPU_MILLIS / 1000);
        return over(format!("cpu {} cores", size.cpu_cores_f64()), limit);
    }
    if size.memory_bytes > MAX_BYTES {
        let memory = format!("memory {:.1} GiB", size.memory_gib_f64());
        return over(memory, format!("{} PiB", MAX_BYTES >> 50));
    }
    if size.gpu_millis > MAX_GPU_MILLIS {
        let gpus = format!("{} GPUs", size.gpu_millis as f64 / 1000.0);
        return over(gpus, format!("{} GPUs", MAX_GPU_MILLIS / 1000));
    }
    Ok(())
}

/// Whether a time on the trace's clock (`what`: a start or an end) fits.
/// Checked before times are shifted to the trace's start: the shift only
/// makes them smaller, so what passes here fits after it.
/// [`check_time`] for a time in whole seconds, which may not fit in
/// nanoseconds: the message gives the seconds as the trace wrote them.
pub fn check_secs(what: &str, s: u64) -> Result<(), String> {
    match s.checked_mul(NANOS_PER_SEC) {
        Some(ns) => check_time(what, ns),
        None => Err(format!(
            "{what} {s} s is later than a scenario may run (100 years, less its last hour)"
        )),
    }
}

pub fn check_time(what: &str, ns: u64) -> Result<(), String> {
    if ns > MAX_EVENT_NS {
        return Err(format!(
            "{what} {} s is later than a scenario may run (100 years, less its last hour)",
            ns / NANOS_PER_SEC
        ));
    }
    Ok(())
}

/// The hosts of a datacenter being built, counted as the loader counts
/// them: at most `MAX_HOSTS`, their memory at most `MAX_TOTAL_BYTES`.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostTotals {
    hosts: u64,
    memory_bytes: u128,
}

impl HostTotals {
    /// Adds `count` hosts of `capacity`, or says why they do not fit (and
    /// adds nothing).
    pub fn add(&mut self, capacity: &Resources, count: u64) -> Result<(), String> {
        let hosts = self.hosts.saturating_add(count);
        let memory = self.memory_bytes + u128::from(capacity.memory_bytes) * u128::from(count);
        if hosts > MAX_HOSTS {
            return Err(format!(
                "the datacenter would have {hosts} hosts, more than the {MAX_HOSTS} a scenario may have"
            ));
        }
        if memory > u128::from(MAX_TOTAL_BYTES) {
            return Err(format!(
                "the datacenter's memory would add up to {memory} bytes, more than the \
                 {MAX_TOTAL_BYTES} (4 EiB) a scenario may have"
            ));
        }
        (self.hosts, self.memory_bytes) = (hosts, memory);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times_at_the_limits_pass_and_past_them_fail() {
        let max = Resources::new(MAX_CPU_MILLIS, MAX_BYTES, MAX_GPU_MILLIS);
        assert_eq!(check_size("VM", &max), Ok(()));
        let e = check_size("VM", &Resources::new(MAX_CPU_MILLIS + 1, 1, 0)).unwrap_err();
        assert_eq!(
            e,
            "VM cpu 1000000.001 cores is more than a scenario may hold (1000000 cores)"
        );
        assert!(check_size("host", &Resources::new(1, MAX_BYTES + 1, 0)).is_err());
        assert!(check_size("host", &Resources::new(1, 1, MAX_GPU_MILLIS + 1)).is_err());
        assert_eq!(check_time("start", MAX_EVENT_NS), Ok(()));
        assert!(check_time("end", MAX_EVENT_NS + 1).is_err());
        assert_eq!(MAX_EVENT_NS + HOUR_NS, 36_500 * 86_400 * NANOS_PER_SEC);
    }

    #[test]
    fn host_totals_stop_at_the_host_count_and_the_memory_sum() {
        let mut totals = HostTotals::default();
        let small = Resources::cores(1, 1);
        assert_eq!(totals.add(&small, MAX_HOSTS - 1), Ok(()));
        assert!(totals.add(&small, 2).is_err());
        assert_eq!(totals.add(&small, 1), Ok(()));
        let mut totals = HostTotals::default();
        let big = Resources::new(1000, MAX_BYTES, 0);
        let fit = MAX_TOTAL_BYTES / MAX_BYTES;
        assert_eq!(totals.add(&big, fit), Ok(()));
        let e = totals.add(&big, 1).unwrap_err();
        assert!(e.contains("memory would add up to"), "{e}");
    }
}
