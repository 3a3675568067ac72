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

/// `x` with three significant digits, trailing zeros dropped: 19813.892 →
/// "19800", 0.021347 → "0.0213", 2.5 → "2.5". For reading, not for data
/// (report.json keeps the values themselves).
pub fn sig3(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x.is_nan() {
            "-".to_string()
        } else {
            format!("{}", if x == 0.0 { 0.0 } else { x })
        };
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).max(0) as usize;
    let scale = 10f64.powi(2 - magnitude);
    let rounded = (x * scale).round() / scale;
    let text = format!("{rounded:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" { "0".to_string() } else { text }
}

#[cfg(test)]
mod tests {
    use super::sig3;

    #[test]
    fn three_significant_digits_without_trailing_zeros() {
        for (x, text) in [
            (19813.892, "19800"),
            (0.021347, "0.0213"),
            (2.5, "2.5"),
            (100.0, "100"),
            (99.96, "100"),
            (0.0, "0"),
            (-1.234, "-1.23"),
            (0.1 + 0.2, "0.3"),
            (0.015000000000000001, "0.015"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(sig3(x), text, "{x}");
        }
    }
}
