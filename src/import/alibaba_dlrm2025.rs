//! `alibaba-dlrm2025`: Alibaba cluster-trace-gpu-v2025, one row per
//! long-running DLRM inference instance (17 columns, header).
//!
//! An instance occupies [creation_time, deletion_time) on the trace's own
//! clock (seconds, decimals allowed), so time 0 is the trace start. An empty
//! creation_time means the instance existed before the trace started: it
//! exists at time 0. An empty deletion_time means still alive at the end:
//! censored. Size: cpu_request vCPUs, memory_request GiB, gpu_request GPUs
//! (requests, not limits: placement reserves requests). The trace lists no
//! machines, so there is no host mix.

use super::collect::{Collector, Origin};
use super::error::ImportError;
use super::rows::{Rows, Skip, fields, parse_f64, parse_u64, scaled};
use super::{ImportOptions, ImportedWorkload, TraceFormat};
use crate::model::Resources;
use crate::model::resources::GIB;
use crate::model::time::NANOS_PER_SEC;
use std::path::Path;

pub(crate) fn import(path: &Path, opts: &ImportOptions) -> Result<ImportedWorkload, ImportError> {
    let mut rows = Rows::open(
        path,
        Skip::Header("instance_sn,"),
        opts.limit,
        opts.skip_bad_rows,
    )?;
    let mut out = Collector::new(TraceFormat::AlibabaDlrm2025, rows.file());
    while rows.advance()? {
        let parsed = parse_row(rows.line());
        let Some((name, size, start, end)) = rows.check(parsed)? else {
            continue;
        };
        let pushed = out.push(name, size, start, end);
        rows.check(pushed)?;
    }
    let rules = vec![
        "cpu_request vCPUs, memory_request GiB, gpu_request GPUs".into(),
        "an instance occupies [creation_time, deletion_time); empty creation_time = existed before the trace: at 0; empty deletion_time = still alive (censored)".into(),
    ];
    Ok(out.finish(
        Origin::TraceClock,
        "the trace start (instances that existed before it are created at 0)".into(),
        rules,
        None,
        rows.read,
        rows.skipped,
    ))
}

type Instance = (String, Resources, u64, Option<u64>);

fn parse_row(line: &str) -> Result<Instance, String> {
    let f = fields(line, ',', 17)?;
    if f[0].is_empty() {
        return Err("empty instance_sn".into());
    }
    let gpus = parse_u64(f[5], "gpu_request")?;
    let size = Resources::new(
        parse_u64(f[3], "cpu_request")?.saturating_mul(1000),
        scaled(parse_f64(f[9], "memory_request")?, GIB, "memory_request")?,
        gpus.saturating_mul(1000),
    );
    let start = match f[14] {
        "" => 0,
        t => seconds_ns(t, "creation_time")?,
    };
    let end = match f[16] {
        "" => None,
        t => Some(seconds_ns(t, "deletion_time")?),
    };
    Ok((f[0].to_string(), size, start, end))
}

fn seconds_ns(text: &str, what: &str) -> Result<u64, String> {
    scaled(parse_f64(text, what)?, NANOS_PER_SEC, what)
}
