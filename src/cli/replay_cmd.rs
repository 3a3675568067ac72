//! `pacsim replay TRACE --verify` (exact replay, exit 1 on the first
//! divergence) and `pacsim replay TRACE --what-if KEY=VALUE...` (recorded
//! inputs against a changed configuration, both summaries side by side).

use super::Failure;
use super::progress::Progress;
use super::trace_cmd::{Stdout, failure};
use super::trace_input::TraceInput;
use pacsim::trace::source::{RecordSource, actor_names};
use pacsim::trace::verify::{Divergence, Verdict, verify};
use pacsim::trace::whatif::{comparison_rows, what_if};
use pacsim::trace::{TraceReader, header_scenario, inspect};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("mode").required(true).args(["verify", "what_if"]))]
pub struct ReplayArgs {
    /// The trace file (.pstrace), or a log folder (from `run --out`, or a
    /// served session's data folder).
    trace: PathBuf,
    /// Re-run the embedded scenario and compare record by record.
    #[arg(long)]
    verify: bool,
    /// Re-drive the recorded inputs with KEY=VALUE changed: policy=NAME,
    /// hosts=N, model.<name>.cpu=N, model.<name>.memory=Q, power_on_delay=DIST.
    #[arg(long = "what-if", num_args = 1.., value_name = "KEY=VALUE")]
    what_if: Vec<String>,
    /// Use the good frames of a damaged trace and say what was lost.
    #[arg(long)]
    salvage: bool,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ReplayArgs) -> Result<u8, Failure> {
    let input = TraceInput::open(&args.trace, args.salvage)?;
    if let Some(note) = &input.salvage_note {
        eprintln!("{}: {note}", args.trace.display());
    }
    if args.verify {
        run_verify(&args, input.path())
    } else {
        run_what_if(&args, input.path())
    }
}

fn run_verify(args: &ReplayArgs, trace: &Path) -> Result<u8, Failure> {
    let header = TraceReader::open(trace)
        .map_err(|e| failure(e.into()))?
        .header()
        .clone();
    let end = header_scenario(&header.scenario, header.seed)
        .map(|s| pacsim::model::SimTime(s.duration.0))
        .map_err(|e| failure(e.into()))?;
    let started = Instant::now();
    let mut progress = Progress::new(end);
    let verdict = verify(trace, args.salvage, |now, n| progress.update(now, n));
    progress.finish();
    let verdict = verdict.map_err(failure)?;
    let wall = started.elapsed().as_secs_f64();
    let mut out = Stdout::new();
    let code = print_verdict(args, verdict, wall, &mut out);
    out.finish()?;
    Ok(code)
}

/// Prints the verdict; returns the exit code (1: diverged).
fn print_verdict(args: &ReplayArgs, verdict: Verdict, wall: f64, out: &mut Stdout) -> u8 {
    match verdict {
        Verdict::Match { records, digest } => {
            let rate = (records as f64 / wall.max(1e-9)).round();
            if args.json {
                let v = serde_json::json!({"verified": true, "records": records,
                    "digest": digest.to_string(), "wall_seconds": wall, "records_per_sec": rate});
                out.line(v);
            } else {
                out.line(format_args!("verified   {records} records, identical"));
                out.line(format_args!("digest     {digest}"));
                out.line(format_args!("wall time  {wall:.3} s"));
                out.line(format_args!("records/s  {rate}"));
            }
            0
        }
        Verdict::EndsSalvaged { records, digest } => {
            if args.json {
                let v = serde_json::json!({"verified": true, "salvaged_end": records,
                    "records": records, "digest": digest.to_string()});
                out.line(v);
            } else {
                out.line(format_args!(
                    "the trace ends at record {records} (salvaged); all {records} records match the re-run"
                ));
                out.line(format_args!("digest     {digest}"));
            }
            0
        }
        Verdict::Salvaged { records, salvage } => {
            out.line(format_args!(
                "verified   {records} records of the good frames, identical"
            ));
            out.line(salvage.describe());
            0
        }
        Verdict::MatchStopped {
            records,
            digest,
            invariant,
            at,
        } => {
            if args.json {
                let v = serde_json::json!({"verified": true, "records": records,
                    "digest": digest.to_string(), "stopped_by": invariant,
                    "stopped_at": at.to_string(), "wall_seconds": wall});
                out.line(v);
            } else {
                out.line(format_args!(
                    "verified   {records} records, identical, to where invariant `{invariant}` stopped the run (at {at})"
                ));
                out.line(format_args!("digest     {digest}"));
                out.line(format_args!("wall time  {wall:.3} s"));
            }
            0
        }
        Verdict::Diverged(d) => {
            print_divergence(args, &d, out);
            1
        }
    }
}

fn print_divergence(args: &ReplayArgs, d: &Divergence, out: &mut Stdout) {
    let info = RecordSource::at(&args.trace).info(false).ok();
    let names = info.as_ref().and_then(actor_names);
    let names = names.as_deref();
    let show = |r: &Option<pacsim::event::Record>| match r {
        Some(r) => inspect::line(r, names),
        None => "(nothing: it ended here)".to_string(),
    };
    let trace = match &d.trace {
        Ok(r) => show(r),
        Err(e) => format!("(does not decode: {e})"),
    };
    if args.json {
        let v = serde_json::json!({"verified": false, "seq": d.seq,
            "run": format!("{:?}", d.run), "trace": format!("{:?}", d.trace)});
        out.line(v);
    } else {
        out.line(format_args!("diverged at record #{}", d.seq));
        out.line(format_args!("  run:   {}", show(&d.run)));
        out.line(format_args!("  trace: {trace}"));
    }
}

fn run_what_if(args: &ReplayArgs, trace: &Path) -> Result<u8, Failure> {
    let w = what_if(trace, &args.what_if, args.salvage).map_err(failure)?;
    let mut out = Stdout::new();
    if args.json {
        let v = serde_json::json!({
            "original": w.original.to_json(),
            "what_if": w.what_if.to_json(),
            "changes": args.what_if,
            "inputs": w.inputs,
            "dropped_inputs": w.dropped,
            "salvage": w.salvage,
        });
        out.line(serde_json::to_string_pretty(&v).expect("json prints"));
        out.finish()?;
        return Ok(0);
    }
    out.line(format_args!("what-if: {}", args.what_if.join(" ")));
    let rows = comparison_rows(&w);
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    out.line(format_args!(
        "{:<width$}  {:>16}  {:>16}  {:>12}",
        "", "original", "what-if", "change"
    ));
    for (name, a, b, d) in rows {
        out.line(format_args!("{name:<width$}  {a:>16}  {b:>16}  {d:>12}"));
    }
    out.line(format_args!(
        "inputs re-driven {}, dropped {} (hosts that no longer exist)",
        w.inputs, w.dropped
    ));
    if let Some(s) = &w.salvage {
        out.line(s);
    }
    out.finish()?;
    Ok(0)
}
