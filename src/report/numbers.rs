//! Numbers as reports show them: rounded to three decimals, percentages,
//! and latency percentiles that say when nothing was measured.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Three decimals: enough for any rate or percentage a report shows.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `v` as a percentage of `total`, 3 decimals; 0 when there is no capacity.
pub fn pct(v: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        round3(100.0 * v as f64 / total as f64)
    }
}

/// Percentiles of a latency histogram in milliseconds; `null` (None) when
/// nothing was measured, so that `p99 <= 500` on a run where nothing
/// started does not pass on a made-up zero.
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

impl Latency {
    /// From a histogram of nanoseconds.
    pub fn of(h: &Histogram<u64>) -> Latency {
        let ms = |ns: u64| (!h.is_empty()).then(|| round3(ns as f64 / 1e6));
        Latency {
            p50: ms(h.value_at_quantile(0.5)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }

    /// `p50 3.1 ms  p99 9.8 ms` (and `  max 12 ms` with `max`), or
    /// `no samples`.
    pub fn text(&self, max: bool) -> String {
        let [Some(p50), Some(p99), Some(top)] = [self.p50, self.p99, self.max] else {
            return "no samples".to_string();
        };
        let text = format!("p50 {p50} ms  p99 {p99} ms");
        if max {
            format!("{text}  max {top} ms")
        } else {
            text
        }
    }
}
