//! A served guest cluster: a TanzuKubernetesCluster created through the
//! API gets its guest cluster, whose own API (nodes, pods, Deployments) is
//! served under `/guest/<namespace>/<name>`, with vSphere with Tanzu's
//! access rules, across a kill -9, and in the replayed session.

use crate::serve::{ADMIN, Server, deployment, scenario};
use crate::support::repo;
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

const GUEST: &str = "/guest/web/tkc-small";

fn poll(what: &str, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn post_yaml(s: &Server, user: &str, path: &str, file: &str) -> (u16, String) {
    let body = std::fs::read(repo().join(file)).unwrap();
    let token = s.token(user);
    s.request("POST", path, Some(&token), Some(&body), "application/yaml")
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A list's or an object's resourceVersion.
fn version(v: &Value) -> u64 {
    v["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or_else(|| panic!("no resourceVersion in {v}"))
}

/// Scales the guest's Deployment `web`.
fn scale_web(s: &Server, replicas: u32) {
    let deploy = format!("{GUEST}/apis/apps/v1/namespaces/web/deployments/web/scale");
    let scale = serde_json::json!({"spec": {"replicas": replicas}});
    let (code, body) = s.call("alice", "PATCH", &deploy, Some(scale));
    assert_eq!(code, 200, "{body}");
}

/// Whether the guest's `app=web` pods are `n`, all Running on its nodes.
fn guest_pods_running(s: &Server, n: usize) -> bool {
    let (_, list) = s.call(
        "alice",
        "GET",
        &format!("{GUEST}/api/v1/namespaces/web/pods?labelSelector=app%3Dweb"),
        None,
    );
    let items = list["items"].as_array().cloned().unwrap_or_default();
    items.len() == n
        && items.iter().all(|p| {
            p["status"]["phase"] == "Running"
                && p["spec"]["nodeName"]
                    .as_str()
                    .is_some_and(|node| node.starts_with("tkc-small-worker-"))
        })
}

#[test]
fn a_tkc_created_through_the_api_serves_its_guest_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let speed = ["--speed", "100", "--bookmark-interval", "0.5"];
    let s = Server::start_with(&scenario(), dir.path(), &speed);
    let image = "/apis/vmoperator.vmware.com/v1alpha1/virtualmachineimages";
    let (code, text) = post_yaml(&s, ADMIN, image, "tests/data/e2e-admin/tkr-image.yaml");
    assert_eq!(code, 201, "{text}");
    let tkcs = "/apis/run.tanzu.vmware.com/v1alpha3/namespaces/web/tanzukubernetesclusters";
    let (code, text) = post_yaml(&s, "alice", tkcs, "tests/data/e2e-manifests/5-tkc.yaml");
    assert_eq!(code, 201, "{text}");

    // Before its control plane is up the guest's API cannot answer; a
    // guest cluster that does not exist is not found.
    let nodes = format!("{GUEST}/api/v1/nodes");
    let (code, body) = s.call("alice", "GET", &nodes, None);
    assert_eq!(code, 503, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("no Ready control-plane node")
    );
    let (code, _) = s.call("alice", "GET", "/guest/web/nope/api/v1/nodes", None);
    assert_eq!(code, 404);

    poll("3 Ready guest nodes", || {
        let (_, list) = s.call("alice", "GET", &nodes, None);
        let ready = list["items"].as_array().map_or(0, |items| {
            items
                .iter()
                .filter(|n| n["status"]["conditions"][0]["status"] == "True")
                .count()
        });
        ready == 3
    });
    let (_, list) = s.call("alice", "GET", &nodes, None);
    assert_eq!(
        names(&list),
        [
            "tkc-small-control-plane-0",
            "tkc-small-worker-0",
            "tkc-small-worker-1"
        ]
    );
    let cp = &list["items"][0];
    assert!(cp["metadata"]["labels"]["node-role.kubernetes.io/control-plane"].is_string());
    assert_eq!(cp["status"]["nodeInfo"]["operatingSystem"], "linux");

    // Its discovery: nodes, pods and Deployments, nothing of the Supervisor's.
    let (code, apps) = s.call("alice", "GET", &format!("{GUEST}/apis/apps/v1"), None);
    assert_eq!(code, 200);
    let served: Vec<&str> = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(served, ["deployments", "deployments/scale"]);
    let services = format!("{GUEST}/api/v1/namespaces/web/services");
    assert_eq!(s.call("alice", "GET", &services, None).0, 404);

    // `edit` on the namespace is cluster-admin in the guest.
    let deploys = format!("{GUEST}/apis/apps/v1/namespaces/web/deployments");
    let (code, body) = s.call("alice", "POST", &deploys, Some(deployment("web", 2)));
    assert_eq!(code, 201, "{body}");
    poll("2 guest pods Running", || guest_pods_running(&s, 2));
    scale_web(&s, 3);
    poll("3 guest pods Running", || guest_pods_running(&s, 3));
    let (_, d) = s.call("alice", "GET", &format!("{deploys}/web"), None);
    assert_eq!(d["status"]["readyReplicas"], 3, "{d}");

    // A watch resumes from a list's version and sees what followed it,
    // with bookmarks; one without a version starts with what there is.
    let pods = format!("{GUEST}/api/v1/namespaces/web/pods");
    let (_, list) = s.call("alice", "GET", &pods, None);
    let rv = version(&list);
    let mut from_list = s.watch(
        "alice",
        &format!(
            "{pods}?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=30"
        ),
    );
    let mut from_now = s.watch("alice", &format!("{pods}?watch=true&timeoutSeconds=30"));
    let added: Vec<Value> = from_now.by_ref().take(3).collect();
    assert!(added.iter().all(|e| e["type"] == "ADDED"), "{added:?}");
    scale_web(&s, 1);
    let deleted: Vec<Value> = from_list
        .by_ref()
        .filter(|e| e["type"] == "DELETED")
        .take(2)
        .collect();
    let gone = version(&deleted[1]["object"]);
    assert!(gone > rv, "{deleted:?}");
    let bookmark = from_list.find(|e| e["type"] == "BOOKMARK").unwrap();
    assert!(version(&bookmark["object"]) >= gone, "{bookmark}");
    assert_eq!(
        from_now.find(|e| e["type"] == "DELETED").unwrap()["type"],
        "DELETED"
    );
    // A version this server never gave (or long gone): 410, list again.
    let (code, body) = s.call(
        "alice",
        "GET",
        &format!("{pods}?watch=true&resourceVersion=1"),
        None,
    );
    assert_eq!(code, 410, "{body}");
    scale_web(&s, 3);
    poll("3 guest pods Running again", || guest_pods_running(&s, 3));

    // `view` is read-only there; no role is no access. Denials are the
    // proxy's, with its reason.
    assert_eq!(s.call("carol", "GET", &nodes, None).0, 200);
    let (code, body) = s.call("carol", "DELETE", &format!("{deploys}/web"), None);
    assert_eq!(code, 403);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("user carol has role view in namespace web, which is read-only in guest cluster tkc-small; delete needs edit"),
        "{body}"
    );
    let (code, body) = s.call("bob", "GET", &nodes, None);
    assert_eq!(code, 403);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("user bob has no role in namespace web")
    );
    // The Supervisor's own API is unchanged: the guest's Deployment is not
    // one of the namespace's.
    let (_, sup) = s.call(
        "alice",
        "GET",
        "/apis/apps/v1/namespaces/web/deployments",
        None,
    );
    assert!(!names(&sup).contains(&"web".to_string()), "{sup}");

    // kill -9: the guest and what was made in it are rebuilt.
    s.kill();
    let s = Server::start_with(&scenario(), dir.path(), &speed);
    poll("the guest back with its Deployment", || {
        guest_pods_running(&s, 3)
    });
    assert!(s.terminate().success());

    crate::serve::export_and_verify(dir.path());
}

#[test]
fn a_guest_kubeconfig_from_a_missing_folder_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nosuch");
    let out = Command::new(env!("CARGO_BIN_EXE_pacsim"))
        .args(["kubeconfig", "--data"])
        .arg(&missing)
        .args(["--guest", "web/tkc-small", "--user", "alice"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no such folder"), "{stderr}");
    assert!(!missing.exists());
}

#[test]
fn a_guest_kubeconfig_reaches_the_guest_as_its_user() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let pacsim = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_pacsim"))
            .arg("kubeconfig")
            .arg("--data")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = pacsim(&["--guest", "web/tkc-small", "--user", "alice"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.path().join("kubeconfig-alice-web-tkc-small.yaml");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        path.display().to_string()
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let server = format!("server: https://127.0.0.1:{}/guest/web/tkc-small", s.port);
    assert!(text.contains(&server), "{text}");
    assert!(
        text.contains(&format!("token: {}", s.token("alice"))),
        "{text}"
    );
    assert!(text.contains("current-context: web-tkc-small"), "{text}");
    assert!(text.contains("namespace: default"), "{text}");

    let out = pacsim(&["--guest", "tkc-small", "--user", "alice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--guest takes NAMESPACE/NAME"));
    let out = pacsim(&["--guest", "web/tkc-small", "--user", "mallory"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is `mallory` a user of the session"));
}
