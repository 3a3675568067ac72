//! Virtual time: integer nanoseconds since the start of the simulation.
//! Integers, not floats, so that ordering and arithmetic are exact everywhere.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in virtual time, in nanoseconds since the simulation started.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SimTime(pub u64);

/// A span of virtual time in nanoseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SimDuration(pub u64);

pub const NANOS_PER_SEC: u64 = 1_000_000_000;

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    pub fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * NANOS_PER_SEC)
    }

    pub const fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms * 1_000_000)
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
}

/// Saturating: a time past the end of any run is "never", not a wrap to
/// the start (inputs are bounded, see `limits`, so this is a last guard).
impl std::ops::Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        self.saturating_add(d)
    }
}

/// Human form: `1d 02:03:04.5`, `02:03:04`, `4.25s`.
pub fn format_nanos(ns: u64) -> String {
    let total_secs = ns / NANOS_PER_SEC;
    let frac = ns % NANOS_PER_SEC;
    let (d, h, m, s) = (
        total_secs / 86400,
        total_secs / 3600 % 24,
        total_secs / 60 % 60,
        total_secs % 60,
    );
    let mut out = String::new();
    if d > 0 {
        out.push_str(&format!("{d}d "));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if frac > 0 {
        let ms = frac / 1_000_000;
        out.push_str(&format!(".{ms:03}"));
    }
    out
}

/// The units a scenario writes spans in, largest first.
const SPAN_UNITS: [(u64, &str); 7] = [
    (86_400 * NANOS_PER_SEC, "d"),
    (3_600 * NANOS_PER_SEC, "h"),
    (60 * NANOS_PER_SEC, "m"),
    (NANOS_PER_SEC, "s"),
    (1_000_000, "ms"),
    (1_000, "us"),
    (1, "ns"),
];

/// A span as a scenario would write it, in its largest whole unit with at
/// most two decimals: `1ns`, `2.5ms`, `90s`, `7.2h`, `36500d`.
pub fn format_span(ns: u64) -> String {
    let &(unit, name) = SPAN_UNITS
        .iter()
        .find(|(u, _)| ns >= *u)
        .unwrap_or(&SPAN_UNITS[6]);
    let text = format!("{:.2}", ns as f64 / unit as f64);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{name}")
}

/// A span in its largest unit that holds it whole (`90s`, `1500us`):
/// what reads back as the same span.
pub fn format_span_exact(ns: u64) -> String {
    let &(unit, name) = (SPAN_UNITS.iter())
        .find(|(u, _)| ns > 0 && ns.is_multiple_of(*u))
        .unwrap_or(&SPAN_UNITS[6]);
    format!("{}{name}", ns / unit)
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_nanos(self.0))
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.as_secs_f64();
        if s < 1.0 {
            write!(f, "{:.3}ms", self.0 as f64 / 1e6)
        } else {
            write!(f, "{s:.3}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_spans_read_back_whole() {
        let cases = [
            (0, "0ns"),
            (1_500_000, "1500us"),
            (90 * NANOS_PER_SEC, "90s"),
            (600 * NANOS_PER_SEC, "10m"),
            (7_236 * NANOS_PER_SEC, "7236s"),
            (2 * 86_400 * NANOS_PER_SEC, "2d"),
        ];
        for (ns, text) in cases {
            assert_eq!(format_span_exact(ns), text);
        }
    }

    #[test]
    fn spans_read_as_scenarios_write_them() {
        let cases = [
            (0, "0ns"),
            (1, "1ns"),
            (2_500_000, "2.5ms"),
            (90 * NANOS_PER_SEC, "1.5m"),
            (7_200 * NANOS_PER_SEC + 720 * NANOS_PER_SEC, "2.2h"),
            (36_500 * 86_400 * NANOS_PER_SEC, "36500d"),
        ];
        for (ns, text) in cases {
            assert_eq!(format_span(ns), text);
        }
    }

    #[test]
    fn adding_past_the_end_of_time_saturates() {
        assert_eq!(SimTime(u64::MAX - 1) + SimDuration(5), SimTime::MAX);
    }
}
