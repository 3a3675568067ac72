//! When things happen, as VMs, generators and API calls all write it: a
//! delete time after the creation, an arrival process (`rate` or
//! `interarrival`), and a generator's `start`/`stop` window.

use super::error::{Diag, PResult};
use super::read::{self, Fields};
use super::units;
use crate::model::{Dist, SimTime, limits};

/// `delete_at`, which must be later than `at` (VMs and API calls).
pub(crate) fn delete_at(f: &Fields, at: u64) -> PResult<Option<SimTime>> {
    Ok(match f.opt("delete_at") {
        Some(n) => {
            let t = read::duration(n, &f.sub("delete_at"))?;
            if t <= at {
                return Err(Diag::new(
                    n.loc,
                    format!(
                        "`delete_at` ({}) must be later than `at` ({})",
                        SimTime(t),
                        SimTime(at)
                    ),
                ));
            }
            Some(SimTime(t))
        }
        None => None,
    })
}

/// `rate` (Poisson) or `interarrival` (any distribution), exactly one, of
/// the generator `name` (VM and object generators alike).
pub(crate) fn arrivals(f: &Fields, name: &str) -> PResult<Dist> {
    Ok(match (f.opt("rate"), f.opt("interarrival")) {
        (Some(rate), Some(_)) => {
            let later = [f.key("rate"), f.key("interarrival")]
                .into_iter()
                .flatten()
                .max_by_key(|k| (k.loc.line, k.loc.col));
            let loc = later.map_or(rate.loc, |k| k.loc);
            return Err(Diag::new(
                loc,
                format!("generator `{name}` has both `rate` and `interarrival`; give exactly one"),
            ));
        }
        (None, None) => {
            return Err(Diag::new(
                f.loc,
                format!(
                    "generator `{name}` needs an arrival process: give `rate` (e.g. `1.5/s`) or `interarrival` (a distribution)"
                ),
            ));
        }
        (Some(rate), None) => read::unit(rate, "a rate", &f.sub("rate"), units::parse_rate)?,
        (None, Some(n)) => {
            let d = read::dist(n, &f.sub("interarrival"))?;
            // A zero mean would mean infinitely many arrivals at one
            // instant; the floor is the same as a rate's ceiling.
            if d.mean_nanos() < limits::MIN_INTERARRIVAL_NANOS as f64 {
                return Err(Diag::new(
                    n.loc,
                    format!(
                        "`interarrival` must have a mean of at least 1us (at most {}/s arrivals)",
                        limits::MAX_RATE_PER_SEC
                    ),
                ));
            }
            d
        }
    })
}

/// `start` (default 0s) and `stop` (later than `start`, default none).
pub(crate) fn window(f: &Fields) -> PResult<(SimTime, Option<SimTime>)> {
    let start = f
        .opt("start")
        .map(|n| read::duration(n, &f.sub("start")))
        .transpose()?
        .unwrap_or(0);
    let stop = match f.opt("stop") {
        Some(n) => {
            let t = read::duration(n, &f.sub("stop"))?;
            if t <= start {
                return Err(Diag::new(
                    n.loc,
                    format!(
                        "`stop` ({}) must be later than `start` ({})",
                        SimTime(t),
                        SimTime(start)
                    ),
                ));
            }
            Some(SimTime(t))
        }
        None => None,
    };
    Ok((SimTime(start), stop))
}
