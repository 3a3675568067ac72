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
pub fn aggregate(op: CmpOp, values: &[Option<f64>], q: f64) -> Option<Option<f64>> {
    if values.is_empty() {
        return None;
    }
    let best_first = |a: &f64, b: &f64| match op {
        CmpOp::Ge | CmpOp::Gt => b.total_cmp(a),
        _ => a.total_cmp(b),
    };
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

    #[test]
    fn the_quantile_counts_from_the_best_end() {
        let v = [Some(0.0), Some(0.3), Some(0.1), Some(0.2)];
        assert_eq!(aggregate(CmpOp::Le, &v, 1.0), Some(Some(0.3)));
        assert_eq!(aggregate(CmpOp::Le, &v, 0.5), Some(Some(0.1)));
        assert_eq!(aggregate(CmpOp::Ge, &v, 1.0), Some(Some(0.0)));
        assert_eq!(aggregate(CmpOp::Ge, &v, 0.5), Some(Some(0.2)));
        assert_eq!(aggregate(CmpOp::Le, &[], 1.0), None);
    }

    #[test]
    fn a_run_without_samples_counts_as_the_worst_in_either_direction() {
        let v = [Some(5.0), None, Some(1.0), Some(3.0)];
        for op in [CmpOp::Le, CmpOp::Ge, CmpOp::Eq, CmpOp::Ne] {
            assert_eq!(aggregate(op, &v, 1.0), Some(None), "{op:?}");
        }
        // Three of four runs have samples: at q = 0.75 they decide.
        assert_eq!(aggregate(CmpOp::Le, &v, 0.75), Some(Some(5.0)));
        assert_eq!(aggregate(CmpOp::Ge, &v, 0.75), Some(Some(1.0)));
        assert_eq!(aggregate(CmpOp::Le, &v, 0.5), Some(Some(3.0)));
    }
}
