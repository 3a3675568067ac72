//! Objects read from a trace, before they become VMs: drops what occupies
//! nothing, checks names are unique and that the VM fits a scenario's
//! limits, and shifts times to the trace start.

use super::{ImportOptions, ImportedWorkload, TraceFormat, limits};
use crate::model::time::NANOS_PER_SEC;
use crate::model::{Resources, SimTime};
use crate::scenario::{ExplicitVm, HostModel};
use std::collections::BTreeSet;

/// Where time 0 of the imported workload is.
pub(crate) enum Origin {
    /// The trace's own clock already starts at 0 at the trace start.
    TraceClock,
    /// The earliest start of an imported object becomes 0.
    EarliestStart,
}

pub(crate) struct Collector {
    format: TraceFormat,
    source: String,
    names: BTreeSet<String>,
    vms: Vec<ExplicitVm>,
    dropped_empty: u64,
    dropped_zero_size: u64,
    censored: u64,
}

pub(crate) fn secs(s: u64) -> u64 {
    s.saturating_mul(NANOS_PER_SEC)
}

impl Collector {
    pub fn new(format: TraceFormat, source: &str) -> Self {
        Collector {
            format,
            source: source.to_string(),
            names: BTreeSet::new(),
            vms: Vec::new(),
            dropped_empty: 0,
            dropped_zero_size: 0,
            censored: 0,
        }
    }

    /// One object occupying `size` over `[start_ns, end_ns)` on the trace's
    /// clock (`None`: never ends). Err for a duplicate name, or a VM a
    /// scenario cannot hold.
    pub fn push(
        &mut self,
        name: String,
        size: Resources,
        start_ns: u64,
        end_ns: Option<u64>,
    ) -> Result<(), String> {
        if end_ns.is_some_and(|e| e <= start_ns) {
            self.dropped_empty += 1;
            return Ok(());
        }
        if size.cpu_millis == 0 || size.memory_bytes == 0 {
            self.dropped_zero_size += 1;
            return Ok(());
        }
        limits::check_size("VM", &size)?;
        limits::check_time("start", start_ns)?;
        if let Some(end) = end_ns {
            limits::check_time("end", end)?;
        }
        if !self.names.insert(name.clone()) {
            return Err(format!("duplicate object id `{name}`"));
        }
        self.censored += u64::from(end_ns.is_none());
        self.vms.push(ExplicitVm {
            name,
            size,
            at: SimTime(start_ns),
            delete_at: end_ns.map(SimTime),
            restart_priority: None,
            cluster: 0,
            pool: None,
        });
        Ok(())
    }

    /// Counts an object the format itself says cannot be placed in time
    /// (e.g. an SWF job of unknown run time).
    pub fn drop_empty(&mut self) {
        self.dropped_empty += 1;
    }

    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        mut self,
        origin: Origin,
        origin_note: String,
        rules: Vec<String>,
        host_mix: Option<Vec<(HostModel, u32)>>,
        rows_read: u64,
        rows_skipped: u64,
    ) -> ImportedWorkload {
        let shift = match origin {
            Origin::TraceClock => 0,
            Origin::EarliestStart => self.vms.iter().map(|v| v.at.0).min().unwrap_or(0),
        };
        for vm in &mut self.vms {
            vm.at = SimTime(vm.at.0 - shift);
            vm.delete_at = vm.delete_at.map(|d| SimTime(d.0 - shift));
        }
        ImportedWorkload {
            format: self.format,
            source: self.source,
            vms: self.vms,
            host_mix,
            rows_read,
            rows_skipped,
            dropped_empty: self.dropped_empty,
            dropped_zero_size: self.dropped_zero_size,
            censored: self.censored,
            origin: origin_note,
            rules,
            warnings: Vec::new(),
        }
    }
}

/// Options the importers share; kept here so format files stay short.
pub(crate) fn limit_left(opts: &ImportOptions, used: u64) -> Option<u64> {
    opts.limit.map(|l| l.saturating_sub(used))
}
