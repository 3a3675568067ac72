//! Bad scenario files through the real binary: exit code 2 and one message
//! `error: FILE:LINE:COL: ...` that points at the mistake and says what was
//! expected.

use std::io::Write;
use std::process::{Command, Output};

/// A valid scenario; each case edits one or two of its lines. Line numbers
/// in the cases refer to this text.
const BASE: &str = "\
seed: 42
duration: 24h
datacenter:
  host_models:
    - name: r650
      cpu: 64
      memory: 512Gi
  clusters:
    - name: cl-01
      hosts:
        - model: r650
          count: 4
placement:
  policy: drs
faults:
  - at: 6h
    host: esx-03
    fault: crash
expect:
  - lost == 0
";

/// BASE with 1-based line `line` replaced by `new` (several lines allowed,
/// or none to delete it).
fn edit(line: usize, new: &str) -> String {
    edit_text(BASE, line, new)
}

fn edit_text(base: &str, line: usize, new: &str) -> String {
    let mut lines: Vec<&str> = base.lines().collect();
    assert!(line >= 1 && line <= lines.len(), "no line {line}");
    if new.is_empty() {
        lines.remove(line - 1);
    } else {
        lines[line - 1] = new;
    }
    lines.join("\n") + "\n"
}

fn pacsim_run(path: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacsim"))
        .arg("run")
        .arg(path)
        .arg("--no-persist")
        .output()
        .expect("run pacsim")
}

fn run_bytes(bytes: &[u8]) -> (Output, String) {
    let mut file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("temp file");
    file.write_all(bytes).expect("write scenario");
    let out = pacsim_run(file.path());
    (out, file.path().display().to_string())
}

/// Runs `text` and checks exit code 2, the exact `file:line:col` and that
/// the message contains every one of `words`.
fn assert_rejected(text: &str, line: usize, col: usize, words: &[&str]) {
    assert_rejected_bytes(text.as_bytes(), line, col, words);
}

fn assert_rejected_bytes(bytes: &[u8], line: usize, col: usize, words: &[&str]) {
    let (out, path) = run_bytes(bytes);
    check_rejected(&out, &path, line, col, words);
}

/// Exit code 2 and one line `error: {path}:{line}:{col}: ...` with `words`.
fn check_rejected(out: &Output, path: &str, line: usize, col: usize, words: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    let prefix = format!("error: {path}:{line}:{col}: ");
    assert!(
        stderr.starts_with(&prefix),
        "expected prefix `{prefix}`, got: {stderr}"
    );
    for word in words {
        assert!(stderr.contains(word), "expected `{word}` in: {stderr}");
    }
    assert_eq!(stderr.lines().count(), 1, "one message, one line: {stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
}

#[test]
fn valid_scenario_exits_zero() {
    let (out, _) = run_bytes(BASE.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("events delivered") && stdout.contains("digest"),
        "{stdout}"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn unknown_field_suggests_the_closest_name() {
    assert_rejected(
        &edit(14, "  plicy: drs"),
        14,
        3,
        &[
            "unknown field `plicy` in `placement`; expected one of `policy`, `power_on_delay`; did you mean `policy`?",
        ],
    );
}

#[test]
fn misspelt_required_field_is_unknown_not_missing() {
    assert_rejected(
        &edit(1, "sed: 42"),
        1,
        1,
        &["unknown field `sed` in `scenario`", "did you mean `seed`?"],
    );
}

#[test]
fn wrong_scalar_type() {
    assert_rejected(
        &edit(1, "seed: abc"),
        1,
        7,
        &["expected an integer for `seed`, found `abc`"],
    );
}

#[test]
fn wrong_collection_type() {
    assert_rejected(
        &edit(14, "  - drs"),
        14,
        3,
        &["expected a mapping for `placement`, found a sequence"],
    );
}

#[test]
fn zero_capacity() {
    assert_rejected(
        &edit(6, "      cpu: 0"),
        6,
        12,
        &["`cpu` must be greater than zero, found `0`"],
    );
}

#[test]
fn negative_capacity() {
    assert_rejected(
        &edit(7, "      memory: -4Gi"),
        7,
        15,
        &["memory must be greater than zero, found `-4Gi`"],
    );
}

#[test]
fn duration_without_unit() {
    assert_rejected(
        &edit(2, "duration: 24"),
        2,
        11,
        &["duration `24` needs a unit", "e.g. `24s`"],
    );
}

#[test]
fn duration_with_unknown_unit() {
    assert_rejected(
        &edit(16, "  - at: 6hours"),
        16,
        9,
        &["invalid duration `6hours`", "expected a number with a unit"],
    );
}

#[test]
fn bad_memory_quantity() {
    assert_rejected(
        &edit(7, "      memory: 12Gx"),
        7,
        15,
        &[
            "invalid memory quantity `12Gx`: expected a number with an optional unit",
            "e.g. `512Gi`",
        ],
    );
}

#[test]
fn unknown_host_in_fault() {
    assert_rejected(
        &edit(17, "    host: esx-3"),
        17,
        11,
        &["unknown host `esx-3`", "did you mean `esx-03`?"],
    );
}

#[test]
fn unknown_fault_kind_lists_supported_ones() {
    assert_rejected(
        &edit(18, "    fault: reboot"),
        18,
        12,
        &["unsupported fault `reboot`; supported: `crash`"],
    );
}

#[test]
fn unknown_placement_policy_lists_all_three() {
    assert_rejected(
        &edit(14, "  policy: dsr"),
        14,
        11,
        &[
            "unknown placement policy `dsr`; expected one of `first-fit`, `best-fit`, `drs`; did you mean `drs`?",
        ],
    );
}

#[test]
fn empty_datacenter_without_clusters() {
    let text = BASE.replace(
        "  clusters:\n    - name: cl-01\n      hosts:\n        - model: r650\n          count: 4\n",
        "  clusters: []\n",
    );
    assert_rejected(
        &text,
        8,
        13,
        &[
            "empty datacenter",
            "`clusters` must list at least one cluster",
        ],
    );
}

#[test]
fn empty_cluster_without_hosts() {
    let text = BASE.replace(
        "      hosts:\n        - model: r650\n          count: 4\n",
        "      hosts: []\n",
    );
    assert_rejected(
        &text,
        10,
        14,
        &["empty cluster `cl-01`", "at least one host group"],
    );
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nope.yaml");
    let out = pacsim_run(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let expected = format!("error: {}: cannot read scenario: ", path.display());
    assert!(
        stderr.starts_with(&expected),
        "expected `{expected}`, got: {stderr}"
    );
    assert!(stderr.contains("No such file"), "{stderr}");
}

#[test]
fn binary_file_is_not_yaml() {
    assert_rejected_bytes(
        b"seed: 1\nab\xff\xfe\x00",
        2,
        3,
        &["not a YAML scenario: invalid UTF-8 at byte 10"],
    );
}

#[test]
fn json_ish_mess_gets_the_scanner_position() {
    assert_rejected(
        "{\"seed\": 42,\n \"duration\": [1h,\n",
        3,
        1,
        &["invalid YAML"],
    );
}

#[test]
fn plain_text_is_not_a_scenario() {
    assert_rejected(
        "just some words\n",
        1,
        1,
        &["expected a mapping", "found `just some words`"],
    );
}

#[test]
fn unknown_host_model() {
    assert_rejected(
        &edit(11, "        - model: r65"),
        11,
        18,
        &["unknown host model `r65`", "did you mean `r650`?"],
    );
}

#[test]
fn missing_required_field_is_reported_at_the_parent_mapping() {
    assert_rejected(&edit(1, ""), 1, 1, &["missing field `seed` in `scenario`"]);
    assert_rejected(
        &edit(7, ""),
        5,
        7,
        &["missing field `memory` in `datacenter.host_models[0]`"],
    );
}

#[test]
fn duplicate_explicit_host_name_is_reported_at_the_name() {
    let text = BASE.replace(
        "          count: 4\n",
        "          count: 4\n        - model: r650\n          names: [big-1, esx-02]\n",
    );
    assert_rejected(&text, 14, 26, &["duplicate host name `esx-02`", "line 12"]);
}

#[test]
fn duplicate_key() {
    assert_rejected(
        &edit(2, "duration: 24h\nseed: 7"),
        3,
        1,
        &["duplicate key `seed` (first given at line 1)"],
    );
}

#[test]
fn malformed_expectation() {
    assert_rejected(
        &edit(20, "  - lost = 0"),
        20,
        5,
        &[
            "malformed expectation `lost = 0`",
            "expected `<metric> <op> <number>`",
        ],
    );
}

const GENERATOR: &str = "workloads:
  generators:
    - name: web
      rate: 5/m
      lifetime: 1h
      sizes: [{cpu: 1, memory: 1Gi}]
";

#[test]
fn rate_per_m_is_ambiguous() {
    let text = format!("{BASE}{GENERATOR}");
    assert_rejected(
        &text,
        24,
        13,
        &["rate unit `/m` in `5/m` is ambiguous; write `/min`"],
    );
}

#[test]
fn generator_with_rate_and_interarrival() {
    let text = format!(
        "{BASE}{}",
        GENERATOR.replace("rate: 5/m", "rate: 5/min\n      interarrival: exp(1s)")
    );
    assert_rejected(
        &text,
        25,
        7,
        &["generator `web` has both `rate` and `interarrival`; give exactly one"],
    );
}

#[test]
fn delete_before_create() {
    let vm = "workloads:\n  vms:\n    - {name: a, cpu: 1, memory: 1Gi, at: 2h, delete_at: 1h}\n";
    assert_rejected(
        &format!("{BASE}{vm}"),
        23,
        57,
        &["`delete_at` (01:00:00) must be later than `at` (02:00:00)"],
    );
}

#[test]
fn second_document_is_rejected() {
    assert_rejected(
        &format!("{BASE}---\nseed: 1\n"),
        21,
        1,
        &["single YAML document"],
    );
}

// ---------------------------------------------------------------------------
// The Supervisor section and its manifests.

/// A valid Supervisor scenario; line numbers in the cases refer to it.
const SUP_BASE: &str = "\
seed: 42
duration: 4h
datacenter:
  host_models:
    - {name: r650, cpu: 64, memory: 512Gi}
  clusters:
    - {name: cl-01, hosts: [{model: r650, count: 4}]}
supervisor:
  datastores:
    - {name: vsan-a, capacity: 20Ti, hosts: [esx-01, esx-02]}
  storage_policies: [{name: gold, datastores: [vsan-a]}]
  users: [{name: alice, groups: [devs]}]
  namespaces:
    - name: team-a
      permissions: [{user: alice, role: owner}]
workloads:
  manifests:
    - at: 0s
      user: alice
      object:
        apiVersion: v1
        kind: Pod
        metadata: {name: web-1, namespace: team-a}
        spec:
          containers:
            - name: web
              image: nginx
              resources: {requests: {cpu: 500m, memory: 512Mi}}
";

fn sup_edit(line: usize, new: &str) -> String {
    edit_text(SUP_BASE, line, new)
}

/// The cases below are one edit away from a scenario that parses (whether
/// it runs is the Supervisor actors' business, not the parser's).
#[test]
fn supervisor_base_parses() {
    let s =
        pacsim::scenario::parse_scenario(SUP_BASE, "sup.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.workloads.manifests.calls.len(), 1);
}

#[test]
fn manifest_of_unknown_kind_lists_the_supported_kinds() {
    assert_rejected(
        &sup_edit(22, "        kind: Pdo"),
        22,
        15,
        &[
            "unsupported kind `Pdo`; supported kinds: `Pod`, `Deployment`, `ReplicaSet`, `Service`",
            "`VirtualMachine`",
            "did you mean `Pod`?",
        ],
    );
}

#[test]
fn namespace_manifest_is_not_created_and_points_to_supervisor_namespaces() {
    let (out, path) = run_bytes(sup_edit(22, "        kind: Namespace").as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("warning: {path}:")) && stderr.contains(
            "not created: Supervisor Namespaces are made in vCenter; declare it under `supervisor.namespaces`"
        ),
        "{stderr}"
    );
}

#[test]
fn api_version_is_checked_per_kind() {
    assert_rejected(
        &sup_edit(21, "        apiVersion: apps/v1"),
        21,
        21,
        &["`apiVersion: apps/v1` is not an API version of `Pod`; expected `v1`"],
    );
}

#[test]
fn unknown_field_in_pod_spec_suggests_the_real_one() {
    assert_rejected(
        &sup_edit(25, "          contaners:"),
        25,
        11,
        &[
            "unknown field `contaners` in `Pod.spec`",
            "accepted, not modelled: `restartPolicy`",
            "did you mean `containers`?",
        ],
    );
}

#[test]
fn bad_cpu_quantity_in_container_resources() {
    assert_rejected(
        &sup_edit(
            28,
            "              resources: {requests: {cpu: 2 cores, memory: 512Mi}}",
        ),
        28,
        43,
        &["invalid cpu quantity `2 cores`", "millicores (`500m`)"],
    );
}

#[test]
fn manifest_in_undeclared_namespace() {
    assert_rejected(
        &sup_edit(23, "        metadata: {name: web-1, namespace: team-b}"),
        23,
        44,
        &[
            "namespace `team-b` is not declared under `supervisor.namespaces`",
            "did you mean `team-a`?",
        ],
    );
}

#[test]
fn call_by_undeclared_user() {
    assert_rejected(
        &sup_edit(19, "      user: alcie"),
        19,
        13,
        &["unknown user `alcie`", "did you mean `alice`?"],
    );
}

#[test]
fn unknown_host_in_datastore() {
    assert_rejected(
        &sup_edit(
            10,
            "    - {name: vsan-a, capacity: 20Ti, hosts: [esx-01, esx-3]}",
        ),
        10,
        54,
        &["unknown host `esx-3`", "did you mean `esx-03`?"],
    );
}

#[test]
fn unknown_role_in_namespace_permissions() {
    assert_rejected(
        &sup_edit(15, "      permissions: [{user: alice, role: owne}]"),
        15,
        41,
        &[
            "unknown role `owne`",
            "expected one of `view`, `edit`, `owner`; did you mean `owner`?",
        ],
    );
}

#[test]
fn manifests_without_a_supervisor_section() {
    let text: String = SUP_BASE
        .lines()
        .enumerate()
        .filter(|(i, _)| !(7..15).contains(i))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    assert_rejected(
        &text,
        9,
        3,
        &["`workloads.manifests`", "no `supervisor:` section"],
    );
}

/// The Pod of SUP_BASE as an `include:` of `manifests/web.yaml`, in a
/// folder of its own with `files`; runs it and returns the folder.
fn run_with_include(files: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = SUP_BASE.split("      object:").next().unwrap().to_string()
        + "      include: manifests/web.yaml\n";
    std::fs::create_dir(dir.path().join("manifests")).expect("mkdir");
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).expect("write include");
    }
    let path = dir.path().join("scenario.yaml");
    std::fs::write(&path, text).expect("write scenario");
    (pacsim_run(&path), dir)
}

#[test]
fn error_inside_an_included_file_names_that_file() {
    let web = "\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: team-a}
spec: {type: LoadBalancer, selector: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: team-a}
spec:
  containers: [{name: web, image: nginx}]
  tolerations: [{key: dedicated, effect: NoSchedul}]
";
    let (out, dir) = run_with_include(&[("manifests/web.yaml", web)]);
    let file = dir.path().join("manifests").join("web.yaml");
    check_rejected(
        &out,
        &file.display().to_string(),
        11,
        42,
        &[
            "unknown taint effect `NoSchedul`",
            "did you mean `NoSchedule`?",
        ],
    );
}

#[test]
fn missing_include_file_is_reported_at_the_include() {
    let (out, dir) = run_with_include(&[]);
    let scenario = dir.path().join("scenario.yaml");
    check_rejected(
        &out,
        &scenario.display().to_string(),
        20,
        16,
        &[
            "cannot read include file `manifests/web.yaml`",
            "No such file",
        ],
    );
}

// ---------------------------------------------------------------------------
// TanzuKubernetesCluster manifests.

/// SUP_BASE's first 20 lines and a TKC (lines 21 to 33).
fn tkc_base() -> String {
    let head: Vec<&str> = SUP_BASE.lines().take(20).collect();
    head.join("\n")
        + "
        apiVersion: run.tanzu.vmware.com/v1alpha2
        kind: TanzuKubernetesCluster
        metadata: {name: tkc-1, namespace: team-a}
        spec:
          topology:
            controlPlane:
              replicas: 3
              vmClass: small
              storageClass: gold
              tkr: {reference: {name: v1-21}}
            nodePools:
              - {name: workers, replicas: 2, vmClass: small, storageClass: gold}
          settings: {network: {cni: {name: antrea}}}
"
}

#[test]
fn tkc_base_parses() {
    let text = tkc_base();
    let s = pacsim::scenario::parse_scenario(&text, "sup.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.workloads.manifests.calls.len(), 1);
}

#[test]
fn tkc_with_an_even_control_plane_is_refused_at_the_replicas() {
    assert_rejected(
        &edit_text(&tkc_base(), 27, "              replicas: 2"),
        27,
        25,
        &["`TanzuKubernetesCluster.spec.topology.controlPlane.replicas` must be odd"],
    );
}

#[test]
fn tkc_without_a_release_says_where_to_put_it() {
    assert_rejected(
        &edit_text(&tkc_base(), 30, ""),
        27,
        15,
        &[
            "missing version: set `TanzuKubernetesCluster.spec.topology.controlPlane.tkr.reference.name`",
        ],
    );
}

#[test]
fn tkc_autoscaler_bounds_must_hold_the_replicas() {
    assert_rejected(
        &edit_text(
            &tkc_base(),
            32,
            "              - {name: workers, replicas: 2, vmClass: small, storageClass: gold, autoscaler: {min: 3, max: 5}}",
        ),
        32,
        43,
        &["(2) must be within the autoscaler's bounds 3..=5"],
    );
}
