//! Valid scenarios parse into exactly the typed values they describe; the
//! parser never panics, whatever the text.

use pacsim::model::{Dist, HostId, Resources, SimDuration, SimTime, SizeMix, WeightedSize};
use pacsim::scenario::*;
use proptest::prelude::*;

const GI: u64 = 1 << 30;
const SEC: u64 = 1_000_000_000;
const MIN: u64 = 60 * SEC;
const HOUR: u64 = 60 * MIN;

const FULL: &str = "\
seed: 7
duration: 1.5h
datacenter:
  host_models:
    - {name: small, cpu: 16, memory: 64Gi}
    - name: gpu
      cpu: 0.5
      memory: 0.5Ti
      gpus: 1.5
      gpu_model: a100
  clusters:
    - name: a
      hosts:
        - {model: small, count: 3}
        - {model: gpu, names: [g-1]}
    - name: b
      hosts:
        - {model: gpu, count: 2}
placement:
  policy: best-fit
  power_on_delay: lognormal(2s, 0.25)
workloads:
  vms:
    - {name: db, cpu: 500m, memory: 1048576, at: 1m, delete_at: 1h30m}
    - {name: cache, cpu: 2, memory: 8G, gpus: 0.25}
  generators:
    - name: web
      rate: 90/min
      lifetime: exp(600s)
      sizes:
        - {cpu: 1, memory: 4Gi, weight: 3}
        - {cpu: 4, memory: 16Gi}
      start: 10m
      stop: 1h
      count: 50
    - name: batch
      interarrival: uniform(1s, 3s)
      lifetime: 45m
      sizes: [{cpu: 1, memory: 1Gi}]
faults:
  - {at: 30m, host: esx-02, fault: crash, repair_after: 5m}
  - {at: 40m, host: g-1, fault: crash}
  - random: {hosts: b, mtbf: exp(24h), mttr: fixed(1h)}
  - random: {hosts: all, mtbf: 2d, mttr: \"uniform(1m, 2m)\"}
  - random: {hosts: [g-1, esx-01], mtbf: exp(1h), mttr: 0s}
expect:
  - rejected_ratio <= 0.01
  - vms.lost==0
";

fn full() -> Scenario {
    parse_scenario(FULL, "dir/full.yaml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn top_level_fields_and_default_name_from_file_stem() {
    let s = full();
    assert_eq!(s.name, "full");
    assert_eq!(s.file, "dir/full.yaml");
    assert_eq!(s.source, FULL);
    assert_eq!(s.seed, 7);
    assert_eq!(s.duration, SimDuration(90 * MIN));
    assert_eq!(parse_scenario(FULL, "<inline>").unwrap().name, "scenario");
    let named = format!("name: quick\n{FULL}");
    assert_eq!(parse_scenario(&named, "x.yaml").unwrap().name, "quick");
}

#[test]
fn host_models_have_exact_capacities() {
    let dc = full().datacenter;
    assert_eq!(dc.models.len(), 2);
    assert_eq!(dc.models[0].name, "small");
    assert_eq!(dc.models[0].capacity, Resources::new(16_000, 64 * GI, 0));
    assert_eq!(dc.models[0].gpu_model, None);
    assert_eq!(dc.models[1].capacity, Resources::new(500, 512 * GI, 1_500));
    assert_eq!(dc.models[1].gpu_model.as_deref(), Some("a100"));
}

#[test]
fn hosts_are_numbered_across_clusters_in_file_order() {
    let dc = full().datacenter;
    let clusters: Vec<_> = dc.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(clusters, ["a", "b"]);
    let hosts: Vec<_> = dc
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.cluster, h.model))
        .collect();
    assert_eq!(
        hosts,
        [
            ("esx-01", 0, 0),
            ("esx-02", 0, 0),
            ("esx-03", 0, 0),
            ("g-1", 0, 1),
            ("esx-04", 1, 1),
            ("esx-05", 1, 1)
        ]
    );
}

fn host_names(text: &str) -> Vec<String> {
    let s = parse_scenario(text, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
    s.datacenter.hosts.into_iter().map(|h| h.name).collect()
}

fn dc_with_counts(prefix: &str, counts: &[u64]) -> String {
    let groups: String = counts
        .iter()
        .map(|c| format!("        - {{model: m, count: {c}}}\n"))
        .collect();
    format!(
        "seed: 1\nduration: 1h\ndatacenter:\n  host_prefix: {prefix}\n  host_models: [{{name: m, cpu: 1, memory: 1Gi}}]\n  clusters:\n    - name: c\n      hosts:\n{groups}"
    )
}

#[test]
fn host_number_width_follows_the_total_count() {
    let names = host_names(&dc_with_counts("n", &[5, 4]));
    assert_eq!(names.first().unwrap(), "n-01");
    assert_eq!(names.last().unwrap(), "n-09");
    let names = host_names(&dc_with_counts("esx", &[60, 40]));
    assert_eq!(names.len(), 100);
    assert_eq!(
        (names[0].as_str(), names[99].as_str()),
        ("esx-001", "esx-100")
    );
    let names = host_names(&dc_with_counts("esx", &[9999, 1]));
    assert_eq!(
        (names[0].as_str(), names[9999].as_str()),
        ("esx-00001", "esx-10000")
    );
}

#[test]
fn placement_policy_and_delay() {
    let p = full().placement;
    assert_eq!(p.policy, PlacementPolicy::BestFit);
    assert_eq!(
        p.power_on_delay,
        Dist::LogNormal {
            median: 2 * SEC,
            sigma: 0.25
        }
    );
}

#[test]
fn placement_defaults_to_drs_with_no_delay() {
    let text = FULL.split("placement:").next().unwrap().to_string();
    let p = parse_scenario(&text, "t.yaml")
        .unwrap_or_else(|e| panic!("{e}"))
        .placement;
    assert_eq!(p.policy, PlacementPolicy::Drs);
    assert_eq!(p.power_on_delay, Dist::Fixed(0));
}

#[test]
fn explicit_vms() {
    let vms = full().workloads.vms;
    assert_eq!(vms.len(), 2);
    assert_eq!(vms[0].name, "db");
    assert_eq!(vms[0].size, Resources::new(500, 1_048_576, 0));
    assert_eq!(vms[0].at, SimTime(MIN));
    assert_eq!(vms[0].delete_at, Some(SimTime(90 * MIN)));
    assert_eq!(vms[1].size, Resources::new(2_000, 8_000_000_000, 250));
    assert_eq!(vms[1].at, SimTime::ZERO);
    assert_eq!(vms[1].delete_at, None);
}

#[test]
fn generators() {
    let gens = full().workloads.generators;
    assert_eq!(gens.len(), 2);
    let web = &gens[0];
    assert_eq!(web.name, "web");
    assert_eq!(web.interarrival, Dist::Exponential { mean: 666_666_667 });
    assert_eq!(web.lifetime, Dist::Exponential { mean: 600 * SEC });
    let expected_sizes = SizeMix {
        entries: vec![
            WeightedSize {
                size: Resources::cores(1, 4),
                weight: 3,
            },
            WeightedSize {
                size: Resources::cores(4, 16),
                weight: 1,
            },
        ],
    };
    assert_eq!(web.sizes, expected_sizes);
    assert_eq!(
        (web.start, web.stop, web.count),
        (SimTime(10 * MIN), Some(SimTime(HOUR)), Some(50))
    );
    let batch = &gens[1];
    assert_eq!(
        batch.interarrival,
        Dist::Uniform {
            low: SEC,
            high: 3 * SEC
        }
    );
    assert_eq!(batch.lifetime, Dist::Fixed(45 * MIN));
    assert_eq!(
        (batch.start, batch.stop, batch.count),
        (SimTime::ZERO, None, None)
    );
}

#[test]
fn faults_resolve_host_ids() {
    let f = full().faults;
    assert_eq!(f.scheduled.len(), 2);
    assert_eq!(f.scheduled[0].at, SimTime(30 * MIN));
    assert_eq!(f.scheduled[0].host, HostId(1));
    assert_eq!(f.scheduled[0].kind, HostFaultKind::Crash);
    assert_eq!(f.scheduled[0].repair_after, Some(SimDuration(5 * MIN)));
    assert_eq!(f.scheduled[1].host, HostId(3));
    assert_eq!(f.scheduled[1].repair_after, None);

    assert_eq!(f.random.len(), 3);
    assert_eq!(f.random[0].hosts, [HostId(4), HostId(5)]);
    assert_eq!(f.random[0].mtbf, Dist::Exponential { mean: 24 * HOUR });
    assert_eq!(f.random[0].mttr, Dist::Fixed(HOUR));
    assert_eq!(f.random[1].hosts, (0..6).map(HostId).collect::<Vec<_>>());
    assert_eq!(f.random[1].mtbf, Dist::Fixed(48 * HOUR));
    assert_eq!(
        f.random[1].mttr,
        Dist::Uniform {
            low: MIN,
            high: 2 * MIN
        }
    );
    assert_eq!(f.random[2].hosts, [HostId(3), HostId(0)]);
    assert_eq!(f.random[2].mttr, Dist::Fixed(0));
}

#[test]
fn expectations_keep_text_and_location() {
    let e = full().expect;
    assert_eq!(e.len(), 2);
    assert_eq!(
        (e[0].metric.as_str(), e[0].op, e[0].value),
        ("rejected_ratio", CmpOp::Le, 0.01)
    );
    assert_eq!(e[0].text, "rejected_ratio <= 0.01");
    let line = FULL
        .lines()
        .position(|l| l.contains("rejected_ratio"))
        .unwrap()
        + 1;
    assert_eq!(e[0].location, Location { line, col: 5 });
    assert_eq!(
        (e[1].metric.as_str(), e[1].op, e[1].value),
        ("vms.lost", CmpOp::Eq, 0.0)
    );
    assert_eq!(
        e[1].location,
        Location {
            line: line + 1,
            col: 5
        }
    );
}

#[test]
fn optional_sections_may_be_absent_or_empty() {
    let minimal = "seed: 1\nduration: 1s\ndatacenter:\n  host_models: [{name: m, cpu: 1, memory: 1}]\n  clusters: [{name: c, hosts: [{model: m, count: 1}]}]\nworkloads:\nfaults: []\n";
    let s = parse_scenario(minimal, "m.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert!(s.workloads.vms.is_empty() && s.workloads.generators.is_empty());
    assert!(s.faults.scheduled.is_empty() && s.faults.random.is_empty());
    assert!(s.expect.is_empty());
    assert_eq!(s.datacenter.hosts[0].name, "esx-01");
}

/// Errors through the library API: the same contract as the binary.
#[test]
fn errors_display_as_file_line_col_message() {
    let e = parse_scenario(
        "seed: 1\nduration: 1h\ndatacenter:\n  host_models: []\n",
        "e.yaml",
    )
    .unwrap_err();
    assert_eq!(e.location(), Some(Location { line: 4, col: 16 }));
    assert_eq!(
        e.to_string(),
        "e.yaml:4:16: empty datacenter: `host_models` must list at least one host model"
    );
    let e = load_scenario(std::path::Path::new("/nonexistent/x.yaml")).unwrap_err();
    assert_eq!(e.location(), None);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/x.yaml: cannot read scenario: "),
        "{e}"
    );
}

fn readme_example() -> String {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/README.md"));
    let start = readme.find("```yaml\n").expect("README has a yaml block") + "```yaml\n".len();
    let len = readme[start..].find("```").expect("yaml block is closed");
    readme[start..start + len].to_string()
}

#[test]
fn readme_example_parses() {
    let s =
        parse_scenario(&readme_example(), "scenarios/README.md").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.name, "quickstart");
    assert_eq!(s.seed, 42);
    assert_eq!(s.duration, SimDuration(24 * HOUR));
    let names: Vec<_> = s.datacenter.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names[..3], ["esx-01", "esx-02", "esx-03"]);
    assert_eq!(names[8..], ["esx-09", "esx-10", "esx-big-1", "esx-big-2"]);
    assert_eq!(s.faults.scheduled[0].host, HostId(2));
    assert_eq!(
        s.faults.random[0].hosts,
        (0..8).map(HostId).collect::<Vec<_>>()
    );
    assert_eq!(s.workloads.generators.len(), 2);
    assert_eq!(s.expect.len(), 2);
}

/// Single-character edits that tend to break YAML structure or units.
fn mutate(text: &str, edits: &[(usize, u8, char)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(pos, op, c) in edits {
        let i = pos % (chars.len() + 1);
        match op % 4 {
            0 => chars.insert(i, c),
            1 if i < chars.len() => {
                chars.remove(i);
            }
            2 if i < chars.len() => chars[i] = c,
            _ => {
                // Duplicate a whole line: duplicate keys, repeated entries.
                let line = chars[..i].iter().filter(|&&c| c == '\n').count();
                let lines: Vec<String> = chars
                    .iter()
                    .collect::<String>()
                    .lines()
                    .map(String::from)
                    .collect();
                if let Some(l) = lines.get(line) {
                    let mut out = lines.clone();
                    out.insert(line, l.clone());
                    chars = out.join("\n").chars().collect();
                }
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        let _ = parse_scenario(&text, "fuzz.yaml");
    }

    #[test]
    fn yamlish_text_never_panics(text in "[a-z:\\-\\[\\]{}, \n0-9.#&*!|>'\"]{0,200}") {
        let _ = parse_scenario(&text, "fuzz.yaml");
    }

    #[test]
    fn mutated_valid_scenario_never_panics(
        edits in proptest::collection::vec(
            (any::<usize>(), any::<u8>(), prop::sample::select(vec![' ', '\n', ':', '-', '[', '{', '0', '9', 'x', '.', '/', '(', ')', ','])),
            1..6,
        )
    ) {
        let text = mutate(FULL, &edits);
        if let Err(e) = parse_scenario(&text, "fuzz.yaml") {
            // Every error is located inside the text it came from.
            let loc = e.location().expect("parse errors always have a location");
            prop_assert!(loc.line >= 1 && loc.col >= 1);
            prop_assert!(loc.line <= text.lines().count() + 1, "{e}");
        }
    }
}

/// A small valid scenario for the rejection table; line 6 onwards is free.
const SMALL: &str = "\
seed: 1
duration: 1h
datacenter:
  host_models: [{name: m, cpu: 1, memory: 1Gi}]
  clusters: [{name: c, hosts: [{model: m, count: 2}]}]
";

/// Rules checked below the binary level: each case is SMALL plus a tail,
/// the expected `line:col` and a fragment of the message.
#[test]
fn rejections_name_the_rule_and_the_place() {
    let gen_tail = "workloads:\n  generators:\n    - name: g\n      lifetime: 1h\n      sizes: [{cpu: 1, memory: 1}]\n";
    let cases: Vec<(String, (usize, usize), &str)> = vec![
        (
            SMALL.replace(
                "count: 2}]}]",
                "count: 2}]}, {name: c, hosts: [{model: m, count: 1}]}]",
            ),
            (5, 63),
            "duplicate cluster name `c`",
        ),
        (
            SMALL.replace(
                "memory: 1Gi}]",
                "memory: 1Gi}, {name: m, cpu: 2, memory: 1}]",
            ),
            (4, 56),
            "duplicate host model name `m`",
        ),
        (
            format!(
                "{SMALL}workloads:\n  vms:\n    - {{name: a, cpu: 1, memory: 1}}\n    - {{name: a, cpu: 1, memory: 1}}\n"
            ),
            (9, 14),
            "duplicate vm name `a`",
        ),
        (
            format!("{SMALL}{gen_tail}").replace("lifetime: 1h", "rate: 1/s\n      lifetime: 1h")
                + "    - name: g\n      rate: 1/s\n      lifetime: 1h\n      sizes: [{cpu: 1, memory: 1}]\n",
            (12, 13),
            "duplicate generator name `g`",
        ),
        (
            format!("{SMALL}{gen_tail}"),
            (8, 7),
            "generator `g` needs an arrival process",
        ),
        (
            format!("{SMALL}{gen_tail}")
                .replace("lifetime: 1h", "interarrival: 0s\n      lifetime: 1h"),
            (9, 21),
            "`interarrival` must have a mean greater than zero",
        ),
        (
            format!("{SMALL}{gen_tail}").replace(
                "lifetime: 1h",
                "rate: 1/s\n      lifetime: 1h\n      stop: 0s",
            ),
            (11, 13),
            "`stop` (00:00:00) must be later than `start`",
        ),
        (
            format!("{SMALL}{gen_tail}")
                .replace("lifetime: 1h", "rate: 1/s\n      lifetime: 1h")
                .replace("memory: 1}]", "memory: 1, weight: 0}]"),
            (11, 43),
            "`workloads.generators[0].sizes[0].weight` must be at least 1",
        ),
        (
            format!("{SMALL}faults:\n  - random: {{hosts: all, mtbf: 0s, mttr: 1h}}\n"),
            (7, 32),
            "`mtbf` must have a mean greater than zero",
        ),
        (
            format!("{SMALL}faults:\n  - random: {{hosts: all, mtbf: exp(1h), mttr: soon}}\n"),
            (7, 47),
            "invalid duration `soon`",
        ),
        (
            format!("{SMALL}faults:\n  - random: {{hosts: cc, mtbf: 1h, mttr: 1h}}\n"),
            (7, 21),
            "unknown cluster `cc`",
        ),
        (
            format!(
                "{SMALL}faults:\n  - random: {{hosts: [esx-01, esx-01], mtbf: 1h, mttr: 1h}}\n"
            ),
            (7, 30),
            "host `esx-01` is listed twice",
        ),
        (
            format!("{SMALL}faults:\n  - at: 1h\n    random: {{hosts: all, mtbf: 1h, mttr: 1h}}\n"),
            (8, 5),
            "mixes `random` with scheduled-fault fields",
        ),
        (
            format!("{SMALL}placement:\n  power_on_delay: uniform(5s, 1s)\n"),
            (7, 19),
            "low `5s` is above high `1s`",
        ),
        (
            format!("{SMALL}expect:\n  - {{a: 1}}\n"),
            (7, 5),
            "expected an expectation like `lost == 0` for `expect`, found a mapping",
        ),
        (
            SMALL.replace("duration: 1h", "duration: 0s"),
            (2, 11),
            "`duration` must be greater than zero",
        ),
        (
            SMALL.replace("seed: 1", "seed:"),
            (1, 1),
            "missing value for `seed` in `scenario`",
        ),
        (
            SMALL.replace("count: 2", "count: 2, names: [x]"),
            (5, 60),
            "has both `count` and `names`",
        ),
        (
            SMALL.replace("count: 2", "count: 0"),
            (5, 50),
            "must be at least 1",
        ),
        (
            SMALL.replace("count: 2", "count: 99999999999"),
            (5, 50),
            "too many hosts",
        ),
        (
            SMALL.replace("cpu: 1,", "cpu: 1, cpus: 2,"),
            (4, 35),
            "unknown field `cpus`",
        ),
        (
            SMALL
                .replace("1Gi", "&x 1Gi")
                .replace("count: 2", "count: *x"),
            (5, 50),
            "aliases",
        ),
        (
            "[1, 2]\n".to_string(),
            (1, 1),
            "expected a mapping (`seed:`, `duration:`, `datacenter:`...) at the top of the scenario, found a sequence",
        ),
        (String::new(), (1, 1), "the scenario file is empty"),
    ];
    let mut failures = Vec::new();
    for (text, (line, col), fragment) in cases {
        let e = match parse_scenario(&text, "t.yaml") {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e,
        };
        if e.location() != Some(Location { line, col }) || !e.message().contains(fragment) {
            failures.push(format!(
                "want {line}:{col} `{fragment}`, got `{e}` in:\n{text}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
