//! Seeded random streams. Every random draw in pacsim comes from a
//! [`StreamRng`] derived from (scenario seed, stream name), so adding an actor
//! or a source never shifts another one's draws.
//!
//! Sampling uses `libm` rather than the platform's math library so that
//! `ln`/`exp` give the same bits on every machine. The simulation's integer
//! draws are our own (`below`, `chance`), so no rand release can move a
//! digest; `StreamRng` is also a [`rand::Rng`], for tools (the input
//! mutator) that want rand's ranges and slice helpers.

use crate::model::Dist;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One deterministic stream: ChaCha8 keyed by blake3(seed, name).
#[derive(Clone, Debug)]
pub struct StreamRng {
    inner: ChaCha8Rng,
}

impl StreamRng {
    /// The stream called `name` (e.g. `host/esx-03`) of the run seeded `seed`.
    pub fn derive(seed: u64, name: &str) -> StreamRng {
        let mut hasher = blake3::Hasher::new_derive_key("pacsim stream v1");
        hasher.update(&seed.to_le_bytes());
        hasher.update(name.as_bytes());
        StreamRng {
            inner: ChaCha8Rng::from_seed(*hasher.finalize().as_bytes()),
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in [0, n), without modulo bias (Lemire's method). The
    /// rejection threshold, `2^64 mod n`, is below `n`, so it needs the
    /// division only when the low word falls below `n`: rarely, and the
    /// same draws are accepted as when it was computed every time.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0)");
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            let low = m as u64;
            if low >= n || low >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }

    /// Uniform in (0, 1]: never 0, so `ln` is always finite.
    pub fn unit_open_closed(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `numerator / denominator`, exactly.
    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        self.below(denominator) < numerator
    }

    /// One draw from a duration distribution, in nanoseconds.
    pub fn sample(&mut self, dist: &Dist) -> u64 {
        match *dist {
            Dist::Fixed(v) => v,
            Dist::Exponential { mean } => {
                let u = self.unit_open_closed();
                to_nanos(-(mean as f64) * libm::log(u))
            }
            Dist::Uniform { low, high } => low + self.below(high - low + 1),
            Dist::LogNormal { median, sigma } => {
                let z = self.standard_normal();
                to_nanos(median as f64 * libm::exp(sigma * z))
            }
        }
    }

    /// Box-Muller; one of the pair is discarded to keep the stream simple.
    fn standard_normal(&mut self) -> f64 {
        let u1 = self.unit_open_closed();
        let u2 = self.unit_open_closed();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
    }
}

/// rand's view of the stream: the same ChaCha8 words, infallibly.
impl rand::TryRng for StreamRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.inner.next_u32())
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.inner.next_u64())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.inner.fill_bytes(dst);
        Ok(())
    }
}

/// The streams of a world's actors, derived on first use from (seed, the
/// actor's stable name). Every runtime hands actors their stream from here.
pub struct Streams {
    seed: u64,
    names: Vec<String>,
    rngs: Vec<Option<StreamRng>>,
}

impl Streams {
    /// `names[i]` is actor i's stable name, e.g. `host/esx-03`.
    /// Actor `actor`'s name, if it has one.
    pub fn name(&self, actor: usize) -> Option<&str> {
        self.names.get(actor).map(String::as_str)
    }

    pub fn new(seed: u64, names: Vec<String>) -> Self {
        let rngs = names.iter().map(|_| None).collect();
        Streams { seed, names, rngs }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// The stream of an actor made at run time (the next id).
    pub fn push(&mut self, name: String) {
        self.names.push(name);
        self.rngs.push(None);
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn get(&mut self, actor: usize) -> &mut StreamRng {
        let (seed, name) = (self.seed, &self.names[actor]);
        self.rngs[actor].get_or_insert_with(|| StreamRng::derive(seed, name))
    }
}

/// Rounds a non-negative float of nanoseconds, saturating at the longest
/// duration pacsim holds (a draw from a far tail is "longer than any
/// run", and stays addable to any time).
fn to_nanos(x: f64) -> u64 {
    const MAX: u64 = crate::model::limits::MAX_DURATION_NANOS;
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= MAX as f64 {
        MAX
    } else {
        libm::round(x) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rands_view_is_the_same_stream() {
        use rand::RngExt;
        let mut ours = StreamRng::derive(3, "x");
        let mut theirs = StreamRng::derive(3, "x");
        let words: Vec<u64> = (0..4).map(|_| ours.next_u64()).collect();
        let via_rand: Vec<u64> = (0..4).map(|_| rand::Rng::next_u64(&mut theirs)).collect();
        assert_eq!(words, via_rand);
        let r = theirs.random_range(10..20u64);
        assert!((10..20).contains(&r));
    }

    /// Skipping the division when the low word is at least `n` accepts and
    /// rejects exactly the draws the threshold alone would: the stream and
    /// every digest stay. Bounds near 2^63 and 2^64 reject often.
    #[test]
    fn below_draws_what_the_threshold_alone_draws() {
        let reference = |rng: &mut StreamRng, n: u64| loop {
            let m = (rng.next_u64() as u128) * (n as u128);
            if m as u64 >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        };
        let bounds = [
            1,
            2,
            3,
            5,
            31,
            1000,
            (1 << 63) + 1,
            u64::MAX / 3 * 2,
            u64::MAX,
        ];
        for n in bounds {
            let mut ours = StreamRng::derive(11, "below");
            let mut theirs = StreamRng::derive(11, "below");
            for _ in 0..2_000 {
                assert_eq!(ours.below(n), reference(&mut theirs, n), "n = {n}");
            }
            assert_eq!(ours.next_u64(), theirs.next_u64(), "as many words drawn");
        }
    }

    #[test]
    fn streams_with_different_names_differ_and_same_names_repeat() {
        let a1: Vec<u64> = (0..4)
            .map({
                let mut r = StreamRng::derive(7, "host/esx-01");
                move |_| r.next_u64()
            })
            .collect();
        let a2: Vec<u64> = (0..4)
            .map({
                let mut r = StreamRng::derive(7, "host/esx-01");
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = StreamRng::derive(7, "host/esx-02");
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
    }

    #[test]
    fn exponential_mean_is_close_to_its_parameter() {
        let mut r = StreamRng::derive(1, "t");
        let n = 200_000;
        let mean = 1_000_000u64;
        let sum: u128 = (0..n)
            .map(|_| r.sample(&Dist::Exponential { mean }) as u128)
            .sum();
        let got = sum as f64 / n as f64;
        assert!((got / mean as f64 - 1.0).abs() < 0.01, "mean {got}");
    }

    #[test]
    fn uniform_stays_in_bounds_and_hits_both_ends() {
        let mut r = StreamRng::derive(1, "u");
        let draws: Vec<u64> = (0..10_000)
            .map(|_| r.sample(&Dist::Uniform { low: 5, high: 8 }))
            .collect();
        assert!(draws.iter().all(|&d| (5..=8).contains(&d)));
        assert!(draws.contains(&5) && draws.contains(&8));
    }

    #[test]
    fn lognormal_median_is_close_to_its_parameter() {
        let mut r = StreamRng::derive(3, "l");
        let mut draws: Vec<u64> = (0..20_001)
            .map(|_| {
                r.sample(&Dist::LogNormal {
                    median: 1000,
                    sigma: 1.0,
                })
            })
            .collect();
        draws.sort_unstable();
        let median = draws[10_000] as f64;
        assert!((median / 1000.0 - 1.0).abs() < 0.05, "median {median}");
    }
}
