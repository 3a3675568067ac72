//! What-if grids: `--vary hosts=8..64:8 --vary policy=first-fit,drs
//! --vary model.NAME.cpu=32,64` evaluates every combination (first axis
//! slowest) over the seeds, and tabulates each SLO's value.

use super::chart::{Axis as ChartAxis, Chart, Mark, Series, esc, render};
use super::evaluate::{PlanError, evaluate_many};
use super::resize::with_host_count;
use super::runs::PlanConfig;
use super::ticks::Scale;
use crate::scenario::units::{parse_cpu, parse_memory};
use crate::scenario::{PlacementPolicy, Scenario};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq)]
enum Knob {
    Hosts(Vec<u64>),
    Policy(Vec<PlacementPolicy>),
    ModelCpu(usize, Vec<u64>),
    ModelMemory(usize, Vec<u64>),
}

/// One varied parameter and its values (as written).
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub name: String,
    pub labels: Vec<String>,
    knob: Knob,
}

/// `A..B:STEP` (inclusive) or `a,b,c`.
fn values(text: &str) -> Vec<String> {
    if let Some((range, step)) = text.split_once(':')
        && let Some((a, b)) = range.split_once("..")
        && let (Ok(a), Ok(b), Ok(step)) = (a.parse::<u64>(), b.parse::<u64>(), step.parse::<u64>())
        && step > 0
        && a <= b
        && (b - a) / step < 10_000
    {
        return (a..=b)
            .step_by(step as usize)
            .map(|v| v.to_string())
            .collect();
    }
    text.split(',').map(|v| v.trim().to_string()).collect()
}

fn all<T>(labels: &[String], f: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    labels.iter().map(|l| f(l)).collect()
}

pub fn parse_vary(text: &str, scenario: &Scenario) -> Result<Axis, String> {
    let (name, list) = text
        .split_once('=')
        .ok_or_else(|| format!("--vary expects NAME=VALUES, found `{text}`"))?;
    let labels = values(list);
    if labels.iter().any(|l| l.is_empty()) {
        return Err(format!("--vary `{text}` has an empty value"));
    }
    let model_index = |m: &str| {
        scenario
            .datacenter
            .models
            .iter()
            .position(|x| x.name == m)
            .ok_or_else(|| format!("--vary `{text}`: unknown host model `{m}`"))
    };
    let knob = match name.split('.').collect::<Vec<_>>().as_slice() {
        ["hosts"] => Knob::Hosts(all(&labels, |l| {
            l.parse::<u64>()
                .ok()
                .filter(|n| *n <= crate::scenario::MAX_HOSTS && *n > 0)
                .ok_or_else(|| format!("--vary hosts: `{l}` is not a host count"))
        })?),
        ["policy"] => Knob::Policy(all(&labels, |l| {
            PlacementPolicy::from_name(l).ok_or_else(|| {
                format!(
                    "--vary policy: `{l}`; policies: {}",
                    PlacementPolicy::NAMES.join(", ")
                )
            })
        })?),
        ["model", m, "cpu"] => Knob::ModelCpu(
            model_index(m)?,
            all(&labels, |l| parse_cpu(l).and_then(positive))?,
        ),
        ["model", m, "memory"] => Knob::ModelMemory(
            model_index(m)?,
            all(&labels, |l| parse_memory(l).and_then(positive))?,
        ),
        _ => {
            return Err(format!(
                "--vary `{name}`: expected hosts, policy, model.NAME.cpu or model.NAME.memory"
            ));
        }
    };
    Ok(Axis {
        name: name.to_string(),
        labels,
        knob,
    })
}

fn positive(v: u64) -> Result<u64, String> {
    if v == 0 {
        Err("must be positive".to_string())
    } else {
        Ok(v)
    }
}

fn apply(s: &mut Scenario, knob: &Knob, i: usize, cfg: &PlanConfig) {
    match knob {
        Knob::Hosts(v) => *s = with_host_count(s, cfg.model, cfg.cluster, v[i]),
        Knob::Policy(v) => s.placement.policy = v[i],
        Knob::ModelCpu(m, v) => s.datacenter.models[*m].capacity.cpu_millis = v[i],
        Knob::ModelMemory(m, v) => s.datacenter.models[*m].capacity.memory_bytes = v[i],
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridPoint {
    /// One label per axis.
    pub at: Vec<String>,
    pub pass: bool,
    /// One aggregate per SLO (as in the plan: quantile, worse of plain/N+k);
    /// `null` when a run without samples decided it.
    pub slo_values: Vec<Option<f64>>,
    pub runs: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridReport {
    pub scenario: String,
    pub axes: Vec<String>,
    pub slos: Vec<String>,
    pub seeds: Vec<u64>,
    pub failures: usize,
    pub points: Vec<GridPoint>,
}

/// Every combination of the axes' values, first axis slowest.
fn combinations(axes: &[Axis]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new()];
    for a in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..a.labels.len()).map(move |i| {
                    let mut p = prefix.clone();
                    p.push(i);
                    p
                })
            })
            .collect();
    }
    out
}

pub fn grid(
    base: &Scenario,
    cfg: &PlanConfig,
    axes: &[Axis],
    tick: &(dyn Fn() + Sync),
) -> Result<GridReport, PlanError> {
    if cfg.slos.is_empty() {
        return Err(PlanError::NoSlos);
    }
    let combos = combinations(axes);
    let scenarios: Vec<(u64, Scenario)> = combos
        .iter()
        .map(|c| {
            let mut s = base.clone();
            for (axis, i) in axes.iter().zip(c) {
                apply(&mut s, &axis.knob, *i, cfg);
            }
            s.datacenter.total_memory().map_err(|e| {
                PlanError::TooLarge(format!("--vary point {c:?} is too large: {e}"))
            })?;
            let n = s
                .datacenter
                .hosts
                .iter()
                .filter(|h| h.model == cfg.model && cfg.cluster.is_none_or(|c| h.cluster == c))
                .count();
            Ok((n as u64, s))
        })
        .collect::<Result<_, PlanError>>()?;
    let results = evaluate_many(&scenarios, cfg, tick)?;
    let points = combos
        .iter()
        .zip(results)
        .map(|(c, cand)| GridPoint {
            at: axes
                .iter()
                .zip(c)
                .map(|(a, i)| a.labels[*i].clone())
                .collect(),
            pass: cand.pass,
            slo_values: cand.slo_values,
            runs: cand.runs.len(),
        })
        .collect();
    Ok(GridReport {
        scenario: base.name.clone(),
        axes: axes.iter().map(|a| a.name.clone()).collect(),
        slos: cfg.slos.iter().map(|e| e.text.clone()).collect(),
        seeds: cfg.seeds.clone(),
        failures: cfg.failures,
        points,
    })
}

impl GridReport {
    /// Axis values, SLO values and the verdict, one row per point.
    pub fn csv(&self) -> String {
        let mut s = self.axes.join(",");
        for slo in &self.slos {
            s += &format!(",\"{slo}\"");
        }
        s += ",pass,runs\n";
        for p in &self.points {
            s += &p.at.join(",");
            for v in &p.slo_values {
                s += &format!(",{}", v.map_or(String::new(), |v| v.to_string()));
            }
            s += &format!(",{},{}\n", p.pass, p.runs);
        }
        s
    }

    /// The same as an aligned table.
    pub fn table(&self) -> String {
        let mut rows: Vec<Vec<String>> =
            vec![self.axes.iter().chain(&self.slos).cloned().collect()];
        rows[0].push("pass".into());
        for p in &self.points {
            let mut r = p.at.clone();
            r.extend(
                p.slo_values
                    .iter()
                    .map(|v| v.map_or("no samples".to_string(), |v| format!("{v:.6}"))),
            );
            r.push(if p.pass { "yes" } else { "no" }.into());
            rows.push(r);
        }
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        rows.iter()
            .map(|r| {
                let cells: Vec<String> = r
                    .iter()
                    .zip(&widths)
                    .map(|(v, w)| format!("{v:>w$}"))
                    .collect();
                cells.join("  ") + "\n"
            })
            .collect()
    }

    /// One chart per SLO: its value against the first axis (numeric when
    /// its values are numbers, else named positions), one line per
    /// combination of the other axes with a dot at each computed point, the
    /// threshold, and a ring on each point that fails the SLO.
    pub fn charts(&self) -> Vec<Chart> {
        const COLORS: [&str; 6] = [
            "#C0392B", "#2471A3", "#229954", "#7D3C98", "#D68910", "#555555",
        ];
        let mut firsts: Vec<&str> = Vec::new();
        for p in &self.points {
            if !firsts.contains(&p.at[0].as_str()) {
                firsts.push(&p.at[0]);
            }
        }
        let numeric = firsts.iter().all(|f| f.parse::<f64>().is_ok());
        let x = |label: &str, index: usize| {
            if numeric {
                label.parse::<f64>().unwrap_or(index as f64)
            } else {
                index as f64
            }
        };
        let xs = firsts.iter().enumerate().map(|(i, f)| x(f, i));
        let (x_lo, x_hi) = (
            xs.clone().fold(f64::INFINITY, f64::min),
            xs.fold(f64::NEG_INFINITY, f64::max),
        );
        let scale = if self.axes[0] == "hosts" || !numeric {
            Scale::Count
        } else {
            Scale::Value
        };
        self.slos
            .iter()
            .enumerate()
            .map(|(k, slo)| {
                let e = super::slo::parse_slo(slo).ok();
                let fails = |v: f64| e.as_ref().is_some_and(|e| !e.op.holds(v, e.value));
                let mut failing = Vec::new();
                let mut groups: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
                for p in &self.points {
                    // "policy=drs, model.r650.cpu=64": which line is which.
                    let key = (self.axes[1..].iter().zip(&p.at[1..]))
                        .map(|(axis, at)| format!("{axis}={at}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let xi = firsts.iter().position(|f| *f == p.at[0]).unwrap_or(0);
                    let Some(value) = p.slo_values[k].filter(|v| v.is_finite()) else {
                        continue;
                    };
                    let pt = (x(&p.at[0], xi), value);
                    if fails(value) {
                        failing.push(pt);
                    }
                    match groups.iter_mut().find(|(g, _)| *g == key) {
                        Some((_, v)) => v.push(pt),
                        None => groups.push((key, vec![pt])),
                    }
                }
                let threshold = e.as_ref().map(|e| e.value);
                let ys = (groups.iter())
                    .flat_map(|(_, v)| v.iter().map(|p| p.1))
                    .chain(threshold);
                let whole = ys.clone().all(|v| v.fract() == 0.0);
                let mut series: Vec<Series> = groups
                    .iter()
                    .enumerate()
                    .map(|(i, (name, points))| Series {
                        name: if name.is_empty() {
                            "measured".to_string()
                        } else {
                            name.clone()
                        },
                        color: COLORS[i % COLORS.len()],
                        mark: Mark::Path(points.clone()),
                    })
                    .collect();
                if let Some(e) = &e {
                    series.push(Series {
                        name: format!(
                            "SLO: {} {}",
                            e.op.symbol(),
                            crate::report::numbers::sig3(e.value)
                        ),
                        color: "#566573",
                        mark: Mark::HRule(e.value),
                    });
                }
                if !failing.is_empty() {
                    series.push(Series {
                        name: "fails this SLO".into(),
                        color: "#17202A",
                        mark: Mark::Rings(failing),
                    });
                }
                Chart {
                    id: format!("grid-slo-{k}"),
                    title: slo.clone(),
                    x: ChartAxis {
                        label: self.axes[0].clone(),
                        scale,
                        lo: x_lo,
                        hi: x_hi,
                    },
                    y: ChartAxis {
                        label: e.as_ref().map_or_else(|| slo.clone(), |e| e.metric.clone()),
                        scale: if whole { Scale::Count } else { Scale::Value },
                        lo: ys.clone().fold(0.0, f64::min),
                        hi: ys.fold(0.0, f64::max),
                    },
                    series,
                    x_names: if numeric {
                        vec![]
                    } else {
                        firsts.iter().map(|f| f.to_string()).collect()
                    },
                }
            })
            .collect()
    }

    /// grid.html: the table's title and one chart per SLO, self-contained.
    pub fn html(&self) -> String {
        let mut h = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>pacsim grid: {}</title><style>{}</style></head><body><h1>What-if grid: {}</h1>",
            esc(&self.axes.join(" × ")),
            super::html::CSS,
            esc(&self.axes.join(" × "))
        );
        let tolerated = match self.failures {
            0 => "no host failure".to_string(),
            k => format!("N+{k}: each seed also runs with {k} host(s) failing at its peak"),
        };
        h.push_str(&format!(
            "<p>Scenario <b>{}</b>; seeds {:?}; {tolerated}. Each point is the value an SLO is judged by there (the quantile of the plain runs or of the N+k runs, whichever is worse); a ring marks a point that fails the SLO. report.json and the terminal's table have every value.</p>",
            esc(&self.scenario),
            self.seeds
        ));
        for c in self.charts() {
            h.push_str(&render(&c));
        }
        h.push_str("</body></html>\n");
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_with_a_step_and_lists_both_parse() {
        assert_eq!(values("8..24:8"), vec!["8", "16", "24"]);
        assert_eq!(values("first-fit,drs"), vec!["first-fit", "drs"]);
    }

    #[test]
    fn combinations_vary_the_last_axis_fastest() {
        let s = crate::scenario::parse_scenario(
            "name: t\nseed: 1\nduration: 1h\ndatacenter:\n  host_models:\n    - { name: a, cpu: 8, memory: 8Gi }\n  clusters:\n    - name: c\n      hosts:\n        - { model: a, count: 2 }\n",
            "<inline>",
        )
        .unwrap();
        let axes = [
            parse_vary("hosts=1,2", &s).unwrap(),
            parse_vary("model.a.cpu=4,8,16", &s).unwrap(),
        ];
        let c = combinations(&axes);
        assert_eq!(c.len(), 6);
        assert_eq!(c[1], vec![0, 1]);
        assert!(parse_vary("model.b.cpu=4", &s).is_err());
        assert!(parse_vary("policy=worst-fit", &s).is_err());
    }
}
