//! Units in scenario text: durations, memory quantities, cpu, GPUs, rates and
//! duration distributions. Pure string-to-integer functions; the caller adds
//! the location. Arithmetic is on decimal digits, not floats, so `1.5h` is
//! exactly 5_400_000_000_000 ns on every machine.

use crate::model::Dist;
use crate::model::limits::{
    self, MAX_BYTES, MAX_CPU_MILLIS, MAX_DURATION_NANOS, MAX_GPU_MILLIS, MAX_RATE_PER_SEC,
};
use crate::model::time::format_span;

const NS: u128 = 1;
const US: u128 = 1_000;
const MS: u128 = 1_000_000;
const SEC: u128 = 1_000_000_000;
const MIN: u128 = 60 * SEC;
const HOUR: u128 = 60 * MIN;
const DAY: u128 = 24 * HOUR;

const DURATION_UNITS: [(&str, u128); 9] = [
    ("ns", NS),
    ("us", US),
    ("µs", US),
    ("ms", MS),
    ("s", SEC),
    ("m", MIN),
    ("min", MIN),
    ("h", HOUR),
    ("d", DAY),
];

const MEMORY_UNITS: [(&str, u128); 10] = [
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("Pi", 1 << 50),
    ("K", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
    ("P", 1_000_000_000_000_000),
];

const RATE_HINT: &str = "expected arrivals per unit of time, e.g. `1.5/s`, `90/min`, `5/h`, `2/d`";
const DIST_NAMES: [&str; 5] = ["fixed", "exp", "exponential", "uniform", "lognormal"];

/// An unsigned decimal `digits / 10^scale`, e.g. `1.5` = 15 / 10^1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Decimal {
    digits: u128,
    scale: u32,
}

impl Decimal {
    /// `12`, `1.5`, `.5`, `5.`; no sign, no exponent. `None` if not that.
    fn parse(s: &str) -> Option<Decimal> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        // 30 digits keep `digits * unit` far from u128 overflow.
        if int.len() + frac.len() == 0
            || int.len() + frac.len() > 30
            || !all_digits(int)
            || !all_digits(frac)
        {
            return None;
        }
        let digits = format!("{int}{frac}").parse().ok()?;
        Some(Decimal {
            digits,
            scale: frac.len() as u32,
        })
    }

    fn is_zero(self) -> bool {
        self.digits == 0
    }

    /// `self * unit`, rounded half up to an integer; `None` on overflow.
    fn times(self, unit: u128) -> Option<u128> {
        let den = 10u128.checked_pow(self.scale)?;
        let num = self.digits.checked_mul(unit)?;
        Some((num + den / 2) / den)
    }
}

/// Splits `1h30m` into `[("1", "h"), ("30", "m")]`; `None` if the text is not
/// alternating numbers and unit words.
fn number_unit_pairs(s: &str) -> Option<Vec<(&str, &str)>> {
    let mut pairs = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let unit_end = rest[num_end..]
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .map_or(rest.len(), |i| num_end + i);
        if num_end == 0 {
            return None;
        }
        pairs.push((&rest[..num_end], &rest[num_end..unit_end]));
        rest = &rest[unit_end..];
    }
    Some(pairs)
}

/// `90s`, `1.5h`, `250ms`, `1h30m`, `0` -> nanoseconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let s = text.trim();
    let invalid = || {
        format!(
            "invalid duration `{text}`: expected a number with a unit (ns, us, ms, s, m, h, d), e.g. `90s`, `1.5h` or `1h30m`"
        )
    };
    if s.starts_with('-') {
        return Err(format!(
            "invalid duration `{text}`: durations cannot be negative"
        ));
    }
    if let Some(d) = Decimal::parse(s) {
        return if d.is_zero() {
            Ok(0)
        } else {
            Err(format!(
                "duration `{text}` needs a unit (ns, us, ms, s, m, h, d), e.g. `{s}s`"
            ))
        };
    }
    let pairs = number_unit_pairs(s)
        .filter(|p| !p.is_empty())
        .ok_or_else(invalid)?;
    let mut total: u128 = 0;
    for (num, unit) in pairs {
        let d = Decimal::parse(num).ok_or_else(invalid)?;
        let scale = DURATION_UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, v)| *v)
            .ok_or_else(invalid)?;
        total = d
            .times(scale)
            .map_or(u128::MAX, |v| total.saturating_add(v));
    }
    at_most(total, MAX_DURATION_NANOS, "duration", text, || {
        format_span(MAX_DURATION_NANOS)
    })
}

/// `value`, or an error naming the bound (`what` `text` is past the limit).
fn at_most(
    value: u128,
    max: u64,
    what: &str,
    text: &str,
    bound: impl FnOnce() -> String,
) -> Result<u64, String> {
    match u64::try_from(value) {
        Ok(v) if v <= max => Ok(v),
        _ => Err(format!("{what} `{text}` is too large: at most {}", bound())),
    }
}

/// `512Gi`, `0.5Ti`, `64G`, `1048576` -> bytes. Zero is allowed here; the
/// caller decides whether the field may be zero.
pub fn parse_memory(text: &str) -> Result<u64, String> {
    let s = text.trim();
    if s.starts_with('-') {
        return Err(format!("memory must be greater than zero, found `{text}`"));
    }
    let invalid = || {
        format!(
            "invalid memory quantity `{text}`: expected a number with an optional unit (Ki, Mi, Gi, Ti, Pi, K, M, G, T, P), e.g. `512Gi`"
        )
    };
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let d = Decimal::parse(&s[..num_end]).ok_or_else(invalid)?;
    let unit = &s[num_end..];
    let scale = if unit.is_empty() {
        1
    } else {
        MEMORY_UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, v)| *v)
            .ok_or_else(invalid)?
    };
    let bytes = d.times(scale).unwrap_or(u128::MAX);
    at_most(bytes, MAX_BYTES, "memory quantity", text, || "8Pi".into())
}

/// `64` cores, `0.5` cores or `500m` millicores -> millicores.
pub fn parse_cpu(text: &str) -> Result<u64, String> {
    let s = text.trim();
    if s.starts_with('-') {
        return Err(format!("cpu must be greater than zero, found `{text}`"));
    }
    let invalid = || {
        format!(
            "invalid cpu quantity `{text}`: expected cores (`64`, `0.5`) or millicores (`500m`)"
        )
    };
    let (num, per_unit) = match s.strip_suffix('m') {
        Some(millis) => (millis, 1),
        None => (s, 1000),
    };
    let d = Decimal::parse(num).ok_or_else(invalid)?;
    let millis = d.times(per_unit).unwrap_or(u128::MAX);
    at_most(millis, MAX_CPU_MILLIS, "cpu quantity", text, || {
        format!("{} cores", MAX_CPU_MILLIS / 1000)
    })
}

/// `2` or `0.5` GPUs -> milli-GPUs.
pub fn parse_gpus(text: &str) -> Result<u64, String> {
    let s = text.trim();
    if s.starts_with('-') {
        return Err(format!("gpus cannot be negative, found `{text}`"));
    }
    let d = Decimal::parse(s).ok_or_else(|| {
        format!("invalid gpu count `{text}`: expected a number of GPUs, e.g. `2` or `0.5`")
    })?;
    let millis = d.times(1000).unwrap_or(u128::MAX);
    at_most(millis, MAX_GPU_MILLIS, "gpu count", text, || {
        format!("{} GPUs", MAX_GPU_MILLIS / 1000)
    })
}

/// `1.5/s`, `90/min`, `5/h`, `2/d` -> exponential interarrival times with
/// mean 1/rate, rounded to the nearest nanosecond.
pub fn parse_rate(text: &str) -> Result<Dist, String> {
    let s = text.trim();
    let Some((num, unit)) = s.split_once('/') else {
        return Err(format!("invalid rate `{text}`: {RATE_HINT}"));
    };
    let unit_ns = match unit.trim() {
        "s" | "sec" => SEC,
        "min" => MIN,
        "h" => HOUR,
        "d" => DAY,
        "m" => {
            return Err(format!(
                "rate unit `/m` in `{text}` is ambiguous; write `/min` for per minute"
            ));
        }
        _ => {
            return Err(format!(
                "invalid rate `{text}`: unknown unit `/{}`; {RATE_HINT}",
                unit.trim()
            ));
        }
    };
    let num = num.trim();
    if num.starts_with('-') {
        return Err(format!("rate must be greater than zero, found `{text}`"));
    }
    let d = Decimal::parse(num).ok_or_else(|| format!("invalid rate `{text}`: {RATE_HINT}"))?;
    if d.is_zero() {
        return Err(format!("rate must be greater than zero, found `{text}`"));
    }
    // mean = unit_ns / (digits / 10^scale) = unit_ns * 10^scale / digits.
    let scaled = 10u128
        .checked_pow(d.scale)
        .and_then(|p| p.checked_mul(unit_ns))
        .ok_or_else(|| format!("rate `{text}` is out of range"))?;
    // The exact mean, before rounding, is at least the floor.
    if scaled < limits::MIN_INTERARRIVAL_NANOS as u128 * d.digits {
        return Err(format!(
            "rate `{text}` is too high: at most {MAX_RATE_PER_SEC}/s"
        ));
    }
    let mean = (scaled + d.digits / 2) / d.digits;
    if mean > MAX_DURATION_NANOS as u128 {
        return Err(format!(
            "rate `{text}` is too low: at least one arrival in {}",
            format_span(MAX_DURATION_NANOS)
        ));
    }
    Ok(Dist::Exponential { mean: mean as u64 })
}

/// `1h` (fixed), `fixed(1h)`, `exp(600s)`, `exponential(600s)`,
/// `uniform(1m, 10m)`, `lognormal(10m, 1.2)`.
pub fn parse_dist(text: &str) -> Result<Dist, String> {
    let s = text.trim();
    let Some(open) = s.find('(') else {
        return parse_duration(s).map(Dist::Fixed).map_err(|e| {
            format!("{e}; a distribution is a duration or one of `fixed(1h)`, `exp(10m)`, `uniform(1m, 10m)`, `lognormal(10m, 1.2)`")
        });
    };
    let name = s[..open].trim();
    let Some(inner) = s[open + 1..].strip_suffix(')') else {
        return Err(format!(
            "invalid distribution `{text}`: missing closing `)`"
        ));
    };
    let args: Vec<&str> = inner.split(',').map(str::trim).collect();
    let want = |n: usize, shape: &str| {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!(
                "`{name}` takes {n} argument(s) ({shape}), found {} in `{text}`",
                args.len()
            ))
        }
    };
    match name {
        "fixed" => {
            want(1, "value")?;
            Ok(Dist::Fixed(parse_duration(args[0])?))
        }
        "exp" | "exponential" => {
            want(1, "mean")?;
            Ok(Dist::Exponential {
                mean: parse_duration(args[0])?,
            })
        }
        "uniform" => {
            want(2, "low, high")?;
            let (low, high) = (parse_duration(args[0])?, parse_duration(args[1])?);
            if low > high {
                return Err(format!(
                    "invalid distribution `{text}`: low `{}` is above high `{}`",
                    args[0], args[1]
                ));
            }
            Ok(Dist::Uniform { low, high })
        }
        "lognormal" => {
            want(2, "median, sigma")?;
            let median = parse_duration(args[0])?;
            let sigma: f64 = args[1].parse().map_err(|_| {
                format!(
                    "invalid sigma `{}` in `{text}`: expected a number >= 0",
                    args[1]
                )
            })?;
            if !sigma.is_finite() || sigma < 0.0 {
                return Err(format!(
                    "invalid sigma `{}` in `{text}`: expected a finite number >= 0",
                    args[1]
                ));
            }
            Ok(Dist::LogNormal { median, sigma })
        }
        _ => Err(format!(
            "unknown distribution `{name}` in `{text}`; expected one of {}{}",
            super::error::backticked(DIST_NAMES),
            super::error::suggestion(name, DIST_NAMES)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3_600_000_000_000;
    const S: u64 = 1_000_000_000;

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("90s"), Ok(90 * S));
        assert_eq!(parse_duration("24h"), Ok(24 * H));
        assert_eq!(parse_duration("1.5h"), Ok(5_400 * S));
        assert_eq!(parse_duration("10m"), Ok(600 * S));
        assert_eq!(parse_duration("10min"), Ok(600 * S));
        assert_eq!(parse_duration("250ms"), Ok(250_000_000));
        assert_eq!(parse_duration("5us"), Ok(5_000));
        assert_eq!(parse_duration("5µs"), Ok(5_000));
        assert_eq!(parse_duration("100ns"), Ok(100));
        assert_eq!(parse_duration("7d"), Ok(7 * 24 * H));
        assert_eq!(parse_duration("1h30m"), Ok(5_400 * S));
        assert_eq!(parse_duration("1d2h3m4s5ms"), Ok(93_784 * S + 5_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration(".5s"), Ok(S / 2));
        assert_eq!(parse_duration("0.1ns"), Ok(0), "sub-ns rounds to nearest");
    }

    #[test]
    fn durations_that_are_errors() {
        assert_eq!(
            parse_duration("90").unwrap_err(),
            "duration `90` needs a unit (ns, us, ms, s, m, h, d), e.g. `90s`"
        );
        assert!(
            parse_duration("-5s")
                .unwrap_err()
                .contains("cannot be negative")
        );
        for bad in [
            "", "s", "12x", "1.2.3s", "1h 30m", "h1", "1e3s", "abc", "5ss",
        ] {
            let e = parse_duration(bad).unwrap_err();
            assert!(
                e.starts_with(&format!("invalid duration `{bad}`")),
                "{bad}: {e}"
            );
        }
        assert!(
            parse_duration("999999999999d")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn memory_in_every_unit() {
        assert_eq!(parse_memory("512Gi"), Ok(512 << 30));
        assert_eq!(parse_memory("0.5Ti"), Ok(1 << 39));
        assert_eq!(parse_memory("1Ki"), Ok(1024));
        assert_eq!(parse_memory("3Mi"), Ok(3 << 20));
        assert_eq!(parse_memory("2Pi"), Ok(2 << 50));
        assert_eq!(parse_memory("1K"), Ok(1_000));
        assert_eq!(parse_memory("1.5M"), Ok(1_500_000));
        assert_eq!(parse_memory("64G"), Ok(64_000_000_000));
        assert_eq!(parse_memory("2T"), Ok(2_000_000_000_000));
        assert_eq!(parse_memory("1P"), Ok(1_000_000_000_000_000));
        assert_eq!(parse_memory("1048576"), Ok(1_048_576));
        assert_eq!(parse_memory("0"), Ok(0));
    }

    #[test]
    fn memory_that_is_an_error() {
        assert_eq!(
            parse_memory("12Gx").unwrap_err(),
            "invalid memory quantity `12Gx`: expected a number with an optional unit (Ki, Mi, Gi, Ti, Pi, K, M, G, T, P), e.g. `512Gi`"
        );
        assert_eq!(
            parse_memory("-4Gi").unwrap_err(),
            "memory must be greater than zero, found `-4Gi`"
        );
        assert!(parse_memory("Gi").is_err());
        assert!(parse_memory("4gi").is_err(), "units are case-sensitive");
        assert!(
            parse_memory("99999999Pi")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn cpu_and_gpus() {
        assert_eq!(parse_cpu("64"), Ok(64_000));
        assert_eq!(parse_cpu("0.5"), Ok(500));
        assert_eq!(parse_cpu("500m"), Ok(500));
        assert_eq!(parse_cpu("1.25"), Ok(1_250));
        assert!(parse_cpu("-1").unwrap_err().contains("greater than zero"));
        assert!(
            parse_cpu("4 cores")
                .unwrap_err()
                .starts_with("invalid cpu quantity `4 cores`")
        );
        assert!(parse_cpu("m").is_err());
        assert_eq!(parse_gpus("0"), Ok(0));
        assert_eq!(parse_gpus("2"), Ok(2_000));
        assert_eq!(parse_gpus("0.5"), Ok(500));
        assert!(parse_gpus("-1").unwrap_err().contains("negative"));
        assert!(
            parse_gpus("lots")
                .unwrap_err()
                .starts_with("invalid gpu count")
        );
        assert!(parse_gpus("9999999").unwrap_err().contains("too large"));
    }

    #[test]
    fn rates_become_exponential_interarrivals() {
        assert_eq!(
            parse_rate("1.5/s"),
            Ok(Dist::Exponential { mean: 666_666_667 })
        );
        assert_eq!(parse_rate("2/s"), Ok(Dist::Exponential { mean: S / 2 }));
        assert_eq!(
            parse_rate("90/min"),
            Ok(Dist::Exponential { mean: 666_666_667 })
        );
        assert_eq!(parse_rate("5/h"), Ok(Dist::Exponential { mean: 720 * S }));
        assert_eq!(parse_rate("2/d"), Ok(Dist::Exponential { mean: 12 * H }));
    }

    #[test]
    fn rates_that_are_errors() {
        assert!(parse_rate("5/m").unwrap_err().contains("write `/min`"));
        assert!(parse_rate("0/s").unwrap_err().contains("greater than zero"));
        assert!(
            parse_rate("-1/s")
                .unwrap_err()
                .contains("greater than zero")
        );
        assert!(parse_rate("5").unwrap_err().starts_with("invalid rate `5`"));
        assert!(
            parse_rate("5/week")
                .unwrap_err()
                .contains("unknown unit `/week`")
        );
        assert!(parse_rate("x/s").unwrap_err().starts_with("invalid rate"));
        assert!(
            parse_rate("10000000000/s")
                .unwrap_err()
                .contains("too high")
        );
    }

    #[test]
    fn distributions() {
        assert_eq!(parse_dist("1h"), Ok(Dist::Fixed(H)));
        assert_eq!(parse_dist("fixed(1h)"), Ok(Dist::Fixed(H)));
        assert_eq!(
            parse_dist("exp(600s)"),
            Ok(Dist::Exponential { mean: 600 * S })
        );
        assert_eq!(
            parse_dist("exponential(10m)"),
            Ok(Dist::Exponential { mean: 600 * S })
        );
        assert_eq!(
            parse_dist("uniform(1m, 10m)"),
            Ok(Dist::Uniform {
                low: 60 * S,
                high: 600 * S
            })
        );
        assert_eq!(
            parse_dist("lognormal(10m, 1.2)"),
            Ok(Dist::LogNormal {
                median: 600 * S,
                sigma: 1.2
            })
        );
        assert_eq!(
            parse_dist("lognormal(10m, 0)"),
            Ok(Dist::LogNormal {
                median: 600 * S,
                sigma: 0.0
            })
        );
    }

    #[test]
    fn distributions_that_are_errors() {
        assert!(
            parse_dist("uniform(10m, 1m)")
                .unwrap_err()
                .contains("low `10m` is above high `1m`")
        );
        assert!(
            parse_dist("lognormal(10m, -1)")
                .unwrap_err()
                .contains("invalid sigma `-1`")
        );
        assert!(
            parse_dist("lognormal(10m, NaN)")
                .unwrap_err()
                .contains("invalid sigma")
        );
        assert!(
            parse_dist("uniform(1m)")
                .unwrap_err()
                .contains("takes 2 argument(s)")
        );
        assert!(
            parse_dist("exp(600s")
                .unwrap_err()
                .contains("missing closing")
        );
        assert!(parse_dist("exp(600)").unwrap_err().contains("needs a unit"));
        let e = parse_dist("expo(1s)").unwrap_err();
        assert!(
            e.contains("unknown distribution `expo`") && e.contains("did you mean `exp`?"),
            "{e}"
        );
        assert!(
            parse_dist("soon")
                .unwrap_err()
                .starts_with("invalid duration `soon`")
        );
    }

    /// Every quantity past what the model holds is an error naming the
    /// bound, right at it and far past it (where it used to wrap).
    #[test]
    fn quantities_past_their_bounds_name_the_bound() {
        type Parser = fn(&str) -> Result<u64, String>;
        let cases: [(Parser, &str, &str, &str); 5] = [
            (parse_duration, "36500d", "36500d1ns", "at most 36500d"),
            (parse_cpu, "1000000", "1000000001m", "at most 1000000 cores"),
            (parse_memory, "8Pi", "9007199254740993", "at most 8Pi"),
            (parse_gpus, "1000", "1000.001", "at most 1000 GPUs"),
            (
                parse_cpu,
                "1m",
                "18446744073709551615m",
                "at most 1000000 cores",
            ),
        ];
        for (parse, at_bound, past, message) in cases {
            assert!(parse(at_bound).is_ok(), "{at_bound}");
            let e = parse(past).unwrap_err();
            assert!(e.contains(message), "{past}: {e}");
        }
        assert!(
            parse_duration("99999999999999999999999d")
                .unwrap_err()
                .contains("at most 36500d")
        );
        assert!(parse_rate("1000000/s").is_ok());
        let e = parse_rate("1000001/s").unwrap_err();
        assert!(e.contains("at most 1000000/s"), "{e}");
        let e = parse_rate("0.000001/d").unwrap_err();
        assert!(e.contains("at least one arrival in 36500d"), "{e}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        #[test]
        fn unit_parsers_never_panic(text in "[0-9a-zA-Zµ./(),\\- ]{0,24}") {
            let _ = parse_duration(&text);
            let _ = parse_memory(&text);
            let _ = parse_cpu(&text);
            let _ = parse_gpus(&text);
            let _ = parse_rate(&text);
            let _ = parse_dist(&text);
        }

        #[test]
        fn whole_and_tenth_units_are_exact(n in 0u64..1_000_000, tenth in 0u64..10) {
            proptest::prop_assert_eq!(parse_duration(&format!("{n}.{tenth}s")), Ok(n * S + tenth * S / 10));
            let hours = n % 876_000; // 100 years is the longest duration
            proptest::prop_assert_eq!(parse_duration(&format!("{hours}h{tenth}m")), Ok(hours * H + tenth * 60 * S));
            proptest::prop_assert_eq!(parse_memory(&format!("{n}.{tenth}G")), Ok(n * 1_000_000_000 + tenth * 100_000_000));
            proptest::prop_assert_eq!(parse_memory(&format!("{n}.5Ki")), Ok(n * 1024 + 512));
            proptest::prop_assert_eq!(parse_cpu(&format!("{n}.{tenth}")), Ok(n * 1000 + tenth * 100));
        }
    }
}
