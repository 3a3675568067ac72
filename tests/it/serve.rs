//! `pacsim serve` from outside: the built binary on a free port, spoken to
//! over HTTPS with its own CA (as kubectl does), killed and restarted.

use crate::support::{pacsim, repo};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const ADMIN: &str = "administrator@vsphere.local";

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    agent: ureq::Agent,
    tokens: Vec<(String, String)>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn scenario() -> PathBuf {
    repo().join("scenarios/supervisor-basic.yaml")
}

impl Server {
    pub fn start(data: &Path) -> Server {
        Server::start_with(&scenario(), data, &[])
    }

    pub fn start_with(scenario: &Path, data: &Path, extra: &[&str]) -> Server {
        let port = free_port();
        // PACSIM_BIN runs another build (the long kill loop on a release).
        let bin = std::env::var("PACSIM_BIN").unwrap_or(env!("CARGO_BIN_EXE_pacsim").into());
        let child = Command::new(bin)
            .arg("serve")
            .arg(scenario)
            .arg("--data")
            .arg(data)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let ca = std::fs::read(data.join("tls/ca.crt"));
        let mut server = Server {
            child,
            port,
            agent: ureq::Agent::new_with_defaults(),
            tokens: Vec::new(),
        };
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("pacsim serve exited at start: {status}");
            }
            if let (Ok(ca), Ok(tokens)) = (
                ca.as_ref()
                    .map(|c| c.clone())
                    .or_else(|_| std::fs::read(data.join("tls/ca.crt"))),
                std::fs::read_to_string(data.join("tokens.csv")),
            ) {
                server.agent = agent(&ca);
                server.tokens = tokens
                    .lines()
                    .filter_map(|l| {
                        let mut f = l.split(',');
                        Some((f.next()?.to_string(), f.next()?.to_string()))
                    })
                    .collect();
                if server.get_raw("/healthz", None).0 == 200 {
                    return server;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "pacsim serve did not come up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn token(&self, user: &str) -> String {
        self.tokens
            .iter()
            .find(|(_, u)| u == user)
            .map(|(t, _)| t.clone())
            .unwrap_or_else(|| panic!("no token for {user}"))
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    pub fn get_raw(&self, path: &str, token: Option<&str>) -> (u16, String) {
        self.request("GET", path, token, None, "application/json")
    }

    /// One request; (status, body).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
        content_type: &str,
    ) -> (u16, String) {
        let (code, _, text) = self.exchange(method, path, token, body, content_type);
        (code, text)
    }

    /// One request; (status, its `Warning` headers, body).
    pub fn exchange(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
        content_type: &str,
    ) -> (u16, Vec<String>, String) {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path))
            .header("content-type", content_type);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req.body(body.unwrap_or_default().to_vec()).unwrap();
        match self.agent.run(req) {
            Ok(mut r) => {
                let code = r.status().as_u16();
                let warnings = r
                    .headers()
                    .get_all("warning")
                    .iter()
                    .map(|v| v.to_str().unwrap_or_default().to_string())
                    .collect();
                let text = r.body_mut().read_to_string().unwrap_or_default();
                (code, warnings, text)
            }
            Err(e) => (0, Vec::new(), e.to_string()),
        }
    }

    /// As `user`, with a JSON answer.
    pub fn call(&self, user: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let ct = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let (code, text) =
            self.request(method, path, Some(&self.token(user)), bytes.as_deref(), ct);
        (
            code,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Opens a watch and returns a line reader over its events.
    pub fn watch(&self, user: &str, path: &str) -> impl Iterator<Item = Value> + use<> {
        let req = ureq::http::Request::builder()
            .method("GET")
            .uri(self.url(path))
            .header("authorization", format!("Bearer {}", self.token(user)))
            .body(Vec::new())
            .unwrap();
        let r = self.agent.run(req).unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let reader = BufReader::new(r.into_body().into_reader());
        reader
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str(&l).ok())
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent(ca_pem: &[u8]) -> ureq::Agent {
    let ca = ureq::tls::Certificate::from_pem(ca_pem).unwrap();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![ca])))
        .build();
    ureq::Agent::new_with_config(
        ureq::config::Config::builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build(),
    )
}

pub fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "web", "labels": {"app": "t"}},
        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]},
    })
}

pub fn deployment(name: &str, replicas: u32) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}}}]},
            },
        },
    })
}

const PODS: &str = "/api/v1/namespaces/web/pods";
const DEPLOYS: &str = "/apis/apps/v1/namespaces/web/deployments";

fn poll(mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(started.elapsed() < Duration::from_secs(30), "timed out");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether exactly `n` pods of the shop deployment run.
fn running(s: &Server, n: usize) -> bool {
    let (_, list) = s.call(
        "alice",
        "GET",
        &format!("{PODS}?labelSelector=app%3Dshop"),
        None,
    );
    let items = list["items"].as_array().cloned().unwrap_or_default();
    items.len() == n && items.iter().all(|p| p["status"]["phase"] == "Running")
}

/// Set-based label selectors select; a field selector this server cannot
/// apply is refused (400) rather than ignored: ignoring it would list
/// everything.
#[test]
fn selectors_select_and_what_cannot_be_honoured_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(&scenario(), dir.path(), &["--speed", "20"]);
    assert_eq!(
        s.call("alice", "POST", DEPLOYS, Some(deployment("shop", 2)))
            .0,
        201
    );
    assert_eq!(s.call("alice", "POST", PODS, Some(pod("solo"))).0, 201);
    poll(|| running(&s, 2));
    let names = |query: &str| -> Vec<String> {
        let (code, list) = s.call("alice", "GET", &format!("{PODS}?{query}"), None);
        assert_eq!(code, 200, "{query}: {list}");
        let items = list["items"].as_array().cloned().unwrap_or_default();
        items
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("labelSelector=app%20in%20(shop)").len(), 2);
    assert_eq!(
        names("labelSelector=app%20in%20(shop,x),pod-template-hash").len(),
        2
    );
    assert_eq!(names("labelSelector=app%20notin%20(shop)"), ["solo"]);
    assert_eq!(names("fieldSelector=metadata.name%3Dsolo"), ["solo"]);

    let (code, refused) = s.call(
        "alice",
        "GET",
        &format!("{PODS}?fieldSelector=status.phase%3DPending"),
        None,
    );
    assert_eq!(code, 400, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("field label not supported: status.phase")
    );
    let (code, refused) = s.call(
        "alice",
        "GET",
        &format!("{PODS}?labelSelector=app%20in%20shop"),
        None,
    );
    assert_eq!(code, 400, "{refused}");

    assert_eq!(names("fieldSelector=metadata.name%3Dsolo"), ["solo"]);
}

/// A server-side dry run (`kubectl --dry-run=server`, `kubectl diff`)
/// answers what the write would give, or its refusal, and changes
/// nothing; kubectl's delete sends its dryRun in the body.
#[test]
fn a_dry_run_answers_as_the_write_would_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    assert_eq!(
        s.call("alice", "POST", DEPLOYS, Some(deployment("shop", 2)))
            .0,
        201
    );
    let (_, before) = s.call("alice", "GET", &format!("{DEPLOYS}/shop"), None);

    let (code, would) = s.call(
        "alice",
        "POST",
        &format!("{PODS}?dryRun=All"),
        Some(pod("dry")),
    );
    assert_eq!(code, 201, "{would}");
    assert_eq!(would["metadata"]["name"], "dry");
    assert_eq!(s.call("alice", "GET", &format!("{PODS}/dry"), None).0, 404);

    let mut bigger = before.clone();
    bigger["spec"]["replicas"] = json!(4);
    let (code, would) = s.call(
        "alice",
        "PUT",
        &format!("{DEPLOYS}/shop?dryRun=All"),
        Some(bigger),
    );
    assert_eq!(code, 200, "{would}");
    assert_eq!(would["spec"]["replicas"], 4);
    assert_eq!(
        would["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
    let scale = json!({"spec": {"replicas": 9}});
    let (code, would) = s.call(
        "alice",
        "PATCH",
        &format!("{DEPLOYS}/shop/scale?dryRun=All"),
        Some(scale),
    );
    assert_eq!(
        (code, &would["spec"]["replicas"]),
        (200, &json!(9)),
        "{would}"
    );

    // Refusals are the write's own: a name taken, a denial.
    let (code, _) = s.call(
        "alice",
        "POST",
        &format!("{DEPLOYS}?dryRun=All"),
        Some(deployment("shop", 1)),
    );
    assert_eq!(code, 409);
    let (code, _) = s.call(
        "carol",
        "DELETE",
        &format!("{DEPLOYS}/shop?dryRun=All"),
        None,
    );
    assert_eq!(code, 403);

    // kubectl delete --dry-run=server: the directive is in DeleteOptions.
    let options = br#"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background","dryRun":["All"]}"#;
    let token = s.token("alice");
    let (code, body) = s.request(
        "DELETE",
        &format!("{DEPLOYS}/shop"),
        Some(&token),
        Some(options),
        "application/json",
    );
    assert_eq!(code, 200, "{body}");
    let (code, bad) = s.call(
        "alice",
        "DELETE",
        &format!("{DEPLOYS}/shop?dryRun=Some"),
        None,
    );
    assert_eq!(code, 400, "{bad}");

    let (_, after) = s.call("alice", "GET", &format!("{DEPLOYS}/shop"), None);
    assert_eq!(after["spec"], before["spec"], "nothing was written");
    assert_eq!(after["spec"]["replicas"], 2);
}

/// `kubectl apply` of an unchanged claim is no change; a changed size is
/// still refused, as the claim's spec is immutable.
#[test]
fn a_claim_applied_again_unchanged_is_accepted_and_a_resize_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let token = s.token("alice");
    let claims = "/api/v1/namespaces/web/persistentvolumeclaims";
    let manifest = std::fs::read(repo().join("tests/data/e2e-manifests/3-pvc.yaml")).unwrap();
    let (code, text) = s.request(
        "POST",
        claims,
        Some(&token),
        Some(&manifest),
        "application/yaml",
    );
    assert_eq!(code, 201, "{text}");
    let myclaim = format!("{claims}/myclaim");
    let size =
        |gi: u32| format!(r#"{{"spec":{{"resources":{{"requests":{{"storage":"{gi}Gi"}}}}}}}}"#);
    let merge = "application/merge-patch+json";
    let (code, text) = s.request(
        "PATCH",
        &myclaim,
        Some(&token),
        Some(size(8).as_bytes()),
        merge,
    );
    assert_eq!(code, 200, "{text}");
    let (code, text) = s.request(
        "PATCH",
        &myclaim,
        Some(&token),
        Some(size(9).as_bytes()),
        merge,
    );
    assert_eq!(code, 422, "{text}");
    assert!(text.contains("may not be updated"), "{text}");
}

#[test]
fn a_deployment_is_created_reconciled_scaled_updated_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(&scenario(), dir.path(), &["--speed", "20"]);
    let (code, created) = s.call("alice", "POST", DEPLOYS, Some(deployment("shop", 2)));
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["kind"], "Deployment");
    assert_eq!(created["spec"]["replicas"], 2);
    let (code, again) = s.call("alice", "POST", DEPLOYS, Some(deployment("shop", 2)));
    assert_eq!(code, 409, "{again}");
    assert_eq!(again["reason"], "AlreadyExists");

    poll(|| running(&s, 2));

    // The scale subresource, as `kubectl scale` patches it.
    let (code, scale) = s.call(
        "alice",
        "PATCH",
        &format!("{DEPLOYS}/shop/scale"),
        Some(json!({"spec": {"replicas": 3}})),
    );
    assert_eq!(code, 200, "{scale}");
    assert_eq!(scale["kind"], "Scale");
    poll(|| running(&s, 3));
    // Its status counts its pods, as `kubectl rollout status` reads it.
    poll(|| {
        let (_, d) = s.call("alice", "GET", &format!("{DEPLOYS}/shop"), None);
        d["status"]["availableReplicas"] == 3
    });
    let (_, d) = s.call("alice", "GET", &format!("{DEPLOYS}/shop"), None);
    let status = &d["status"];
    assert_eq!(
        (
            &status["replicas"],
            &status["updatedReplicas"],
            &status["readyReplicas"]
        ),
        (&json!(3), &json!(3), &json!(3)),
        "{d}"
    );
    assert_eq!(status["observedGeneration"], d["metadata"]["generation"]);
    assert_eq!(status["conditions"][0]["type"], "Available");
    assert_eq!(status["conditions"][0]["status"], "True");

    // Its ReplicaSet, named by its template's hash: owned by it, owning
    // its pods, as `kubectl describe deployment` and `kubectl get rs` read
    // them.
    let rs_path = "/apis/apps/v1/namespaces/web/replicasets";
    let (_, listed) = s.call(
        "alice",
        "GET",
        &format!("{rs_path}?labelSelector=app%3Dshop"),
        None,
    );
    let sets = listed["items"].as_array().unwrap().clone();
    assert_eq!(sets.len(), 1, "{listed}");
    let rs = &sets[0];
    let hash = rs["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap();
    assert_eq!(rs["metadata"]["name"], format!("shop-{hash}"));
    assert_eq!(
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    assert_eq!(rs["status"]["readyReplicas"], 3);
    let owner = &rs["metadata"]["ownerReferences"][0];
    assert_eq!(
        (&owner["kind"], &owner["uid"]),
        (&json!("Deployment"), &d["metadata"]["uid"])
    );
    assert_ne!(rs["metadata"]["uid"], d["metadata"]["uid"]);
    let (_, pods) = s.call("alice", "GET", PODS, None);
    for pod in pods["items"].as_array().unwrap() {
        let owner = &pod["metadata"]["ownerReferences"][0];
        assert_eq!(
            (&owner["kind"], &owner["uid"]),
            (&json!("ReplicaSet"), &rs["metadata"]["uid"])
        );
        assert_eq!(pod["metadata"]["labels"]["pod-template-hash"], hash);
    }

    // A new template is a new ReplicaSet, revision 2, and the pods move
    // to it; a JSON patch of the template back (as `kubectl rollout
    // undo` sends) makes the first one revision 3.
    let first_template = d["spec"]["template"].clone();
    let change = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "300m", "memory": "128Mi"}}}]}}}});
    let patch = |body: Value, content_type: &str| {
        let body = body.to_string();
        let path = format!("{DEPLOYS}/shop");
        let (code, answer) = s.request(
            "PATCH",
            &path,
            Some(&s.token("alice")),
            Some(body.as_bytes()),
            content_type,
        );
        assert_eq!(code, 200, "{answer}");
    };
    patch(change, "application/strategic-merge-patch+json");
    let settled = |revision: &str| {
        let (_, d) = s.call("alice", "GET", &format!("{DEPLOYS}/shop"), None);
        let st = &d["status"];
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == revision
            && st["updatedReplicas"] == 3
            && st["replicas"] == 3
            && st["availableReplicas"] == 3
    };
    poll(|| settled("2"));
    let (_, listed) = s.call(
        "alice",
        "GET",
        &format!("{rs_path}?labelSelector=app%3Dshop"),
        None,
    );
    let replicas: Vec<(String, u64)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rs| {
            let revision = rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()
                .unwrap()
                .to_string();
            (revision, rs["spec"]["replicas"].as_u64().unwrap())
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(replicas, [("1".to_string(), 0), ("2".to_string(), 3)]);
    let undo = json!([{"op": "replace", "path": "/spec/template", "value": first_template}]);
    patch(undo, "application/json-patch+json");
    poll(|| settled("3"));
    let (_, rs) = s.call("alice", "GET", &format!("{rs_path}/shop-{hash}"), None);
    assert_eq!(
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    assert_eq!(rs["spec"]["replicas"], 3);

    // A PUT naming a stale resourceVersion is a conflict.
    let (_, current) = s.call("alice", "GET", &format!("{DEPLOYS}/shop"), None);
    let mut stale = current.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    let (code, conflict) = s.call("alice", "PUT", &format!("{DEPLOYS}/shop"), Some(stale));
    assert_eq!(code, 409, "{conflict}");
    assert_eq!(conflict["reason"], "Conflict");
    let mut fresh = current.clone();
    fresh["spec"]["replicas"] = json!(1);
    let (code, updated) = s.call("alice", "PUT", &format!("{DEPLOYS}/shop"), Some(fresh));
    assert_eq!(code, 200, "{updated}");
    poll(|| running(&s, 1));

    let (code, _) = s.call("alice", "DELETE", &format!("{DEPLOYS}/shop"), None);
    assert_eq!(code, 200);
    let (code, gone) = s.call("alice", "GET", &format!("{DEPLOYS}/shop"), None);
    assert_eq!(code, 404, "{gone}");
    assert_eq!(gone["reason"], "NotFound");
    poll(|| running(&s, 0));
}

#[test]
fn who_may_do_what_is_the_authentication_proxys_answer() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let (code, body) = s.request("GET", PODS, None, None, "application/json");
    assert_eq!(code, 401, "{body}");
    let (code, _) = s.request("GET", PODS, Some("not-a-token"), None, "application/json");
    assert_eq!(code, 401);
    // carol may view web, not edit it.
    let (code, denied) = s.call("carol", "POST", PODS, Some(pod("p1")));
    assert_eq!(code, 403, "{denied}");
    assert_eq!(denied["reason"], "Forbidden");
    assert!(
        denied["message"]
            .as_str()
            .unwrap()
            .contains("user carol has role view in namespace web; create needs edit"),
        "{denied}"
    );
    let (code, _) = s.call("carol", "GET", PODS, None);
    assert_eq!(code, 200);
    // bob has no role in web at all, not even to read.
    let (code, denied) = s.call("bob", "GET", PODS, None);
    assert_eq!(code, 403, "{denied}");
    assert!(
        denied["message"]
            .as_str()
            .unwrap()
            .contains("user bob has no role in namespace web")
    );
    // Nodes are the Spherelets': read-only, even for the administrator.
    let (code, _) = s.call(ADMIN, "DELETE", "/api/v1/nodes/esx-01", None);
    assert_eq!(code, 405);
    // What happened is in /metrics, with the engine's own figures as of
    // the scrape (the gauges are computed for it).
    let (_, text) = s.get_raw("/metrics", None);
    for line in [
        r#"pacsim_apiserver_requests_total{verb="create",resource="pods",code="403"} 1"#,
        r#"pacsim_nodes{ready="true"} 5.0"#,
        r#"pacsim_hosts_up{cluster="wcp"} 5.0"#,
        "pacsim_journal_batches_total",
    ] {
        assert!(text.contains(line), "no {line} in\n{text}");
    }
    assert!(text.ends_with("# EOF\n"));
}

#[test]
fn bad_requests_get_a_status_with_the_reason_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let token = s.token("alice");
    let big = vec![b' '; 4 << 20];
    let (code, _) = s.request("POST", PODS, Some(&token), Some(&big), "application/json");
    assert_eq!(code, 413);
    let (code, body) = s.request(
        "POST",
        PODS,
        Some(&token),
        Some(b"{\"kind\": "),
        "application/json",
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("body:2:1: invalid YAML"), "{body}");
    // A field that looks like a typo: refused under kubectl's Strict...
    let mut typo = pod("p2");
    typo["spec"]["nodeSelecter"] = json!({});
    let typo_bytes = typo.to_string().into_bytes();
    let strict = format!("{PODS}?fieldValidation=Strict");
    let (code, body) = s.call("alice", "POST", &strict, Some(typo.clone()));
    assert_eq!(code, 400, "{body}");
    assert!(body.to_string().contains("nodeSelector"), "{body}");
    assert_eq!(body["details"]["causes"][0]["field"], "spec.nodeSelecter");
    let bad_mode = format!("{PODS}?fieldValidation=Loose");
    let (code, body) = s.call("alice", "POST", &bad_mode, Some(typo.clone()));
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("\"Loose\""),
        "{body}"
    );
    // ...created without it under Ignore (kubectl --validate=false)...
    let ignore = format!("{PODS}?fieldValidation=Ignore");
    let (code, warnings, body) = s.exchange(
        "POST",
        &ignore,
        Some(&token),
        Some(&typo_bytes),
        "application/json",
    );
    assert_eq!((code, warnings.len()), (201, 0), "{body}");
    // ...and with kube-apiserver's warning under Warn, its default.
    let mut warned = typo.clone();
    warned["metadata"]["name"] = json!("p3");
    let warned = warned.to_string().into_bytes();
    let (code, warnings, body) = s.exchange(
        "POST",
        PODS,
        Some(&token),
        Some(&warned),
        "application/json",
    );
    assert_eq!(code, 201, "{body}");
    assert_eq!(warnings, [r#"299 - "unknown field \"spec.nodeSelecter\"""#]);
    // A wrong value is a 422 that names the object and the field.
    let mut greedy = pod("p4");
    greedy["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "lots"}});
    let (code, body) = s.call("alice", "POST", PODS, Some(greedy));
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["details"]["name"], "p4");
    assert_eq!(
        body["details"]["causes"][0]["field"],
        "spec.containers[0].resources.requests.cpu"
    );
    // A version is the server's to give.
    let mut versioned = pod("p5");
    versioned["metadata"]["resourceVersion"] = json!("7");
    let (code, body) = s.call("alice", "POST", PODS, Some(versioned));
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("resourceVersion should not be set on objects to be created"),
        "{body}"
    );
    let (code, _) = s.call(
        "alice",
        "GET",
        "/apis/example.com/v1/namespaces/web/widgets",
        None,
    );
    assert_eq!(code, 404);
    let (_, list) = s.call("alice", "GET", PODS, None);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["p2", "p3"], "only the typos' pods are made");
}

/// `kubectl top`'s API: a Running pod uses what it requests, and a node
/// what its host has allocated, which grows by the pod's request.
#[test]
fn metrics_report_the_allocation_of_pods_and_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let metrics = "/apis/metrics.k8s.io/v1beta1";
    let (_, groups) = s.call("alice", "GET", "/apis", None);
    assert!(
        groups.to_string().contains("metrics.k8s.io/v1beta1"),
        "{groups}"
    );
    let nodes = |s: &Server| -> Vec<(String, String)> {
        let (code, list) = s.call(ADMIN, "GET", &format!("{metrics}/nodes"), None);
        assert_eq!(code, 200, "{list}");
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let name = n["metadata"]["name"].as_str().unwrap().to_string();
                (name, n["usage"]["cpu"].as_str().unwrap().to_string())
            })
            .collect()
    };
    let before = nodes(&s);
    assert_eq!(before.len(), 5);
    let (code, _) = s.call("alice", "POST", PODS, Some(pod("m1")));
    assert_eq!(code, 201);
    poll(|| {
        let (_, p) = s.call("alice", "GET", &format!("{PODS}/m1"), None);
        p["status"]["phase"] == "Running"
    });
    let (code, m) = s.call(
        "alice",
        "GET",
        &format!("{metrics}/namespaces/web/pods/m1"),
        None,
    );
    assert_eq!(code, 200, "{m}");
    assert_eq!(m["kind"], "PodMetrics");
    assert_eq!(
        m["containers"][0]["usage"],
        json!({"cpu": "100m", "memory": "64Mi"})
    );
    let (_, p) = s.call("alice", "GET", &format!("{PODS}/m1"), None);
    let node = p["spec"]["nodeName"].as_str().unwrap();
    let cpu = |list: &[(String, String)]| -> u64 {
        let (_, c) = list.iter().find(|(n, _)| n == node).unwrap();
        c.strip_suffix('m')
            .map_or_else(|| c.parse::<u64>().unwrap() * 1000, |m| m.parse().unwrap())
    };
    assert_eq!(cpu(&nodes(&s)), cpu(&before) + 100);
    // Who may not read pods there may not read their metrics.
    let (code, _) = s.call(
        "bob",
        "GET",
        &format!("{metrics}/namespaces/web/pods"),
        None,
    );
    assert_eq!(code, 403);
    let (code, _) = s.call(
        "alice",
        "GET",
        &format!("{metrics}/namespaces/web/pods/nope"),
        None,
    );
    assert_eq!(code, 404);
}

/// Subresources pacsim does not model are refused with the reason, also
/// when the request asks to upgrade its connection (kubectl exec), whose
/// body never ends; a GET of `status` is the object.
#[test]
fn unserved_subresources_say_why_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let (code, _) = s.call("alice", "POST", PODS, Some(pod("p1")));
    assert_eq!(code, 201);
    let (code, body) = s.call("alice", "GET", &format!("{PODS}/p1/log"), None);
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("pods/log is not served for \"p1\": a vSphere Pod here is modelled"),
        "{body}"
    );
    let (code, status) = s.call("alice", "GET", &format!("{PODS}/p1/status"), None);
    assert_eq!((code, &status["metadata"]["name"]), (200, &json!("p1")));
    let (code, _) = s.call("alice", "PUT", &format!("{PODS}/p1/status"), Some(status));
    assert_eq!(code, 400);
    let (code, _) = s.call("alice", "GET", &format!("{PODS}/p1/widgets"), None);
    assert_eq!(code, 404);
    // kubectl exec's first request, answered at once.
    let req = ureq::http::Request::builder()
        .method("GET")
        .uri(s.url(&format!("{PODS}/p1/exec?command=ls&stdout=true")))
        .header("authorization", format!("Bearer {}", s.token("alice")))
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .body(Vec::new())
        .unwrap();
    let mut r = s.agent.run(req).unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let text = r.body_mut().read_to_string().unwrap();
    assert!(text.contains("pods/exec is not served"), "{text}");
}

#[test]
fn a_watch_streams_each_change_after_the_version_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let (_, list) = s.call("alice", "GET", PODS, None);
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("{PODS}?watch=true&resourceVersion={rv}");
    let mut events = s.watch("alice", &path);
    let (code, _) = s.call("alice", "POST", PODS, Some(pod("w1")));
    assert_eq!(code, 201);
    let first = events.next().unwrap();
    assert_eq!(first["type"], "ADDED");
    assert_eq!(first["object"]["metadata"]["name"], "w1");
    let (code, _) = s.call("alice", "DELETE", &format!("{PODS}/w1"), None);
    assert_eq!(code, 200);
    let deleted = events.find(|e| e["type"] == "DELETED").unwrap();
    assert_eq!(deleted["object"]["metadata"]["name"], "w1");
}

/// A watch that allows bookmarks gets one at its start and then every
/// `--bookmark-interval`, at the newest version it has seen, also one its
/// selector filtered out.
#[test]
fn a_watch_with_bookmarks_gets_them_periodically_at_the_newest_version() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(&scenario(), dir.path(), &["--bookmark-interval", "0.5"]);
    let (_, list) = s.call("alice", "GET", PODS, None);
    let rv: u64 = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let path = format!(
        "{PODS}?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&labelSelector=app%3Dnone&timeoutSeconds=5"
    );
    let mut events = s.watch("alice", &path);
    let first = events.next().unwrap();
    assert_eq!(first["type"], "BOOKMARK");
    assert_eq!(
        first["object"]["metadata"]["resourceVersion"],
        rv.to_string()
    );
    let (code, created) = s.call("alice", "POST", PODS, Some(pod("b1")));
    assert_eq!(code, 201);
    let created_rv: u64 = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The pod does not match the selector: only bookmarks come, and one
    // soon carries a version at least the pod's (the watch ends after 5 s,
    // so without periodic bookmarks this finds none).
    let caught_up = events
        .take(20)
        .inspect(|e| assert_eq!(e["type"], "BOOKMARK", "{e}"))
        .find(|e| {
            let v: u64 = e["object"]["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            v >= created_rv
        });
    assert!(caught_up.is_some());
}

/// SIGTERM ends open watches at once, as kube-apiserver does, so they do
/// not hold the drain of requests in flight (5 s) to its end.
#[test]
fn a_stop_ends_open_watches_and_does_not_wait_out_the_drain() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let pods = s.watch("alice", &format!("{PODS}?watch=true"));
    let deployments = s.watch("alice", &format!("{DEPLOYS}?watch=true"));
    let ended = |mut events: Box<dyn Iterator<Item = Value> + Send>| {
        std::thread::spawn(move || events.by_ref().count())
    };
    let (pods, deployments) = (ended(Box::new(pods)), ended(Box::new(deployments)));
    let asked = std::time::Instant::now();
    assert!(s.terminate().success());
    // The drain is a 5 s limit; watches held it to its end before.
    assert!(
        asked.elapsed() < Duration::from_secs(4),
        "the stop took {:?}",
        asked.elapsed()
    );
    pods.join().unwrap();
    deployments.join().unwrap();
}

#[test]
fn a_restart_resumes_the_session_and_another_scenario_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let (code, _) = s.call("alice", "POST", PODS, Some(pod("keep")));
    assert_eq!(code, 201);
    assert!(s.terminate().success());
    let s = Server::start(dir.path());
    let (code, got) = s.call("alice", "GET", &format!("{PODS}/keep"), None);
    assert_eq!(code, 200, "{got}");
    s.kill();

    let out = Command::new(env!("CARGO_BIN_EXE_pacsim"))
        .arg("serve")
        .arg(repo().join("scenarios/guest-clusters.yaml"))
        .arg("--data")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds a session of a different scenario"),
        "{err}"
    );
}

/// Clients create and delete pods while the server is killed with SIGKILL
/// at moments a seeded generator picks; after every restart, every
/// acknowledged create is there unless an acknowledged delete removed it,
/// and the invariants hold (`/readyz`).
/// supervisor-basic without its scheduled fault, in `dir`: the partition
/// at 1 h evicts pods, which the system deletes (not a loss, but not what
/// a durability check can tell from one), and long kill loops reach it.
fn faultless_scenario(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(scenario()).unwrap();
    let cut = text.find("\nfaults:").expect("supervisor-basic has faults");
    let path = dir.join("supervisor-faultless.yaml");
    std::fs::write(&path, &text[..cut + 1]).unwrap();
    let manifests = dir.join("manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    let frontend = repo().join("scenarios/manifests/web-frontend.yaml");
    std::fs::copy(frontend, manifests.join("web-frontend.yaml")).unwrap();
    path
}

pub fn kill_loop(kills: usize, seed: u64) -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let scenario = faultless_scenario(files.path());
    // The kill moments: a small LCG is enough to spread them.
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut moment = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        50 + (state >> 33) % 350
    };
    let mut present: std::collections::BTreeSet<String> = Default::default();
    let mut acked = 0;
    let mut next = 0u32;
    for _ in 0..kills {
        let s = Arc::new(Server::start_with(
            &scenario,
            dir.path(),
            &["--speed", "50"],
        ));
        for name in &present {
            let (code, body) = s.call("alice", "GET", &format!("{PODS}/{name}"), None);
            assert_eq!(
                code, 200,
                "acknowledged pod {name} lost after a kill -9: {body}"
            );
        }
        let (code, body) = s.request("GET", "/readyz", None, None, "text/plain");
        assert!(code == 200 || body.contains("quorum"), "{code} {body}");
        // Keep the namespace under its limits: all but 20 of the pods
        // found go, by acknowledged deletes.
        let extra: Vec<String> = present.iter().skip(20).cloned().collect();
        for name in extra {
            let (code, _) = s.call("alice", "DELETE", &format!("{PODS}/{name}"), None);
            if code == 200 {
                present.remove(&name);
            }
        }
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let (s, stop) = (s.clone(), stop.clone());
                let start = next + w * 10_000;
                std::thread::spawn(move || {
                    let mut done: Vec<(String, bool)> = Vec::new();
                    let mut i = start;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let name = format!("k{i}");
                        i += 1;
                        let (code, _) = s.call("alice", "POST", PODS, Some(pod(&name)));
                        if code == 201 {
                            done.push((name.clone(), true));
                            if i.is_multiple_of(3) {
                                let (code, _) =
                                    s.call("alice", "DELETE", &format!("{PODS}/{name}"), None);
                                // A delete cut off by the kill may or may
                                // not have been applied: either is right,
                                // so its pod is no longer checked.
                                if code == 200 || code == 0 {
                                    done.push((name, false));
                                }
                            }
                        } else if code == 0 {
                            break;
                        }
                    }
                    done
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(moment()));
        let pid = s.child.id();
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for w in workers {
            for (name, created) in w.join().unwrap() {
                acked += 1;
                if created {
                    present.insert(name);
                } else {
                    present.remove(&name);
                }
            }
        }
        next += 40_000;
        if kills >= 100 && (next / 40_000).is_multiple_of(50) {
            eprintln!(
                "kill loop: {} kills, {acked} acknowledged writes, {} pods present",
                next / 40_000,
                present.len()
            );
        }
        if let Ok(s) = Arc::try_unwrap(s) {
            s.kill();
        }
    }
    let s = Server::start_with(&scenario, dir.path(), &[]);
    for name in &present {
        let (code, _) = s.call("alice", "GET", &format!("{PODS}/{name}"), None);
        assert_eq!(code, 200, "acknowledged pod {name} lost");
    }
    (acked, present.len())
}

#[test]
fn nothing_acknowledged_is_lost_across_20_kill_9s() {
    let (acked, present) = kill_loop(20, 18);
    assert!(acked > 20, "the clients got {acked} acknowledgements");
    assert!(present > 0);
}

#[test]
fn a_session_across_a_kill_9_exports_and_replays_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(&scenario(), dir.path(), &["--speed", "20"]);
    assert_eq!(
        s.call("alice", "POST", DEPLOYS, Some(deployment("a", 2))).0,
        201
    );
    assert_eq!(s.call("carol", "POST", PODS, Some(pod("nope"))).0, 403);
    // A scale is an update naming the resourceVersion it read.
    let scale = json!({"spec": {"replicas": 3}});
    let at = format!("{DEPLOYS}/a/scale");
    assert_eq!(s.call("alice", "PATCH", &at, Some(scale)).0, 200);
    s.kill();
    let s = Server::start_with(&scenario(), dir.path(), &["--speed", "20"]);
    assert_eq!(s.call("alice", "POST", PODS, Some(pod("b"))).0, 201);
    poll(|| {
        running(&s, 0)
            && s.call("alice", "GET", &format!("{PODS}/b"), None).1["status"]["phase"] == "Running"
    });
    assert!(s.terminate().success());

    let trace = export_and_verify(dir.path());
    let trace = trace.to_str().unwrap();
    let out = pacsim(&["replay", trace, "--what-if", "hosts=3"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    // The requests (creates, a denied create, the scale) re-driven.
    assert!(stdout.contains("inputs re-driven"), "{stdout}");

    // The session as a plan's workload: on fewer hosts the scale still
    // applies (its store numbers writes otherwise), so the same pods run.
    let out = pacsim(&[
        "plan",
        trace,
        "--slo",
        "supervisor.pods.running>=4",
        "--vary",
        "hosts=3,4,5",
        "--json",
    ]);
    let plan: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let running: Vec<&Value> = plan["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["slo_values"][0])
        .collect();
    assert!(running.iter().all(|r| **r == json!(4.0)), "{plan}");
}

/// Mutated bodies (the input fuzzer's mutations of real manifests, as
/// JSON and YAML) at every writing endpoint: every answer is a Status with
/// a 4xx code or a success, never a 5xx, a panic or a dropped connection,
/// and the invariants hold afterwards.
#[test]
fn mutated_bodies_at_every_endpoint_get_an_answer_and_break_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let token = s.token("alice");
    let bases = [
        (PODS.to_string(), serde_yaml_like(&pod("m"))),
        (DEPLOYS.to_string(), serde_yaml_like(&deployment("m", 2))),
        (
            "/apis/vmoperator.vmware.com/v1alpha1/namespaces/web/virtualmachines".to_string(),
            std::fs::read_to_string(repo().join("tests/data/e2e-manifests/2-vm.yaml")).unwrap(),
        ),
        (
            "/api/v1/namespaces/web/persistentvolumeclaims".to_string(),
            std::fs::read_to_string(repo().join("tests/data/e2e-manifests/3-pvc.yaml")).unwrap(),
        ),
        (
            "/apis/run.tanzu.vmware.com/v1alpha3/namespaces/web/tanzukubernetesclusters"
                .to_string(),
            std::fs::read_to_string(repo().join("tests/data/e2e-manifests/5-tkc.yaml")).unwrap(),
        ),
    ];
    let methods = [
        ("POST", "", "application/json"),
        ("POST", "", "application/yaml"),
        ("PUT", "/m", "application/json"),
        ("PATCH", "/m", "application/merge-patch+json"),
        ("PATCH", "/m", "application/strategic-merge-patch+json"),
        ("PATCH", "/m", "application/apply-patch+yaml"),
    ];
    let mut codes = std::collections::BTreeMap::new();
    for case in 0..240u64 {
        let (path, base) = &bases[(case % bases.len() as u64) as usize];
        let (method, suffix, ct) = methods[(case / 5 % methods.len() as u64) as usize];
        let body = pacsim::fuzz::inputs::mutate(base, 7, case);
        let (code, text) = s.request(
            method,
            &format!("{path}{suffix}"),
            Some(&token),
            Some(body.as_bytes()),
            ct,
        );
        assert!(
            (200..500).contains(&code),
            "{method} {path}{suffix} ({ct}) answered {code}: {text}\nbody:\n{body}"
        );
        if code >= 400 {
            let status: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            assert_eq!(status["kind"], "Status", "{code}: {text}");
        }
        *codes.entry(code).or_insert(0) += 1;
    }
    // Both outcomes happened: some mutations still parse, most do not.
    assert!(codes.keys().any(|c| *c >= 400), "{codes:?}");
    let (code, body) = s.get_raw("/readyz", None);
    assert_eq!(code, 200, "{body}");
}

/// A manifest as JSON text (valid YAML too), for the mutator.
fn serde_yaml_like(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

/// The long kill loop (not in CI):
/// `cargo test --test it serve::a_thousand_kills -- --ignored --nocapture`
/// (`PACSIM_BIN=target/release/pacsim` to run the server's release build).
#[test]
#[ignore = "long: 1,000 kill -9s; every restart replays the whole journal, so hours"]
fn a_thousand_kills_lose_nothing_acknowledged() {
    let started = Instant::now();
    let (acked, present) = kill_loop(1_000, 1_000);
    println!(
        "1000 kills: {acked} acknowledged writes, {present} pods checked at the end, {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// A client that connects and then sends nothing (or stalls mid-request)
/// blocks no one, and the server drops it after its timeouts.
#[test]
fn idle_and_stalled_connections_block_no_one_and_are_dropped() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let idle: Vec<std::net::TcpStream> = (0..20)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap())
        .collect();
    let mut stalled = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    stalled.write_all(&[0x16, 0x03, 0x01]).unwrap(); // the start of a TLS hello
    let t = Instant::now();
    let (code, _) = s.call("alice", "GET", PODS, None);
    assert_eq!(code, 200);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // The TLS handshake timeout closes both kinds.
    for mut conn in idle.into_iter().chain([stalled]) {
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut buf = [0u8; 64];
        let n = conn.read(&mut buf).unwrap_or(0);
        assert!(
            n == 0 || buf[0] == 0x15,
            "the server kept an idle connection open"
        );
    }
}

/// The administrator creates a namespace through the API (vSphere with
/// Tanzu's users get theirs from vCenter): it has no limits and no
/// permissions, gets its own network segment, and goes only when empty.
#[test]
fn the_administrator_creates_and_deletes_a_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(&scenario(), dir.path(), &["--speed", "20"]);
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sandbox"}});
    let (code, body) = s.call("alice", "POST", "/api/v1/namespaces", Some(ns.clone()));
    assert_eq!(code, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("only the vSphere administrator may")
    );
    let bad = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "Bad_Name"}});
    let (code, body) = s.call(ADMIN, "POST", "/api/v1/namespaces", Some(bad));
    assert_eq!(code, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("invalid namespace name `Bad_Name`")
    );
    let (code, body) = s.call(ADMIN, "POST", "/api/v1/namespaces", Some(ns));
    assert_eq!(code, 201, "{body}");
    assert_eq!(
        s.call(ADMIN, "GET", "/api/v1/namespaces/sandbox", None).0,
        200
    );

    let pods = "/api/v1/namespaces/sandbox/pods";
    let mut p = pod("p");
    p["metadata"]["namespace"] = "sandbox".into();
    let (code, body) = s.call("alice", "POST", pods, Some(p.clone()));
    assert_eq!(code, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("has no role in namespace sandbox")
    );
    assert_eq!(s.call(ADMIN, "POST", pods, Some(p)).0, 201);
    poll(|| {
        let (_, p) = s.call(ADMIN, "GET", &format!("{pods}/p"), None);
        p["status"]["phase"] == "Running" && p["status"]["podIP"].is_string()
    });
    // Its address is from a segment of its own, not web's.
    let (_, p) = s.call(ADMIN, "GET", &format!("{pods}/p"), None);
    let (_, web) = s.call("alice", "GET", "/api/v1/namespaces/web/pods", None);
    // supervisor-basic's segments are /28s: 16 addresses.
    let subnet = |ip: &str| {
        let (net, last) = ip.rsplit_once('.').unwrap();
        (net.to_string(), last.parse::<u32>().unwrap() / 16)
    };
    let ours = subnet(p["status"]["podIP"].as_str().unwrap());
    for other in web["items"].as_array().unwrap() {
        if let Some(ip) = other["status"]["podIP"].as_str() {
            assert_ne!(subnet(ip), ours, "{ip}");
        }
    }

    let (code, body) = s.call(ADMIN, "DELETE", "/api/v1/namespaces/sandbox", None);
    assert_eq!(code, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("still holds 1 object(s)")
    );
    assert_eq!(s.call(ADMIN, "DELETE", &format!("{pods}/p"), None).0, 200);
    let (code, body) = s.call(ADMIN, "DELETE", "/api/v1/namespaces/sandbox", None);
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        s.call(ADMIN, "GET", "/api/v1/namespaces/sandbox", None).0,
        404
    );
}

/// Exports a stopped session in `data` and checks that `replay --verify`
/// re-runs it byte for byte, from the trace and from the folder; the
/// trace's path.
pub fn export_and_verify(data: &Path) -> PathBuf {
    let trace = data.join("session.pstrace");
    let (dir, file) = (data.to_str().unwrap(), trace.to_str().unwrap());
    let out = pacsim(&["export", dir, "-o", file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for input in [file, dir] {
        let out = pacsim(&["replay", input, "--verify"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("identical"),
            "{input}: {stdout}"
        );
    }
    trace
}
