//! `pacsim serve`: a live, simulated Supervisor that kubectl can drive.
//!
//! The data folder holds everything a session is:
//!
//! ```text
//! DIR/scenario.yaml      the scenario, stored at the first start
//! DIR/journal            the requests, durable before they are answered
//! DIR/epoch              the wall-clock second virtual time 0 stands for
//! DIR/log/               the event log, rebuilt from the journal at start
//! DIR/tls/               the self-signed CA and server certificate
//! DIR/tokens.csv         generated tokens (without --token-file), 0600
//! DIR/kubeconfig-*.yaml  one per user, 0600
//! DIR/lock               held while a server runs
//! ```
//!
//! One engine thread runs the simulator's kernel on the wall clock
//! ([`engine`]); actix-web's workers speak HTTPS and hand it commands
//! ([`http`]).

pub mod access;
pub mod discovery;
pub mod engine;
pub mod guest;
pub mod guest_versions;
pub mod http;
pub mod invalid;
pub mod journal;
pub mod metrics;
pub mod patch;
pub mod protobuf;
pub mod render;
pub mod resources;
pub mod review;
pub mod rollout;
pub mod rules;
pub mod selector;
pub mod stream;
pub mod table;
pub mod usage;
pub mod view;

use crate::scenario::{ADMIN_USER, Scenario};
use crate::store::EventLog;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// HTTP worker threads (each an event loop over its share of the
/// connections). More than the cores: with 32 clients on 2 workers a
/// response waited behind up to 15 other connections' parsing and TLS in
/// its loop; with 8, the kernel's scheduler interleaves them, and the
/// p99 of an acknowledgement fell from about 22 ms to about 12 ms at the
/// same throughput (benches/serve.rs).
const HTTP_WORKERS: usize = 8;

pub struct ServeOptions {
    pub scenario_file: PathBuf,
    pub data: PathBuf,
    pub listen: String,
    pub speed: f64,
    pub token_file: Option<PathBuf>,
    /// How often a watch that allows bookmarks gets one.
    pub bookmark_interval: std::time::Duration,
}

/// Refused before anything in the folder is touched.
pub fn check_scenario(data: &Path, text: &str) -> Result<bool, String> {
    let stored = data.join("scenario.yaml");
    match fs::read_to_string(&stored) {
        Ok(s) if s == text => Ok(true),
        Ok(_) => Err(format!(
            "{} holds a session of a different scenario ({}); give the same scenario file to resume, or another --data folder",
            data.display(),
            stored.display()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!("{}: {e}", stored.display())),
    }
}

/// The scenario's users, the administrator first.
fn users(scenario: &Scenario) -> Vec<String> {
    let mut out = vec![ADMIN_USER.to_string()];
    if let Some(sup) = &scenario.supervisor {
        out.extend(sup.users.iter().map(|u| u.name.clone()));
    }
    out
}

/// The first namespace in which `user` has a role (for its kubeconfig).
fn home_namespace(scenario: &Scenario, user: &str) -> Option<String> {
    let sup = scenario.supervisor.as_ref()?;
    let groups: Vec<String> = sup
        .users
        .iter()
        .find(|u| u.name == user)
        .map(|u| u.groups.clone())
        .unwrap_or_default();
    sup.namespaces
        .iter()
        .find(|n| {
            user == ADMIN_USER
                || n.permissions.iter().any(|(s, _)| match s {
                    crate::scenario::Subject::User(u) => u == user,
                    crate::scenario::Subject::Group(g) => groups.contains(g),
                })
        })
        .map(|n| n.name.clone())
}

fn tokens(opts: &ServeOptions, data: &Path, known: &[String]) -> Result<access::Tokens, String> {
    if let Some(file) = &opts.token_file {
        let text = fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        return access::Tokens::parse(&text, &file.display().to_string(), known);
    }
    let stored = data.join("tokens.csv");
    if let Ok(text) = fs::read_to_string(&stored)
        && let Ok(t) = access::Tokens::parse(&text, "tokens.csv", known)
        && known.iter().all(|u| t.of(u).is_some())
    {
        return Ok(t);
    }
    let t = access::Tokens::generate(known).map_err(|e| e.to_string())?;
    access::write_private(&stored, &t.to_file())
        .map_err(|e| format!("{}: {e}", stored.display()))?;
    Ok(t)
}

fn epoch(data: &Path) -> Result<render::Epoch, String> {
    let path = data.join("epoch");
    if let Ok(text) = fs::read_to_string(&path)
        && let Ok(secs) = text.trim().parse()
    {
        return Ok(render::Epoch(secs));
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    fs::write(&path, format!("{secs}\n")).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(render::Epoch(secs))
}

/// Holds `DIR/lock` for the life of the server: a second server on the
/// same folder is refused instead of rebuilding the log under the first.
fn lock(data: &Path) -> Result<fs::File, String> {
    let path = data.join("lock");
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.try_lock()
        .map_err(|_| format!("{} is in use by another pacsim serve", data.display()))?;
    Ok(f)
}

/// Runs the server until SIGTERM or SIGINT.
pub fn serve(opts: ServeOptions, scenario: Scenario, text: &str) -> Result<(), String> {
    serve_until(opts, scenario, text, None)
}

/// [`serve`], also stopping (gracefully) when `stop` fires: for programs
/// that run a server of their own (the benchmark).
pub fn serve_until(
    opts: ServeOptions,
    scenario: Scenario,
    text: &str,
    stop: Option<tokio::sync::oneshot::Receiver<()>>,
) -> Result<(), String> {
    let data = &opts.data;
    fs::create_dir_all(data).map_err(|e| format!("{}: {e}", data.display()))?;
    let resumed = check_scenario(data, text)?;
    let _lock = lock(data)?;
    if !resumed {
        let path = data.join("scenario.yaml");
        fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let config = scenario
        .supervisor
        .clone()
        .ok_or("the scenario has no `supervisor:` section: there is nothing to serve")?;
    let known = users(&scenario);
    let tokens = tokens(&opts, data, &known)?;
    let epoch = epoch(data)?;
    let host = opts
        .listen
        .rsplit_once(':')
        .map_or(opts.listen.as_str(), |(h, _)| h)
        .trim_matches(['[', ']'])
        .to_string();
    let mut hosts = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if !hosts.contains(&host) && host != "0.0.0.0" {
        hosts.push(host.clone());
    }
    let tls = access::tls(data, &hosts)?;
    let server_url = format!("https://{}", opts.listen.replace("0.0.0.0", "127.0.0.1"));
    for user in &known {
        let token = tokens.of(user).unwrap_or_default();
        if token.is_empty() {
            continue;
        }
        let ns = home_namespace(&scenario, user);
        let text = access::kubeconfig(&server_url, &tls.ca_pem, user, token, ns.as_deref());
        let path = access::kubeconfig_path(data, user);
        access::write_private(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
    }

    let log_dir = data.join("log");
    if log_dir.exists() {
        fs::remove_dir_all(&log_dir).map_err(|e| format!("{}: {e}", log_dir.display()))?;
    }
    // The log says it is a session's, so that a replay injects its requests.
    let header = crate::trace::session::mark(&scenario.source);
    let log = EventLog::create(&log_dir, &header, scenario.seed).map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let metrics = Arc::new(metrics::Metrics::default());
    let (engine, recovery) = engine::Engine::recover(
        &scenario,
        log,
        &data.join("journal"),
        opts.speed,
        metrics.clone(),
    )?;
    eprintln!(
        "pacsim serve: {} resumed: {} request(s) in {} batch(es), {} events, replayed in {:.2} s; virtual time {}{}",
        data.display(),
        recovery.requests,
        recovery.batches,
        recovery.events,
        started.elapsed().as_secs_f64(),
        recovery.resumed_at,
        if recovery.cut_bytes > 0 {
            format!("; a torn tail of {} bytes was cut", recovery.cut_bytes)
        } else {
            String::new()
        }
    );

    let (tx, rx) = std::sync::mpsc::channel();
    let engine_thread = std::thread::Builder::new()
        .name("pacsim-engine".into())
        .spawn(move || engine.run(rx))
        .map_err(|e| e.to_string())?;
    let shared = Arc::new(http::Shared {
        commands: tx.clone(),
        tokens,
        epoch,
        config: *config,
        metrics,
        bookmark_interval: opts.bookmark_interval,
        closing: std::sync::atomic::AtomicBool::new(false),
    });
    let closing = shared.clone();
    let commands = tx.clone();
    let rustls_config = rustls_config(&tls)?;
    let listen = opts.listen.clone();
    eprintln!(
        "  kubectl --kubeconfig {} get nodes",
        access::kubeconfig_path(data, ADMIN_USER).display()
    );
    eprintln!("pacsim serve: listening on {server_url}");
    let listener = listen_socket(&listen)?;
    let served = actix_web::rt::System::new().block_on(async move {
        let state = actix_web::web::Data::new(shared);
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(state.clone())
                .app_data(actix_web::web::PayloadConfig::new(http::MAX_BODY))
                .route(
                    "/{path:.*}",
                    actix_web::web::route()
                        .guard(actix_web::guard::fn_guard(|ctx| {
                            ctx.head().headers().contains_key("upgrade")
                        }))
                        .to(http::refuse_upgrade),
                )
                .default_service(actix_web::web::to(http::handle))
        })
        .workers(HTTP_WORKERS)
        .client_request_timeout(std::time::Duration::from_secs(10))
        .keep_alive(std::time::Duration::from_secs(60))
        .shutdown_timeout(5)
        .disable_signals()
        .listen_rustls_0_23(listener, rustls_config)
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?
        .run();
        // SIGTERM, SIGINT or `stop`: watches end at once (they would
        // otherwise hold the drain for its whole timeout), then the
        // requests in flight get up to the timeout to finish.
        let stopping = Arc::new(Stopping {
            handle: server.handle(),
            shared: closing,
            commands,
        });
        use actix_web::rt::signal::unix::{SignalKind, signal};
        for kind in [SignalKind::terminate(), SignalKind::interrupt()] {
            let mut signal = signal(kind).map_err(|e| format!("signal handler: {e}"))?;
            let stopping = stopping.clone();
            actix_web::rt::spawn(async move {
                if signal.recv().await.is_some() {
                    stopping.stop().await;
                }
            });
        }
        if let Some(stop) = stop {
            let stopping = stopping.clone();
            actix_web::rt::spawn(async move {
                let _ = stop.await;
                stopping.stop().await;
            });
        }
        server.await.map_err(|e| e.to_string())
    });
    let _ = tx.send(engine::Command::Stop);
    drop(tx);
    let engine_result = engine_thread
        .join()
        .map_err(|_| "the engine thread panicked".to_string())?;
    served?;
    engine_result?;
    eprintln!("pacsim serve: stopped; the journal is closed");
    Ok(())
}

/// What a stop does, whichever signal asks for it.
struct Stopping {
    handle: actix_web::dev::ServerHandle,
    shared: Arc<http::Shared>,
    commands: std::sync::mpsc::Sender<engine::Command>,
}

impl Stopping {
    async fn stop(&self) {
        (self.shared.closing).store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.commands.send(engine::Command::EndWatches);
        self.handle.stop(true).await;
    }
}

/// The listening socket, with TCP_NODELAY (Linux hands it on to every
/// accepted connection): a response written in two TLS records would
/// otherwise wait for the client's delayed ACK, 40 ms a request.
fn listen_socket(listen: &str) -> Result<std::net::TcpListener, String> {
    use socket2::{Domain, Protocol, Socket, Type};
    let addr: std::net::SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(listen)
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("--listen {listen}: not an address and port"))?;
    let cannot = |e: std::io::Error| format!("cannot listen on {listen}: {e}");
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(cannot)?;
    socket.set_reuse_address(true).map_err(cannot)?;
    socket.set_tcp_nodelay(true).map_err(cannot)?;
    socket.bind(&addr.into()).map_err(cannot)?;
    socket.listen(1024).map_err(cannot)?;
    Ok(socket.into())
}

fn rustls_config(tls: &access::Tls) -> Result<rustls::ServerConfig, String> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    // ring, not aws-lc-rs: no C toolchain (cmake) needed to build pacsim.
    // rustls marks it deprecated only for lacking post-quantum key
    // exchange, which kubectl's TLS stack does not need.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(tls.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(tls.key_der.clone())),
        )
        .map_err(|e| format!("the server certificate: {e}"))
}
