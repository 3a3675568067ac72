//! SLOs: `metric op value` checks against a run summary (the scenario's
//! `expect:` form), and their aggregation over seeds by a quantile.

use crate::scenario::{CmpOp, Expectation, Location, parse_expectation};

/// Parses `vms.rejected_ratio<=0.01` (spaces allowed), the form of a
/// scenario's `expect:` lines.
pub fn parse_slo(text: &str) -> Result<Expectation, String> {
    let (metric, op, value) = parse_expectation(text).map_err(|m| format!("--slo: {m}"))?;
    Ok(Expectation {
        text: format!("{metric} {} {value}", op.symbol()),
        metric,
        op,
        value,
        location: Location::default(),
    })
}

/// The value that decides an SLO over several runs at quantile `q`: the
/// nearest-rank q-quantile counted from the best end, so that the SLO holds
/// on the aggregate iff it holds on at least a fraction `q` of the runs
/// (`q = 1`: the worst run). For `==` and `!=` the worst run is used.
///
/// A run that measured nothing for the SLO (`None`) fails it whatever the
/// threshold, so it counts as the worst; `Some(None)` says such a run
/// decided the aggregate. `None`: no runs.
pub fn aggregate(e: &Expectation, values: &[Option<f64>], q: f64) -> Option<Option<f64>> {
    if values.is_empty() {
        return None;
    }
    let op = e.op;
    let best_first = |a: &f64, b: &f64| badness(e, *a).total_cmp(&badness(e, *b));
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| match (a, b) {
        (Some(a), Some(b)) => best_first(a, b),
        (a, b) => a.is_none().cmp(&b.is_none()),
    });
    let n = sorted.len();
    let rank = match op {
        CmpOp::Eq | CmpOp::Ne => n,
        _ => ((q * n as f64).ceil() as usize).clamp(1, n),
    };
    Some(sorted[rank - 1])
}

/// How badly `v` does against SLO `e`: the larger, the worse, in every
/// direction. `<` and `<=`: the value; `>` and `>=`: its negation; `==`:
/// its distance from the threshold (0 holds); `!=`: the negated distance
/// (0, the threshold itself, fails). A value that fails is always worse
/// than one that holds.
pub fn badness(e: &Expectation, v: f64) -> f64 {
    match e.op {
        CmpOp::Lt | CmpOp::Le => v,
        CmpOp::Gt | CmpOp::Ge => -v,
        CmpOp::Eq => (v - e.value).abs(),
        CmpOp::Ne => -(v - e.value).abs(),
    }
}

/// True when a larger value is worse for this SLO (`<`, `<=`); `None` when
/// the SLO has no direction (`==`, `!=`).
pub fn larger_is_worse(op: CmpOp) -> Option<bool> {
    match op {
        CmpOp::Lt | CmpOp::Le => Some(true),
        CmpOp::Gt | CmpOp::Ge => Some(false),
        CmpOp::Eq | CmpOp::Ne => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slos_parse_with_two_character_operators_first() {
        let e = parse_slo("vms.rejected_ratio<=0.01").unwrap();
        assert_eq!(
            (e.metric.as_str(), e.op, e.value),
            ("vms.rejected_ratio", CmpOp::Le, 0.01)
        );
        assert_eq!(parse_slo("lost == 0").unwrap().op, CmpOp::Eq);
        assert!(parse_slo("lost").is_err());
        assert!(parse_slo("<= 3").is_err());
        assert!(parse_slo("x <= y").is_err());
        assert!(
            parse_slo("lost = 0")
                .unwrap_err()
                .starts_with("--slo: malformed")
        );
        assert_eq!(parse_slo("lost<=1e3").unwrap().text, "lost <= 1000");
    }

    fn slo(op: CmpOp, value: f64) -> Expectation {
        parse_slo(&format!("x {} {value}", op.symbol())).unwrap()
    }

    #[test]
    fn the_quantile_counts_from_the_best_end() {
        let v = [Some(0.0), Some(0.3), Some(0.1), Some(0.2)];
        let (le, ge) = (slo(CmpOp::Le, 0.5), slo(CmpOp::Ge, 0.5));
        assert_eq!(aggregate(&le, &v, 1.0), Some(Some(0.3)));
        assert_eq!(aggregate(&le, &v, 0.5), Some(Some(0.1)));
        assert_eq!(aggregate(&ge, &v, 1.0), Some(Some(0.0)));
        assert_eq!(aggregate(&ge, &v, 0.5), Some(Some(0.2)));
        assert_eq!(aggregate(&le, &[], 1.0), None);
    }

    #[test]
    fn an_equality_is_decided_by_the_run_farthest_from_it_in_either_direction() {
        // `== 3` with a run below: 2 fails, though 3 is the larger.
        let eq = slo(CmpOp::Eq, 3.0);
        assert_eq!(
            aggregate(&eq, &[Some(3.0), Some(2.0), Some(3.0)], 1.0),
            Some(Some(2.0))
        );
        assert_eq!(
            aggregate(&eq, &[Some(3.0), Some(4.0)], 1.0),
            Some(Some(4.0))
        );
        // `!= 0`: the run at 0 fails, though the others are larger.
        let ne = slo(CmpOp::Ne, 0.0);
        assert_eq!(
            aggregate(&ne, &[Some(5.0), Some(0.0)], 1.0),
            Some(Some(0.0))
        );
        for v in [0.0, 1.0, 2.0, 4.0] {
            let fails = !eq.op.holds(v, eq.value);
            assert_eq!(badness(&eq, v) > badness(&eq, 3.0), fails, "{v}");
        }
    }

    #[test]
    fn a_run_without_samples_counts_as_the_worst_in_either_direction() {
        let v = [Some(5.0), None, Some(1.0), Some(3.0)];
        for op in [CmpOp::Le, CmpOp::Ge, CmpOp::Eq, CmpOp::Ne] {
            assert_eq!(aggregate(&slo(op, 2.0), &v, 1.0), Some(None), "{op:?}");
        }
        // Three of four runs have samples: at q = 0.75 they decide.
        let (le, ge) = (slo(CmpOp::Le, 2.0), slo(CmpOp::Ge, 2.0));
        assert_eq!(aggregate(&le, &v, 0.75), Some(Some(5.0)));
        assert_eq!(aggregate(&ge, &v, 0.75), Some(Some(1.0)));
        assert_eq!(aggregate(&le, &v, 0.5), Some(Some(3.0)));
    }
}
