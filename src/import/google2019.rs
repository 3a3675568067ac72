//! `google2019-machines`: a Google 2019 Borg cell's machine-shape histogram
//! (`cpus,ram,machine_count`, as extracted by the LGDCloudSim authors). It
//! becomes a host mix only; there are no VMs.
//!
//! Capacities are normalised (1.0 NCU / 1.0 NMU = the cell's largest
//! machine), so they are scaled by `normalized_unit` (default 128 cores,
//! 1 TiB), rounded to whole millicores and bytes.

use super::collect::{Collector, Origin};
use super::error::ImportError;
use super::limits::{self, HostTotals};
use super::rows::{Rows, Skip, fields, parse_f64, parse_u64, scaled};
use super::{ImportOptions, ImportedWorkload, TraceFormat};
use crate::model::Resources;
use crate::scenario::HostModel;
use std::path::Path;

pub(crate) fn import(path: &Path, opts: &ImportOptions) -> Result<ImportedWorkload, ImportError> {
    let mut rows = Rows::open(path, Skip::Header("cpus,"), opts.limit, opts.skip_bad_rows)?;
    let unit = opts.normalized_unit;
    let mut mix: Vec<(HostModel, u32)> = Vec::new();
    let mut totals = HostTotals::default();
    while rows.advance()? {
        let parsed = parse_shape(rows.line(), &unit);
        let Some((capacity, count, label)) = rows.check(parsed)? else {
            continue;
        };
        let name = format!("borg-{label}");
        let room = if mix.iter().any(|(m, _)| m.name == name) {
            Err(format!("the shape {label} is listed twice"))
        } else {
            let added = totals.add(&capacity, count.into());
            added.map_err(|e| format!("machine_count {count}: {e}"))
        };
        if rows.check(room)?.is_none() {
            continue;
        }
        let model = HostModel {
            name,
            capacity,
            gpu_model: None,
        };
        mix.push((model, count));
    }
    if mix.is_empty() {
        return Err(ImportError::bad_file(rows.file(), "no machine shapes"));
    }
    let rules = vec![format!(
        "machine shapes become host models: 1.0 NCU = {} cores, 1.0 NMU = {:.0} GiB; no VMs",
        unit.cpu_cores_f64(),
        unit.memory_gib_f64()
    )];
    let out = Collector::new(TraceFormat::Google2019Machines, rows.file());
    Ok(out.finish(
        Origin::TraceClock,
        "not applicable (no VMs)".into(),
        rules,
        Some(mix),
        rows.read,
        rows.skipped,
    ))
}

/// (capacity, machine count, `<ncu>ncu-<nmu>nmu` label).
type Shape = (Resources, u32, String);

fn parse_shape(line: &str, unit: &Resources) -> Result<Shape, String> {
    let f = fields(line, ',', 3)?;
    let cpus = parse_f64(f[0], "cpus")?;
    let ram = parse_f64(f[1], "ram")?;
    let count = parse_u64(f[2], "machine_count")?;
    let count = u32::try_from(count).map_err(|_| format!("machine_count {count} is too large"))?;
    let capacity = Resources::new(
        scaled(cpus, unit.cpu_millis, "cpus")?,
        scaled(ram, unit.memory_bytes, "ram")?,
        0,
    );
    if capacity.cpu_millis == 0 || capacity.memory_bytes == 0 || count == 0 {
        return Err("a machine shape needs cpu, memory and a count > 0".into());
    }
    limits::check_size("machine", &capacity)?;
    Ok((capacity, count, format!("{}ncu-{}nmu", f[0], f[1])))
}
