//! Distributions as data. Sampling lives in `random` (`StreamRng::sample`)
//! so that this module stays free of randomness and can be parsed, printed
//! and compared.

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
/// bit-exact on every machine. A pick is a binary search over the running
/// sums of the weights, so a mix of 100,000 shapes costs 17 steps, not a
/// scan, and gives the same entry as a scan for the same draw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<WeightedSize>", into = "Vec<WeightedSize>")]
pub struct SizeMix {
    entries: Vec<WeightedSize>,
    /// `ends[i]` = the weights of entries 0..=i summed.
    ends: Vec<u64>,
}

impl SizeMix {
    /// A mix of `entries` (at least one, each weighing at least 1).
    pub fn new(entries: Vec<WeightedSize>) -> Self {
        let ends = entries
            .iter()
            .scan(0u64, |sum, e| {
                *sum += u64::from(e.weight);
                Some(*sum)
            })
            .collect();
        SizeMix { entries, ends }
    }

    pub fn entries(&self) -> &[WeightedSize] {
        &self.entries
    }

    pub fn total_weight(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// The entry chosen by a draw in [0, total_weight): the first whose
    /// running sum is above the draw.
    pub fn pick(&self, draw: u64) -> &Resources {
        let i = self.ends.partition_point(|&end| end <= draw);
        let entry = self.entries.get(i).or(self.entries.last());
        &entry.expect("size mix is never empty").size
    }
}

impl From<Vec<WeightedSize>> for SizeMix {
    fn from(entries: Vec<WeightedSize>) -> Self {
        SizeMix::new(entries)
    }
}

impl From<SizeMix> for Vec<WeightedSize> {
    fn from(mix: SizeMix) -> Self {
        mix.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The running-sum search picks what a walk down the list picks.
    #[test]
    fn pick_matches_a_linear_walk_for_every_draw() {
        let weights = [3u32, 1, 4, 1, 5, 9, 2, 6];
        let mix = SizeMix::new(
            weights
                .iter()
                .enumerate()
                .map(|(i, &weight)| WeightedSize {
                    size: Resources::new(i as u64 + 1, 1, 0),
                    weight,
                })
                .collect(),
        );
        let walk = |draw: u64| {
            let mut acc = 0;
            for e in mix.entries() {
                acc += u64::from(e.weight);
                if draw < acc {
                    return e.size;
                }
            }
            unreachable!("draw {draw} is below the total")
        };
        for draw in 0..mix.total_weight() {
            assert_eq!(*mix.pick(draw), walk(draw), "draw {draw}");
        }
    }
}
