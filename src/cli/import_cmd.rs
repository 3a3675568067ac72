//! `pacsim import FORMAT PATH -o SCENARIO`: read a real trace, write a
//! scenario. Also the glue for `pacsim run --workload-trace FORMAT:PATH`.
//! The import itself is library code (`pacsim::import`); only here is the
//! wall clock read, to report rows/s.

use super::Failure;
use pacsim::import::export::{ExportOptions, scenario_yaml};
use pacsim::import::{
    ImportOptions, ImportedWorkload, LifetimeInBin, TraceFormat, WorkloadTrace, import, limits,
};
use pacsim::model::Resources;
use pacsim::scenario::{Scenario, units};
use pacsim::trace::atomic::AtomicFile;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// azure-vmtable | azure-bins | alibaba-gpu2023 | alibaba-dlrm2025 | swf |
    /// bitbrains | google2019-machines
    format: String,
    /// The trace file (or folder, for alibaba-gpu2023 and bitbrains).
    path: PathBuf,
    /// The scenario file to write.
    #[arg(short, long)]
    output: PathBuf,
    /// Which point of a lifetime bin a binned lifetime becomes.
    #[arg(long, default_value = "mid", value_parser = ["lower", "mid", "upper"])]
    lifetime_in_bin: String,
    /// Skip malformed rows (counted and reported) instead of failing.
    #[arg(long)]
    skip_bad_rows: bool,
    /// Read at most N data rows (N >= 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Size every host like this, e.g. `cpu=64,memory=512Gi[,gpus=8]`
    /// (default: the trace's machines, else 64 cores and 512 GiB).
    #[arg(long, value_name = "SIZE")]
    host_model: Option<String>,
    /// google2019-machines: the machine of 1.0 NCU and 1.0 NMU.
    #[arg(long, value_name = "SIZE", default_value = "cpu=128,memory=1Ti")]
    normalized_unit: String,
}

pub fn run(args: ImportArgs) -> Result<u8, Failure> {
    let format = parse_format(&args.format)?;
    let mut opts = ImportOptions {
        lifetime_in_bin: LifetimeInBin::from_name(&args.lifetime_in_bin).unwrap_or_default(),
        skip_bad_rows: args.skip_bad_rows,
        limit: args.limit,
        ..ImportOptions::default()
    };
    opts.normalized_unit = parse_size("--normalized-unit", &args.normalized_unit)?;
    let host_model = args
        .host_model
        .as_deref()
        .map(parse_host_model)
        .transpose()?;
    if host_model.is_some() && format == TraceFormat::Google2019Machines {
        return Err(Failure::bad_input(
            "--host-model: google2019-machines gives machines and no VMs, so a host model sized to the VMs' demand would replace every machine of the trace; leave it out".to_string(),
        ));
    }
    let workload = timed_import(format, &args.path, &opts, host_model.is_some())?;
    let name = args
        .output
        .file_stem()
        .map_or("imported".into(), |s| s.to_string_lossy().into_owned());
    let command = format!(
        "pacsim import {format} {} --lifetime-in-bin {}{}{}",
        args.path.display(),
        opts.lifetime_in_bin.name(),
        if opts.skip_bad_rows {
            " --skip-bad-rows"
        } else {
            ""
        },
        opts.limit
            .map_or(String::new(), |l| format!(" --limit {l}")),
    );
    let text = scenario_yaml(
        &workload,
        &ExportOptions {
            command,
            name,
            host_model,
        },
    )
    .map_err(Failure::bad_input)?;
    match write_whole(&args.output, &text) {
        Ok(()) => eprintln!("wrote {}", args.output.display()),
        // `-o /dev/stdout | head`: the reader has all it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            let message = format!("{}: cannot write: {e}", args.output.display());
            return Err(Failure::io(message));
        }
    }
    Ok(0)
}

/// `text` as the whole of `path`: a failed write leaves no partial scenario.
fn write_whole(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(text.as_bytes())?;
    file.commit()
}

/// `--workload-trace FORMAT:PATH`: the scenario keeps its datacenter,
/// placement and faults; its workloads become the trace's VMs, and the
/// scenario text the log embeds says so (see `WorkloadTrace`).
/// `cluster`: `--workload-cluster`, where the trace's VMs are deployed.
pub fn apply_workload_trace(
    scenario: &mut Scenario,
    spec: &str,
    cluster: Option<String>,
) -> Result<(), Failure> {
    let trace = WorkloadTrace::parse(spec).map_err(Failure::bad_input)?;
    if trace.format == TraceFormat::Google2019Machines {
        return Err(Failure::bad_input(format!(
            "--workload-trace {spec}: google2019-machines gives machines and no VMs, so it is no workload; `pacsim import` writes its machines as a scenario's datacenter"
        )));
    }
    let trace = trace.in_cluster(cluster);
    let workload = timed_import(trace.format, &trace.path, &ImportOptions::default(), false)?;
    // The run ends at the scenario's duration: later arrivals never come.
    let end = scenario.duration.0;
    let late = workload.vms.iter().filter(|v| v.at.0 > end).count();
    if late > 0 {
        let last = workload.vms.iter().map(|v| v.at.0).max().unwrap_or(0);
        // The last arrival, in whole hours up: a `duration:` to write.
        let hour = 3_600_000_000_000u64;
        let enough = last.div_ceil(hour).saturating_mul(hour);
        eprintln!(
            "warning: {late} of the trace's {} VMs arrive after the scenario's duration ({}) and are not simulated: `duration: {}` includes them",
            workload.vms.len(),
            pacsim::model::SimTime(end),
            pacsim::model::time::format_span_exact(enough),
        );
    }
    (trace.apply_and_embed(scenario, workload)).map_err(Failure::bad_input)
}

/// Imports and says what was read on stderr, with the import's warnings.
/// `host_model`: `--host-model` replaces the machines the trace lists.
fn timed_import(
    format: TraceFormat,
    path: &Path,
    opts: &ImportOptions,
    host_model: bool,
) -> Result<ImportedWorkload, Failure> {
    let started = Instant::now();
    let w = import(format, path, opts).map_err(Failure::bad_input)?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "imported {format} {}: rows read {}, bad rows skipped {}, VMs {} (censored {}), dropped: no duration {}, zero size {}{}, {:.3} s, {:.0} rows/s",
        path.display(),
        w.rows_read,
        w.rows_skipped,
        w.vms.len(),
        w.censored,
        w.dropped_empty,
        w.dropped_zero_size,
        w.host_mix.as_ref().map_or(String::new(), |m| format!(
            ", host models {} ({} hosts){}",
            m.len(),
            m.iter().map(|(_, n)| u64::from(*n)).sum::<u64>(),
            if host_model {
                " listed, replaced by --host-model"
            } else {
                ""
            }
        )),
        secs,
        w.rows_read as f64 / secs.max(1e-9),
    );
    for warning in &w.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(w)
}

/// `--host-model`: a size, within what a scenario's host model may be.
fn parse_host_model(text: &str) -> Result<Resources, Failure> {
    let size = parse_size("--host-model", text)?;
    limits::check_size("--host-model", &size).map_err(Failure::bad_input)?;
    Ok(size)
}

fn parse_format(name: &str) -> Result<TraceFormat, Failure> {
    TraceFormat::parse(name).map_err(Failure::bad_input)
}

/// `cpu=64,memory=512Gi[,gpus=8]` in the scenario file's units.
fn parse_size(flag: &str, text: &str) -> Result<Resources, Failure> {
    let bad = |m: String| Failure::bad_input(format!("{flag} `{text}`: {m}"));
    let mut size = Resources::ZERO;
    for part in text.split(',') {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| bad(format!("`{part}` is not key=value")))?;
        match key.trim() {
            "cpu" => size.cpu_millis = units::parse_cpu(value.trim()).map_err(bad)?,
            "memory" => size.memory_bytes = units::parse_memory(value.trim()).map_err(bad)?,
            "gpus" => size.gpu_millis = units::parse_gpus(value.trim()).map_err(bad)?,
            other => return Err(bad(format!("unknown key `{other}` (cpu, memory, gpus)"))),
        }
    }
    if size.cpu_millis == 0 || size.memory_bytes == 0 {
        return Err(bad("cpu and memory must both be given and > 0".into()));
    }
    Ok(size)
}
