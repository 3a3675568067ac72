//! `swf`: Standard Workload Format job logs (Parallel Workloads Archive),
//! plain or gzip. Lines starting with `;` are header comments; every other
//! line is a job of 18 whitespace-separated fields.
//!
//! A job becomes one VM (a gang of processors reserved together):
//! - start = submit time (field 2) + wait time (field 3, -1 = unknown = 0);
//!   end = start + run time (field 4); a run time of 0 or -1 (unknown)
//!   occupies nothing and is dropped;
//! - cores = allocated processors (field 5), or requested processors
//!   (field 8) when the log does not know the allocation; one processor =
//!   one core;
//! - memory = processors x memory per processor: used memory (field 7, KB),
//!   else requested memory (field 10, KB), else `swf_memory_per_proc_bytes`
//!   (default 1 GiB), because a VM needs memory and most logs have none.
//!
//! Time 0 is the log's start (`UnixStartTime`; SWF times count from it).

use super::collect::{Collector, Origin, secs};
use super::error::ImportError;
use super::limits;
use super::rows::{Rows, Skip, parse_i64};
use super::{ImportOptions, ImportedWorkload, TraceFormat};
use crate::model::Resources;
use std::path::Path;

pub(crate) fn import(path: &Path, opts: &ImportOptions) -> Result<ImportedWorkload, ImportError> {
    let mut rows = Rows::open(path, Skip::Comments(';'), opts.limit, opts.skip_bad_rows)?;
    let mut out = Collector::new(TraceFormat::Swf, rows.file());
    while rows.advance()? {
        let parsed = parse_job(rows.line(), opts.swf_memory_per_proc_bytes);
        let Some(job) = rows.check(parsed)? else {
            continue;
        };
        // Checked in seconds, before they become nanoseconds (which would
        // saturate) or a duration of 0 drops the job.
        let end_s = job.start_s.saturating_add(job.run_s.unwrap_or(0));
        let in_range = limits::check_secs("start", job.start_s)
            .and_then(|()| limits::check_secs("end", end_s));
        if rows.check(in_range)?.is_none() {
            continue;
        }
        let Some(run) = job.run_s else {
            out.drop_empty();
            continue;
        };
        let start = secs(job.start_s);
        let pushed = out.push(
            format!("job-{}", job.id),
            job.size,
            start,
            Some(start.saturating_add(secs(run))),
        );
        rows.check(pushed)?;
    }
    let rules = vec![
        "a job occupies [submit + wait, submit + wait + run time); unknown wait = 0; run time 0 or unknown: dropped".into(),
        "cores = allocated processors, else requested; memory = processors x (used, else requested, else default) KB per processor".into(),
    ];
    Ok(out.finish(
        Origin::TraceClock,
        "the log's start (UnixStartTime; SWF submit times count from it)".into(),
        rules,
        None,
        rows.read,
        rows.skipped,
    ))
}

struct Job {
    id: i64,
    start_s: u64,
    /// `None`: unknown run time.
    run_s: Option<u64>,
    size: Resources,
}

fn parse_job(line: &str, default_mem_per_proc: u64) -> Result<Job, String> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() != 18 {
        return Err(format!("expected 18 SWF fields, found {}", f.len()));
    }
    let field = |i: usize, what: &str| parse_i64(f[i - 1], what);
    let submit = field(2, "submit time")?;
    if submit < 0 {
        return Err(format!("submit time {submit} is negative"));
    }
    let start_s = submit.saturating_add(field(3, "wait time")?.max(0)) as u64;
    let run = field(4, "run time")?;
    if run < -1 {
        return Err(format!(
            "run time {run} is negative (-1 is the only negative: unknown)"
        ));
    }
    let procs = match field(5, "allocated processors")? {
        p if p > 0 => p,
        _ => field(8, "requested processors")?.max(0),
    } as u64;
    let mem_kb = match (field(7, "used memory")?, field(10, "requested memory")?) {
        (used, _) if used > 0 => Some(used as u64),
        (_, requested) if requested > 0 => Some(requested as u64),
        _ => None,
    };
    let per_proc = mem_kb.map_or(default_mem_per_proc, |kb| kb.saturating_mul(1024));
    Ok(Job {
        id: field(1, "job id")?,
        start_s,
        run_s: (run >= 0).then_some(run as u64),
        size: Resources::new(
            procs.saturating_mul(1000),
            procs.saturating_mul(per_proc),
            0,
        ),
    })
}
