//! Axis ticks and the labels on them, as a reader wants them: whole
//! numbers on count axes, time in minutes, hours or days, utilization on a
//! fixed 0–100 % scale, and values with three significant digits.

use crate::report::numbers::sig3;

/// What an axis measures; decides its ticks and how they read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// Whole things: hosts, VMs. Ticks on whole numbers only.
    Count,
    /// Percent of capacity, always 0 to 100.
    Percent,
    /// Seconds of virtual time, shown in minutes, hours or days.
    Time,
    /// Any other measured value (an SLO's metric).
    Value,
}

/// An axis's range, widened to its outer ticks, and the ticks in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    pub lo: f64,
    pub hi: f64,
    pub at: Vec<f64>,
}

/// At most about this many labelled ticks on an axis.
const MAX_TICKS: f64 = 8.0;

/// The ticks for data between `lo` and `hi` on a `scale` axis.
pub fn ticks(scale: Scale, lo: f64, hi: f64) -> Ticks {
    let (lo, hi) = match scale {
        Scale::Percent => (0.0, 100.0),
        _ if !(lo.is_finite() && hi.is_finite()) => (0.0, 1.0),
        _ if hi <= lo => (lo, lo + 1.0),
        _ => (lo, hi),
    };
    let step = match scale {
        Scale::Percent => 20.0,
        Scale::Count => nice_step(hi - lo).max(1.0),
        Scale::Time => {
            let unit = time_unit(hi - lo).seconds;
            time_step(hi - lo, unit) * unit
        }
        Scale::Value => nice_step(hi - lo),
    };
    let first = (lo / step).floor();
    let last = (hi / step).ceil();
    let (lo, hi) = match scale {
        // Time starts where the run starts and ends where it ends.
        Scale::Time => (lo, hi),
        _ => (first * step, last * step),
    };
    let at = (first as i64..=last as i64)
        .map(|i| i as f64 * step)
        .filter(|t| *t >= lo - step * 1e-9 && *t <= hi + step * 1e-9)
        .collect();
    Ticks { lo, hi, at }
}

/// The smallest of 1, 2, 5 × 10^k that cuts `span` into at most
/// `MAX_TICKS` pieces.
fn nice_step(span: f64) -> f64 {
    let raw = span / MAX_TICKS;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// A unit of time for an axis label.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeUnit {
    pub seconds: f64,
    pub suffix: &'static str,
}

/// Minutes up to three hours, hours up to three days, then days.
pub fn time_unit(span_s: f64) -> TimeUnit {
    if span_s <= 3.0 * 3600.0 {
        TimeUnit {
            seconds: 60.0,
            suffix: "min",
        }
    } else if span_s <= 3.0 * 86_400.0 {
        TimeUnit {
            seconds: 3600.0,
            suffix: "h",
        }
    } else {
        TimeUnit {
            seconds: 86_400.0,
            suffix: "d",
        }
    }
}

/// A step in `unit`s that reads naturally (quarter hours, 6 hours, weeks).
fn time_step(span_s: f64, unit: f64) -> f64 {
    let candidates: &[f64] = if unit == 60.0 {
        &[1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0]
    } else if unit == 3600.0 {
        &[1.0, 2.0, 3.0, 6.0, 12.0, 24.0]
    } else {
        &[1.0, 2.0, 7.0, 14.0, 30.0, 60.0, 90.0, 180.0, 365.0]
    };
    let raw = span_s / unit / MAX_TICKS;
    candidates
        .iter()
        .copied()
        .find(|s| *s >= raw)
        .unwrap_or_else(|| nice_step(span_s / unit))
}

/// The label of the tick at `v` on an axis spanning `span` (for time, the
/// unit depends on the span).
pub fn label(scale: Scale, span: f64, v: f64) -> String {
    match scale {
        Scale::Count => format!("{}", v.round()),
        Scale::Percent => format!("{}%", v.round()),
        Scale::Time => {
            let unit = time_unit(span);
            format!("{} {}", sig3(v / unit.seconds), unit.suffix)
        }
        Scale::Value => sig3(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_axes_tick_only_whole_numbers() {
        let t = ticks(Scale::Count, 3.0, 5.0);
        assert_eq!(t.at, vec![3.0, 4.0, 5.0]);
        let t = ticks(Scale::Count, 0.0, 13.5);
        assert!(t.at.iter().all(|v| v.fract() == 0.0), "{t:?}");
        assert_eq!((t.lo, t.hi), (0.0, 14.0));
        assert_eq!(label(Scale::Count, 14.0, 4.0), "4");
    }

    #[test]
    fn utilization_is_always_zero_to_a_hundred_percent() {
        let t = ticks(Scale::Percent, 12.0, 67.0);
        assert_eq!((t.lo, t.hi), (0.0, 100.0));
        assert_eq!(t.at, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(label(Scale::Percent, 100.0, 40.0), "40%");
    }

    #[test]
    fn time_reads_in_minutes_hours_or_days() {
        let day = ticks(Scale::Time, 0.0, 86_400.0);
        assert_eq!(day.at[1], 3.0 * 3600.0, "{day:?}");
        assert_eq!(label(Scale::Time, 86_400.0, 6.0 * 3600.0), "6 h");
        let hour = ticks(Scale::Time, 0.0, 3600.0);
        assert_eq!(hour.at[1], 600.0);
        assert_eq!(label(Scale::Time, 3600.0, 600.0), "10 min");
        assert_eq!(label(Scale::Time, 30.0 * 86_400.0, 7.0 * 86_400.0), "7 d");
        let week = ticks(Scale::Time, 0.0, 30.0 * 86_400.0);
        assert!(week.at.len() <= 9, "{week:?}");
    }

    #[test]
    fn value_ticks_are_round_and_cover_the_data() {
        let t = ticks(Scale::Value, 0.0, 0.0213);
        assert!(t.hi >= 0.0213 && t.lo == 0.0, "{t:?}");
        assert!(t.at.len() <= 9);
        assert_eq!(label(Scale::Value, 0.03, 0.005), "0.005");
        let flat = ticks(Scale::Value, 2.0, 2.0);
        assert!(flat.hi > flat.lo);
    }
}
