//! Importers for real public datacenter traces: one file per format, each
//! turning rows of a trace into [`ExplicitVm`]s (and, where the trace lists
//! machines, a host mix). `pacsim import` writes the result as a scenario
//! (`export.rs`); `pacsim run --workload-trace` puts it into a scenario.
//!
//! Rules shared by every format (docs/traces.md, "Importing real traces"):
//! - an object occupies `[start, end)`; zero-length objects occupy nothing
//!   and are dropped (counted in `dropped_empty`);
//! - objects with no end (censored) stay alive: `delete_at: None`;
//! - times are shifted so that the trace's start is time 0 (each format says
//!   what its start is, see [`ImportedWorkload::origin`]);
//! - at equal times deletions apply before creations, then file order: the
//!   `ExplicitVms` source already orders them so, and the VMs here are in
//!   file order;
//! - a malformed row is an error naming file and line, unless
//!   `skip_bad_rows`, which skips and counts it; so is a row a scenario
//!   cannot hold (`limits.rs`), so that what is written always loads.
//!
//! Library code never reads the clock: rows/s are measured by the CLI.

mod alibaba_dlrm2025;
mod alibaba_gpu2023;
mod azure_bins;
mod azure_vmtable;
mod bitbrains;
mod collect;
mod embedded;
mod error;
pub mod export;
mod google2019;
pub mod limits;
mod rows;
mod swf;
mod warnings;

pub use embedded::WorkloadTrace;
pub use error::ImportError;

use crate::model::resources::GIB;
use crate::model::{Resources, SimTime};
use crate::scenario::{ExplicitVm, HostModel};
use std::path::Path;

/// The trace formats, by the names the CLI and scripts use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TraceFormat {
    AzureVmtable,
    AzureBins,
    AlibabaGpu2023,
    AlibabaDlrm2025,
    Swf,
    Bitbrains,
    Google2019Machines,
}

impl TraceFormat {
    pub const ALL: [TraceFormat; 7] = [
        TraceFormat::AzureVmtable,
        TraceFormat::AzureBins,
        TraceFormat::AlibabaGpu2023,
        TraceFormat::AlibabaDlrm2025,
        TraceFormat::Swf,
        TraceFormat::Bitbrains,
        TraceFormat::Google2019Machines,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::AzureVmtable => "azure-vmtable",
            TraceFormat::AzureBins => "azure-bins",
            TraceFormat::AlibabaGpu2023 => "alibaba-gpu2023",
            TraceFormat::AlibabaDlrm2025 => "alibaba-dlrm2025",
            TraceFormat::Swf => "swf",
            TraceFormat::Bitbrains => "bitbrains",
            TraceFormat::Google2019Machines => "google2019-machines",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }

    /// As [`Self::from_name`], with the error a user sees.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
            format!(
                "unknown trace format `{name}`; expected one of: {}",
                names.join(", ")
            )
        })
    }
}

impl std::fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which point of a lifetime bin a binned lifetime becomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LifetimeInBin {
    Lower,
    #[default]
    Mid,
    Upper,
}

impl LifetimeInBin {
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "lower" => Some(LifetimeInBin::Lower),
            "mid" => Some(LifetimeInBin::Mid),
            "upper" => Some(LifetimeInBin::Upper),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LifetimeInBin::Lower => "lower",
            LifetimeInBin::Mid => "mid",
            LifetimeInBin::Upper => "upper",
        }
    }

    /// The point of `[lower, upper)` this choice names; `mid` rounds down to
    /// whole nanoseconds.
    pub fn pick(self, lower_ns: u64, upper_ns: u64) -> u64 {
        match self {
            LifetimeInBin::Lower => lower_ns,
            LifetimeInBin::Mid => lower_ns + (upper_ns - lower_ns) / 2,
            LifetimeInBin::Upper => upper_ns,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub lifetime_in_bin: LifetimeInBin,
    /// Skip and count malformed rows instead of failing on the first.
    pub skip_bad_rows: bool,
    /// Read at most this many data rows (headers and comments not counted).
    pub limit: Option<u64>,
    /// google2019-machines: the machine that is 1.0 NCU and 1.0 NMU.
    pub normalized_unit: Resources,
    /// swf: memory per processor when the log gives none (field 7 and 10 = -1).
    pub swf_memory_per_proc_bytes: u64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            lifetime_in_bin: LifetimeInBin::Mid,
            skip_bad_rows: false,
            limit: None,
            normalized_unit: Resources::cores(128, 1024),
            swf_memory_per_proc_bytes: GIB,
        }
    }
}

/// What an importer produced, with the counts the CLI reports.
#[derive(Clone, Debug)]
pub struct ImportedWorkload {
    pub format: TraceFormat,
    /// The file or folder read.
    pub source: String,
    /// One VM per object, in file order, times shifted to the trace start.
    pub vms: Vec<ExplicitVm>,
    /// Machines listed by the trace, by model, in order of first appearance.
    pub host_mix: Option<Vec<(HostModel, u32)>>,
    /// Data rows read (headers and comments not counted), bad ones included.
    pub rows_read: u64,
    /// Malformed rows skipped under `skip_bad_rows`.
    pub rows_skipped: u64,
    /// Well-formed objects with no duration (end <= start, or unknown run time).
    pub dropped_empty: u64,
    /// Well-formed objects with zero cpu or zero memory (a VM needs both).
    pub dropped_zero_size: u64,
    /// VMs with no end (`delete_at: None`).
    pub censored: u64,
    /// What time 0 is, e.g. "the start of the Azure V1 trace".
    pub origin: String,
    /// The format's mapping rules, one sentence each, for the scenario header.
    pub rules: Vec<String>,
    /// What the user should hear of (a last line with no line end, every
    /// VM censored), one sentence each, for stderr.
    pub warnings: Vec<String>,
}

impl ImportedWorkload {
    /// The largest time at which something happens (a creation or deletion).
    pub fn last_event(&self) -> SimTime {
        self.vms
            .iter()
            .map(|v| v.delete_at.unwrap_or(v.at))
            .max()
            .unwrap_or(SimTime::ZERO)
    }
}

/// Reads a trace of `format` at `path`.
pub fn import(
    format: TraceFormat,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportedWorkload, ImportError> {
    let (imported, warned) = warnings::collect(|| match format {
        TraceFormat::AzureVmtable => azure_vmtable::import(path, opts),
        TraceFormat::AzureBins => azure_bins::import(path, opts),
        TraceFormat::AlibabaGpu2023 => alibaba_gpu2023::import(path, opts),
        TraceFormat::AlibabaDlrm2025 => alibaba_dlrm2025::import(path, opts),
        TraceFormat::Swf => swf::import(path, opts),
        TraceFormat::Bitbrains => bitbrains::import(path, opts),
        TraceFormat::Google2019Machines => google2019::import(path, opts),
    });
    let mut workload = imported?;
    workload.warnings = warned;
    // Machines, no VMs: that format fails on its own when it finds none.
    if format == TraceFormat::Google2019Machines {
        return Ok(workload);
    }
    if !workload.vms.is_empty() && workload.censored == workload.vms.len() as u64 {
        let why = (workload.rules.iter())
            .find(|r| r.contains("censored"))
            .map_or(String::new(), |r| format!(" ({r})"));
        workload.warnings.push(format!(
            "every one of its {} VMs is censored: none has an end, so each lives to the end of the run{why}",
            workload.vms.len()
        ));
    }
    match no_vms(&workload) {
        Some(why) => Err(ImportError::bad_file(&workload.source, why)),
        None => Ok(workload),
    }
}

/// Why a workload trace gave no VM, if it gave none: an empty file is a
/// wrong path or a failed download far more often than an empty trace.
fn no_vms(w: &ImportedWorkload) -> Option<String> {
    if !w.vms.is_empty() {
        return None;
    }
    Some(match w.rows_read {
        0 => "no VMs: it holds no data rows".to_string(),
        rows => format!(
            "no VMs: of its {rows} data rows, {} were malformed (skipped), {} had no duration, {} had zero cpu or memory",
            w.rows_skipped, w.dropped_empty, w.dropped_zero_size
        ),
    })
}

/// Amounts of each resource, wide enough for any sum of VMs (sums of many
/// large VMs overflow the u64 components of `Resources`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Demand {
    pub cpu_millis: u128,
    pub memory_bytes: u128,
    pub gpu_millis: u128,
}

impl Demand {
    fn add(&mut self, r: &Resources) {
        self.cpu_millis += u128::from(r.cpu_millis);
        self.memory_bytes += u128::from(r.memory_bytes);
        self.gpu_millis += u128::from(r.gpu_millis);
    }

    fn sub(&mut self, r: &Resources) {
        self.cpu_millis -= u128::from(r.cpu_millis);
        self.memory_bytes -= u128::from(r.memory_bytes);
        self.gpu_millis -= u128::from(r.gpu_millis);
    }

    fn max_each(self, o: Demand) -> Demand {
        Demand {
            cpu_millis: self.cpu_millis.max(o.cpu_millis),
            memory_bytes: self.memory_bytes.max(o.memory_bytes),
            gpu_millis: self.gpu_millis.max(o.gpu_millis),
        }
    }
}

/// As `Resources` shows itself.
impl std::fmt::Display for Demand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let gib = self.memory_bytes as f64 / GIB as f64;
        write!(f, "{} cores, {gib:.1} GiB", self.cpu_millis as f64 / 1000.0)?;
        if self.gpu_millis > 0 {
            write!(f, ", {} GPUs", self.gpu_millis as f64 / 1000.0)?;
        }
        Ok(())
    }
}

/// The largest amount of each resource requested at any one time, each
/// component on its own (the cpu peak and the memory peak may be at
/// different times). Deletions at a time apply before creations at it.
pub fn peak_demand(vms: &[ExplicitVm]) -> Demand {
    // (time, 0 = deletion / 1 = creation, index): the ExplicitVms order.
    let mut steps: Vec<(SimTime, u8, usize)> = Vec::with_capacity(vms.len() * 2);
    for (i, vm) in vms.iter().enumerate() {
        steps.push((vm.at, 1, i));
        if let Some(d) = vm.delete_at {
            steps.push((d, 0, i));
        }
    }
    steps.sort_unstable();
    let (mut now, mut peak) = (Demand::default(), Demand::default());
    for (_, kind, i) in steps {
        if kind == 0 {
            now.sub(&vms[i].size);
        } else {
            now.add(&vms[i].size);
            peak = peak.max_each(now);
        }
    }
    peak
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Before, the running sum was a `Resources`: 5,000 VMs of 8 PiB
    /// overflowed its u64 bytes (a panic in a debug build; in release a
    /// wrong peak, then an underflow panic on the deletions).
    #[test]
    fn peak_demand_sums_past_what_one_resources_holds() {
        use crate::model::limits::{MAX_BYTES, MAX_CPU_MILLIS, MAX_GPU_MILLIS};
        let size = Resources::new(MAX_CPU_MILLIS, MAX_BYTES, MAX_GPU_MILLIS);
        let vms: Vec<ExplicitVm> = (0..5_000)
            .map(|i| ExplicitVm {
                name: format!("vm-{i}"),
                size,
                at: SimTime(i),
                delete_at: Some(SimTime(10_000 + i)),
                restart_priority: None,
                cluster: 0,
                pool: None,
            })
            .collect();
        let peak = peak_demand(&vms);
        assert_eq!(peak.cpu_millis, 5_000 * u128::from(MAX_CPU_MILLIS));
        assert_eq!(peak.memory_bytes, 5_000 * u128::from(MAX_BYTES));
        assert_eq!(peak.gpu_millis, 5_000 * u128::from(MAX_GPU_MILLIS));
    }
}
