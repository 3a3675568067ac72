//! A histogram fed in runs of equal values: most values a run records
//! repeat the one before (a churn run's placement latency is zero for
//! every VM), and counting a repeat is an increment where recording it
//! costs about 60 instructions of index arithmetic.

use hdrhistogram::Histogram;

pub struct RunLengthHistogram {
    histogram: Histogram<u64>,
    /// The value of the run not yet recorded, and its length.
    value: u64,
    repeats: u64,
}

impl RunLengthHistogram {
    pub fn new(histogram: Histogram<u64>) -> Self {
        RunLengthHistogram {
            histogram,
            value: 0,
            repeats: 0,
        }
    }

    /// Records `value` as `Histogram::saturating_record` does.
    #[inline]
    pub fn record(&mut self, value: u64) {
        if value == self.value {
            self.repeats += 1;
        } else {
            self.flush();
            self.value = value;
            self.repeats = 1;
        }
    }

    /// Everything recorded so far.
    pub fn histogram(&mut self) -> &Histogram<u64> {
        self.flush();
        &self.histogram
    }

    fn flush(&mut self) {
        if self.repeats > 0 {
            self.histogram.saturating_record_n(self.value, self.repeats);
            self.repeats = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::StreamRng;

    fn bounded() -> Histogram<u64> {
        Histogram::new_with_bounds(1, 1 << 52, 3).unwrap()
    }

    #[test]
    fn runs_record_what_recording_each_value_records() {
        let mut rng = StreamRng::derive(4, "run-lengths");
        let mut direct = bounded();
        let mut runs = RunLengthHistogram::new(bounded());
        for i in 0..20_000u64 {
            // Long runs of zero, shorter runs of other values, and values
            // past the histogram's bound (saturated alike).
            let value = match rng.below(10) {
                0..=5 => 0,
                6 | 7 => rng.below(4) * 1_000_000,
                8 => u64::MAX - rng.below(3),
                _ => rng.next_u64() >> 20,
            };
            direct.saturating_record(value);
            runs.record(value);
            if i % 4_999 == 0 {
                assert_eq!(runs.histogram(), &direct, "read mid-way, at {i}");
            }
        }
        assert_eq!(runs.histogram(), &direct);
        assert_eq!(direct.len(), 20_000);
    }
}
