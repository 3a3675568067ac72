//! `pacsim fuzz SCENARIO --seeds A..B`: swarm testing with invariants on,
//! a progress line, each failure with its reproduce command and shrunk
//! fault schedule, and a summary (seeds/s is wall-clock, measured here).

use super::Failure;
use pacsim::fuzz;
use pacsim::scenario::load_scenario;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(clap::Args)]
pub struct FuzzArgs {
    /// The scenario file (YAML).
    scenario: PathBuf,
    /// Seeds to run: `A..B` (B excluded) or `A..=B`.
    #[arg(long, default_value = "1..100")]
    seeds: String,
    /// Worker threads (default: available cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only shard I of N (`I/N`, 0-based): the seeds whose position
    /// modulo N is I.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
}

fn parse_seeds(text: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("--seeds expects `A..B` or `A..=B`, found `{text}`");
    if let Some((a, b)) = text.split_once("..=") {
        let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
        return Ok((a..=b).collect());
    }
    let (a, b) = text.split_once("..").ok_or_else(bad)?;
    let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    Ok((a..b).collect())
}

fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard expects `I/N` with I < N, found `{text}`");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

pub fn run(args: FuzzArgs) -> Result<u8, Failure> {
    let scenario = load_scenario(&args.scenario).map_err(Failure::bad_input)?;
    let mut seeds = parse_seeds(&args.seeds).map_err(Failure::bad_input)?;
    if let Some(shard) = &args.shard {
        let (i, n) = parse_shard(shard).map_err(Failure::bad_input)?;
        seeds = seeds
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % n == i)
            .map(|(_, s)| s)
            .collect();
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let total = seeds.len();
    let (done, failed) = (AtomicU64::new(0), AtomicU64::new(0));
    let started = Instant::now();
    let on_done = |_seed: u64, fail: bool| {
        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
        let f = failed.fetch_add(u64::from(fail), Ordering::Relaxed) + u64::from(fail);
        if d % 10 == 0 || d as usize == total {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\rfuzz: {d}/{total} seeds, {f} failing");
            let _ = err.flush();
        }
    };
    let failures = fuzz::fuzz(&scenario, &seeds, jobs, &on_done);
    eprintln!();
    let wall = started.elapsed().as_secs_f64();

    let file = args.scenario.display();
    let mut by_invariant: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &failures {
        *by_invariant.entry(f.violation.invariant).or_default() += 1;
        let v = &f.violation;
        println!(
            "seed {}: invariant `{}` violated at seq {} (t={}): {}",
            f.seed, v.invariant, v.seq, v.at, v.detail
        );
        println!(
            "  reproduce: pacsim run {file} --seed {} --check --no-persist --fault-profile '{}'",
            f.seed,
            f.profile.encode()
        );
        println!(
            "  shrunk to {} of {} faults; add to the scenario:",
            f.shrunk.items.len(),
            f.profile.items.len()
        );
        if f.shrunk.items.is_empty() {
            println!("    faults: []   # the seed alone breaks it");
        }
        for line in f
            .shrunk
            .yaml(&scenario)
            .lines()
            .filter(|_| !f.shrunk.items.is_empty())
        {
            println!("    {line}");
        }
    }
    let distinct: Vec<String> = by_invariant
        .iter()
        .map(|(k, v)| format!("{k} ({v})"))
        .collect();
    println!(
        "fuzz: {} seeds, {} failing, invariants broken: {}, {:.1} seeds/s on {jobs} threads",
        total,
        failures.len(),
        if distinct.is_empty() {
            "none".to_string()
        } else {
            distinct.join(", ")
        },
        total as f64 / wall.max(1e-9)
    );
    Ok(if failures.is_empty() { 0 } else { 1 })
}
