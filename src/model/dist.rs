//! Distributions as data. Sampling lives in `sim::rng` so that this module
//! stays free of randomness and can be parsed, printed and compared.

use super::Resources;
use serde::{Deserialize, Serialize};

/// A distribution of non-negative durations in nanoseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Dist {
    /// Always the same value.
    Fixed(u64),
    /// Exponential with the given mean.
    Exponential { mean: u64 },
    /// Uniform on [low, high].
    Uniform { low: u64, high: u64 },
    /// Log-normal with the given median (= e^mu) and shape sigma.
    LogNormal { median: u64, sigma: f64 },
}

impl Dist {
    /// The distribution's mean, for reports and sanity checks.
    pub fn mean_nanos(&self) -> f64 {
        match *self {
            Dist::Fixed(v) => v as f64,
            Dist::Exponential { mean } => mean as f64,
            Dist::Uniform { low, high } => (low as f64 + high as f64) / 2.0,
            Dist::LogNormal { median, sigma } => median as f64 * (sigma * sigma / 2.0).exp(),
        }
    }
}

/// One entry of a size mix: a VM shape and its integer weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightedSize {
    pub size: Resources,
    pub weight: u32,
}

/// A weighted choice of VM shapes. Weights are integers so that the choice is
/// bit-exact on every machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeMix {
    pub entries: Vec<WeightedSize>,
}

impl SizeMix {
    pub fn total_weight(&self) -> u64 {
        self.entries.iter().map(|e| e.weight as u64).sum()
    }

    /// The entry chosen by a draw in [0, total_weight).
    pub fn pick(&self, draw: u64) -> &Resources {
        let mut acc = 0u64;
        for e in &self.entries {
            acc += e.weight as u64;
            if draw < acc {
                return &e.size;
            }
        }
        &self.entries.last().expect("size mix is never empty").size
    }
}
