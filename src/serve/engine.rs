//! The served Supervisor's one thread of simulation: the simulator's own
//! kernel, kept in time by the wall clock, with requests from outside as
//! inputs of the gateway actor (`supervisor/clients`).
//!
//! A batch of requests is stamped with the virtual time at which it is
//! taken, `at` (strictly after the last delivery), journalled and made
//! durable with one `fdatasync`, and only then injected: every event due
//! before `at` has been delivered, and the batch goes after the events
//! already queued for `at`. Replaying the journal's batches at the same
//! points therefore delivers the same log, byte for byte, and rebuilds the
//! state after a crash.
//!
//! Reads are answered from the API server's store between deliveries;
//! nothing they see can be lost, since it follows from durable inputs.

use super::journal::{Entry, Journal, Request};
use super::metrics::Metrics;
use super::rollout::{Rollouts, SetCounts};
use super::view::{Guests, View, sup_part};
use crate::actors::WorldActor;
use crate::api::Verb;
use crate::api::addrs::{Addrs, Part};
use crate::api::msg::{ApiError, CallId, SupMsg};
use crate::api::objects::{Object, ObjectKey};
use crate::check::{Checker, Violation};
use crate::event::{Event, RecordRef};
use crate::inputs::WorldSource;
use crate::model::{ActorId, SimDuration, SimTime};
use crate::report::Stats;
use crate::scenario::Scenario;
use crate::sim::{Kernel, RecordSink};
use crate::store::EventLog;
use crate::supervisor::actors::SupActor;
use crate::supervisor::api_server::{ApiServer, Change, ChangeKind};
use crate::supervisor::auth_proxy::AuthProxy;
use crate::world::World;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// What became of a call.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Written (or read) at this resourceVersion; the object as stored
    /// when the reply came (None once deleted).
    Done {
        rv: u64,
        object: Option<Box<Object>>,
    },
    Refused(ApiError),
    /// The Authentication Proxy's reason.
    Denied(String),
}

/// A read, run on the engine thread against the current state.
pub type ReadFn = Box<dyn FnOnce(&View<'_>) + Send>;

/// What the HTTP workers ask of the engine.
pub enum Command {
    Call {
        user: String,
        verb: Verb,
        object: Box<Object>,
        /// The TanzuKubernetesCluster whose guest cluster's API it is for.
        guest: Option<ObjectKey>,
        respond: oneshot::Sender<Outcome>,
    },
    Read(ReadFn),
    /// Stream every change after resourceVersion `after`; `Err(oldest)`
    /// when the history no longer reaches back that far.
    Watch {
        after: u64,
        events: mpsc::UnboundedSender<Watched>,
        started: oneshot::Sender<Result<(), u64>>,
    },
    /// Bring the state's gauges up to date (a scrape of `/metrics`), then
    /// answer.
    Gauges(oneshot::Sender<()>),
    /// End every watch (the server is stopping): their streams close, as
    /// kube-apiserver closes them, and clients watch again elsewhere.
    EndWatches,
    /// Finish: record where virtual time is and close the log.
    Stop,
}

/// A change as watches get it: with its set's pod counts when the object
/// is a Deployment (a pod's change that moves them is followed by one for
/// its Deployment, at the same resourceVersion). Shared by every watch it
/// goes to, with the lines they render of it.
#[derive(Clone, Debug)]
pub struct Watched {
    pub change: Arc<Change>,
    pub counts: Option<SetCounts>,
    pub lines: Arc<Lines>,
}

/// A change's watch lines, one per way of showing it (resource, version,
/// Table or not, with columns or not), made by the first watch that sends
/// it that way and copied by the others: 100 watches render a change
/// once, not 100 times.
#[derive(Debug, Default)]
pub struct Lines(std::sync::Mutex<Vec<(LineKey, Arc<str>)>>);

/// (resource, version, as a Table, with its columns).
pub type LineKey = (&'static str, &'static str, bool, bool);

impl Lines {
    pub fn get_or(&self, key: LineKey, make: impl FnOnce() -> String) -> Arc<str> {
        let lock = || self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, line)) = lock().iter().find(|(k, _)| *k == key) {
            return line.clone();
        }
        let line: Arc<str> = make().into();
        lock().push((key, line.clone()));
        line
    }
}

/// How many changes the engine keeps for watches that resume.
const HISTORY: usize = 100_000;
/// How often, at most, the reached virtual time is journalled.
const CLOCK_EVERY: Duration = Duration::from_secs(1);
/// How often, at most, the invariants are checked, and at least under
/// sustained load. A full check walks the whole state: 35 to 100 ms with
/// 40,000 pods, during which nothing is acknowledged. Checked every
/// 250 ms, it was every stall in the serve benchmark's p99; so a check
/// waits for a pass of the engine that carried no request, unless the
/// last one is `CHECK_UNDER_LOAD` old.
const CHECK_SPACING: Duration = Duration::from_millis(250);
const CHECK_UNDER_LOAD: Duration = Duration::from_secs(30);

pub struct Engine {
    kernel: Kernel<WorldActor, WorldSource>,
    log: EventLog,
    stats: Stats,
    checker: Checker,
    violation: Option<Violation>,
    journal: Journal,
    addrs: Addrs,
    clock: Clock,
    next_call: CallId,
    pending: BTreeMap<CallId, Pending>,
    watchers: Vec<mpsc::UnboundedSender<Watched>>,
    history: VecDeque<Watched>,
    rollouts: Rollouts,
    /// The resourceVersion history starts after (changes up to it are gone).
    history_floor: u64,
    /// The last once-a-second tick (see `run`).
    ticked: Instant,
    metrics: Arc<Metrics>,
    /// When the invariants were last checked (see `CHECK_SPACING`). Not
    /// while the journal is replayed: those states were checked when they
    /// were live, and checking them again was half of recovery's time; the
    /// state it ends in is checked once.
    checked: Instant,
    /// Each host's cluster name, for the per-cluster gauges.
    host_clusters: Vec<String>,
    /// The versions serve gives guest clusters' objects (see
    /// `guest_versions`), and where they start: above any earlier run's,
    /// as the wall clock in microseconds.
    guest_versions: std::cell::RefCell<BTreeMap<ObjectKey, super::guest_versions::GuestVersions>>,
    version_base: u64,
}

/// A call in flight: who waits for it and the object it names (in the
/// guest cluster of `guest`, if set).
struct Pending {
    tx: oneshot::Sender<Outcome>,
    key: ObjectKey,
    guest: Option<ObjectKey>,
}

/// The commands one pass of the engine took, sorted by what it does
/// with them.
#[derive(Default)]
struct Taken {
    calls: Vec<(Request, oneshot::Sender<Outcome>)>,
    reads: Vec<ReadFn>,
    /// Scrapes of `/metrics` waiting for the gauges.
    scrapes: Vec<oneshot::Sender<()>>,
    stop: bool,
}

/// Virtual time on the wall clock: `base` at `started`, `speed` virtual
/// seconds per wall second.
struct Clock {
    started: Instant,
    base: SimTime,
    speed: f64,
}

impl Clock {
    fn now(&self) -> SimTime {
        let ns = self.started.elapsed().as_secs_f64() * self.speed * 1e9;
        self.base.saturating_add(SimDuration(ns as u64))
    }

    /// How long until virtual `at` (zero when due).
    fn until(&self, at: SimTime) -> Duration {
        let now = self.now();
        if at <= now {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(at.since(now).as_secs_f64() / self.speed)
    }
}

/// Records go to the log; replies to the gateway are kept for the engine.
struct Tap<'a> {
    log: &'a mut EventLog,
    gateway: ActorId,
    replies: &'a mut Vec<(CallId, Outcome)>,
}

impl RecordSink for Tap<'_> {
    fn record(&mut self, r: &RecordRef<'_>) {
        self.log.record(r);
        if r.to != self.gateway {
            return;
        }
        if let Event::Supervisor(msg) = r.event {
            match &**msg {
                SupMsg::Reply { id, result } => {
                    let outcome = match result {
                        Ok(rv) => Outcome::Done {
                            rv: *rv,
                            object: None,
                        },
                        Err(e) => Outcome::Refused(e.clone()),
                    };
                    self.replies.push((*id, outcome));
                }
                SupMsg::Denied { id, reason, .. } => {
                    self.replies.push((*id, Outcome::Denied(reason.clone())));
                }
                _ => {}
            }
        }
    }
}

/// What recovery found, for the start-up line.
pub struct Recovery {
    pub batches: usize,
    pub requests: usize,
    pub resumed_at: SimTime,
    pub cut_bytes: u64,
    /// Events delivered to rebuild the state.
    pub events: u64,
}

impl Engine {
    /// Builds the world, replays the journal's batches into it (rebuilding
    /// the log in `log`) and starts the clock where the journal left off.
    pub fn recover(
        scenario: &Scenario,
        log: EventLog,
        journal_path: &std::path::Path,
        speed: f64,
        metrics: Arc<Metrics>,
    ) -> Result<(Engine, Recovery), String> {
        let recovered =
            Journal::open(journal_path).map_err(|e| format!("{}: {e}", journal_path.display()))?;
        let world = World::build(scenario);
        let addrs = world
            .supervisor
            .clone()
            .ok_or("the scenario has no `supervisor:` section: there is nothing to serve")?;
        let mut kernel = crate::run::kernel_for(world);
        if let Some(api) = api_server_mut(&mut kernel, addrs[Part::ApiServer]) {
            api.keep_changes();
        }
        let mut engine = Engine {
            kernel,
            log,
            stats: Stats::default(),
            checker: Checker::new(scenario),
            violation: None,
            journal: recovered.journal,
            addrs,
            clock: Clock {
                started: Instant::now(),
                base: SimTime::ZERO,
                speed,
            },
            next_call: crate::api::msg::GATEWAY_CALLS,
            pending: BTreeMap::new(),
            watchers: Vec::new(),
            history: VecDeque::new(),
            rollouts: Rollouts::default(),
            history_floor: 0,
            checked: Instant::now(),
            ticked: Instant::now(),
            metrics,
            host_clusters: scenario
                .datacenter
                .hosts
                .iter()
                .map(|h| scenario.datacenter.clusters[h.cluster].name.clone())
                .collect(),
            guest_versions: Default::default(),
            version_base: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as u64),
        };
        let mut recovery = Recovery {
            batches: 0,
            requests: 0,
            resumed_at: SimTime::ZERO,
            cut_bytes: recovered.cut,
            events: 0,
        };
        for entry in recovered.entries {
            recovery.resumed_at = recovery.resumed_at.max(entry.at());
            match entry {
                Entry::Batch { at, requests } => {
                    engine.advance(SimTime(at.0 - 1));
                    recovery.batches += 1;
                    recovery.requests += requests.len();
                    for r in requests {
                        engine.next_call = engine.next_call.max(r.id + 1);
                        engine.inject(at, r);
                    }
                }
                Entry::Clock { .. } => {}
            }
        }
        engine.advance(recovery.resumed_at);
        recovery.events = engine.kernel.delivered();
        engine.check_now();
        Ok((engine, recovery))
    }

    fn inject(&mut self, at: SimTime, r: Request) {
        let msg = match r.guest {
            None => SupMsg::Call {
                id: r.id,
                user: r.user,
                verb: r.verb,
                object: r.object,
            },
            Some(tkc) => SupMsg::GuestRequest {
                id: r.id,
                user: r.user,
                tkc,
                verb: r.verb,
                object: r.object,
            },
        };
        let (gateway, proxy) = (self.addrs.clients, self.addrs[Part::AuthProxy]);
        self.kernel.inject(at, gateway, proxy, msg.event());
    }

    /// Checks every invariant now, once none is known broken (the first
    /// violation is the one reported).
    fn check_now(&mut self) {
        if self.violation.is_some() {
            return;
        }
        let (now, delivered) = (self.kernel.now(), self.kernel.delivered());
        let started = Instant::now();
        let violation = self
            .checker
            .check(self.kernel.actors(), now, delivered.saturating_sub(1));
        self.checked = Instant::now();
        let took_ms = started.elapsed().as_secs_f64() * 1e3;
        tracing::debug!(took_ms, delivered, "invariants checked");
        if let Some(v) = violation {
            tracing::error!(invariant = v.invariant, detail = %v.detail, "invariant violated");
            self.violation = Some(v);
        }
    }

    /// Delivers every event due at or before `until`, then answers the
    /// calls that were replied to and feeds the watches.
    fn advance(&mut self, until: SimTime) {
        let mut replies = Vec::new();
        let mut tap = Tap {
            log: &mut self.log,
            gateway: self.addrs.clients,
            replies: &mut replies,
        };
        while self.kernel.step(until, &mut tap, &mut self.stats) {}
        let api_id = self.addrs[Part::ApiServer];
        let changes = api_server_mut(&mut self.kernel, api_id)
            .map(|a| a.take_changes())
            .unwrap_or_default();
        let api = api_server(&self.kernel, api_id);
        for (id, mut outcome) in replies {
            let Some(respond) = self.pending.remove(&id) else {
                continue;
            };
            if let Outcome::Done { object, .. } = &mut outcome {
                *object = match &respond.guest {
                    None => api.and_then(|a| a.get(&respond.key)).cloned(),
                    Some(tkc) => self
                        .view()
                        .store(Some(tkc))
                        .ok()
                        .and_then(|s| s.get(&respond.key).cloned()),
                }
                .map(Box::new);
            }
            let _ = respond.tx.send(outcome);
        }
        for change in changes {
            let moved = self.rollouts.apply(&change);
            let counts = self.rollouts.counts(&change.object);
            // Each set or Deployment whose status moved follows, so that
            // watches of them see it.
            let follow: Vec<Watched> = moved
                .iter()
                .filter_map(|k| api.and_then(|a| a.get(k)))
                .map(|object| Watched {
                    change: Arc::new(Change {
                        rv: change.rv,
                        at: change.at,
                        object: object.clone(),
                        kind: ChangeKind::Modified,
                    }),
                    counts: self.rollouts.counts(object),
                    lines: Arc::default(),
                })
                .collect();
            let first = Watched {
                change: Arc::new(change),
                counts,
                lines: Arc::default(),
            };
            for w in std::iter::once(first).chain(follow) {
                self.watchers.retain(|tx| tx.send(w.clone()).is_ok());
                // Lines of their own: the live ones go with their watches.
                self.history.push_back(Watched {
                    lines: Arc::default(),
                    ..w
                });
            }
            while self.history.len() > HISTORY
                && let Some(old) = self.history.pop_front()
            {
                self.history_floor = old.change.rv;
            }
        }
    }

    /// Serves commands until `Stop` (or every sender is gone), then writes
    /// where virtual time is and closes the log.
    pub fn run(mut self, commands: Receiver<Command>) -> Result<(), String> {
        let resume = self.kernel.now();
        self.clock = Clock {
            started: Instant::now(),
            base: resume,
            speed: self.clock.speed,
        };
        loop {
            let wait = self
                .kernel
                .next_at()
                .map_or(CLOCK_EVERY, |at| self.clock.until(at).min(CLOCK_EVERY));
            let mut taken = Taken::default();
            match commands.recv_timeout(wait) {
                Ok(c) => self.sort(c, &mut taken),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => taken.stop = true,
            }
            while let Ok(c) = commands.try_recv() {
                self.sort(c, &mut taken);
            }
            let now = self.clock.now().max(self.kernel.now());
            self.advance(now);
            let idle = taken.calls.is_empty();
            if !taken.calls.is_empty() {
                self.call_batch(taken.calls)?;
            }
            for read in taken.reads {
                read(&self.view());
            }
            // On a scrape only: they walk every object and host.
            if !taken.scrapes.is_empty() {
                self.gauges();
                for done in taken.scrapes {
                    let _ = done.send(());
                }
            }
            if taken.stop {
                break;
            }
            let since = self.checked.elapsed();
            if (idle && since >= CHECK_SPACING) || since >= CHECK_UNDER_LOAD {
                self.check_now();
            }
            // Once a second, busy or not: where virtual time is (where a
            // restart resumes it).
            if self.ticked.elapsed() >= CLOCK_EVERY {
                self.journal.push(&Entry::Clock {
                    at: self.kernel.now(),
                });
                self.journal.commit(true).map_err(|e| e.to_string())?;
                self.ticked = Instant::now();
            }
        }
        self.journal.push(&Entry::Clock {
            at: self.kernel.now(),
        });
        self.journal.commit(true).map_err(|e| e.to_string())?;
        self.log.finish().map_err(|e| e.to_string())?;
        Ok(())
    }

    fn sort(&mut self, command: Command, taken: &mut Taken) {
        match command {
            Command::Call {
                user,
                verb,
                object,
                guest,
                respond,
            } => {
                let id = self.next_call;
                self.next_call += 1;
                let request = Request {
                    id,
                    user,
                    verb,
                    object: *object,
                    guest,
                };
                taken.calls.push((request, respond));
            }
            Command::Read(f) => taken.reads.push(f),
            Command::Watch {
                after,
                events,
                started,
            } => {
                if after < self.history_floor {
                    let _ = started.send(Err(self.history_floor));
                    return;
                }
                for c in self.history.iter().filter(|c| c.change.rv > after) {
                    let _ = events.send(c.clone());
                }
                let _ = started.send(Ok(()));
                self.watchers.push(events);
            }
            Command::Gauges(done) => taken.scrapes.push(done),
            Command::EndWatches => self.watchers.clear(),
            Command::Stop => taken.stop = true,
        }
    }

    /// Journals a batch durably, then injects it (see the module docs).
    fn call_batch(
        &mut self,
        calls: Vec<(Request, oneshot::Sender<Outcome>)>,
    ) -> Result<(), String> {
        let at = self
            .clock
            .now()
            .max(SimTime(self.kernel.now().0.saturating_add(1)));
        self.advance(SimTime(at.0 - 1));
        let requests: Vec<Request> = calls.iter().map(|(r, _)| r.clone()).collect();
        self.journal.push(&Entry::Batch {
            at,
            requests: requests.clone(),
        });
        let flushed = Instant::now();
        self.journal.commit(true).map_err(|e| e.to_string())?;
        self.metrics
            .journal_batch(requests.len(), flushed.elapsed());
        for (request, respond) in calls {
            let pending = Pending {
                tx: respond,
                key: request.object.key(),
                guest: request.guest.clone(),
            };
            self.pending.insert(request.id, pending);
            self.inject(at, request);
        }
        Ok(())
    }

    /// The state's figures for `/metrics`.
    fn gauges(&self) {
        use super::metrics::Figure;
        use crate::api::objects::Body;
        let m = &self.metrics;
        m.set(Figure::EventsDelivered, &[], self.kernel.delivered() as f64);
        m.set(
            Figure::VirtualTimeSeconds,
            &[],
            self.kernel.now().as_secs_f64(),
        );
        let mut per_cluster: BTreeMap<&str, (u32, crate::model::Resources)> = BTreeMap::new();
        for a in self.kernel.actors() {
            if let WorldActor::Host(h) = a {
                let cluster = self.host_clusters[h.id().0 as usize].as_str();
                let e = per_cluster.entry(cluster).or_default();
                e.0 += u32::from(h.is_up());
                e.1 += h.used();
            }
        }
        for (cluster, (up, used)) in per_cluster {
            let labels = [("cluster", cluster)];
            m.set(Figure::HostsUp, &labels, f64::from(up));
            m.set(
                Figure::CpuAllocatedCores,
                &labels,
                used.cpu_millis as f64 / 1000.0,
            );
            m.set(
                Figure::MemoryAllocatedBytes,
                &labels,
                used.memory_bytes as f64,
            );
        }
        let Some(api) = api_server(&self.kernel, self.addrs[Part::ApiServer]) else {
            return;
        };
        let mut counts: BTreeMap<(Figure, &'static str, String), u64> = BTreeMap::new();
        for phase in ["Pending", "Running", "Succeeded", "Failed"] {
            counts.insert((Figure::Pods, "phase", phase.to_string()), 0);
        }
        for o in api.objects() {
            let series = match &o.body {
                Body::Pod(p) => (Figure::Pods, "phase", p.phase.name().to_string()),
                Body::VirtualMachine(v) => (
                    Figure::Vms,
                    "power_state",
                    v.actual_power.name().to_string(),
                ),
                Body::TanzuKubernetesCluster(t) => {
                    (Figure::GuestClusters, "phase", t.phase.name().to_string())
                }
                Body::Node(n) => (Figure::Nodes, "ready", n.ready.to_string()),
                _ => continue,
            };
            *counts.entry(series).or_default() += 1;
        }
        for ((figure, label, value), n) in counts {
            m.set(figure, &[(label, value.as_str())], n as f64);
        }
    }

    fn view(&self) -> View<'_> {
        let api_id = self.addrs[Part::ApiServer];
        let proxy_id = self.addrs[Part::AuthProxy];
        View {
            api: api_server(&self.kernel, api_id).expect("a served world has an API server"),
            rollouts: &self.rollouts,
            proxy: auth_proxy(&self.kernel, proxy_id).expect("a served world has a proxy"),
            // The clock's, not the last delivery's: ages keep running
            // between events.
            now: self.clock.now().max(self.kernel.now()),
            delivered: self.kernel.delivered(),
            violation: self.violation.as_ref(),
            guests: Guests {
                kernel: &self.kernel,
                capi: self.addrs[Part::Capi],
                versions: &self.guest_versions,
                version_base: self.version_base,
            },
        }
    }
}

fn api_server(kernel: &Kernel<WorldActor, WorldSource>, id: ActorId) -> Option<&ApiServer> {
    match sup_part(kernel, id)? {
        SupActor::ApiServer(api) => Some(api),
        _ => None,
    }
}

fn auth_proxy(kernel: &Kernel<WorldActor, WorldSource>, id: ActorId) -> Option<&AuthProxy> {
    match sup_part(kernel, id)? {
        SupActor::AuthProxy(proxy) => Some(proxy),
        _ => None,
    }
}

fn api_server_mut(
    kernel: &mut Kernel<WorldActor, WorldSource>,
    id: ActorId,
) -> Option<&mut ApiServer> {
    match kernel.actor_mut(id) {
        WorldActor::Supervisor(part) => match &mut part.actor {
            SupActor::ApiServer(api) => Some(api),
            _ => None,
        },
        _ => None,
    }
}
