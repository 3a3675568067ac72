//! What a plan is asked and what one of its runs gives back: the
//! configuration, the record a run leaves in reports and in the cache that
//! `--merge` replays, a probed count's verdict, and the detail kept of a
//! run.

use crate::report::detail::Detail;
use crate::scenario::{Expectation, Scenario};
use crate::world::World;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct PlanConfig {
    /// Index of the host model whose count varies.
    pub model: usize,
    /// The cluster whose hosts of `model` vary (`None`: every host of
    /// `model`); the other clusters keep theirs.
    pub cluster: Option<usize>,
    pub seeds: Vec<u64>,
    pub slos: Vec<Expectation>,
    pub failures: usize,
    /// Fraction of runs on which each SLO must hold (1 = every run).
    pub quantile: f64,
    pub jobs: usize,
    /// The search gives up above this many hosts of the model.
    pub max_hosts: u64,
    pub cache: RunCache,
    /// The workload, when it is not the scenario's own: builds each
    /// configuration's world (a recorded session's requests, re-driven).
    pub world_for: Option<WorldFor>,
}

/// Builds the world of a (resized) scenario with a recorded workload.
#[derive(Clone)]
pub struct WorldFor(pub Arc<dyn Fn(&Scenario) -> World + Send + Sync>);

impl std::fmt::Debug for WorldFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorldFor")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub hosts: u64,
    pub seed: u64,
    /// Hosts crashed at the peak (N+k runs); empty for plain runs.
    pub failed_hosts: Vec<String>,
    pub fail_at_ns: Option<u64>,
    /// One value per SLO, in SLO order; `null` where the run measured
    /// nothing for it (a latency with no samples), which fails the SLO.
    pub values: Vec<Option<f64>>,
    pub events: u64,
    pub digest: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Hosts of the planned model.
    pub hosts: u64,
    pub pass: bool,
    /// Per SLO: the aggregate over seeds, the worse of plain and N+k;
    /// `null` when a run without samples decided it (or no runs).
    pub slo_values: Vec<Option<f64>>,
    /// Per SLO: min, median and max over the seeds of each seed's worst
    /// run (plain or N+k); `null` when no seed measured it.
    #[serde(default)]
    pub spread: Vec<Option<Spread>>,
    pub runs: Vec<RunRecord>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

/// One finished run and what the planner keeps of it.
pub struct Ran {
    pub record: RunRecord,
    pub detail: Detail,
    pub summary: serde_json::Value,
}

/// Runs already done, keyed by (hosts of the planned model, seed, N+k):
/// `--merge` replays the search with the shards' runs as this cache.
pub type RunCache = BTreeMap<(u64, u64, bool), RunRecord>;
