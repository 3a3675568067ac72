//! `pacsim plan`: closed-form host counts, monotonicity, the report's HTML
//! and charts, determinism, and sharding.

use super::report_charts::{figure, figures};
use super::support::{pacsim, scenario_path, stdout_json};
use pacsim::plan::{PlanConfig, plan, slo::parse_slo};
use std::path::Path;

/// 37 VMs of 8 cores / 16 GiB at t=0, never deleted, on 64-core / 512 GiB
/// hosts: 8 per host by cpu (memory would fit 32), so 5 hosts, 6 with N+1.
fn closed_form(dir: &Path) -> std::path::PathBuf {
    let vms: String = (0..37)
        .map(|i| format!("    - {{ name: vm-{i:02}, cpu: 8, memory: 16Gi, at: 0s }}\n"))
        .collect();
    let text = format!(
        "name: closed\nseed: 1\nduration: 1h\ndatacenter:\n  host_models:\n    - {{ name: h64, cpu: 64, memory: 512Gi }}\n  clusters:\n    - name: c\n      hosts:\n        - {{ model: h64, count: 3 }}\nworkloads:\n  vms:\n{vms}expect:\n  - vms.rejected_ratio <= 0\n  - vms.lost <= 0\n"
    );
    let path = dir.join("closed.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn plan_json(args: &[&str]) -> serde_json::Value {
    stdout_json(&pacsim(args))
}

#[test]
fn an_out_that_is_a_file_or_a_log_is_refused_before_any_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    std::fs::write(&file, "mine").unwrap();
    let scenario = closed_form(dir.path());
    let out = pacsim(&[
        "plan",
        scenario.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("that is a file"), "{stderr}");
    assert!(out.stdout.is_empty(), "no run's summary");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");

    // Nor is a run's log folder written into.
    let log = dir.path().join("log");
    let run = pacsim(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        log.to_str().unwrap(),
    ]);
    // Its expectations fail at 3 hosts (exit 1); the log is written.
    assert!(log.join("db").is_file(), "{run:?}");
    let before = std::fs::read_dir(&log).unwrap().count();
    let args = [
        "plan",
        scenario.to_str().unwrap(),
        "--out",
        log.to_str().unwrap(),
    ];
    let out = pacsim(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("holds a run's event log"), "{stderr}");
    assert_eq!(std::fs::read_dir(&log).unwrap().count(), before);
}

#[test]
fn identical_vms_need_ceil_of_total_over_per_host_plus_k_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let s = closed_form(dir.path());
    let s = s.to_str().unwrap();
    for (k, want) in [("0", 5), ("1", 6)] {
        let j = plan_json(&["plan", s, "--failures", k, "--json"]);
        assert_eq!(j["recommended_hosts"], want, "k={k}");
        assert_eq!(j["slo"][0]["at_recommended"], 0.0);
    }
}

/// HA admission control inside the plan: with `host_failures_tolerated: 1`
/// the capacity of one host is held back, so power-ons that would eat into
/// it are refused (and refusals count as rejections): one host more.
#[test]
fn ha_admission_control_raises_the_closed_form_count_by_the_tolerated_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let plain = closed_form(dir.path());
    let text = std::fs::read_to_string(&plain).unwrap();
    let with_ha = dir.path().join("closed-ha.yaml");
    std::fs::write(
        &with_ha,
        format!("{text}ha:\n  host_failures_tolerated: 1\n"),
    )
    .unwrap();
    let j = plan_json(&["plan", with_ha.to_str().unwrap(), "--json"]);
    assert_eq!(j["recommended_hosts"], 6);
    assert_eq!(j["slo"][0]["at_recommended"], 0.0);
}

#[test]
fn rejections_do_not_grow_with_hosts_on_a_churn_scenario() {
    let mut s = pacsim::scenario::load_scenario(&scenario_path("churn-small.yaml")).unwrap();
    s.duration = pacsim::model::SimDuration(600_000_000_000);
    s.faults = Default::default();
    let mut last = f64::INFINITY;
    for n in [2, 4, 6, 8] {
        let r = pacsim::plan::resize::with_host_count(&s, 0, None, n);
        let mut out =
            pacsim::run::simulate(&r, pacsim::store::EventLog::in_memory(), |_, _| {}).unwrap();
        let ratio = out.summary(&r, 0.0).vms.rejected_ratio;
        assert!(ratio <= last, "{ratio} at {n} hosts > {last}");
        last = ratio;
    }
    let cfg = PlanConfig {
        model: 0,
        cluster: None,
        seeds: vec![1, 2],
        slos: vec![parse_slo("vms.rejected_ratio<=0.01").unwrap()],
        failures: 0,
        quantile: 1.0,
        jobs: 2,
        max_hosts: 64,
        cache: Default::default(),
        world_for: None,
    };
    let report = plan(&s, &cfg, &|| {}).unwrap();
    assert!(report.recommended().is_some());
    assert!(report.non_monotone.iter().all(|n| !n.contains("passed")));
}

/// Checks that every opened tag is closed in order (void tags aside).
fn tags_balance(html: &str) -> bool {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').unwrap();
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .collect();
        if ["meta", "br"].contains(&name.as_str()) {
            continue;
        }
        if tag.starts_with('/') {
            if stack.pop().as_deref() != Some(name.as_str()) {
                return false;
            }
        } else {
            stack.push(name);
        }
    }
    stack.is_empty()
}

/// `(t_s, key)` of each point of a JSON series.
fn json_points(series: &serde_json::Value, key: &str) -> Vec<(f64, f64)> {
    series
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["t_s"].as_f64().unwrap(), p[key].as_f64().unwrap()))
        .collect()
}

#[test]
fn the_report_is_well_formed_and_its_charts_hold_the_json_series() {
    let dir = tempfile::tempdir().unwrap();
    let s = closed_form(dir.path());
    let out = dir.path().join("rep");
    let j = plan_json(&[
        "plan",
        s.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(tags_balance(&html));
    assert!(
        !html.contains("http://")
            || html.matches("http://").count()
                == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(file, j);
    let series = &j["detail"]["series"];
    assert!(series.as_array().unwrap().len() <= 501 && series.as_array().unwrap().len() > 1);
    let figs = figures(&html);
    let f = figure(&figs, "utilization");
    f.assert_points("cpu", &f.lines("cpu")[0], &json_points(series, "cpu_pct"));
    assert!(
        std::fs::read_to_string(out.join("report.csv"))
            .unwrap()
            .starts_with("hosts,seed")
    );
}

#[test]
fn the_same_plan_twice_gives_the_same_json() {
    let s = scenario_path("plan-mixed.yaml");
    let args = [
        "plan",
        s.to_str().unwrap(),
        "--seeds",
        "3",
        "--failures",
        "1",
        "--json",
    ];
    let first = plan_json(&args);
    assert_eq!(first, plan_json(&args));
    let one_thread = [&args[..], &["--jobs", "1"]].concat();
    assert_eq!(first, plan_json(&one_thread));
    assert!(first["runs"].as_u64().unwrap() > 0);
}

#[test]
fn shard_halves_merge_to_the_unsharded_result() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario_path("plan-mixed.yaml");
    let s = s.to_str().unwrap();
    let common = ["plan", s, "--seeds", "1..4", "--failures", "1", "--json"];
    let whole = plan_json(&common);
    let mut parts = Vec::new();
    for i in ["0/2", "1/2"] {
        let d = dir.path().join(i.replace('/', "-"));
        let part =
            plan_json(&[&common[..], &["--shard", i, "--out", d.to_str().unwrap()]].concat());
        assert_eq!(part["shard"], i);
        assert_eq!(part["seeds"].as_array().unwrap().len(), 2);
        parts.push(d.join("report.json").to_str().unwrap().to_string());
    }
    let merged = plan_json(&[&common[..], &["--merge", &parts[0], &parts[1]]].concat());
    assert_eq!(merged, whole);
}

#[test]
fn a_real_azure_workload_plans_to_a_count_just_above_failing() {
    let s = scenario_path("plan-azure.yaml");
    let j = plan_json(&["plan", s.to_str().unwrap(), "--json"]);
    let slo = &j["slo"][0];
    assert!(j["recommended_hosts"].as_u64().unwrap() > 1);
    assert!(slo["at_recommended"].as_f64().unwrap() <= 0.01);
    assert!(slo["at_recommended_minus_1"].as_f64().unwrap() > 0.01);
}

#[test]
fn several_host_models_need_a_model_to_vary() {
    let s = scenario_path("quickstart.yaml");
    let out = pacsim(&["plan", s.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--model"));
}

#[test]
fn a_what_if_grid_passes_exactly_from_the_closed_form_count() {
    let dir = tempfile::tempdir().unwrap();
    let s = closed_form(dir.path());
    let out = dir.path().join("grid");
    let j = plan_json(&[
        "plan",
        s.to_str().unwrap(),
        "--vary",
        "hosts=3..7:1",
        "--vary",
        "policy=first-fit,drs",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let points = j["points"].as_array().unwrap();
    assert_eq!(points.len(), 10);
    for p in points {
        let hosts: u64 = p["at"][0].as_str().unwrap().parse().unwrap();
        assert_eq!(p["pass"], hosts >= 5, "{p}");
    }
    let csv = std::fs::read_to_string(out.join("grid.csv")).unwrap();
    assert_eq!(csv.lines().count(), 11);
    let html = std::fs::read_to_string(out.join("grid.html")).unwrap();
    assert!(tags_balance(&html));
    let first = html.split("data-chart=\"grid-slo-0\"").nth(1).unwrap();
    let first = first.split("</figure>").next().unwrap();
    // One line per policy; the mesh and axes are lines or polylines in grey.
    for color in ["#C0392B", "#2471A3"] {
        assert_eq!(
            first.matches(&format!("stroke=\"{color}\"")).count(),
            1,
            "{color}"
        );
    }
    // A dot at every point computed, the threshold, a ring on each point
    // that fails: read back from the drawing and checked against the JSON.
    let figs = figures(&html);
    let f = figure(&figs, "grid-slo-0");
    let slo: Vec<&str> = j["slos"][0].as_str().unwrap().split_whitespace().collect();
    let threshold: f64 = slo[2].parse().unwrap();
    let fails = |v: f64| match slo[1] {
        "<=" => v > threshold,
        "<" => v >= threshold,
        ">=" => v < threshold,
        ">" => v <= threshold,
        "==" => v != threshold,
        _ => v == threshold,
    };
    let at = |p: &serde_json::Value| -> (f64, f64) {
        let hosts: f64 = p["at"][0].as_str().unwrap().parse().unwrap();
        (hosts, p["slo_values"][0].as_f64().unwrap())
    };
    for policy in ["first-fit", "drs"] {
        let want: Vec<(f64, f64)> = (points.iter())
            .filter(|p| p["at"][1] == policy)
            .map(at)
            .collect();
        let line = format!("policy={policy}");
        f.assert_points(&line, &sorted(f.dots(&line)), &sorted(want));
    }
    let (x_lo, x_hi) = f.ranges().0;
    f.assert_points(
        "threshold",
        &f.lines("SLO")[0],
        &[(x_lo, threshold), (x_hi, threshold)],
    );
    let failing: Vec<(f64, f64)> = points.iter().map(at).filter(|p| fails(p.1)).collect();
    assert!(!failing.is_empty(), "3 and 4 hosts fail");
    f.assert_points(
        "fails",
        &sorted(f.rings("fails this SLO")),
        &sorted(failing),
    );
}

/// The shipped Supervisor plan (docs/planning.md's example), as a what-if at two
/// counts, N+1 over two seeds: too few hosts keep pods waiting past the
/// time-to-ready SLO; the recommended count in the docs meets every SLO. (The full
/// search spends minutes in a debug build on its overloaded small counts.)
#[test]
fn the_supervisor_plan_fails_short_of_hosts_and_passes_at_the_recommended_count() {
    let s = scenario_path("plan-supervisor.yaml");
    let j = plan_json(&[
        "plan",
        s.to_str().unwrap(),
        "--seeds",
        "2",
        "--failures",
        "1",
        "--vary",
        "hosts=6,13",
        "--json",
    ]);
    let slos: Vec<&str> = j["slos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let ready = slos
        .iter()
        .position(|s| s.starts_with("supervisor.pods.time_to_ready_ms.p99"))
        .expect("the time-to-ready SLO");
    let points = j["points"].as_array().unwrap();
    let at = |hosts: &str| {
        points
            .iter()
            .find(|p| p["at"][0] == hosts)
            .unwrap_or_else(|| panic!("no point at {hosts}: {j}"))
    };
    let (short, enough) = (at("6"), at("13"));
    assert_eq!(short["pass"], false, "{short}");
    assert!(
        short["slo_values"][ready].as_f64().unwrap() > 30_000.0,
        "{short}"
    );
    assert_eq!(enough["pass"], true, "{enough}");
    // Each point ran both seeds, plain and with the busiest host failed.
    assert_eq!(enough["runs"], 4);
}

/// Cluster `busy`: hosts of model `big` (64 cores, 512 GiB; the planned
/// model). Cluster `idle`: two `tiny` hosts (8 cores, 8 GiB) no VM fits in.
/// 16 VMs of 8 cores / 16 GiB at t=0, half deleted at 30m: 2 big hosts,
/// 100 % cpu and 25 % memory in `busy` until 30m, then half that.
fn two_clusters(dir: &Path) -> std::path::PathBuf {
    let vms: String = (0..16)
        .map(|i| {
            let delete = if i % 2 == 0 { ", delete_at: 30m" } else { "" };
            format!(
                "    - {{ name: vm-{i:02}, cpu: 8, memory: 16Gi, at: 0s{delete}, cluster: busy }}\n"
            )
        })
        .collect();
    let text = format!(
        "name: two-clusters\nseed: 1\nduration: 1h\ndatacenter:\n  host_models:\n    - {{ name: big, cpu: 64, memory: 512Gi }}\n    - {{ name: tiny, cpu: 8, memory: 8Gi }}\n  clusters:\n    - name: busy\n      hosts:\n        - {{ model: big, count: 3 }}\n    - name: idle\n      hosts:\n        - {{ model: tiny, count: 2 }}\nworkloads:\n  vms:\n{vms}expect:\n  - vms.rejected_ratio <= 0\n"
    );
    let path = dir.join("two-clusters.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn per_cluster_series_are_exact_and_charted_one_chart_per_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let s = two_clusters(dir.path());
    let out = dir.path().join("rep");
    let j = plan_json(&[
        "plan",
        s.to_str().unwrap(),
        "--model",
        "big",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(j["recommended_hosts"]["big"], 2);
    let d = &j["detail"];
    let clusters = d["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 2);
    let (busy, idle) = (&clusters[0], &clusters[1]);
    assert_eq!(
        (
            &busy["name"],
            &busy["hosts"],
            &busy["capacity_cores"],
            &busy["capacity_gib"]
        ),
        (&"busy".into(), &2.into(), &128.0.into(), &1024.0.into())
    );
    assert_eq!(
        (
            &idle["name"],
            &idle["hosts"],
            &idle["capacity_cores"],
            &idle["capacity_gib"]
        ),
        (&"idle".into(), &2.into(), &16.0.into(), &16.0.into())
    );
    // Same instants as the datacenter-wide series: 0, 7.2 s, ..., 3600 s.
    let times: Vec<f64> = json_points(&d["series"], "cpu_pct")
        .iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(times.len(), 501);
    let at =
        |f: &dyn Fn(f64) -> f64| -> Vec<(f64, f64)> { times.iter().map(|t| (*t, f(*t))).collect() };
    let half_after_30m = |full: f64| move |t: f64| if t < 1800.0 { full } else { full / 2.0 };
    assert_eq!(
        json_points(&busy["series"], "cpu_pct"),
        at(&half_after_30m(100.0))
    );
    assert_eq!(
        json_points(&busy["series"], "memory_pct"),
        at(&half_after_30m(25.0))
    );
    assert_eq!(json_points(&idle["series"], "cpu_pct"), at(&|_| 0.0));
    assert_eq!(json_points(&idle["series"], "memory_pct"), at(&|_| 0.0));

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(tags_balance(&html));
    for c in clusters {
        let block = html
            .split(&format!("data-cluster=\"{}\"", c["name"].as_str().unwrap()))
            .nth(1)
            .unwrap();
        let figs = figures(block);
        let f = &figs[0];
        assert_eq!(
            f.ranges().1,
            (0.0, 100.0),
            "the same scale for every cluster"
        );
        for (line, key) in [("cpu", "cpu_pct"), ("memory", "memory_pct")] {
            f.assert_points(line, &f.lines(line)[0], &json_points(&c["series"], key));
        }
    }
    let csv = std::fs::read_to_string(out.join("report-clusters.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 1 + 2 * 501);
    assert_eq!(rows[0], "cluster,t_s,cpu_pct,memory_pct");
    assert_eq!(rows[1], "busy,0,100,25");
    assert_eq!(rows[501], "busy,3600,50,12.5");
    assert_eq!(rows[502], "idle,0,0,0");
}

/// Sorted by x then y, for comparing sets of points.
fn sorted(mut v: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    v
}

/// The closed form with N+1 over three seeds: every chart of report.html
/// read back as data is report.json's (probes only where probed, the
/// threshold and the recommended count marked, utilization on 0–100 %,
/// the deciding N+k run with its failure instant), and the page says why
/// 6 hosts and not 5.
#[test]
fn every_value_drawn_in_the_report_is_in_report_json() {
    let dir = tempfile::tempdir().unwrap();
    let s = closed_form(dir.path());
    let out = dir.path().join("rep");
    let j = plan_json(&[
        "plan",
        s.to_str().unwrap(),
        "--failures",
        "1",
        "--seeds",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(j["recommended_hosts"], 6);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(tags_balance(&html));
    let figs = figures(&html);
    let f64s = |v: &serde_json::Value| v.as_f64().unwrap();
    for (i, slo) in j["slo"].as_array().unwrap().iter().enumerate() {
        let f = figure(&figs, &format!("slo-{i}"));
        let spreads: Vec<(f64, &serde_json::Value)> = j["probes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| !c["spread"][i].is_null())
            .map(|c| (f64s(&c["hosts"]), &c["spread"][i]))
            .collect();
        assert!(spreads.len() >= 2, "{spreads:?}");
        // Medians above the chart's scale are marked at its top.
        let (_, (_, top)) = f.ranges();
        let (inside, above): (Vec<_>, Vec<_>) =
            spreads.iter().partition(|(_, s)| f64s(&s["median"]) <= top);
        let medians: Vec<(f64, f64)> = inside
            .iter()
            .map(|(x, s)| (*x, f64s(&s["median"])))
            .collect();
        f.assert_points(
            "median",
            &sorted(f.dots("median over seeds")),
            &sorted(medians),
        );
        // A ring on each count whose value fails this SLO.
        let holds = |v: f64| {
            let t = f64s(&slo["threshold"]);
            match slo["op"].as_str().unwrap() {
                "<" => v < t,
                "<=" => v <= t,
                "==" => v == t,
                "!=" => v != t,
                ">=" => v >= t,
                _ => v > t,
            }
        };
        let failing: Vec<(f64, f64)> = j["probes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| !c["spread"][i].is_null())
            .filter(|c| !c["slo_values"][i].as_f64().is_some_and(holds))
            .map(|c| (f64s(&c["hosts"]), f64s(&c["spread"][i]["median"]).min(top)))
            .collect();
        assert_eq!(f.has("fails this SLO"), !failing.is_empty(), "{failing:?}");
        if !failing.is_empty() {
            let rings = sorted(f.rings("fails this SLO"));
            assert_eq!(rings.len(), failing.len());
            f.assert_points("fails", &rings, &sorted(failing));
        }
        if !above.is_empty() {
            let marks: Vec<(f64, f64)> = above.iter().map(|(x, _)| (*x, top)).collect();
            f.assert_points(
                "above",
                &sorted(f.dots("median above the scale")),
                &sorted(marks),
            );
        }
        let spans: Vec<(f64, f64)> = spreads
            .iter()
            .flat_map(|(x, s)| {
                [
                    (*x, f64s(&s["min"]).min(top)),
                    (*x, f64s(&s["max"]).min(top)),
                ]
            })
            .collect();
        let drawn: Vec<(f64, f64)> = f.lines("min–max over seeds").concat();
        f.assert_points("spread", &sorted(drawn), &sorted(spans));
        let ((x_lo, x_hi), _) = f.ranges();
        let threshold = f64s(&slo["threshold"]);
        f.assert_points(
            "threshold",
            &f.lines("SLO")[0],
            &[(x_lo, threshold), (x_hi, threshold)],
        );
        let rule = &f.lines("recommended")[0];
        assert!(
            rule.iter().all(|p| (p.0 - 6.0).abs() <= f.tolerance().0),
            "{rule:?}"
        );
        let ticks = f.x_labels();
        assert!(ticks.len() >= 3, "{ticks:?}");
        for t in ticks.iter().filter(|t| *t != "hosts of h64") {
            assert!(t.parse::<u64>().is_ok(), "{}: host tick {t}", f.id);
        }
    }
    let detail = &j["detail"];
    let deciding = &j["deciding"];
    assert_eq!(deciding["failed_hosts"].as_array().unwrap().len(), 1);
    for (id, d) in [("utilization", detail), ("deciding", &deciding["detail"])] {
        let f = figure(&figs, id);
        assert_eq!(f.ranges().1, (0.0, 100.0));
        for (line, key) in [("cpu", "cpu_pct"), ("memory", "memory_pct")] {
            f.assert_points(line, &f.lines(line)[0], &json_points(&d["series"], key));
        }
    }
    let f = figure(&figs, "deciding");
    let at = f64s(&deciding["fail_at_s"]);
    assert!(
        f.lines("hosts fail")[0]
            .iter()
            .all(|p| (p.0 - at).abs() <= f.tolerance().0)
    );
    let f = figure(&figs, "rejected");
    f.assert_points(
        "rejected",
        &f.lines("rejected")[0],
        &json_points(&detail["series"], "rejected"),
    );
    let f = figure(&figs, "hosts-at-end");
    let tops: Vec<f64> = f.bars("hosts").iter().map(|b| b.2).collect();
    let want: Vec<f64> = detail["host_cpu_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(f64s)
        .collect();
    let ty = f.tolerance().1;
    assert_eq!(tops.len(), want.len());
    assert!(
        tops.iter().zip(&want).all(|(a, b)| (a - b).abs() <= ty),
        "{tops:?} {want:?}"
    );
    let c = figure(&figs, "cluster-0");
    c.assert_points(
        "cpu",
        &c.lines("cpu")[0],
        &json_points(&detail["clusters"][0]["series"], "cpu_pct"),
    );

    // 37 VMs of 8 cores on 6 × 64 cores: cpu binds, 88 cores spare.
    assert_eq!(detail["binding"], "cpu");
    assert_eq!(detail["headroom_hosts"], 1.375);
    let why = j["why"].as_str().unwrap();
    assert!(why.starts_with("6 hosts and not 5: at 5 hosts, "), "{why}");
    assert!(why.contains("failed at"), "the N+1 run failed at 5: {why}");
    assert!(html.contains(&why.replace('<', "&lt;").replace('>', "&gt;")));
}
