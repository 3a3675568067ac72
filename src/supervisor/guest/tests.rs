//! The guest cluster actor: scheduling, NotReady toleration, drain and
//! the autoscaler's messages, driven message by message.

use super::*;
use crate::actor::testing::TestCtx;
use crate::api::Verb;
use crate::api::msg::ApiError;
use crate::api::objects::{Body, ClusterPhase, Meta, Object, ReplicaSet, TanzuKubernetesCluster};

const CAPI: ActorId = ActorId(7);
const CLIENTS: ActorId = ActorId(8);
const ME: ActorId = ActorId(9);

fn pool(name: &str, replicas: u32, autoscale: Option<(u32, u32)>) -> NodePool {
    NodePool {
        name: name.into(),
        replicas,
        vm_class: "best-effort-medium".into(),
        storage_class: "gold".into(),
        autoscale,
    }
}

/// Workers of 4 cores / 16 GiB.
fn cluster(workers: u32, autoscale: Option<(u32, u32)>) -> GuestCluster {
    let tkc = TanzuKubernetesCluster {
        version: "v1.26.5".into(),
        control_plane: pool("control-plane", 1, None),
        node_pools: vec![pool("workers", workers, autoscale)],
        phase: ClusterPhase::Creating,
        endpoint: None,
        nodes_ready: 0,
    };
    let classes = BTreeMap::from([("best-effort-medium".to_string(), Resources::cores(4, 16))]);
    GuestCluster::new(
        "ns/tkc".into(),
        &tkc,
        &classes,
        &GuestClustersConfig::default(),
        CAPI,
    )
}

fn deliver(g: &mut GuestCluster, ctx: &mut TestCtx, from: ActorId, msg: SupMsg) {
    ctx.sender = from;
    g.handle(msg.event(), ctx);
}

fn node_up(g: &mut GuestCluster, ctx: &mut TestCtx, node: &str, cp: bool) {
    let msg = SupMsg::GuestNodeUp {
        node: node.into(),
        pool: if cp { "control-plane" } else { "workers" }.into(),
        control_plane: cp,
        capacity: Resources::cores(4, 16),
    };
    deliver(g, ctx, CAPI, msg);
}

fn deployment(name: &str, replicas: u32, cores: u64) -> Object {
    Object {
        meta: Meta {
            name: name.into(),
            namespace: "default".into(),
            ..Meta::default()
        },
        body: Body::ReplicaSet(ReplicaSet {
            replicas,
            template_labels: [("app".to_string(), name.to_string())].into(),
            template: PodSpec {
                requests: Resources::cores(cores, cores),
                ..PodSpec::default()
            },
            revision: 0,
            annotations: Default::default(),
        }),
    }
}

fn call(g: &mut GuestCluster, ctx: &mut TestCtx, verb: Verb, object: Object) {
    let msg = SupMsg::GuestCall {
        id: 1,
        user: "alice".into(),
        verb,
        object,
    };
    deliver(g, ctx, CLIENTS, msg);
}

/// Fires every timer due up to `until` in time order, as the kernel
/// would; returns the scale requests sent to Cluster API meanwhile. Timers
/// due later are kept for the next call.
fn run_timers(g: &mut GuestCluster, ctx: &mut TestCtx, until: SimTime) -> Vec<(String, u32)> {
    let mut due: Vec<(SimTime, u64, Event)> = Vec::new();
    let mut seq = due.len() as u64;
    let mut asked = Vec::new();
    loop {
        for (to, delay, event) in ctx.take_sent() {
            if to == ME {
                due.push((ctx.now.saturating_add(delay), seq, event));
                seq += 1;
            } else if let Event::Supervisor(m) = &event
                && let SupMsg::GuestScalePool { pool, replicas } = &**m
            {
                asked.push((pool.clone(), *replicas));
            }
        }
        due.sort_by_key(|(t, s, _)| (*t, *s));
        if due.is_empty() || due[0].0 > until {
            ctx.now = until;
            // Park what is not due yet as zero-based sends again.
            for (t, _, e) in due {
                ctx.sent.push((ME, SimDuration(t.0 - until.0), e));
            }
            return asked;
        }
        let (at, _, event) = due.remove(0);
        ctx.now = at;
        ctx.now = at;
        ctx.sender = ME;
        g.handle(event, ctx);
    }
}

fn count(g: &GuestCluster, phase: GuestPhase) -> usize {
    g.pods().values().filter(|p| p.phase == phase).count()
}

fn on(g: &GuestCluster, node: &str) -> usize {
    g.pods()
        .values()
        .filter(|p| p.node.as_deref() == Some(node))
        .count()
}

fn secs(s: u64) -> SimTime {
    SimTime(s * 1_000_000_000)
}

#[test]
fn calls_before_the_control_plane_are_refused() {
    let mut g = cluster(2, None);
    let mut ctx = TestCtx::new(ME);
    call(&mut g, &mut ctx, Verb::Create, deployment("web", 1, 1));
    let sent = ctx.take_sent();
    assert!(matches!(
        &sent[..],
        [(CLIENTS, _, Event::Supervisor(m))]
            if matches!(**m, SupMsg::Reply { id: 1, result: Err(ApiError::Unavailable(_)) })
    ));
    assert_eq!(g.counters.calls_refused, 1);
}

#[test]
fn pods_fill_workers_least_allocated_and_the_rest_stay_pending() {
    let mut g = cluster(2, None);
    let mut ctx = TestCtx::new(ME);
    node_up(&mut g, &mut ctx, "cp-0", true);
    node_up(&mut g, &mut ctx, "w-0", false);
    node_up(&mut g, &mut ctx, "w-1", false);
    // 4 cores per worker: five 1.5-core pods, two per node, one left over.
    let mut web = deployment("web", 5, 1);
    if let Body::ReplicaSet(rs) = &mut web.body {
        rs.template.requests = Resources::new(1500, 1 << 30, 0);
    }
    call(&mut g, &mut ctx, Verb::Create, web);
    run_timers(&mut g, &mut ctx, secs(10));
    assert_eq!(count(&g, GuestPhase::Running), 4);
    assert_eq!(count(&g, GuestPhase::Pending), 1);
    assert_eq!((on(&g, "w-0"), on(&g, "w-1"), on(&g, "cp-0")), (2, 2, 0));
    // Alternating by least-allocated, ties to the first name.
    assert_eq!(
        g.pods()[&("default".into(), "web-0".into())]
            .node
            .as_deref(),
        Some("w-0")
    );
    assert_eq!(
        g.pods()[&("default".into(), "web-1".into())]
            .node
            .as_deref(),
        Some("w-1")
    );
    let pending = g.pods().values().find(|p| p.node.is_none()).unwrap();
    assert!(
        pending
            .reason
            .as_ref()
            .unwrap()
            .starts_with("0/3 nodes are available")
    );
    // A third worker takes it.
    node_up(&mut g, &mut ctx, "w-2", false);
    run_timers(&mut g, &mut ctx, secs(20));
    assert_eq!(count(&g, GuestPhase::Running), 5);
    // Scaling the Deployment down removes pods.
    call(&mut g, &mut ctx, Verb::Update, deployment("web", 2, 1));
    assert_eq!(g.pods().len(), 2);
}

#[test]
fn drain_moves_pods_and_answers_with_how_many() {
    let mut g = cluster(2, None);
    let mut ctx = TestCtx::new(ME);
    node_up(&mut g, &mut ctx, "cp-0", true);
    node_up(&mut g, &mut ctx, "w-0", false);
    node_up(&mut g, &mut ctx, "w-1", false);
    call(&mut g, &mut ctx, Verb::Create, deployment("web", 4, 1));
    run_timers(&mut g, &mut ctx, secs(10));
    assert_eq!(on(&g, "w-0"), 2);
    deliver(
        &mut g,
        &mut ctx,
        CAPI,
        SupMsg::GuestDrain { node: "w-0".into() },
    );
    let sent = ctx.take_sent();
    assert!(sent.iter().any(|(to, _, e)| {
        *to == CAPI
            && *e
                == SupMsg::GuestNodeDrained {
                    node: "w-0".into(),
                    disrupted: 2,
                }
                .event()
    }));
    // Back to the queue: w-1 has room for all four.
    assert_eq!((on(&g, "w-0"), on(&g, "w-1")), (0, 4));
    assert_eq!(g.counters.disrupted, 2);
    ctx.sent = sent;
    ctx.sent.retain(|(to, _, _)| *to == ME);
    run_timers(&mut g, &mut ctx, secs(20));
    assert_eq!(count(&g, GuestPhase::Running), 4);
    deliver(
        &mut g,
        &mut ctx,
        CAPI,
        SupMsg::GuestNodeGone { node: "w-0".into() },
    );
    assert!(!g.nodes().contains_key("w-0"));
}

#[test]
fn a_not_ready_node_keeps_its_pods_until_the_toleration_runs_out() {
    let mut g = cluster(2, None);
    let mut ctx = TestCtx::new(ME);
    node_up(&mut g, &mut ctx, "cp-0", true);
    node_up(&mut g, &mut ctx, "w-0", false);
    call(&mut g, &mut ctx, Verb::Create, deployment("web", 2, 1));
    run_timers(&mut g, &mut ctx, secs(10));
    node_up(&mut g, &mut ctx, "w-1", false);
    deliver(
        &mut g,
        &mut ctx,
        CAPI,
        SupMsg::GuestNodeDown { node: "w-0".into() },
    );
    run_timers(&mut g, &mut ctx, secs(309));
    assert_eq!(on(&g, "w-0"), 2);
    run_timers(&mut g, &mut ctx, secs(310));
    assert_eq!((on(&g, "w-0"), on(&g, "w-1")), (0, 2));
    assert_eq!(g.counters.evicted, 2);
    run_timers(&mut g, &mut ctx, secs(320));
    assert_eq!(count(&g, GuestPhase::Running), 2);
}

#[test]
fn a_node_back_before_the_toleration_keeps_its_pods() {
    let mut g = cluster(1, None);
    let mut ctx = TestCtx::new(ME);
    node_up(&mut g, &mut ctx, "cp-0", true);
    node_up(&mut g, &mut ctx, "w-0", false);
    call(&mut g, &mut ctx, Verb::Create, deployment("web", 2, 1));
    run_timers(&mut g, &mut ctx, secs(10));
    deliver(
        &mut g,
        &mut ctx,
        CAPI,
        SupMsg::GuestNodeDown { node: "w-0".into() },
    );
    run_timers(&mut g, &mut ctx, secs(100));
    node_up(&mut g, &mut ctx, "w-0", false);
    run_timers(&mut g, &mut ctx, secs(600));
    assert_eq!(on(&g, "w-0"), 2);
    assert_eq!(g.counters.evicted, 0);
}

#[test]
fn the_autoscaler_adds_nodes_for_pending_pods_then_removes_an_idle_one() {
    let mut g = cluster(1, Some((1, 4)));
    let mut ctx = TestCtx::new(ME);
    node_up(&mut g, &mut ctx, "cp-0", true);
    node_up(&mut g, &mut ctx, "w-0", false);
    // 6 pods of 1.5 cores: 2 per node, so 3 nodes; one is there.
    let mut web = deployment("web", 6, 1);
    if let Body::ReplicaSet(rs) = &mut web.body {
        rs.template.requests = Resources::new(1500, 1 << 30, 0);
    }
    call(&mut g, &mut ctx, Verb::Create, web);
    // The first scan, 10 s later, asks for 2 more.
    assert_eq!(
        run_timers(&mut g, &mut ctx, secs(10)),
        [("workers".to_string(), 3)]
    );
    assert_eq!(g.pools()["workers"].desired, 3);
    // Later scans wait for the upcoming nodes instead of asking again.
    assert!(run_timers(&mut g, &mut ctx, secs(60)).is_empty());
    node_up(&mut g, &mut ctx, "w-1", false);
    node_up(&mut g, &mut ctx, "w-2", false);
    assert!(run_timers(&mut g, &mut ctx, secs(70)).is_empty());
    assert_eq!(count(&g, GuestPhase::Running), 6);
    // Load drops to 2 pods (one node's worth): after 10 min below 50%, a
    // node goes, once.
    call(&mut g, &mut ctx, Verb::Update, deployment("web", 2, 1));
    assert!(run_timers(&mut g, &mut ctx, secs(70 + 590)).is_empty());
    assert_eq!(
        run_timers(&mut g, &mut ctx, secs(70 + 700)),
        [("workers".to_string(), 2)]
    );
    assert_eq!(g.counters.scale_ups, 1);
    assert_eq!(g.counters.scale_downs, 1);
    assert_eq!((g.counters.nodes_added, g.counters.nodes_removed), (2, 1));
}

#[test]
fn a_crashed_guest_is_rebuilt_from_its_journal_with_the_same_state() {
    use crate::supervisor::actors::SupActor;
    use crate::supervisor::crashable::Crashable;
    let mut part =
        Crashable::journaled(SupActor::Guest(cluster(2, Some((1, 3)))), 1, "guest/ns/tkc");
    let mut ctx = TestCtx::new(ME);
    let send = |part: &mut Crashable, ctx: &mut TestCtx, from: ActorId, msg: SupMsg| {
        ctx.sender = from;
        part.handle(msg.event(), ctx);
    };
    for (node, cp) in [("cp-0", true), ("w-0", false), ("w-1", false)] {
        let msg = SupMsg::GuestNodeUp {
            node: node.into(),
            pool: if cp { "control-plane" } else { "workers" }.into(),
            control_plane: cp,
            capacity: Resources::cores(4, 16),
        };
        send(&mut part, &mut ctx, CAPI, msg);
    }
    let call = SupMsg::GuestCall {
        id: 1,
        user: "alice".into(),
        verb: Verb::Create,
        object: deployment("web", 9, 1),
    };
    send(&mut part, &mut ctx, CLIENTS, call);
    send(
        &mut part,
        &mut ctx,
        CAPI,
        SupMsg::GuestDrain { node: "w-0".into() },
    );
    ctx.now = secs(10);
    send(
        &mut part,
        &mut ctx,
        ME,
        SupMsg::GuestTimer(GuestTimer::Scan),
    );
    send(&mut part, &mut ctx, ME, SupMsg::Crash);
    send(&mut part, &mut ctx, ME, SupMsg::Restart);
    assert!(!part.rebuild_mismatch);
    let SupActor::Guest(g) = &part.actor else {
        panic!()
    };
    assert_eq!(g.counters.scale_ups, 1);
}

/// Pools `a-large` (16 cores) and `b-small` (4 cores), both empty and
/// autoscaled, and two 1-core pods waiting: the expander decides which
/// pool the first scan grows.
fn first_scan_with(expander: crate::scenario::Expander) -> Vec<(String, u32)> {
    let mut large = pool("a-large", 0, Some((0, 2)));
    large.vm_class = "large".into();
    let tkc = TanzuKubernetesCluster {
        version: "v1.26.5".into(),
        control_plane: pool("control-plane", 1, None),
        node_pools: vec![large, pool("b-small", 0, Some((0, 4)))],
        phase: ClusterPhase::Creating,
        endpoint: None,
        nodes_ready: 0,
    };
    let classes = BTreeMap::from([
        ("best-effort-medium".to_string(), Resources::cores(4, 16)),
        ("large".to_string(), Resources::cores(16, 64)),
    ]);
    let config = GuestClustersConfig {
        expander,
        ..GuestClustersConfig::default()
    };
    let mut g = GuestCluster::new("ns/tkc".into(), &tkc, &classes, &config, CAPI);
    let mut ctx = TestCtx::new(ME);
    node_up(&mut g, &mut ctx, "cp-0", true);
    call(&mut g, &mut ctx, Verb::Create, deployment("web", 2, 1));
    run_timers(&mut g, &mut ctx, secs(10))
}

#[test]
fn the_configured_expander_picks_the_pool_the_autoscaler_grows() {
    use crate::scenario::Expander;
    assert_eq!(
        first_scan_with(Expander::First),
        [("a-large".to_string(), 1)]
    );
    assert_eq!(
        first_scan_with(Expander::LeastWaste),
        [("b-small".to_string(), 1)]
    );
}
