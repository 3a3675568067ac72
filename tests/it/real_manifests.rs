//! The corpus of real manifests (tests/data/real-manifests/, each file
//! naming its upstream source) loads as a user would paste it: every file
//! is modelled, accepted with one warning naming the fields pacsim ignores,
//! or a kind stored but not modelled (one warning). Never an error.
//! tests/golden/real-manifests.txt lists each file's outcome
//! (`PACSIM_UPDATE_GOLDEN=1` rewrites it).

use pacsim::scenario::parse_scenario;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real-manifests")
}

/// A Supervisor whose namespaces are the ones `text` names (plus
/// `default`), with one call including `file` into namespace `default`
/// when its objects name none.
fn scenario_including(file: &str, text: &str) -> String {
    let mut namespaces: BTreeSet<String> = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches('"');
        if let Some(rest) = line
            .strip_prefix("namespace:")
            .or_else(|| line.strip_prefix("namespace\":"))
        {
            let ns = rest
                .trim()
                .trim_matches(|c| c == '"' || c == ',' || c == '\'');
            if !ns.is_empty() && !ns.contains(' ') {
                namespaces.insert(ns.to_string());
            }
        }
    }
    // As `kubectl apply -n default`, for files whose objects name none.
    let call_namespace = match namespaces.is_empty() {
        true => "namespace: default, ",
        false => "",
    };
    namespaces.insert("default".to_string());
    let namespaces: Vec<String> = namespaces
        .into_iter()
        .map(|n| format!("{{name: {n}}}"))
        .collect();
    supervisor(
        &format!(
            "  datastores: [{{name: ds, capacity: 10Ti}}]
  storage_policies: [{{name: gold, datastores: [ds]}}]
  namespaces: [{}]
",
            namespaces.join(", ")
        ),
        &format!(
            "    - {{at: 1m, user: administrator@vsphere.local, {call_namespace}include: {file}}}\n"
        ),
    )
}

/// Three hosts and a Supervisor with the `supervisor:` body `section`, and
/// `calls` under `workloads.manifests`.
fn supervisor(section: &str, calls: &str) -> String {
    format!(
        "seed: 1
duration: 1h
datacenter:
  host_models: [{{name: m, cpu: 16, memory: 128Gi}}]
  clusters: [{{name: c, hosts: [{{model: m, count: 3}}]}}]
supervisor:
{section}workloads:
  manifests:
{calls}"
    )
}

/// `modelled`, or the warnings the file's objects got.
fn outcome(file: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(corpus().join(file)).unwrap();
    let scenario_text = scenario_including(file, &text);
    let at = corpus().join("corpus-scenario.yaml");
    let scenario =
        parse_scenario(&scenario_text, &at.display().to_string()).map_err(|e| e.to_string())?;
    if scenario.notices.is_empty() {
        return Ok("modelled".to_string());
    }
    let warnings: Vec<String> = (scenario.notices.iter())
        .map(|n| {
            n.split_once(": ")
                .map_or(n.as_str(), |(_, m)| m)
                .to_string()
        })
        .collect();
    Ok(warnings.join("\n    "))
}

#[test]
fn every_real_manifest_loads_and_says_what_it_ignores() {
    let mut files: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "only {} files", files.len());
    let mut report = String::new();
    let mut failed = Vec::new();
    for file in &files {
        match outcome(file) {
            Ok(o) => report.push_str(&format!("{file}\n    {o}\n")),
            Err(e) => failed.push(format!("{file}: {e}")),
        }
    }
    assert!(failed.is_empty(), "refused:\n{}", failed.join("\n"));
    crate::golden::check_text("real-manifests.txt", &report);
}

/// A Supervisor with namespace `ns`, plus `calls` under
/// `workloads.manifests`.
fn with_calls(calls: &str) -> Result<pacsim::scenario::Scenario, String> {
    let text = supervisor("  namespaces: [{name: ns}]\n", calls);
    parse_scenario(&text, "t.yaml").map_err(|e| e.to_string())
}

fn only_object(s: &pacsim::scenario::Scenario) -> &pacsim::api::objects::Object {
    let calls = &s.workloads.manifests.calls;
    assert_eq!(calls.len(), 1);
    &calls[0].object
}

#[test]
fn each_api_version_spells_power_states_its_own_way() {
    use pacsim::api::objects::{Body, PowerState};
    let vm = |version: &str, state: &str| {
        with_calls(&format!(
            "    - {{user: administrator@vsphere.local, object: {{apiVersion: vmoperator.vmware.com/{version}, kind: VirtualMachine, metadata: {{name: v, namespace: ns}}, spec: {{className: c, imageName: i, storageClass: s, powerState: {state}}}}}}}\n"
        ))
    };
    for (version, state, want) in [
        ("v1alpha1", "poweredOff", PowerState::PoweredOff),
        ("v1alpha1", "poweredOn", PowerState::PoweredOn),
        ("v1alpha3", "PoweredOff", PowerState::PoweredOff),
    ] {
        let s = vm(version, state).unwrap();
        let Body::VirtualMachine(v) = &only_object(&s).body else {
            panic!("not a VM")
        };
        assert_eq!(v.power_state, want, "{version} {state}");
    }
    let err = vm("v1alpha1", "PoweredOn").unwrap_err();
    assert!(
        err.contains("is how v1alpha2 and later spells it; this apiVersion's is `poweredOn`"),
        "{err}"
    );
    let err = vm("v1alpha2", "poweredOn").unwrap_err();
    assert!(err.contains("this apiVersion's is `PoweredOn`"), "{err}");
}

#[test]
fn real_fields_and_kinds_load_with_one_warning_each() {
    use pacsim::api::objects::Body;
    let s = with_calls(
        "    - {user: administrator@vsphere.local, object: {apiVersion: vmoperator.vmware.com/v1alpha1, kind: VirtualMachine, metadata: {name: v, namespace: ns}, spec: {className: c, imageName: i, storageClass: s, volumes: [{name: d, vSphereVolume: {capacity: {ephemeral-storage: 10Gi}}}]}}}
    - {user: administrator@vsphere.local, object: {apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: ns}, spec: {replicas: 2, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {schedulerName: default-scheduler, containers: [{name: c, image: i}]}}}}}
    - {user: administrator@vsphere.local, object: {apiVersion: v1, kind: ConfigMap, metadata: {name: cm, namespace: ns}, data: {a: b}}}
    - {user: administrator@vsphere.local, object: {apiVersion: vmoperator.vmware.com/v1alpha1, kind: VirtualMachineService, metadata: {name: lb, namespace: ns}, spec: {type: LoadBalancer, selector: {app: db}, ports: [{name: sql, port: 3306, protocol: TCP, targetPort: 3306}]}}}
",
    )
    .unwrap();
    let objects: Vec<_> = s
        .workloads
        .manifests
        .calls
        .iter()
        .map(|c| &c.object)
        .collect();
    // The ConfigMap is not created; the others are, the VM Service as a
    // Service that takes a VIP for the VMs it selects.
    assert_eq!(objects.len(), 3);
    assert!(
        matches!(&objects[2].body, Body::Service(svc) if svc.load_balancer && svc.selector.get("app").map(String::as_str) == Some("db"))
    );
    let notices: Vec<&str> = s.notices.iter().map(String::as_str).collect();
    assert_eq!(notices.len(), 4, "{notices:#?}");
    assert!(
        notices[0]
            .ends_with("VirtualMachine ns/v: not modelled, ignored: spec.volumes[].vSphereVolume")
    );
    assert!(
        notices[1]
            .ends_with("Deployment ns/d: not modelled, ignored: spec.template.spec.schedulerName")
    );
    assert!(notices[2].ends_with(
        "ConfigMap `cm`: accepted, not created: pacsim does not model `ConfigMap` objects"
    ));
    assert!(notices[3].ends_with(
        "VirtualMachineService ns/lb: not modelled, ignored: spec.ports[].name, spec.ports[].protocol, spec.ports[].targetPort"
    ));
    assert!(notices[0].starts_with("t.yaml:"), "{}", notices[0]);
}

#[test]
fn a_typo_of_a_modelled_field_is_still_an_error_and_a_call_namespace_must_agree() {
    let err = with_calls(
        "    - {user: administrator@vsphere.local, object: {apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: ns}, spec: {replica: 2, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}}}\n",
    )
    .unwrap_err();
    assert!(err.contains("did you mean `replicas`?"), "{err}");
    let err = with_calls(
        "    - {user: administrator@vsphere.local, namespace: ns, object: {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: other}, spec: {containers: [{name: c, image: i}]}}}\n",
    )
    .unwrap_err();
    assert!(
        err.contains("does not match the call's `namespace: ns`"),
        "{err}"
    );
    let s = with_calls(
        "    - {user: administrator@vsphere.local, namespace: ns, object: {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: i}]}}}\n",
    )
    .unwrap();
    assert_eq!(only_object(&s).meta.namespace, "ns");
}

#[test]
fn a_v1alpha1_cluster_gets_its_workers_pool() {
    use pacsim::api::objects::Body;
    let s = with_calls(
        "    - {user: administrator@vsphere.local, object: {apiVersion: run.tanzu.vmware.com/v1alpha1, kind: TanzuKubernetesCluster, metadata: {name: t, namespace: ns}, spec: {distribution: {version: 1.20.2+vmware.1-tkg.1}, topology: {controlPlane: {count: 3, class: small, storageClass: s}, workers: {count: 5, class: large, storageClass: s}}}}}\n",
    )
    .unwrap();
    let Body::TanzuKubernetesCluster(t) = &only_object(&s).body else {
        panic!("not a TKC")
    };
    assert_eq!(t.version, "v1.20.2---vmware.1-tkg.1");
    assert_eq!(t.control_plane.replicas, 3);
    assert_eq!(t.node_pools.len(), 1);
    let w = &t.node_pools[0];
    assert_eq!(
        (w.name.as_str(), w.replicas, w.vm_class.as_str()),
        ("workers", 5, "large")
    );
    assert!(s.notices.is_empty(), "{:?}", s.notices);
}
