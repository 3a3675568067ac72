//! `pacsim run SCENARIO`: simulate, persist the log, print the summary, check
//! the scenario's `expect:` section.

use super::Failure;
use super::progress::Progress;
use super::trace_cmd::Stdout;
use pacsim::report::expect::{self, Verdict};
use pacsim::run::pace::RunLog;
use pacsim::run::watchdog::RunLimits;
use pacsim::run::{RunOutput, simulate_limited};
use pacsim::scenario::{Scenario, load_scenario, sanity};
use pacsim::store::{EventLog, StoreError, folder};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct RunArgs {
    /// The scenario file (YAML).
    scenario: PathBuf,
    /// Overrides the scenario's `seed:`.
    #[arg(long)]
    seed: Option<u64>,
    /// Folder for the event log (sled); default: a new folder under ./runs/.
    /// A folder that already holds a log is refused (see --force).
    #[arg(long, conflicts_with = "no_persist")]
    out: Option<PathBuf>,
    /// Replace the log already in --out, as a whole.
    #[arg(long, requires = "out")]
    force: bool,
    /// Stop the run (exit 3) when pacsim's memory passes SIZE (`8Gi`), or
    /// `off`; default: 3/4 of the machine's (or cgroup's) memory.
    #[arg(long, value_name = "SIZE", value_parser = parse_budget)]
    memory_budget: Option<Budget>,
    /// Keep the log in memory only (the digest is still computed).
    #[arg(long)]
    no_persist: bool,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Run in real time: the same deliveries in the same order as the
    /// simulation (the same log and digest), paced by the wall clock scaled
    /// by --speed; each batch is durable before it is reported or waited on.
    #[arg(long)]
    live: bool,
    /// With --live: virtual seconds per wall-clock second.
    #[arg(long, default_value_t = 1.0, requires = "live")]
    speed: f64,
    /// Replace the scenario's workloads with a real trace's VMs (FORMAT:PATH,
    /// formats as for `pacsim import`).
    #[arg(long, value_name = "FORMAT:PATH")]
    workload_trace: Option<String>,
    /// The cluster the trace's VMs are deployed into (needed when the
    /// datacenter has several).
    #[arg(long, requires = "workload_trace")]
    workload_cluster: Option<String>,
    /// Also write the run as a portable trace file (.pstrace).
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Check every invariant after every event (default: every 2^20 events, more rarely in worlds of over 2,048 hosts).
    /// A violation stops the run and exits 1.
    #[arg(long)]
    check: bool,
    /// Add the faults of an encoded profile (as printed by `pacsim fuzz`).
    #[arg(long, value_name = "PROFILE")]
    fault_profile: Option<String>,
}

pub fn run(args: RunArgs) -> Result<u8, Failure> {
    let mut scenario = load_scenario(&args.scenario).map_err(Failure::bad_input)?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    if let Some(text) = &args.fault_profile {
        let profile = pacsim::fuzz::Profile::decode(text).map_err(Failure::bad_input)?;
        profile.validate(&scenario).map_err(Failure::bad_input)?;
        profile.apply_and_embed(&mut scenario);
    }
    if let Some(spec) = &args.workload_trace {
        let cluster = args.workload_cluster.clone();
        super::import_cmd::apply_workload_trace(&mut scenario, spec, cluster)?;
    }
    super::print_notices(&scenario);
    for warning in sanity::warnings(&scenario) {
        eprintln!("warning: {}: {warning}", scenario.file);
    }
    let out = match (&args.out, args.no_persist) {
        (_, true) => None,
        (Some(dir), false) => {
            folder::claim(dir, args.force).map_err(folder_failure)?;
            Some(dir.clone())
        }
        (None, false) => Some(default_out(&scenario)?),
    };
    let spare_core = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    let mut limits = RunLimits {
        // One run: a second core, if there is one, draws its inputs.
        draw_inputs_ahead: spare_core,
        ..RunLimits::default()
    };
    if let Some(Budget(budget)) = args.memory_budget {
        limits.memory_budget = budget;
    }
    let log = match &out {
        Some(dir) => EventLog::create(dir, &scenario.source, scenario.seed).map_err(Failure::io)?,
        None if spare_core => EventLog::hashed_aside(),
        None => EventLog::in_memory(),
    };
    tracing::info!(scenario = %scenario.name, seed = scenario.seed, out = ?out, "run starting");

    let started = Instant::now();
    let mut progress = Progress::new(pacsim::model::SimTime(scenario.duration.0));
    if args.live && !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(Failure::bad_input(format!(
            "--speed must be a positive number, found {}",
            args.speed
        )));
    }
    let result = match &args.trace {
        Some(trace) => super::trace_cmd::simulate_traced(&scenario, log, trace, |beside| {
            run_into(&scenario, beside, &args, limits, &mut progress)
        }),
        None => run_into(&scenario, log, &args, limits, &mut progress).map_err(Failure::io),
    };
    progress.finish();
    let mut output = result?;
    if let Some(mut stopped) = output.stopped.take() {
        if stopped.hints.is_empty() {
            stopped.hints = sanity::growth_hints(&scenario);
        }
        let kept = out
            .as_ref()
            .map(|d| {
                format!(
                    "\nthe event log in {} holds the events delivered until then",
                    d.display()
                )
            })
            .unwrap_or_default();
        return Err(Failure::io(format!("{stopped}{kept}")));
    }
    let wall = started.elapsed().as_secs_f64();
    let summary = output.summary(&scenario, wall);
    let json = summary.to_json();

    let mut stdout = Stdout::new();
    if args.json {
        stdout.line(serde_json::to_string_pretty(&json).expect("json prints"));
    } else {
        stdout.print(summary.table());
        if let Some(dir) = &out {
            stdout.line(format_args!("{:<18}  {}", "event log", dir.display()));
        }
        if let Some(trace) = &args.trace {
            stdout.line(format_args!("{:<18}  {}", "trace", trace.display()));
        }
    }
    // Before the notes on stderr, which a terminal shows after it.
    stdout.finish()?;
    if let Some(line) = refusals_line(&summary) {
        eprintln!("{line}");
    }
    if let Some(v) = &output.violation {
        eprint!("{v}");
        return Ok(1);
    }
    check_expectations(&scenario, &json)
}

/// The run, live or simulated, into the log (or the log and a trace
/// beside it).
fn run_into<L: RunLog>(
    scenario: &Scenario,
    log: L,
    args: &RunArgs,
    limits: RunLimits,
    progress: &mut Progress,
) -> Result<RunOutput, StoreError> {
    if args.live {
        pacsim::live::run_live_limited(scenario, args.speed, log, args.check, limits)
    } else {
        simulate_limited(scenario, log, args.check, limits, |now, events| {
            progress.update(now, events)
        })
    }
}

/// One line at the end of a run whose API calls were refused or denied,
/// pointing at where the summary lists them.
fn refusals_line(summary: &pacsim::report::Summary) -> Option<String> {
    let api = &summary.supervisor.as_ref()?.api;
    let (refused, denied) = (api.refused, api.denied);
    if refused + denied == 0 {
        return None;
    }
    let groups = api.refusals.len();
    Some(format!(
        "note: {refused} API call(s) refused and {denied} denied, for {groups} reason(s): see `calls refused` in the summary (JSON: supervisor.api.refusals)"
    ))
}

/// Prints each failed expectation; exit 1 if any failed, 2 if one names an
/// unknown metric.
fn check_expectations(scenario: &Scenario, summary: &serde_json::Value) -> Result<u8, Failure> {
    let mut failed = 0;
    for e in &scenario.expect {
        match expect::check(e, summary, &scenario.file) {
            Verdict::Held { .. } => {}
            Verdict::Failed { actual } => {
                failed += 1;
                eprintln!(
                    "expectation failed: {} (actual {actual}) at {}:{}:{}",
                    e.text, scenario.file, e.location.line, e.location.col
                );
            }
            Verdict::NoSamples => {
                failed += 1;
                eprintln!(
                    "expectation failed: {} (no samples: the run measured nothing for it) at {}:{}:{}",
                    e.text, scenario.file, e.location.line, e.location.col
                );
            }
            Verdict::Unknown(message) => return Err(Failure::bad_input(message)),
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} expectations failed", scenario.expect.len());
        return Ok(1);
    }
    Ok(0)
}

/// `runs/<scenario>-s<seed>-<n>`, the first n whose folder this run could
/// create (creating it claims it, so two runs at once take two folders).
fn default_out(scenario: &Scenario) -> Result<PathBuf, Failure> {
    let base = Path::new("runs");
    std::fs::create_dir_all(base)
        .map_err(|e| Failure::io(format!("cannot create {}: {e}", base.display())))?;
    for n in 1.. {
        let dir = base.join(format!("{}-s{}-{n}", scenario.name, scenario.seed));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Failure::io(format!("cannot create {}: {e}", dir.display()))),
        }
    }
    unreachable!("some folder name is free")
}

/// A folder that cannot take the log is the user's choice of `--out`
/// (exit 2); failing to create it is I/O (3).
pub fn folder_failure(e: folder::FolderError) -> Failure {
    match e {
        folder::FolderError::Io { .. } => Failure::io(e),
        _ => Failure::bad_input(e),
    }
}

/// `--memory-budget`: a size, or `off` (`None`).
#[derive(Clone, Copy, Debug)]
struct Budget(Option<u64>);

fn parse_budget(text: &str) -> Result<Budget, String> {
    if text == "off" {
        return Ok(Budget(None));
    }
    match pacsim::scenario::units::parse_memory(text)? {
        0 => Err("the budget must be above zero, or `off`".into()),
        bytes => Ok(Budget(Some(bytes))),
    }
}
