//! The `expect:` section: `<metric> <op> <number>` lines. Metric names are
//! checked against the run summary after the run, so each keeps its location.

use super::error::{Diag, PResult};
use super::model::*;
use super::read;
use super::yaml::Node;

pub(crate) fn parse_expectations(node: &Node) -> PResult<Vec<Expectation>> {
    read::seq(node, "expect")?
        .iter()
        .map(|item| {
            let text = read::scalar(item, "an expectation like `lost == 0`", "expect")?;
            parse_expectation(text)
                .map_err(|m| Diag::new(item.loc, m))
                .map(|(metric, op, value)| Expectation {
                    metric,
                    op,
                    value,
                    text: text.to_string(),
                    location: item.loc,
                })
        })
        .collect()
}

/// `<metric> <op> <number>`, spaces optional around the operator: an
/// `expect:` line, and `plan --slo`'s form too.
pub fn parse_expectation(text: &str) -> Result<(String, CmpOp, f64), String> {
    let malformed = || {
        format!(
            "malformed expectation `{text}`: expected `<metric> <op> <number>` with op one of <, <=, ==, !=, >=, >, e.g. `rejected_ratio <= 0.01`"
        )
    };
    let s = text.trim();
    let metric_end = s
        // `-` and `/` too: names of namespaces and guest clusters
        // (`supervisor.guest_clusters.team-a/web.pods_pending`).
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
        .unwrap_or(s.len());
    let metric = &s[..metric_end];
    if !metric.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err(malformed());
    }
    let rest = s[metric_end..].trim_start();
    // Two-character operators first, so `<=` is not read as `<` then `=`.
    let ops = [
        ("<=", CmpOp::Le),
        (">=", CmpOp::Ge),
        ("==", CmpOp::Eq),
        ("!=", CmpOp::Ne),
        ("<", CmpOp::Lt),
        (">", CmpOp::Gt),
    ];
    let (op, number) = ops
        .iter()
        .find_map(|(sym, op)| rest.strip_prefix(sym).map(|n| (*op, n.trim())))
        .ok_or_else(malformed)?;
    let value: f64 = number.parse().map_err(|_| malformed())?;
    if !value.is_finite() {
        return Err(malformed());
    }
    Ok((metric.to_string(), op, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations() {
        assert_eq!(
            parse_expectation("rejected_ratio <= 0.01"),
            Ok(("rejected_ratio".into(), CmpOp::Le, 0.01))
        );
        assert_eq!(
            parse_expectation("vms.lost==0"),
            Ok(("vms.lost".into(), CmpOp::Eq, 0.0))
        );
        assert_eq!(
            parse_expectation("supervisor.guest_clusters.team-a/web.pods_pending==0"),
            Ok((
                "supervisor.guest_clusters.team-a/web.pods_pending".into(),
                CmpOp::Eq,
                0.0
            ))
        );
        assert_eq!(
            parse_expectation("a != -1.5"),
            Ok(("a".into(), CmpOp::Ne, -1.5))
        );
        assert_eq!(parse_expectation("a > 1"), Ok(("a".into(), CmpOp::Gt, 1.0)));
        assert_eq!(parse_expectation("a < 1"), Ok(("a".into(), CmpOp::Lt, 1.0)));
        assert_eq!(
            parse_expectation("a >= 1e3"),
            Ok(("a".into(), CmpOp::Ge, 1000.0))
        );
        for bad in [
            "lost = 0",
            "lost",
            "== 0",
            "lost == many",
            "1x == 0",
            "lost == inf",
            "lost == 0 extra",
        ] {
            assert!(
                parse_expectation(bad)
                    .unwrap_err()
                    .starts_with("malformed expectation"),
                "{bad}"
            );
        }
    }
}
