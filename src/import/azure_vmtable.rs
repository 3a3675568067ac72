//! `azure-vmtable`: the original Azure Public Dataset V1 `vmtable.csv(.gz)`
//! layout: no header, 11 comma-separated fields per VM (vmid,
//! subscriptionid, deploymentid, vmcreated, vmdeleted, maxcpu, avgcpu,
//! p95maxcpu, vmcategory, vmcorecount, vmmemory).
//!
//! Time 0 is the start of the Azure V1 trace (its own clock: vmcreated 0 =
//! existed at the start). vmdeleted >= 2,591,700 s (the last reading of the
//! 30 days) means still alive: censored. Memory "GB" is taken as GiB, as
//! Azure sizes are (1.75 GB = the 1.75 GiB of an A1). A bucketed core count
//! `>24` becomes its bound, 24.

use super::ImportOptions;
use super::collect::{Collector, Origin, secs};
use super::error::ImportError;
use super::rows::{Rows, Skip, fields, parse_f64, parse_u64, scaled};
use super::{ImportedWorkload, TraceFormat};
use crate::model::Resources;
use crate::model::resources::GIB;
use std::path::Path;

/// vmdeleted of a VM still alive when the trace ended (seconds).
const TRACE_END_S: u64 = 2_591_700;

pub(crate) fn import(path: &Path, opts: &ImportOptions) -> Result<ImportedWorkload, ImportError> {
    let mut rows = Rows::open(path, Skip::Nothing, opts.limit, opts.skip_bad_rows)?;
    let mut out = Collector::new(TraceFormat::AzureVmtable, rows.file());
    while rows.advance()? {
        let name = format!("az-{}", rows.line_no());
        let parsed = parse_row(rows.line());
        let Some((size, created, deleted)) = rows.check(parsed)? else {
            continue;
        };
        let pushed = out.push(name, size, secs(created), deleted.map(secs));
        rows.check(pushed)?;
    }
    let rules = vec![
        "vmcreated is the start, vmdeleted the end; vmdeleted >= 2591700 s (trace end) = still alive".into(),
        "vmcorecount cores (a bucket `>N` becomes N), vmmemory GB taken as GiB".into(),
    ];
    Ok(out.finish(
        Origin::TraceClock,
        "the start of the Azure V1 trace (vmcreated 0)".into(),
        rules,
        None,
        rows.read,
        rows.skipped,
    ))
}

fn parse_row(line: &str) -> Result<(Resources, u64, Option<u64>), String> {
    let f = fields(line, ',', 11)?;
    let created = parse_u64(f[3], "vmcreated")?;
    let deleted = parse_u64(f[4], "vmdeleted")?;
    let cores = parse_u64(f[9].trim_start_matches('>'), "vmcorecount")?;
    let memory_gb = parse_f64(f[10].trim_start_matches('>'), "vmmemory")?;
    let size = Resources::new(
        cores.saturating_mul(1000),
        scaled(memory_gb, GIB, "vmmemory")?,
        0,
    );
    let end = (deleted < TRACE_END_S).then_some(deleted);
    Ok((size, created, end))
}
