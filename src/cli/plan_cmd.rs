//! `pacsim plan SCENARIO`: the smallest host count meeting the SLOs; prints
//! a summary (or JSON) and writes report.html/json/csv (and the per-cluster
//! series as report-clusters.csv) with `--out`.

use super::Failure;
use super::trace_cmd::Stdout;
use super::trace_input::TraceInput;
use pacsim::plan::outcome::{self, PlanReport};
use pacsim::plan::runs::WorldFor;
use pacsim::plan::{PlanConfig, clusters, grid, html, plan, slo};
use pacsim::scenario::{Scenario, load_scenario};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct PlanArgs {
    /// The scenario file (YAML), or a trace (`.pstrace`) or log folder
    /// (such as a served session's data folder) whose recorded requests
    /// are the workload.
    scenario: PathBuf,
    /// Seeds: `K` (K seeds from the scenario's seed) or `A..B` (inclusive).
    #[arg(long)]
    seeds: Option<String>,
    /// An SLO such as `vms.rejected_ratio<=0.01` (repeatable); default: the
    /// scenario's `expect:` section.
    #[arg(long)]
    slo: Vec<String>,
    /// N+k: also crash the k busiest hosts at the peak; the SLOs must hold.
    #[arg(long, default_value_t = 0)]
    failures: usize,
    /// Fraction of runs on which each SLO must hold (1 = every run).
    #[arg(long, default_value_t = 1.0)]
    quantile: f64,
    /// Parallel runs (default: available cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// The host model whose count varies (required with several models,
    /// unless the cluster has one).
    #[arg(long)]
    model: Option<String>,
    /// The cluster whose hosts vary; the others keep theirs (required when
    /// the model's hosts are in several clusters).
    #[arg(long)]
    cluster: Option<String>,
    /// Give up above this many hosts of the model.
    #[arg(long, default_value_t = 4096)]
    max_hosts: u64,
    /// Run only slice I of N of the seeds; combine with --merge. `auto/N`
    /// takes I from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or
    /// SLURM_ARRAY_TASK_ID (a Slurm job array).
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Combine partial results of --shard (report.json files).
    #[arg(long, num_args = 1.., conflicts_with = "shard")]
    merge: Vec<PathBuf>,
    /// Write report.html, report.json, report.csv and report-clusters.csv here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
    /// A what-if grid instead of the search (repeatable): `hosts=8..64:8`,
    /// `policy=first-fit,drs`, `model.NAME.cpu=32,64`, `model.NAME.memory=256Gi,512Gi`.
    #[arg(long, conflicts_with_all = ["shard", "merge"])]
    vary: Vec<String>,
    /// Replace the workloads with a real trace's VMs (FORMAT:PATH).
    #[arg(long, value_name = "FORMAT:PATH")]
    workload_trace: Option<String>,
    /// The cluster the trace's VMs are deployed into (default: --cluster).
    #[arg(long, requires = "workload_trace")]
    workload_cluster: Option<String>,
}

/// A run the watchdog stopped, or a store failure, is exit 3; the rest
/// (unknown metrics, no SLOs, a datacenter too large) is bad input.
fn plan_failure(e: pacsim::plan::PlanError) -> Failure {
    use pacsim::plan::PlanError as E;
    match e {
        E::Stopped { .. } | E::Store(_) => Failure::io(e),
        _ => Failure::bad_input(e),
    }
}

fn parse_seeds(spec: Option<&str>, first: u64) -> Result<Vec<u64>, Failure> {
    let bad = || {
        Failure::bad_input(format!(
            "--seeds expects K or A..B, found `{}`",
            spec.unwrap_or("")
        ))
    };
    let Some(spec) = spec else {
        return Ok(vec![first]);
    };
    if spec.contains("..") {
        return super::ranges::seed_range(spec).map_err(Failure::bad_input);
    }
    let k: u64 = spec.parse().map_err(|_| bad())?;
    if k == 0 || k > 100_000 {
        return Err(bad());
    }
    Ok((0..k).map(|i| first.wrapping_add(i)).collect())
}

fn config(args: &PlanArgs, scenario: &Scenario) -> Result<PlanConfig, Failure> {
    let (model, cluster) = model_and_cluster(args, scenario)?;
    let slos = if args.slo.is_empty() {
        scenario.expect.clone()
    } else {
        args.slo
            .iter()
            .map(|s| slo::parse_slo(s))
            .collect::<Result<_, _>>()
            .map_err(Failure::bad_input)?
    };
    if !(args.quantile > 0.0 && args.quantile <= 1.0) {
        return Err(Failure::bad_input("--quantile must be in (0, 1]"));
    }
    let jobs = super::jobs(args.jobs)?;
    Ok(PlanConfig {
        model,
        cluster,
        seeds: parse_seeds(args.seeds.as_deref(), scenario.seed)?,
        slos,
        failures: args.failures,
        quantile: args.quantile,
        jobs,
        max_hosts: args
            .max_hosts
            .clamp(1, pacsim::plan::resize::most_hosts(scenario, model)),
        cache: Default::default(),
        world_for: None,
    })
}

/// The host model and cluster whose count varies: `--cluster` names the
/// cluster (needed when the model is in several), `--model` the model
/// (needed when the cluster, or the datacenter, has several).
fn model_and_cluster(
    args: &PlanArgs,
    scenario: &Scenario,
) -> Result<(usize, Option<usize>), Failure> {
    let dc = &scenario.datacenter;
    let cluster = match &args.cluster {
        None => None,
        Some(name) => Some(
            dc.clusters
                .iter()
                .position(|c| &c.name == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = dc.clusters.iter().map(|c| c.name.as_str()).collect();
                    Failure::bad_input(format!(
                        "unknown cluster `{name}`; clusters: {}",
                        names.join(", ")
                    ))
                })?,
        ),
    };
    let in_scope = |m: usize| {
        dc.hosts
            .iter()
            .any(|h| h.model == m && cluster.is_none_or(|c| h.cluster == c))
    };
    let models = &dc.models;
    let candidates: Vec<usize> = (0..models.len()).filter(|m| in_scope(*m)).collect();
    let model = match &args.model {
        Some(name) => models.iter().position(|m| &m.name == name).ok_or_else(|| {
            let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
            Failure::bad_input(format!(
                "unknown host model `{name}`; models: {}",
                names.join(", ")
            ))
        })?,
        None if models.len() == 1 => 0,
        None if candidates.len() == 1 && cluster.is_some() => candidates[0],
        None => {
            let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
            return Err(Failure::bad_input(format!(
                "the datacenter has several host models; choose the one to vary with --model ({})",
                names.join(", ")
            )));
        }
    };
    let clusters_of_model: std::collections::BTreeSet<usize> = (dc.hosts.iter())
        .filter(|h| h.model == model)
        .map(|h| h.cluster)
        .collect();
    match cluster {
        Some(_) => Ok((model, cluster)),
        // One cluster: resizing every host of the model is resizing it.
        None if clusters_of_model.len() <= 1 => Ok((model, None)),
        None => {
            let names: Vec<&str> = (clusters_of_model.iter())
                .map(|c| dc.cluster_name(*c))
                .collect();
            Err(Failure::bad_input(format!(
                "hosts of model `{}` are in several clusters; choose the one to resize with --cluster ({})",
                models[model].name,
                names.join(", ")
            )))
        }
    }
}

/// The scenario and, for a trace or a log folder, its recorded workload.
fn load(input: &std::path::Path) -> Result<(Scenario, Option<WorldFor>), Failure> {
    let trace = match input.is_dir() {
        true => Some(TraceInput::open(input, false)?),
        false => None,
    };
    let path = trace.as_ref().map_or(input, |t| t.path());
    let mut magic = [0u8; 8];
    let is_trace = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && &magic == pacsim::trace::format::MAGIC;
    if !is_trace {
        return Ok((load_scenario(path).map_err(Failure::bad_input)?, None));
    }
    let recorded = pacsim::trace::recorded::read(path)
        .map_err(|e| Failure::bad_input(format!("{}: {e}", input.display())))?;
    let scenario = recorded.scenario.clone();
    eprintln!(
        "plan: the workload is the {} inputs recorded in {}",
        recorded.inputs,
        input.display()
    );
    let recorded = std::sync::Arc::new(recorded);
    let build = WorldFor(std::sync::Arc::new(move |s: &Scenario| recorded.world(s)));
    Ok((scenario, Some(build)))
}

pub fn run(args: PlanArgs) -> Result<u8, Failure> {
    // Said before the runs, not after them.
    if let Some(dir) = &args.out {
        let refusal = if dir.exists() && !dir.is_dir() {
            Some("that is a file; the report is written into a folder")
        } else if pacsim::store::folder::holds_log(dir) || dir.join("journal").is_file() {
            Some("that folder holds a run's event log or a served session; choose another")
        } else {
            None
        };
        if let Some(why) = refusal {
            return Err(Failure::bad_input(format!(
                "--out {}: {why}",
                dir.display()
            )));
        }
    }
    let (mut scenario, world_for) = load(&args.scenario)?;
    super::print_notices(&scenario);
    if let Some(spec) = &args.workload_trace {
        if world_for.is_some() {
            return Err(Failure::bad_input(
                "--workload-trace: the trace's recorded requests are already the workload",
            ));
        }
        let cluster = (args.workload_cluster.clone()).or_else(|| args.cluster.clone());
        super::import_cmd::apply_workload_trace(&mut scenario, spec, cluster)?;
    }
    let mut cfg = config(&args, &scenario)?;
    cfg.world_for = world_for;
    if !args.vary.is_empty() {
        return run_grid(&args, &scenario, &cfg);
    }
    let started = Instant::now();
    let report = if args.merge.is_empty() {
        let mut shard = None;
        if let Some(spec) = &args.shard {
            let (i, n) = super::ranges::shard(spec).map_err(Failure::bad_input)?;
            cfg.seeds = super::ranges::take_shard(&cfg.seeds, (i, n));
            if cfg.seeds.is_empty() {
                return Err(Failure::bad_input("this shard has no seeds"));
            }
            shard = Some(format!("{i}/{n}"));
        }
        let bar = super::progress::SweepBar::new();
        let mut r = plan(&scenario, &cfg, &|| bar.tick()).map_err(plan_failure)?;
        bar.finish();
        r.shard = shard;
        r
    } else {
        let mut parts = Vec::new();
        for p in &args.merge {
            // A shard's report the user named: missing or a folder is bad input.
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::bad_input(format!("{}: {e}", p.display())))?;
            let part: PlanReport = serde_json::from_str(&text)
                .map_err(|e| Failure::bad_input(format!("{}: {e}", p.display())))?;
            let hash = blake3::hash(scenario.source.as_bytes())
                .to_hex()
                .to_string();
            if part.scenario_blake3 != hash {
                return Err(Failure::bad_input(format!(
                    "{} was planned from another scenario text (blake3 {})",
                    p.display(),
                    part.scenario_blake3
                )));
            }
            parts.push(part);
        }
        cfg.cache = outcome::runs_cache(&parts);
        let bar = super::progress::SweepBar::new();
        let r = plan(&scenario, &cfg, &|| bar.tick()).map_err(plan_failure)?;
        bar.finish();
        // The runs of this plan the shards held; the rest ran here (a shard
        // of other seeds, or one missing, leaves runs to do).
        let from_shards = (r.probes.iter())
            .flat_map(|c| {
                c.runs
                    .iter()
                    .map(move |run| (c.hosts, run.seed, run.fail_at_ns.is_some()))
            })
            .filter(|key| cfg.cache.contains_key(key))
            .count();
        let ran_here = (r.runs as usize).saturating_sub(from_shards);
        eprintln!(
            "merge: {from_shards} runs from the shards, {ran_here} run here, {} runs in all",
            r.runs
        );
        r
    };
    let wall = started.elapsed().as_secs_f64();
    let json = serde_json::to_value(&report).expect("report serializes");
    if let Some(dir) = &args.out {
        write_out(dir, &report, &json)?;
    }
    let mut stdout = Stdout::new();
    if args.json {
        stdout.line(serde_json::to_string_pretty(&json).expect("json prints"));
    } else {
        stdout.print(outcome::summary_text(&report));
        stdout.line(format_args!(
            "wall time        {wall:.2} s ({:.1} runs/s)",
            report.runs as f64 / wall.max(1e-9)
        ));
        if let Some(dir) = &args.out {
            let html = dir.join("report.html");
            stdout.line(format_args!("report           {}", html.display()));
        }
    }
    stdout.finish()?;
    Ok(if report.recommended().is_some() { 0 } else { 1 })
}

fn write_out(
    dir: &std::path::Path,
    r: &PlanReport,
    json: &serde_json::Value,
) -> Result<(), Failure> {
    let io = |e: std::io::Error| Failure::io(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::write(dir.join("report.html"), html::render(r)).map_err(io)?;
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(json).expect("json prints"),
    )
    .map_err(io)?;
    std::fs::write(dir.join("report.csv"), outcome::runs_csv(r)).map_err(io)?;
    if let Some(d) = &r.detail {
        let csv = clusters::clusters_csv(&d.clusters);
        std::fs::write(dir.join("report-clusters.csv"), csv).map_err(io)?;
    }
    Ok(())
}

fn run_grid(args: &PlanArgs, scenario: &Scenario, cfg: &PlanConfig) -> Result<u8, Failure> {
    let axes = args
        .vary
        .iter()
        .map(|v| grid::parse_vary(v, scenario))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::bad_input)?;
    let started = Instant::now();
    let bar = super::progress::SweepBar::new();
    let report = grid::grid(scenario, cfg, &axes, &|| bar.tick()).map_err(plan_failure)?;
    bar.finish();
    let wall = started.elapsed().as_secs_f64();
    if let Some(dir) = &args.out {
        let io = |e: std::io::Error| Failure::io(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::write(dir.join("grid.csv"), report.csv()).map_err(io)?;
        let json = serde_json::to_string_pretty(&report).expect("json prints");
        std::fs::write(dir.join("grid.json"), json).map_err(io)?;
        std::fs::write(dir.join("grid.html"), report.html()).map_err(io)?;
    }
    let mut stdout = Stdout::new();
    if args.json {
        stdout.line(serde_json::to_string_pretty(&report).expect("json prints"));
    } else {
        stdout.print(report.table());
        let runs: usize = report.points.iter().map(|p| p.runs).sum();
        stdout.line(format_args!(
            "{runs} runs in {wall:.2} s ({:.1} runs/s)",
            runs as f64 / wall.max(1e-9)
        ));
    }
    stdout.finish()?;
    Ok(0)
}
