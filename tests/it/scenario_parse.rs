//! Valid scenarios parse into exactly the typed values they describe; the
//! parser never panics, whatever the text.

use crate::support;
use pacsim::api::Verb;
use pacsim::api::objects::*;
use pacsim::model::{Dist, HostId, Resources, SimDuration, SimTime, SizeMix, WeightedSize};
use pacsim::scenario::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

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
    - {name: db, cpu: 500m, memory: 1048576, at: 1m, delete_at: 1h30m, cluster: a}
    - {name: cache, cpu: 2, memory: 8G, gpus: 0.25, cluster: b}
  generators:
    - name: web
      cluster: a
      rate: 90/min
      lifetime: exp(600s)
      sizes:
        - {cpu: 1, memory: 4Gi, weight: 3}
        - {cpu: 4, memory: 16Gi}
      start: 10m
      stop: 1h
      count: 50
    - name: batch
      cluster: b
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
    assert_eq!((vms[0].cluster, vms[1].cluster), (0, 1));
}

#[test]
fn generators() {
    let gens = full().workloads.generators;
    assert_eq!(gens.len(), 2);
    let web = &gens[0];
    assert_eq!(web.name, "web");
    assert_eq!(web.interarrival, Dist::Exponential { mean: 666_666_667 });
    assert_eq!(web.lifetime, Dist::Exponential { mean: 600 * SEC });
    let expected_sizes = SizeMix::new(vec![
        WeightedSize {
            size: Resources::cores(1, 4),
            weight: 3,
        },
        WeightedSize {
            size: Resources::cores(4, 16),
            weight: 1,
        },
    ]);
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
    assert_eq!((web.cluster, batch.cluster), (0, 1));
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
    let doc = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenarios.md"));
    support::first_yaml_block(doc).to_string()
}

#[test]
fn readme_example_parses() {
    let s =
        parse_scenario(&readme_example(), "docs/scenarios.md").unwrap_or_else(|e| panic!("{e}"));
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

/// The Supervisor example of docs/scenarios.md: it parses, with the file
/// it includes (resolved from scenarios/, as for a file there).
#[test]
fn readme_supervisor_example_parses() {
    let s = support::readme_supervisor_example();
    let c = s.supervisor.expect("supervisor");
    assert_eq!(c.namespaces.len(), 2);
    assert_eq!(c.objects.len(), 3);
    assert_eq!(c.spherelet.pod_start_latency, DEFAULT_POD_START_LATENCY);
    let verbs: Vec<_> = s
        .workloads
        .manifests
        .calls
        .iter()
        .map(|c| (c.verb.name(), c.object.key().to_string()))
        .collect();
    assert_eq!(
        verbs,
        [
            (
                "create",
                "PersistentVolumeClaim/team-a/web-data".to_string()
            ),
            ("create", "Deployment/team-a/web".into()),
            ("create", "Service/team-a/web".into()),
            ("create", "VirtualMachine/team-a/db-01".into()),
            ("update", "VirtualMachine/team-a/db-01".into()),
            ("delete", "Deployment/team-a/web".into()),
            ("delete", "VirtualMachine/team-a/db-01".into()),
        ]
    );
    assert_eq!(s.workloads.manifests.generators[0].name, "batch");
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

    #[test]
    fn mutated_supervisor_scenario_never_panics(
        edits in proptest::collection::vec(
            (any::<usize>(), any::<u8>(), prop::sample::select(vec![' ', '\n', ':', '-', '[', '{', '}', '0', 'x', '.', ','])),
            1..6,
        )
    ) {
        let text = mutate(SUP, &edits);
        if let Err(e) = parse_scenario(&text, "fuzz.yaml") {
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
            "`interarrival` must have a mean of at least 1us",
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
            "`datacenter.clusters[0].hosts[0].count` is too large: at most 1000000",
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

// ---------------------------------------------------------------------------
// The Supervisor: `supervisor:` and the timed API calls of `workloads`.

const MI: u64 = 1 << 20;
const TI: u64 = 1 << 40;

/// Every `supervisor:` field and every kind of call, written as people
/// write them (flow and block style, real manifest field names).
const SUP: &str = "\
seed: 5
duration: 6h
datacenter:
  host_models: [{name: m, cpu: 32, memory: 256Gi}]
  clusters: [{name: c, hosts: [{model: m, count: 4}]}]
supervisor:
  control_plane: {vms: 3, cpu: 8, memory: 24Gi, boot: \"uniform(1m, 3m)\"}
  spherelet: {heartbeat_interval: 5s, node_grace_period: 20s, not_ready_toleration: 2m, pod_start_latency: exp(3s)}
  network: {segment_size: 32, pod_cidr: 10.10.0.0, vip_pool: {first: 192.168.7.1, count: 4}}
  datastores:
    - {name: vsan-a, capacity: 20Ti, hosts: [esx-03, esx-01]}
    - {name: nfs, capacity: 500Gi}
  storage_policies:
    - {name: gold, datastores: [vsan-a]}
    - {name: any, datastores: [nfs, vsan-a]}
  users:
    - {name: alice, groups: [devs, ops]}
    - {name: bob, groups: [devs]}
    - {name: carol}
  node_taints:
    - {hosts: [esx-04, esx-02], key: dedicated, value: gpu, effect: NoSchedule}
  namespaces:
    - name: team-a
      limits: {cpu: 32, memory: 128Gi, storage: 1Ti}
      vm_classes: [best-effort-small]
      storage_classes: [gold-sc]
      permissions: [{user: alice, role: owner}, {group: devs, role: edit}, {user: carol, role: view}]
    - name: team-b
      limits: {memory: 64Gi}
  objects:
    - {apiVersion: vmoperator.vmware.com/v1alpha1, kind: VirtualMachineClass, metadata: {name: best-effort-small}, spec: {hardware: {cpus: 2, memory: 4Gi}, policies: {resources: {requests: {cpu: 0, memory: 0}}}}}
    - apiVersion: storage.k8s.io/v1
      kind: StorageClass
      metadata: {name: gold-sc}
      provisioner: csi.vsphere.vmware.com
      parameters: {storagePolicyID: gold}
    - apiVersion: vmoperator.vmware.com/v1alpha1
      kind: VirtualMachineImage
      metadata: {name: ubuntu, annotations: {pacsim.io/disk-size: 10Gi}}
workloads:
  manifests:
    - at: 1h
      user: alice
      object:
        apiVersion: v1
        kind: Pod
        metadata:
          name: web-1
          namespace: team-a
          labels: {app: web}
          annotations: {pacsim.io/run-for: 10m, team: a}
        spec:
          restartPolicy: Never
          initContainers:
            - {name: init, image: busybox, resources: {requests: {cpu: 3, memory: 64Mi}}}
          containers:
            - name: app
              image: nginx
              env: [{name: X, value: y}]
              resources:
                requests: {cpu: 500m, memory: 512Mi}
                limits: {cpu: 1, memory: 1Gi}
            - name: sidecar
              image: envoy
              resources: {limits: {cpu: 250m, memory: 128Mi}}
          nodeSelector: {disk: ssd}
          tolerations:
            - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}
            - {operator: Exists}
          affinity:
            nodeAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
                nodeSelectorTerms:
                  - matchExpressions:
                      - {key: zone, operator: In, values: [a, b]}
                      - {key: ssd, operator: Exists}
              preferredDuringSchedulingIgnoredDuringExecution:
                - weight: 20
                  preference: {matchExpressions: [{key: rack, operator: In, values: [r1]}]}
            podAffinity:
              preferredDuringSchedulingIgnoredDuringExecution:
                - weight: 5
                  podAffinityTerm: {labelSelector: {matchLabels: {app: cache}}, topologyKey: kubernetes.io/hostname}
            podAntiAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
                - {labelSelector: {matchLabels: {app: web}}, topologyKey: kubernetes.io/hostname}
          volumes:
            - {name: data, persistentVolumeClaim: {claimName: web-data}}
            - {name: cfg, configMap: {name: web-cfg}}
      delete_at: 3h
    - at: 0s
      user: administrator@vsphere.local
      object:
        apiVersion: vmoperator.vmware.com/v1alpha2
        kind: VirtualMachine
        metadata: {name: db, namespace: team-a}
        spec:
          className: best-effort-small
          imageName: ubuntu
          storageClass: gold-sc
          networkInterfaces: [{networkType: nsx-t}]
          volumes: [{name: d, persistentVolumeClaim: {claimName: db-data}}]
    - at: 1h
      user: bob
      object:
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: db-data, namespace: team-b}
        spec: {storageClassName: gold-sc, accessModes: [ReadWriteOnce], resources: {requests: {storage: 50Gi}}}
    - at: 2h
      user: alice
      update:
        apiVersion: vmoperator.vmware.com/v1alpha2
        kind: VirtualMachine
        metadata: {name: db, namespace: team-a}
        spec: {className: best-effort-small, imageName: ubuntu, storageClass: gold-sc, powerState: PoweredOff}
    - {at: 3h, user: bob, delete: {kind: Deployment, namespace: team-b, name: api}}
    - at: 1h
      user: carol
      object:
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: team-a}
        spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 443, targetPort: 8443}]}
  object_generators:
    - name: jobs
      user: bob
      rate: 0.1/s
      lifetime: exp(5m)
      start: 10m
      stop: 5h
      count: 100
      template:
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: job, namespace: team-b}
        spec:
          replicas: 4
          selector: {matchLabels: {run: job}}
          template:
            metadata: {labels: {run: job, extra: x}, annotations: {pacsim.io/run-for: 90s}}
            spec: {containers: [{name: c, image: busybox, resources: {requests: {cpu: 100m, memory: 64Mi}}}]}
    - {name: pods, user: alice, interarrival: \"uniform(1s, 2s)\", template: {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: team-a}, spec: {containers: [{name: c, image: x}]}}}
";

fn sup() -> (Scenario, SupervisorConfig) {
    let s = parse_scenario(SUP, "sup.yaml").unwrap_or_else(|e| panic!("{e}"));
    let cfg = *s.supervisor.clone().expect("supervisor section");
    (s, cfg)
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn supervisor_settings_parse_with_units() {
    let (_, c) = sup();
    assert_eq!(c.control_plane.vms, 3);
    assert_eq!(c.control_plane.size, Resources::new(8_000, 24 * GI, 0));
    assert_eq!(
        c.control_plane.boot,
        Dist::Uniform {
            low: MIN,
            high: 3 * MIN
        }
    );
    assert_eq!(c.spherelet.heartbeat_interval, SimDuration(5 * SEC));
    assert_eq!(c.spherelet.node_grace_period, SimDuration(20 * SEC));
    assert_eq!(c.spherelet.not_ready_toleration, SimDuration(2 * MIN));
    assert_eq!(
        c.spherelet.pod_start_latency,
        Dist::Exponential { mean: 3 * SEC }
    );
    assert_eq!(c.network.segment_size, 32);
    assert_eq!(c.network.pod_cidr_base, [10, 10, 0, 0]);
    assert_eq!(c.network.vip_base, [192, 168, 7, 1]);
    assert_eq!(c.network.vip_count, 4);
}

#[test]
fn supervisor_storage_users_and_taints_resolve_names() {
    let (_, c) = sup();
    assert_eq!(c.datastores.len(), 2);
    assert_eq!(c.datastores[0].name, "vsan-a");
    assert_eq!(c.datastores[0].capacity_bytes, 20 * TI);
    // In host order, whatever the order written.
    assert_eq!(c.datastores[0].hosts, [HostId(0), HostId(2)]);
    // No `hosts`: every host.
    assert_eq!(
        c.datastores[1].hosts,
        (0..4).map(HostId).collect::<Vec<_>>()
    );
    assert_eq!(c.datastores[1].capacity_bytes, 500 * GI);
    let policies: Vec<_> = c
        .storage_policies
        .iter()
        .map(|p| (p.name.as_str(), p.datastores.clone()))
        .collect();
    assert_eq!(policies, [("gold", vec![0]), ("any", vec![1, 0])]);
    let users: Vec<_> = c
        .users
        .iter()
        .map(|u| (u.name.as_str(), u.groups.clone()))
        .collect();
    assert_eq!(
        users,
        [
            ("alice", vec!["devs".to_string(), "ops".to_string()]),
            ("bob", vec!["devs".to_string()]),
            ("carol", vec![]),
        ]
    );
    let taint = Taint {
        key: "dedicated".into(),
        value: "gpu".into(),
        effect: TaintEffect::NoSchedule,
    };
    assert_eq!(
        c.node_taints,
        [(HostId(1), taint.clone()), (HostId(3), taint)]
    );
}

#[test]
fn supervisor_namespaces_and_permissions() {
    let (_, c) = sup();
    assert_eq!(c.namespaces.len(), 2);
    let a = &c.namespaces[0];
    assert_eq!(a.name, "team-a");
    assert_eq!(a.cpu_limit_millis, Some(32_000));
    assert_eq!(a.memory_limit_bytes, Some(128 * GI));
    assert_eq!(a.storage_limit_bytes, Some(TI));
    assert_eq!(a.vm_classes, ["best-effort-small"]);
    assert_eq!(a.storage_classes, ["gold-sc"]);
    assert_eq!(
        a.permissions,
        [
            (Subject::User("alice".into()), Role::Owner),
            (Subject::Group("devs".into()), Role::Edit),
            (Subject::User("carol".into()), Role::View),
        ]
    );
    let b = &c.namespaces[1];
    assert_eq!(
        (
            b.cpu_limit_millis,
            b.memory_limit_bytes,
            b.storage_limit_bytes
        ),
        (None, Some(64 * GI), None)
    );
    assert!(b.vm_classes.is_empty() && b.storage_classes.is_empty() && b.permissions.is_empty());
}

#[test]
fn supervisor_objects_are_cluster_scoped_manifests() {
    let (_, c) = sup();
    let keys: Vec<String> = c.objects.iter().map(|o| o.key().to_string()).collect();
    assert_eq!(
        keys,
        [
            "VirtualMachineClass/best-effort-small",
            "StorageClass/gold-sc",
            "VirtualMachineImage/ubuntu"
        ]
    );
    assert_eq!(
        c.objects[0].body,
        Body::VirtualMachineClass(VirtualMachineClass {
            hardware: Resources::new(2_000, 4 * GI, 0),
            requests: Resources::default(),
        })
    );
    assert_eq!(
        c.objects[1].body,
        Body::StorageClass(StorageClass {
            storage_policy: "gold".into()
        })
    );
    assert_eq!(
        c.objects[2].body,
        Body::VirtualMachineImage(VirtualMachineImage {
            disk_bytes: 10 * GI
        })
    );
    assert_eq!(c.objects[0].meta.namespace, "");
    assert_eq!(c.objects[0].meta.resource_version, 0);
}

#[test]
fn calls_are_sorted_by_time_then_file_order() {
    let (s, _) = sup();
    let calls: Vec<_> = s
        .workloads
        .manifests
        .calls
        .iter()
        .map(|c| {
            (
                c.at,
                c.user.as_str(),
                c.verb.name(),
                c.object.key().to_string(),
            )
        })
        .collect();
    let h = |n: u64| SimTime(n * HOUR);
    assert_eq!(
        calls,
        [
            (
                h(0),
                ADMIN_USER,
                "create",
                "VirtualMachine/team-a/db".into()
            ),
            (h(1), "alice", "create", "Pod/team-a/web-1".into()),
            (
                h(1),
                "bob",
                "create",
                "PersistentVolumeClaim/team-b/db-data".into()
            ),
            (h(1), "carol", "create", "Service/team-a/web".into()),
            (h(2), "alice", "update", "VirtualMachine/team-a/db".into()),
            (h(3), "alice", "delete", "Pod/team-a/web-1".into()),
            (h(3), "bob", "delete", "Deployment/team-b/api".to_string()),
        ]
    );
}

#[test]
fn pod_manifest_becomes_the_modelled_pod() {
    let (s, _) = sup();
    let call = &s.workloads.manifests.calls[1];
    assert_eq!(call.object.meta.labels, map(&[("app", "web")]));
    let Body::Pod(pod) = &call.object.body else {
        panic!("not a pod: {:?}", call.object.body)
    };
    // Initial status.
    assert_eq!(pod.phase, PodPhase::Pending);
    assert_eq!(
        (&pod.node, &pod.ip, &pod.started, &pod.reason),
        (&None, &None, &None, &None)
    );
    let spec = &pod.spec;
    // The init container's 3 cores beat the sum (500m + 250m, the sidecar
    // requesting its limit); memory is the sum 512Mi + 128Mi.
    assert_eq!(spec.requests, Resources::new(3_000, 640 * MI, 0));
    assert_eq!(spec.limits, Resources::new(1_250, GI + 128 * MI, 0));
    assert_eq!(spec.node_selector, map(&[("disk", "ssd")]));
    assert_eq!(
        spec.tolerations,
        [
            Toleration {
                key: "dedicated".into(),
                operator: TolerationOperator::Equal,
                value: "gpu".into(),
                effect: Some(TaintEffect::NoSchedule),
            },
            Toleration {
                key: String::new(),
                operator: TolerationOperator::Exists,
                value: String::new(),
                effect: None,
            },
        ]
    );
    let req = |key: &str, values: &[&str]| LabelRequirement {
        key: key.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    };
    assert_eq!(
        spec.affinity,
        Affinity {
            node_required: vec![req("zone", &["a", "b"]), req("ssd", &[])],
            node_preferred: vec![(20, req("rack", &["r1"]))],
            pod_required: vec![],
            pod_anti_required: vec![map(&[("app", "web")])],
            pod_preferred: vec![(5, map(&[("app", "cache")]))],
            pod_anti_preferred: vec![],
        }
    );
    assert_eq!(spec.volumes, ["web-data"]);
    assert_eq!(spec.run_for, Some(SimDuration(10 * MIN)));
}

#[test]
fn vm_pvc_service_and_delete_manifests() {
    let (s, _) = sup();
    let calls = &s.workloads.manifests.calls;
    let vm = |i: usize| match &calls[i].object.body {
        Body::VirtualMachine(vm) => vm.clone(),
        other => panic!("not a VM: {other:?}"),
    };
    let created = vm(0);
    assert_eq!(
        created,
        VirtualMachine {
            class_name: "best-effort-small".into(),
            image_name: "ubuntu".into(),
            storage_class: "gold-sc".into(),
            power_state: PowerState::PoweredOn,
            volumes: vec!["db-data".into()],
            phase: VmPhase::Creating,
            actual_power: PowerState::PoweredOff,
            host: None,
            ip: None,
            reason: None,
        }
    );
    assert_eq!(calls[4].verb, Verb::Update);
    assert_eq!(vm(4).power_state, PowerState::PoweredOff);
    assert_eq!(
        calls[2].object.body,
        Body::PersistentVolumeClaim(PersistentVolumeClaim {
            storage_class: "gold-sc".into(),
            bytes: 50 * GI,
            datastore: None,
        })
    );
    assert_eq!(
        calls[3].object.body,
        Body::Service(Service {
            load_balancer: true,
            selector: map(&[("app", "web")]),
            vip: None,
        })
    );
    // A delete names a key.
    assert_eq!(calls[6].verb, Verb::Delete);
    assert_eq!(
        calls[6].object.key(),
        ObjectKey::new(Kind::Deployment, "team-b", "api")
    );
}

#[test]
fn object_generators_keep_their_template() {
    let (s, _) = sup();
    let g = &s.workloads.manifests.generators;
    assert_eq!(g.len(), 2);
    assert_eq!(g[0].name, "jobs");
    assert_eq!(g[0].user, "bob");
    assert_eq!(g[0].interarrival, Dist::Exponential { mean: 10 * SEC });
    assert_eq!(g[0].lifetime, Some(Dist::Exponential { mean: 5 * MIN }));
    assert_eq!(
        (g[0].start, g[0].stop, g[0].count),
        (SimTime(10 * MIN), Some(SimTime(5 * HOUR)), Some(100))
    );
    assert_eq!(g[0].template.meta.name, "job");
    let Body::ReplicaSet(rs) = &g[0].template.body else {
        panic!("not a ReplicaSet")
    };
    assert_eq!(rs.replicas, 4);
    assert_eq!(rs.template_labels, map(&[("run", "job"), ("extra", "x")]));
    assert_eq!(rs.template.requests, Resources::new(100, 64 * MI, 0));
    assert_eq!(rs.template.run_for, Some(SimDuration(90 * SEC)));
    assert_eq!(
        g[1].interarrival,
        Dist::Uniform {
            low: SEC,
            high: 2 * SEC
        }
    );
    assert_eq!(g[1].lifetime, None);
    assert_eq!(
        (g[1].start, g[1].stop, g[1].count),
        (SimTime::ZERO, None, None)
    );
    assert_eq!(
        g[1].template.key(),
        ObjectKey::new(Kind::Pod, "team-a", "p")
    );
}

#[test]
fn supervisor_defaults() {
    let text = SMALL.replace("count: 2", "count: 3") + "supervisor: {}\n";
    let s = parse_scenario(&text, "d.yaml").unwrap_or_else(|e| panic!("{e}"));
    let c = s.supervisor.expect("supervisor");
    assert_eq!(c.control_plane.vms, 3);
    assert_eq!(c.control_plane.size, Resources::new(4_000, 16 * GI, 0));
    assert_eq!(c.control_plane.boot, Dist::Fixed(2 * MIN));
    assert_eq!(c.spherelet.heartbeat_interval, SimDuration(10 * SEC));
    assert_eq!(c.spherelet.node_grace_period, SimDuration(40 * SEC));
    assert_eq!(c.spherelet.not_ready_toleration, SimDuration(300 * SEC));
    assert_eq!(c.spherelet.pod_start_latency, DEFAULT_POD_START_LATENCY);
    assert_eq!(
        DEFAULT_POD_START_LATENCY,
        Dist::Uniform {
            low: 2 * SEC,
            high: 8 * SEC
        }
    );
    assert_eq!(c.network.segment_size, 16);
    assert_eq!(c.network.pod_cidr_base, [10, 244, 0, 0]);
    assert_eq!(
        (c.network.vip_base, c.network.vip_count),
        ([192, 168, 100, 10], 16)
    );
    assert!(c.datastores.is_empty() && c.users.is_empty() && c.namespaces.is_empty());
    assert!(c.objects.is_empty() && c.node_taints.is_empty());
    assert!(s.workloads.manifests.calls.is_empty());
    // Without the section there is no Supervisor.
    assert!(
        parse_scenario(SMALL, "d.yaml")
            .unwrap()
            .supervisor
            .is_none()
    );
}

fn fixture(name: &str) -> std::path::PathBuf {
    support::repo().join("tests/fixtures/supervisor").join(name)
}

/// `include:` reads every document of a multi-document file, relative to
/// the scenario's folder, in `supervisor.objects` and in `workloads.manifests`.
#[test]
fn manifests_come_from_included_files() {
    let s = support::load(&fixture("include.yaml"));
    let c = s.supervisor.expect("supervisor");
    let keys: Vec<String> = c.objects.iter().map(|o| o.key().to_string()).collect();
    assert_eq!(
        keys,
        [
            "VirtualMachineClass/guaranteed-small",
            "VirtualMachineImage/ubuntu-22.04",
            "StorageClass/gold-sc"
        ]
    );
    assert_eq!(
        c.objects[0].body,
        Body::VirtualMachineClass(VirtualMachineClass {
            hardware: Resources::new(2_000, 4 * GI, 0),
            requests: Resources::new(2_000, 4 * GI, 0),
        })
    );
    assert_eq!(
        c.objects[1].body,
        Body::VirtualMachineImage(VirtualMachineImage {
            disk_bytes: 20 * GI
        })
    );
    let calls: Vec<_> = s
        .workloads
        .manifests
        .calls
        .iter()
        .map(|c| (c.at, c.verb.name(), c.object.key().to_string()))
        .collect();
    let at = |m: u64| SimTime(m * MIN);
    assert_eq!(
        calls,
        [
            (
                at(30),
                "create",
                "PersistentVolumeClaim/team-a/web-data".to_string()
            ),
            (at(30), "create", "Deployment/team-a/web".into()),
            (at(30), "create", "Service/team-a/web".into()),
            (at(30), "delete", "Pod/team-a/early".into()),
            (
                at(60),
                "delete",
                "PersistentVolumeClaim/team-a/web-data".into()
            ),
            (at(60), "delete", "Deployment/team-a/web".into()),
            (at(60), "delete", "Service/team-a/web".into()),
        ]
    );
    let Body::Deployment(rs) = &s.workloads.manifests.calls[1].object.body else {
        panic!("not a Deployment")
    };
    assert_eq!(rs.replicas, 2);
    assert_eq!(
        rs.template_labels,
        map(&[("app", "web"), ("tier", "front")])
    );
    assert_eq!(rs.template.requests, Resources::new(250, 256 * MI, 0));
    assert_eq!(rs.template.limits, Resources::new(500, 512 * MI, 0));
    assert_eq!(rs.template.volumes, ["web-data"]);
}

/// An error inside an included file names that file, with its own line and
/// column; the scenario's own name is not used.
#[test]
fn errors_in_included_files_name_that_file() {
    let dir = "tests/fixtures/supervisor";
    let text = std::fs::read_to_string(fixture("include.yaml"))
        .unwrap()
        .replace("manifests/web.yaml", "manifests/bad.yaml");
    let e = parse_scenario(&text, &format!("{dir}/include.yaml")).unwrap_err();
    assert_eq!(e.file(), format!("{dir}/manifests/bad.yaml"));
    assert_eq!(e.location(), Some(Location { line: 13, col: 35 }));
    assert!(e.message().contains("invalid cpu quantity `lots`"), "{e}");
    // Resolved from the scenario's folder, so the same text elsewhere fails
    // at the `include:` itself.
    let e = parse_scenario(&text, "elsewhere/include.yaml").unwrap_err();
    assert_eq!(e.file(), "elsewhere/include.yaml");
    assert_eq!(e.location(), Some(Location { line: 13, col: 16 }));
    assert!(
        e.message()
            .contains("cannot read include file `manifests/classes.yaml`"),
        "{e}"
    );
}

/// A Supervisor with one user, group, namespace, class and storage class.
const SUP_SMALL: &str = "\
seed: 1
duration: 1h
datacenter:
  host_models: [{name: m, cpu: 8, memory: 64Gi}]
  clusters: [{name: c, hosts: [{model: m, count: 3}]}]
supervisor:
  datastores: [{name: ds, capacity: 1Ti}]
  storage_policies: [{name: gold, datastores: [ds]}]
  users: [{name: u, groups: [g]}]
  namespaces: [{name: ns, vm_classes: [small], storage_classes: [sc]}]
  objects:
    - {apiVersion: vmoperator.vmware.com/v1alpha1, kind: VirtualMachineClass, metadata: {name: small}, spec: {hardware: {cpus: 2, memory: 4Gi}}}
    - {apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {name: sc}, parameters: {storagePolicyID: gold}}
";

/// SUP_SMALL plus one call creating `object` (a flow mapping).
fn call(object: &str) -> String {
    format!("{SUP_SMALL}workloads:\n  manifests:\n    - {{user: u, object: {object}}}\n")
}

/// SUP_SMALL plus a Pod with this `spec`.
fn pod(spec: &str) -> String {
    call(&format!(
        "{{apiVersion: v1, kind: Pod, metadata: {{name: p, namespace: ns}}, spec: {spec}}}"
    ))
}

/// Each case: the text, a `marker` whose first occurrence (searched from
/// the end of SUP_SMALL's first 5 lines) is where the error must point, and
/// a fragment of the message.
#[test]
fn supervisor_rejections_name_the_rule_and_the_place() {
    let c = "{name: x, image: i}";
    let sup = |old: &str, new: &str| SUP_SMALL.replace(old, new);
    let deploy = |spec: &str| {
        call(&format!(
            "{{apiVersion: apps/v1, kind: Deployment, metadata: {{name: d, namespace: ns}}, spec: {spec}}}"
        ))
    };
    let cases: Vec<(String, &str, &str)> = vec![
        (
            sup(
                "supervisor:\n",
                "supervisor:\n  network: {segment_size: 24}\n",
            ),
            "24",
            "must be a power of two from 4 to 65536",
        ),
        (
            sup(
                "supervisor:\n",
                "supervisor:\n  network: {pod_cidr: 10.0.0.8}\n",
            ),
            "10.0.0.8",
            "must be a multiple of `segment_size`",
        ),
        (
            sup(
                "supervisor:\n",
                "supervisor:\n  network: {pod_cidr: 10.0.0}\n",
            ),
            "10.0.0",
            "expected an IPv4 address",
        ),
        (
            sup(
                "supervisor:\n",
                "supervisor:\n  network: {namespace_network: 10.244.0.8/20}\n",
            ),
            "10.244.0.8/20",
            "the address is not the start of its block",
        ),
        (
            sup(
                "supervisor:\n",
                "supervisor:\n  network: {namespace_network: 10.244.0.0/29, subnet_prefix: 28}\n",
            ),
            "10.244.0.0/29",
            "holds 0 subnets of 16 addresses; the 1 namespaces need one each",
        ),
        (
            sup(
                "supervisor:\n",
                "supervisor:\n  network: {segment_size: 16, subnet_prefix: 28}\n",
            ),
            "subnet_prefix",
            "`subnet_prefix` and `segment_size` say the same thing",
        ),
        (
            sup(
                "supervisor:\n",
                "supervisor:\n  spherelet: {heartbeat_interval: 1m}\n",
            ),
            "1m",
            "`node_grace_period` (40s) must be longer than `heartbeat_interval` (60s)",
        ),
        (
            sup("supervisor:\n", "supervisor:\n  control_plane: {vms: 5}\n"),
            "5}",
            "5 control-plane VMs need as many hosts",
        ),
        (
            sup("storage_classes: [sc]", "storage_classes: [sc, gold]"),
            "gold]",
            "`gold` is not a StorageClass declared under `supervisor.objects`",
        ),
        (
            sup("vm_classes: [small]", "vm_classes: [smal]"),
            "smal]",
            "did you mean `small`?",
        ),
        (
            sup("storagePolicyID: gold", "storagePolicyID: silver"),
            "silver",
            "`storagePolicyID: silver` does not name a `supervisor.storage_policies` entry",
        ),
        (
            sup(
                "[{name: ns,",
                "[{name: ns, permissions: [{group: devs, role: view}],",
            ),
            "devs",
            "group `devs` has no members",
        ),
        (
            sup(
                "[{name: ns,",
                "[{name: ns, permissions: [{user: u, group: g, role: view}],",
            ),
            "g, role",
            "has both `user` and `group`",
        ),
        (
            sup("[{name: ns,", "[{name: Team, "),
            "Team",
            "invalid namespace name `Team`",
        ),
        (
            sup("{name: u,", "{name: administrator@vsphere.local,"),
            "administrator",
            "is built in",
        ),
        (
            sup("datastores: [ds]", "datastores: [ds, ds]"),
            "ds]}]",
            "datastore `ds` is listed twice",
        ),
        (
            sup(
                "  objects:\n",
                "  node_taints: [{hosts: [esx-01], key: k, effect: NoRun}]\n  objects:\n",
            ),
            "NoRun",
            "unknown taint effect `NoRun`",
        ),
        (
            sup(
                "metadata: {name: sc}",
                "metadata: {name: sc, namespace: ns}",
            ),
            "ns}, parameters",
            "`StorageClass` is cluster-scoped",
        ),
        (
            sup(
                "kind: StorageClass, metadata: {name: sc}",
                "kind: Pod, metadata: {name: sc}",
            ),
            "Pod",
            "holds cluster-scoped objects only",
        ),
        (
            format!(
                "{SUP_SMALL}    - {{apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {{name: sc}}, provisioner: p, parameters: {{storagePolicyID: gold}}}}\n"
            ),
            "{apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {name: sc}, provisioner",
            "`StorageClass/sc` is declared twice",
        ),
        (
            sup(
                "cpus: 2, memory: 4Gi}}",
                "cpus: 2, memory: 4Gi}, policies: {resources: {requests: {cpu: 3}}}}",
            ),
            "3}",
            "the cpu reservation is above the class's `hardware.cpus`",
        ),
        (sup("cpus: 2,", "cpus: 1.5,"), "1.5", "expected an integer"),
        (
            call(
                "{apiVersion: v1, kind: Service, metadata: {name: s, namespace: ns, annotations: {pacsim.io/run-for: 1m}}, spec: {}}",
            ),
            "1m",
            "`pacsim.io/run-for` does not apply here: it applies to pods, not a `Service`",
        ),
        (
            sup(
                "metadata: {name: small}",
                "metadata: {name: small, annotations: {pacsim.io/disk-size: 1Gi}}",
            ),
            "1Gi}}",
            "it sizes a `VirtualMachineImage`, not a `VirtualMachineClass`",
        ),
        (
            format!(
                "{SUP_SMALL}    - {{apiVersion: vmoperator.vmware.com/v1alpha1, kind: VirtualMachineImage, metadata: {{name: i, annotations: {{pacsim.io/disk-size: big}}}}}}\n"
            ),
            "big",
            "invalid memory quantity `big`",
        ),
        (
            format!(
                "{SUP_SMALL}faults:\n  - {{at: 1h, fault: datastore-failure, datastore: dz}}\n"
            ),
            "datastore-failure",
            "unknown datastore `dz` in this `datastore-failure`; declared under `supervisor.datastores`: `ds`",
        ),
        (
            format!("{SUP_SMALL}faults:\n  - {{at: 1h, fault: control-plane-vm, member: 3}}\n"),
            "control-plane-vm",
            "`member: 3` is not a control-plane VM: members are numbered from 0 to 2",
        ),
        (
            format!("{SMALL}faults:\n  - {{at: 1h, fault: spherelet-crash, host: esx-01}}\n"),
            "spherelet-crash",
            "the scenario has no `supervisor:` section",
        ),
        (pod("{}"), "{}", "missing field `containers` in `Pod.spec`"),
        (
            pod(&format!("{{containers: [{c}, {c}]}}")),
            "x, image: i}]",
            "duplicate container name `x`",
        ),
        (
            pod(
                "{containers: [{name: x, image: i, resources: {requests: {cpu: 2}, limits: {cpu: 1}}}]}",
            ),
            "2}",
            "the cpu request of container `x` is above its limit",
        ),
        (
            pod(
                "{containers: [{name: x, image: i, resources: {requests: {nvidia.com/gpu: 1.5}}}]}",
            ),
            "1.5",
            "nvidia.com/gpu",
        ),
        (
            pod("{containers: [{name: X, image: i}]}"),
            "X",
            "invalid container name `X`",
        ),
        (
            pod(&format!(
                "{{containers: [{c}], tolerations: [{{key: k, operator: Exists, value: v}}]}}"
            )),
            "{key: k",
            "`Exists` takes no value",
        ),
        (
            pod(&format!(
                "{{containers: [{c}], tolerations: [{{value: v}}]}}"
            )),
            "{value",
            "needs `operator: Exists`",
        ),
        (
            pod(&format!(
                "{{containers: [{c}], affinity: {{nodeAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: {{nodeSelectorTerms: [{{matchExpressions: [{{key: k, operator: NotIn, values: [a]}}]}}]}}}}}}}}"
            )),
            "NotIn",
            "operator `NotIn` is not modelled; supported: `In`, `Exists`",
        ),
        (
            pod(&format!(
                "{{containers: [{c}], affinity: {{nodeAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: {{nodeSelectorTerms: [{{matchExpressions: [{{key: k, operator: In, values: [a]}}]}}, {{matchExpressions: [{{key: k, operator: In, values: [b]}}]}}]}}}}}}}}"
            )),
            "[{matchExpressions",
            "must hold exactly one term",
        ),
        (
            pod(&format!(
                "{{containers: [{c}], affinity: {{podAffinity: {{preferredDuringSchedulingIgnoredDuringExecution: [{{weight: 101, podAffinityTerm: {{labelSelector: {{matchLabels: {{a: b}}}}, topologyKey: kubernetes.io/hostname}}}}]}}}}}}"
            )),
            "101",
            "weight` is too large: at most 100, found `101`",
        ),
        (
            pod(&format!("{{containers: [{c}], volumes: [{{name: v}}]}}")),
            "{name: v}",
            "volume `v` needs exactly one source",
        ),
        (
            call(&format!(
                "{{apiVersion: v1, kind: Pod, metadata: {{name: p, namespace: ns, annotations: {{pacsim.io/runfor: 1m}}}}, spec: {{containers: [{c}]}}}}"
            )),
            "pacsim.io/runfor",
            "unknown pacsim annotation `pacsim.io/runfor`; known: `pacsim.io/run-for`, `pacsim.io/disk-size`; did you mean `pacsim.io/run-for`?",
        ),
        (
            call(&format!(
                "{{apiVersion: v1, kind: Pod, metadata: {{name: P_1, namespace: ns}}, spec: {{containers: [{c}]}}}}"
            )),
            "P_1",
            "invalid name `P_1`",
        ),
        (
            call(&format!(
                "{{apiVersion: v1, kind: Pod, metadata: {{name: p}}, spec: {{containers: [{c}]}}}}"
            )),
            "{name: p}",
            "missing field `namespace`: a `Pod` lives in a namespace",
        ),
        (
            deploy(&format!(
                "{{selector: {{matchLabels: {{app: a}}}}, template: {{metadata: {{labels: {{app: b}}}}, spec: {{containers: [{c}]}}}}}}"
            )),
            "{matchLabels",
            "does not match the template's labels: `app: a`",
        ),
        (
            deploy(&format!(
                "{{selector: {{matchExpressions: []}}, template: {{metadata: {{labels: {{app: b}}}}, spec: {{containers: [{c}]}}}}}}"
            )),
            "matchExpressions",
            "write the selector as `matchLabels`",
        ),
        (
            call(&format!(
                "{{apiVersion: apps/v1, kind: Deployment, metadata: {{name: d, namespace: ns, annotations: {{pacsim.io/run-for: 1m}}}}, spec: {{selector: {{matchLabels: {{a: b}}}}, template: {{metadata: {{labels: {{a: b}}}}, spec: {{containers: [{c}]}}}}}}}}"
            )),
            "1m",
            "put it on `spec.template.metadata.annotations`",
        ),
        (
            call(
                "{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c, namespace: ns}, spec: {storageClassName: sc, resources: {requests: {storage: 0}}}}",
            ),
            "0}",
            "must be greater than zero",
        ),
        (
            call(
                "{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c, namespace: ns}, spec: {storageClassName: sc, accessModes: [ReadWriteOnly], resources: {requests: {storage: 1Gi}}}}",
            ),
            "ReadWriteOnly",
            "unknown access mode `ReadWriteOnly`",
        ),
        (
            call(
                "{apiVersion: v1, kind: Service, metadata: {name: s, namespace: ns}, spec: {type: NodePorts}}",
            ),
            "NodePorts",
            "unknown service type `NodePorts`",
        ),
        (
            call(
                "{apiVersion: vmoperator.vmware.com/v1alpha1, kind: VirtualMachine, metadata: {name: v, namespace: ns}, spec: {className: small, imageName: i, storageClass: sc, powerState: On}}",
            ),
            "On}",
            "unknown power state `On`",
        ),
        (
            call(
                "{apiVersion: vmoperator.vmware.com/v1, kind: VirtualMachine, metadata: {name: v, namespace: ns}, spec: {}}",
            ),
            "vmoperator.vmware.com/v1,",
            "expected `vmoperator.vmware.com/v1alpha1`, `vmoperator.vmware.com/v1alpha2`, `vmoperator.vmware.com/v1alpha3`",
        ),
        (
            format!(
                "{SUP_SMALL}workloads:\n  manifests:\n    - {{user: u, delete: {{kind: Pod, name: p}}}}\n"
            ),
            "{kind: Pod",
            "missing field `namespace`",
        ),
        (
            format!(
                "{SUP_SMALL}workloads:\n  manifests:\n    - {{user: u, delete: {{kind: Pod, namespace: ns, name: p}}, update: {{}}}}\n"
            ),
            "update",
            "has both `delete` and `update`",
        ),
        (
            format!("{SUP_SMALL}workloads:\n  manifests:\n    - {{user: u}}\n"),
            "{user",
            "needs one of `object`, `include`, `update` or `delete`",
        ),
        (
            format!(
                "{SUP_SMALL}workloads:\n  manifests:\n    - {{user: u, delete_at: 1h, delete: {{kind: Pod, namespace: ns, name: p}}}}\n"
            ),
            "delete_at",
            "`delete_at` goes with `object` or `include`, not with `delete`",
        ),
        (
            format!(
                "{SUP_SMALL}workloads:\n  manifests:\n    - {{at: 1h, user: u, delete_at: 1h, include: x.yaml}}\n"
            ),
            "1h, include",
            "`delete_at` (01:00:00) must be later than `at` (01:00:00)",
        ),
        (
            format!(
                "{SUP_SMALL}workloads:\n  object_generators:\n    - {{name: g, user: u, template: {{include: x.yaml}}}}\n"
            ),
            "{name: g, user",
            "generator `g` needs an arrival process",
        ),
        (
            format!(
                "{SUP_SMALL}workloads:\n  object_generators:\n    - {{name: g, user: u, rate: 1/s, template: {{include: x.yaml}}}}\n"
            ),
            "{include",
            "not an `include:`",
        ),
        (
            format!(
                "{SUP_SMALL}workloads:\n  object_generators:\n    - {{name: g, user: v, rate: 1/s, template: {{}}}}\n"
            ),
            "v, rate",
            "unknown user `v`",
        ),
    ];
    let mut failures = Vec::new();
    for (text, marker, fragment) in cases {
        // Markers are searched after the datacenter so that short ones
        // (`5}`, `0}`) do not hit the fixed lines above.
        let skip: usize = text.lines().take(5).map(|l| l.len() + 1).sum();
        let at = skip
            + text[skip..]
                .find(marker)
                .unwrap_or_else(|| panic!("no `{marker}` in:\n{text}"));
        let line = text[..at].matches('\n').count() + 1;
        let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
        let e = match parse_scenario(&text, "t.yaml") {
            Ok(_) => {
                failures.push(format!("accepted (want `{fragment}`):\n{text}"));
                continue;
            }
            Err(e) => e,
        };
        if e.location() != Some(Location { line, col }) || !e.message().contains(fragment) {
            failures.push(format!("want {line}:{col} `{fragment}`, got `{e}`"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
