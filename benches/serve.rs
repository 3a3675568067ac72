//! The served Supervisor under load, every acknowledgement durable
//! (fdatasync per batch): pod creates from 32 concurrent keep-alive
//! clients (throughput and latency percentiles), 100 watchers that must
//! each see every event, and the time to recover the session's journal.
//!
//! `cargo bench --bench serve` (SERVE_BENCH_SECONDS sets the create phase,
//! default 10; SERVE_BENCH_EVENTS the journal size to recover, default
//! 1,000,000 events; SERVE_BENCH_DATA keeps the session in that folder, and
//! SERVE_BENCH_RECOVER=DIR only times the recovery of DIR's journal, into
//! a log in memory and into one on disk). Prints a table; not a timed test.

use hdrhistogram::Histogram;
use pacsim::scenario::load_scenario;
use pacsim::serve::{ServeOptions, engine::Engine, serve_until};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;

/// The sizes of one run: the benchmark's, or a smoke test's under
/// `cargo test --all-targets` (which runs benches without `--bench`).
struct Sizes {
    create_secs: u64,
    watchers: usize,
    watched_creates: u64,
    target_events: u64,
}

fn scenario_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/serve-bench.yaml")
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Client {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl Client {
    fn new(data: &Path, port: u16) -> Client {
        let ca = std::fs::read(data.join("tls/ca.crt")).unwrap();
        let ca = ureq::tls::Certificate::from_pem(&ca).unwrap();
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![ca])))
            .build();
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .tls_config(tls)
                .http_status_as_error(false)
                .build(),
        );
        let tokens = std::fs::read_to_string(data.join("tokens.csv")).unwrap();
        let token = tokens
            .lines()
            .find(|l| l.split(',').nth(1) == Some("dev"))
            .and_then(|l| l.split(',').next())
            .unwrap()
            .to_string();
        Client {
            agent,
            base: format!("https://127.0.0.1:{port}"),
            token,
        }
    }

    fn create(&self, name: &str) -> u16 {
        let pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "load"},
            "spec": {"containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]},
        });
        self.agent
            .post(format!("{}/api/v1/namespaces/load/pods", self.base))
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .send(pod.to_string())
            .map(|mut r| {
                // Read to the end, or the connection is not reused (and
                // every create pays a TLS handshake).
                let _ = r.body_mut().read_to_vec();
                r.status().as_u16()
            })
            .unwrap_or(0)
    }

    fn resource_version(&self) -> String {
        let mut r = self
            .agent
            .get(format!(
                "{}/api/v1/namespaces/load/pods?labelSelector=none%3Dnone",
                self.base
            ))
            .header("authorization", format!("Bearer {}", self.token))
            .call()
            .unwrap();
        let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        v["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

fn wait_up(data: &Path, port: u16) -> Client {
    let started = Instant::now();
    loop {
        if data.join("tokens.csv").exists() && data.join("tls/ca.crt").exists() {
            let c = Client::new(data, port);
            if c.agent.get(format!("{}/healthz", c.base)).call().is_ok() {
                return c;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("serve: bench");
        return;
    }
    let sizes = if std::env::args().any(|a| a == "--bench") {
        Sizes {
            create_secs: env_u64("SERVE_BENCH_SECONDS", 10),
            watchers: 100,
            watched_creates: 2_000,
            target_events: env_u64("SERVE_BENCH_EVENTS", 1_000_000),
        }
    } else {
        Sizes {
            create_secs: 1,
            watchers: 4,
            watched_creates: 40,
            target_events: 0,
        }
    };
    if let Ok(kept) = std::env::var("SERVE_BENCH_RECOVER") {
        return recover_only(Path::new(&kept));
    }
    let (create_secs, target_events) = (sizes.create_secs, sizes.target_events);
    let (watchers, watched) = (sizes.watchers, sizes.watched_creates);
    let dir = tempfile::tempdir().unwrap();
    let data = std::env::var("SERVE_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("data"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = std::fs::read_to_string(scenario_path()).unwrap();
    let scenario = load_scenario(&scenario_path()).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let server = {
        let (data, scenario) = (data.clone(), scenario.clone());
        std::thread::spawn(move || {
            let opts = ServeOptions {
                scenario_file: scenario_path(),
                data,
                listen: format!("127.0.0.1:{port}"),
                speed: 1.0,
                token_file: None,
                bookmark_interval: std::time::Duration::from_secs(60),
            };
            serve_until(opts, scenario, &text, Some(stop_rx)).unwrap();
        })
    };
    let probe = wait_up(&data, port);

    // 1. Creates from 32 keep-alive clients.
    let latencies = Arc::new(Mutex::new(Histogram::<u64>::new(3).unwrap()));
    let created = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(create_secs);
    let workers: Vec<_> = (0..CLIENTS)
        .map(|w| {
            let (data, latencies, created) = (data.clone(), latencies.clone(), created.clone());
            std::thread::spawn(move || {
                let c = Client::new(&data, port);
                let mut mine = Histogram::<u64>::new(3).unwrap();
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let code = c.create(&format!("c{w}-{i}"));
                    i += 1;
                    assert_eq!(code, 201, "create refused");
                    mine.record(t.elapsed().as_micros() as u64).unwrap();
                    created.fetch_add(1, Ordering::Relaxed);
                }
                latencies.lock().unwrap().add(&mine).unwrap();
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let took = started.elapsed().as_secs_f64();
    let n = created.load(Ordering::Relaxed);
    let h = latencies.lock().unwrap().clone();
    println!("serve bench ({CLIENTS} clients, every acknowledgement fdatasync'd)");
    println!(
        "  creates        {n} in {took:.1} s = {:.0}/s",
        n as f64 / took
    );
    println!(
        "  ack latency    p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        h.value_at_quantile(0.5) as f64 / 1e3,
        h.value_at_quantile(0.99) as f64 / 1e3,
        h.value_at_quantile(0.999) as f64 / 1e3,
        h.max() as f64 / 1e3
    );

    // 2. 100 watchers, each must see every create.
    let rv = probe.resource_version();
    let seen: Arc<Vec<AtomicU64>> = Arc::new((0..watchers).map(|_| AtomicU64::new(0)).collect());
    for w in 0..watchers {
        let (data, seen, rv) = (data.clone(), seen.clone(), rv.clone());
        std::thread::spawn(move || {
            let c = Client::new(&data, port);
            let r = c
                .agent
                .get(format!(
                    "{}/api/v1/namespaces/load/pods?watch=true&resourceVersion={rv}",
                    c.base
                ))
                .header("authorization", format!("Bearer {}", c.token))
                .call()
                .unwrap();
            for line in BufReader::new(r.into_body().into_reader()).lines() {
                let Ok(line) = line else { break };
                if line.contains("\"ADDED\"") && line.contains("\"w-") {
                    seen[w].fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let data = data.clone();
            std::thread::spawn(move || {
                let c = Client::new(&data, port);
                for i in 0..watched / 8 {
                    assert_eq!(c.create(&format!("w-{w}-{i}")), 201);
                }
            })
        })
        .collect();
    let t = Instant::now();
    for w in writers {
        w.join().unwrap();
    }
    while t.elapsed() < Duration::from_secs(60)
        && seen.iter().any(|s| s.load(Ordering::Relaxed) < watched)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let complete = seen
        .iter()
        .filter(|s| s.load(Ordering::Relaxed) == watched)
        .count();
    println!(
        "  watchers       {complete}/{watchers} saw all {watched} creates ({:.2} s after the last write at most)",
        t.elapsed().as_secs_f64()
    );

    // 3. Grow the journal to the target, then recover it.
    let mut i = 0;
    let c = Client::new(&data, port);
    let mut events = 0;
    while events < target_events {
        for _ in 0..2_000 {
            c.create(&format!("g-{i}"));
            i += 1;
        }
        let m = c
            .agent
            .get(format!("{}/metrics", c.base))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        events = m
            .lines()
            .find_map(|l| l.strip_prefix("pacsim_events_delivered "))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0) as u64;
    }
    let _ = stop_tx.send(());
    server.join().unwrap();
    let log_dir = dir.path().join("recovered-log");
    let log = pacsim::store::EventLog::create(&log_dir, &scenario.source, scenario.seed).unwrap();
    recover(&scenario, &data, log, "recovery      ");
}

/// Recovers `data`'s journal into `log` and prints how fast, as `label`.
fn recover(
    scenario: &pacsim::scenario::Scenario,
    data: &Path,
    log: pacsim::store::EventLog,
    label: &str,
) {
    let t = Instant::now();
    let journal = data.join("journal");
    let (_engine, recovery) =
        Engine::recover(scenario, log, &journal, 1.0, Default::default()).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "  {label} {} events ({} requests in {} batches) in {secs:.2} s = {:.0} events/s",
        recovery.events,
        recovery.requests,
        recovery.batches,
        recovery.events as f64 / secs
    );
}

/// Times the recovery of a kept session's journal, into a log in memory
/// (the simulation alone) and into one on disk (as `serve` does).
fn recover_only(data: &Path) {
    let scenario = load_scenario(&scenario_path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for persisted in [false, true] {
        let log = if persisted {
            pacsim::store::EventLog::create(
                &dir.path().join("log"),
                &scenario.source,
                scenario.seed,
            )
            .unwrap()
        } else {
            pacsim::store::EventLog::in_memory()
        };
        let label = if persisted {
            "recovery, log on disk:  "
        } else {
            "recovery, log in memory:"
        };
        recover(&scenario, data, log, label);
    }
}
