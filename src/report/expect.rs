//! `expect:` assertions checked against the summary's JSON form, so every
//! summary field is usable: `vms.lost == 0`, or the bare `lost == 0` when
//! exactly one section of the summary has a field of that name.

use crate::scenario::Expectation;
use serde_json::Value;

/// The outcome of one expectation.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Held {
        actual: f64,
    },
    Failed {
        actual: f64,
    },
    /// The metric exists but measured nothing (a latency percentile of a
    /// run where nothing started): no value to hold, so not held.
    NoSamples,
    /// The metric is not in the summary; the message says where and why.
    Unknown(String),
}

pub fn check(expectation: &Expectation, summary: &Value, file: &str) -> Verdict {
    match lookup(summary, &expectation.metric) {
        Ok(Some(actual)) if expectation.op.holds(actual, expectation.value) => {
            Verdict::Held { actual }
        }
        Ok(Some(actual)) => Verdict::Failed { actual },
        Ok(None) => Verdict::NoSamples,
        Err(reason) => Verdict::Unknown(match expectation.location.line {
            // Not from the file: given on the command line (`--slo`).
            0 => format!("`{}`: {reason}", expectation.text),
            line => format!("{file}:{line}:{}: {reason}", expectation.location.col),
        }),
    }
}

/// Resolves a dotted path, or a bare name found in exactly one section;
/// `None` for a metric that is `null` (measured nothing).
fn lookup(summary: &Value, metric: &str) -> Result<Option<f64>, String> {
    let by_path = metric.split('.').try_fold(summary, |v, key| v.get(key));
    if let Some(v) = by_path {
        return number_or_null(v).ok_or_else(|| format!("metric `{metric}` is not a number"));
    }
    let mut found: Vec<(String, Option<f64>)> = Vec::new();
    if !metric.contains('.')
        && let Some(sections) = summary.as_object()
    {
        for (section, value) in sections {
            if let Some(x) = value.get(metric).and_then(number_or_null) {
                found.push((format!("{section}.{metric}"), x));
            }
        }
    }
    match found.as_slice() {
        [(_, x)] => Ok(*x),
        [] => Err(format!(
            "unknown metric `{metric}`; known metrics: {}",
            known_metrics(summary).join(", ")
        )),
        many => Err(format!(
            "metric `{metric}` is ambiguous: {}",
            many.iter()
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn number_or_null(v: &Value) -> Option<Option<f64>> {
    if v.is_null() {
        Some(None)
    } else {
        v.as_f64().map(Some)
    }
}

fn known_metrics(summary: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(obj) = summary.as_object() {
        for (k, v) in obj {
            match v {
                Value::Number(_) => out.push(k.clone()),
                Value::Object(inner) => out.extend(
                    inner
                        .iter()
                        .filter(|(_, x)| x.is_number() || x.is_null())
                        .map(|(ik, _)| format!("{k}.{ik}")),
                ),
                _ => {}
            }
        }
    }
    out
}
