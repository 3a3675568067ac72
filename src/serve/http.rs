//! The HTTPS shell: actix-web routes every request to one handler, which
//! authenticates it, answers discovery itself, and turns resource requests
//! into engine commands (calls are journalled inputs, reads run between
//! deliveries). Errors are `metav1.Status` objects.

use super::discovery;
use super::engine::{Command, Outcome};
use super::patch;
use super::render::{self, Epoch};
use super::resources::{self, Api, Resource};
use super::selector::Selection;
use super::table;
use super::view::{NoGuest, Store, View};
use crate::api::Verb;
use crate::api::msg::ApiError;
use crate::api::objects::{Body, Kind, Object, ObjectKey};
use crate::scenario::SupervisorConfig;
use crate::scenario::manifests::{ParsedBody, Typos};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::mpsc::Sender;
use tokio::sync::{mpsc, oneshot};

/// What every request handler shares.
pub struct Shared {
    pub commands: Sender<Command>,
    pub tokens: super::access::Tokens,
    pub epoch: Epoch,
    pub config: SupervisorConfig,
    pub metrics: Arc<super::metrics::Metrics>,
    /// How often a watch that allows bookmarks gets one.
    pub bookmark_interval: std::time::Duration,
    /// Set when the server starts to stop: watches end and no new one
    /// starts.
    pub closing: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn closing(&self) -> bool {
        self.closing.load(std::sync::atomic::Ordering::Relaxed)
    }
}

pub type State = web::Data<Arc<Shared>>;

/// Bodies larger than this are refused with 413 (as kube-apiserver).
pub const MAX_BODY: usize = 3 << 20;

pub fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> HttpResponse {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(d) = details {
        body["details"] = d;
    }
    HttpResponse::build(StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST))
        .content_type("application/json")
        .body(body.to_string())
}

fn json_response(code: StatusCode, v: &Value) -> HttpResponse {
    HttpResponse::build(code)
        .content_type("application/json")
        .body(v.to_string())
}

fn ok(v: &Value) -> HttpResponse {
    json_response(StatusCode::OK, v)
}

/// The single entry point (see the module docs).
pub async fn handle(req: HttpRequest, body: web::Bytes, state: State) -> HttpResponse {
    let started = std::time::Instant::now();
    let path = req.path().to_string();
    let method = req.method().as_str().to_string();
    let (response, verb, resource) = route(&req, &body, &state).await;
    let code = response.status().as_u16();
    state
        .metrics
        .request(&verb, &resource, code, started.elapsed());
    let took_us = started.elapsed().as_micros() as u64;
    tracing::info!(method = %method, path = %path, code, verb = %verb, took_us, "request");
    response
}

/// A request to upgrade its connection: kubectl exec, attach and
/// port-forward ask for WebSocket or SPDY. It is answered without reading
/// its body, which on an upgrade is the rest of the connection and would
/// never end: 401 without a token, else why it is not served.
pub async fn refuse_upgrade(req: HttpRequest, state: State) -> HttpResponse {
    if authenticate(&req, &state).is_none() {
        return status(401, "Unauthorized", "Unauthorized", None);
    }
    let path = req.path().trim_end_matches('/');
    let (guest, path) = match guest_prefix(path) {
        Some((tkc, rest)) => (Some(tkc), rest),
        None => (None, path),
    };
    match Target::parse(path, guest) {
        Some(Parsed::Resource(t)) if t.sub.as_deref().is_some_and(|s| s != "scale") => {
            let sub = t.sub.clone().unwrap_or_default();
            unserved_subresource(&t, &sub)
        }
        _ => status(
            400,
            "BadRequest",
            "connection upgrades (WebSocket, SPDY) are served only for pods' exec, attach and port-forward, which pacsim does not serve",
            None,
        ),
    }
}

async fn route(req: &HttpRequest, body: &[u8], state: &State) -> (HttpResponse, String, String) {
    let path = req.path().trim_end_matches('/');
    let plain = |r: HttpResponse| (r, "get".to_string(), String::new());
    match path {
        "/healthz" | "/livez" => return plain(HttpResponse::Ok().body("ok")),
        "/readyz" => return plain(readyz(state).await),
        "/metrics" => {
            // The state's gauges are brought up to date for each scrape.
            let (done, updated) = oneshot::channel();
            if state.commands.send(Command::Gauges(done)).is_ok() {
                let _ = updated.await;
            }
            return plain(state.metrics.render());
        }
        _ => {}
    }
    let Some(user) = authenticate(req, state) else {
        return plain(status(
            401,
            "Unauthorized",
            "Unauthorized: a bearer token from --token-file or a kubeconfig pacsim wrote is needed",
            None,
        ));
    };
    let aggregated = req
        .headers()
        .get("accept")
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("apidiscovery.k8s.io"));
    // A guest cluster's API is the same routes under its prefix.
    let (guest, path) = match guest_prefix(path) {
        Some((tkc, rest)) => (Some(tkc), rest),
        None => (None, path),
    };
    let api = if guest.is_some() {
        Api::Guest
    } else {
        Api::Supervisor
    };
    match path {
        "/version" => return plain(ok(&discovery::version())),
        "/api" if aggregated => return plain(aggregated_response(api, true)),
        "/apis" if aggregated => return plain(aggregated_response(api, false)),
        "/api" => return plain(ok(&discovery::core_versions())),
        "/apis" => return plain(ok(&discovery::group_list(api))),
        "/openapi/v2" => {
            return plain(
                HttpResponse::Ok()
                    .content_type(discovery::OPENAPI_V2_TYPE)
                    .body(discovery::OPENAPI_V2),
            );
        }
        "/openapi/v3" => return plain(ok(&discovery::openapi_index(api))),
        _ => {}
    }
    if let Some(gv) = path.strip_prefix("/openapi/v3/") {
        return plain(match discovery::openapi_group_version(api, gv) {
            Some(doc) => ok(&doc),
            None => not_found_path(path),
        });
    }
    if guest.is_none()
        && let Some(rest) = path.strip_prefix("/apis/metrics.k8s.io/v1beta1/")
    {
        return (
            metrics_api(req, state, &user, rest).await,
            "list".into(),
            "metrics".into(),
        );
    }
    let Some(target) = Target::parse(path, guest) else {
        return plain(not_found_path(path));
    };
    let target = match target {
        Parsed::GroupVersion(g, v) => {
            return plain(match discovery::resource_list(api, &g, &v) {
                Some(list) => ok(&list),
                None => not_found_path(path),
            });
        }
        Parsed::Group(g) => {
            return plain(
                match resources::groups(api).into_iter().find(|(n, _)| *n == g) {
                    Some((name, versions)) => ok(&discovery::group(name, &versions)),
                    None => not_found_path(path),
                },
            );
        }
        Parsed::AccessReview => {
            return (
                access_review(body, &user, state).await,
                "create".into(),
                "selfsubjectaccessreviews".into(),
            );
        }
        Parsed::RulesReview => {
            return (
                rules_review(body, &user, state).await,
                "create".into(),
                "selfsubjectrulesreviews".into(),
            );
        }
        Parsed::Resource(t) => t,
    };
    let resource = target.res.plural.to_string();
    let (response, verb) = resource_request(req, body, state, &user, target).await;
    (response, verb.to_string(), resource)
}

fn aggregated_response(api: Api, core: bool) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(discovery::AGGREGATED)
        .body(discovery::aggregated(api, core).to_string())
}

/// `/guest/<namespace>/<name>/rest` -> (the TKC, `/rest`).
fn guest_prefix(path: &str) -> Option<(ObjectKey, &str)> {
    let rest = path.strip_prefix("/guest/")?;
    let mut parts = rest.splitn(3, '/');
    let (ns, name) = (parts.next()?, parts.next()?);
    if ns.is_empty() || name.is_empty() {
        return None;
    }
    let tail = &rest[ns.len() + name.len() + 1..];
    let key = ObjectKey::new(Kind::TanzuKubernetesCluster, ns, name);
    Some((key, tail))
}

fn not_found_path(path: &str) -> HttpResponse {
    status(
        404,
        "NotFound",
        &format!("the server could not find the requested resource ({path})"),
        None,
    )
}

async fn readyz(state: &State) -> HttpResponse {
    let verdict = read(state, |v| match (v.api.available(), v.violation) {
        (_, Some(violation)) => Err(format!(
            "invariant {} violated: {}",
            violation.invariant, violation.detail
        )),
        (false, _) => Err("the control plane has no quorum".to_string()),
        (true, None) => Ok(()),
    })
    .await;
    match verdict {
        Some(Ok(())) => HttpResponse::Ok().body("ok"),
        Some(Err(e)) => HttpResponse::ServiceUnavailable().body(e),
        None => HttpResponse::ServiceUnavailable().body("shutting down"),
    }
}

fn authenticate(req: &HttpRequest, state: &State) -> Option<String> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    let token = header.strip_prefix("Bearer ")?.trim();
    state.tokens.user(token).map(str::to_string)
}

/// A parsed resource URL.
#[derive(Clone)]
pub struct Target {
    pub res: &'static Resource,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
    /// The TanzuKubernetesCluster whose guest cluster's API is asked.
    pub guest: Option<ObjectKey>,
}

enum Parsed {
    Group(String),
    GroupVersion(String, String),
    AccessReview,
    RulesReview,
    Resource(Target),
}

impl Target {
    fn parse(path: &str, guest: Option<ObjectKey>) -> Option<Parsed> {
        let api = if guest.is_some() {
            Api::Guest
        } else {
            Api::Supervisor
        };
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (group, version, rest) = match segs.as_slice() {
            ["api", v, rest @ ..] => ("", *v, rest),
            ["apis", g] => return Some(Parsed::Group(g.to_string())),
            ["apis", g, v, rest @ ..] => (*g, *v, rest),
            _ => return None,
        };
        if rest.is_empty() {
            return Some(Parsed::GroupVersion(group.into(), version.into()));
        }
        if api == Api::Supervisor
            && group == "authorization.k8s.io"
            && rest == ["selfsubjectaccessreviews"]
        {
            return Some(Parsed::AccessReview);
        }
        if api == Api::Supervisor
            && group == "authorization.k8s.io"
            && rest == ["selfsubjectrulesreviews"]
        {
            return Some(Parsed::RulesReview);
        }
        let (namespace, rest) = match rest {
            ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(ns.to_string()), rest),
            _ => (None, rest),
        };
        let res = resources::find(api, group, version, rest[0])?;
        if rest.len() > 3 || (namespace.is_some() && !res.namespaced) {
            return None;
        }
        Some(Parsed::Resource(Target {
            res,
            namespace,
            name: rest.get(1).map(|s| s.to_string()),
            sub: rest.get(2).map(|s| s.to_string()),
            guest,
        }))
    }
}

/// Runs `f` on the engine thread; None when the engine has stopped.
pub async fn read<R: Send + 'static>(
    state: &State,
    f: impl FnOnce(&View<'_>) -> R + Send + 'static,
) -> Option<R> {
    let (tx, rx) = oneshot::channel();
    let command = Command::Read(Box::new(move |v| {
        let _ = tx.send(f(v));
    }));
    state.commands.send(command).ok()?;
    rx.await.ok()
}

/// A call on `t`'s API (the Supervisor's, or its guest cluster's).
async fn call(
    state: &State,
    user: &str,
    verb: Verb,
    object: Object,
    t: &Target,
) -> Option<Outcome> {
    let (tx, rx) = oneshot::channel();
    let command = Command::Call {
        user: user.to_string(),
        verb,
        object: Box::new(object),
        guest: t.guest.clone(),
        respond: tx,
    };
    state.commands.send(command).ok()?;
    rx.await.ok()
}

fn stopping() -> HttpResponse {
    status(
        503,
        "ServiceUnavailable",
        "the server is shutting down",
        None,
    )
}

fn details(t: &Target) -> Value {
    json!({"name": t.name.clone().unwrap_or_default(), "kind": t.res.plural})
}

/// A refusal or denial as kube-apiserver would answer it.
fn outcome_error(outcome: &Outcome, t: &Target) -> Option<HttpResponse> {
    let name = t.name.clone().unwrap_or_default();
    let what = format!("{} \"{name}\"", t.res.plural);
    match outcome {
        Outcome::Done { .. } => None,
        Outcome::Denied(reason) => Some(status(
            403,
            "Forbidden",
            &format!("{what} is forbidden: {reason}"),
            Some(details(t)),
        )),
        Outcome::Refused(e) => {
            let (code, reason, message) = match e {
                ApiError::NotFound(_) => (404, "NotFound", format!("{what} not found")),
                ApiError::AlreadyExists(_) => {
                    (409, "AlreadyExists", format!("{what} already exists"))
                }
                ApiError::QuotaExceeded(r) => (403, "Forbidden", format!("exceeded quota: {r}")),
                ApiError::Conflict(r) => (
                    409,
                    "Conflict",
                    format!(
                        "Operation cannot be fulfilled on {what}: the object has been modified; please apply your changes to the latest version and try again ({r})"
                    ),
                ),
                ApiError::Invalid(r) => {
                    // kubectl prints a 422 from its details' causes.
                    let details = json!({
                        "name": name,
                        "kind": t.res.kind,
                        "causes": [{"reason": "FieldValueInvalid", "message": r, "field": "spec"}],
                    });
                    let message = format!("{} \"{name}\" is invalid: {r}", t.res.kind);
                    return Some(status(422, "Invalid", &message, Some(details)));
                }
                ApiError::Unavailable(r) => (503, "ServiceUnavailable", r.clone()),
                ApiError::IpExhausted(r) | ApiError::StorageUnavailable(r) => (
                    422,
                    "Invalid",
                    format!("{} \"{name}\" cannot be admitted: {r}", t.res.kind),
                ),
            };
            Some(status(code, reason, &message, Some(details(t))))
        }
    }
}

fn wants_table(req: &HttpRequest) -> bool {
    req.headers()
        .get("accept")
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"))
}

fn query(req: &HttpRequest) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Whether `o` is one `t` lists with selection `sel`.
fn selected(o: &Object, t: &Target, sel: &Selection) -> bool {
    o.kind() == t.res.store
        && t.namespace
            .as_ref()
            .is_none_or(|ns| &o.meta.namespace == ns)
        && sel.matches(&o.meta.labels, &o.meta.name, &o.meta.namespace)
}

/// The query's selectors, or kube-apiserver's 400 for ones that do not
/// parse or name a field this server does not select on.
fn selection(q: &[(String, String)]) -> Result<Selection, Box<HttpResponse>> {
    let (labels, fields) = (param(q, "labelSelector"), param(q, "fieldSelector"));
    Selection::parse(labels, fields).map_err(|why| Box::new(status(400, "BadRequest", &why, None)))
}

/// The answer to a subresource pacsim does not serve: why, for the ones
/// kubectl commands use (a 400, which kubectl prints), else a 404.
fn unserved_subresource(t: &Target, sub: &str) -> HttpResponse {
    let name = t.name.as_deref().unwrap_or_default();
    let what = format!("{}/{sub}", t.res.plural);
    let why = match (t.res.plural, sub) {
        ("pods", "log") => {
            "a vSphere Pod here is modelled: its containers do not run, so there are no logs to read"
        }
        ("pods", "exec" | "attach" | "portforward" | "proxy") => {
            "a vSphere Pod here is modelled: its containers do not run, so there is no process or port to reach"
        }
        ("pods", "eviction") => {
            "evictions are not modelled: delete the pod, or let vSphere HA and the scheduler move it"
        }
        (_, "status") => "status is written by pacsim's controllers; change the spec",
        _ => {
            return status(
                404,
                "NotFound",
                &format!("the server could not find the requested resource ({what} of \"{name}\")"),
                None,
            );
        }
    };
    status(
        400,
        "BadRequest",
        &format!("{what} is not served for \"{name}\": {why}"),
        None,
    )
}

/// `metrics.k8s.io` (see `usage`): node and pod metrics, one or a list,
/// for whoever may read those nodes or pods.
async fn metrics_api(req: &HttpRequest, state: &State, user: &str, rest: &str) -> HttpResponse {
    let parts: Vec<&str> = rest.split('/').collect();
    let (plural, namespace, name) = match parts[..] {
        ["nodes"] => ("nodes", None, None),
        ["nodes", name] => ("nodes", None, Some(name)),
        ["pods"] => ("pods", None, None),
        ["namespaces", ns, "pods"] => ("pods", Some(ns), None),
        ["namespaces", ns, "pods", name] => ("pods", Some(ns), Some(name)),
        _ => return not_found_path(req.path()),
    };
    let Some(res) = resources::find(Api::Supervisor, "", "v1", plural) else {
        return not_found_path(req.path());
    };
    let t = Target {
        res,
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
        sub: None,
        guest: None,
    };
    if let Some(denied) = read_denied(state, user, &t).await {
        return denied;
    }
    let sel = match selection(&query(req)) {
        Ok(sel) => sel,
        Err(bad) => return *bad,
    };
    let (epoch, t2) = (state.epoch, t.clone());
    let found = read(state, move |v| {
        let store = v.store(None).ok()?;
        let items: Vec<Value> = (store.objects())
            .filter(|o| {
                selected(o, &t2, &sel) && t2.name.as_ref().is_none_or(|n| &o.meta.name == n)
            })
            .filter_map(|o| match o.kind() {
                Kind::Node => super::usage::node(v, o, epoch),
                _ => super::usage::pod(v, o, epoch),
            })
            .collect();
        Some(items)
    })
    .await;
    match (found, name) {
        (None | Some(None), _) => stopping(),
        (Some(Some(items)), None) => ok(&super::usage::list(res.store, items)),
        (Some(Some(mut items)), Some(_)) if items.len() == 1 => ok(&items.remove(0)),
        (Some(Some(_)), Some(_)) => not_found(&t),
    }
}

/// The placeholder object a call on `key` carries when it has no body.
fn keyed(t: &Target) -> Object {
    let ns = t.namespace.clone().unwrap_or_default();
    crate::scenario::manifests::key_object(t.res.store, &ns, t.name.as_deref().unwrap_or(""))
}

async fn resource_request(
    req: &HttpRequest,
    body: &[u8],
    state: &State,
    user: &str,
    t: Target,
) -> (HttpResponse, &'static str) {
    // A GET of `status` is the object (as kube-apiserver serves it).
    if let Some(sub) = t.sub.as_deref()
        && sub != "scale"
        && !(sub == "status" && req.method() == actix_web::http::Method::GET)
    {
        return (unserved_subresource(&t, sub), "unknown");
    }
    let q = query(req);
    let method = req.method().as_str();
    let verb = match (method, &t.name) {
        ("GET", None) if param(&q, "watch").is_some_and(|w| w == "true" || w == "1") => "watch",
        ("GET", None) => "list",
        ("GET", Some(_)) => "get",
        ("POST", None) => "create",
        ("PUT", Some(_)) => "update",
        ("PATCH", Some(_)) => "patch",
        ("DELETE", Some(_)) => "delete",
        _ => {
            return (
                status(
                    405,
                    "MethodNotAllowed",
                    &format!("{method} is not supported on this path"),
                    None,
                ),
                "unknown",
            );
        }
    };
    let reads = matches!(verb, "get" | "list" | "watch");
    let sel = match verb {
        "list" | "watch" => match selection(&q) {
            Ok(sel) => sel,
            Err(bad) => return (*bad, verb),
        },
        _ => Selection::default(),
    };
    if !reads && !t.res.writable {
        return (
            status(
                405,
                "MethodNotAllowed",
                &match (t.res.plural, &t.guest) {
                    ("replicasets", _) => "replicasets are read-only: each Deployment's ReplicaSet is kept by its controller; change the Deployment".to_string(),
                    (plural, Some(_)) => format!("{plural} are read-only: they are the guest cluster's machines, which Cluster API keeps; change the TanzuKubernetesCluster"),
                    (plural, None) => format!("{plural} are read-only: they come from the Spherelets"),
                },
                None,
            ),
            verb,
        );
    }
    let protobuf = req
        .headers()
        .get("content-type")
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.contains("protobuf"));
    // kubectl's typed clients send built-in kinds as protobuf.
    let converted;
    let body = if protobuf && !body.is_empty() {
        match super::protobuf::to_json(body) {
            Ok(json) => {
                converted = json.to_string().into_bytes();
                &converted[..]
            }
            Err(e) => return (status(400, "BadRequest", &e, None), verb),
        }
    } else {
        body
    };
    let dry_run = match dry_run_directive(&q, verb, body).as_deref() {
        Some(_) if reads => false,
        None => false,
        Some("All") if t.guest.is_none() => true,
        Some("All") => {
            let why = "dry run (kubectl --dry-run=server, kubectl diff) is served on the Supervisor's API, not in a guest cluster, and nothing was changed: use --dry-run=client";
            return (status(400, "BadRequest", why, None), verb);
        }
        Some(other) => {
            let why = format!("dryRun: Unsupported value: {other:?}: supported values: \"All\"");
            return (status(400, "BadRequest", &why, None), verb);
        }
    };
    // Reads are checked here and, when refused, sent through the
    // Authentication Proxy so that the denial is in the audit trail.
    if matches!(verb, "get" | "list" | "watch")
        && let Some(denied) = read_denied(state, user, &t).await
    {
        return (denied, verb);
    }
    let validation = if reads {
        FieldValidation::Warn
    } else {
        match field_validation(&q) {
            Ok(v) => v,
            Err(bad) => return (*bad, verb),
        }
    };
    let written = Written {
        body,
        validation,
        dry_run,
    };
    if verb == "watch" && state.closing() {
        return (stopping(), verb);
    }
    let response = match verb {
        "list" => list(req, state, &t, sel).await,
        "watch" if t.guest.is_some() => guest_watch(req, state, t, q, sel).await,
        "watch" => watch(req, state, t, q, sel).await,
        "get" if t.sub.as_deref() == Some("scale") => get_scale(state, &t).await,
        "get" => get(req, state, &t).await,
        "create" => create(&written, state, user, &t).await,
        "update" if t.sub.as_deref() == Some("scale") => {
            scale(&written, state, user, &t, true).await
        }
        "update" => update(&written, state, user, &t).await,
        "patch" if t.sub.as_deref() == Some("scale") => {
            scale(&written, state, user, &t, false).await
        }
        "patch" => patch_object(req, &written, state, user, &t).await,
        "delete" => delete(&written, state, user, &t).await,
        _ => unreachable!("verbs are matched above"),
    };
    (response, verb)
}

async fn read_denied(state: &State, user: &str, t: &Target) -> Option<HttpResponse> {
    let (u, ns, scoped, guest) = (
        user.to_string(),
        t.namespace.clone().unwrap_or_default(),
        !t.res.namespaced,
        t.guest.clone(),
    );
    let check = read(state, move |v| {
        if let Some(tkc) = &guest {
            // Read access to a guest cluster is to all of it.
            return v.proxy.authorize_guest(&u, &Verb::Get, tkc).err();
        }
        // Listing across namespaces is for the administrator.
        if scoped || ns.is_empty() {
            v.proxy.authorize(&u, &Verb::Get, true, "").err()
        } else {
            v.proxy.authorize(&u, &Verb::Get, false, &ns).err()
        }
    })
    .await;
    let denied = match check {
        None => return Some(stopping()),
        Some(None) => {
            if t.guest.is_none()
                && t.res.namespaced
                && t.namespace.is_none()
                && user != crate::scenario::ADMIN_USER
            {
                Some(format!(
                    "user {user} may list {} only in a namespace (-n)",
                    t.res.plural
                ))
            } else {
                None
            }
        }
        Some(Some(reason)) => Some(reason),
    }?;
    // Recorded: the proxy denies it again, and the record is the audit.
    let outcome = call(state, user, Verb::Get, keyed(t), t).await;
    let reason = match outcome {
        Some(Outcome::Denied(r)) => r,
        _ => denied,
    };
    Some(status(
        403,
        "Forbidden",
        &format!("{} is forbidden: {reason}", t.res.plural),
        Some(details(t)),
    ))
}

async fn list(req: &HttpRequest, state: &State, t: &Target, sel: Selection) -> HttpResponse {
    let table = wants_table(req);
    let (res, epoch) = (t.res, state.epoch);
    let t = Target {
        name: None,
        sub: None,
        ..t.clone()
    };
    let guest = t.guest.clone();
    let body = read(state, move |v| {
        let store = v.store(t.guest.as_ref())?;
        let rv = store.resource_version();
        let chosen: Vec<&Object> = store.objects().filter(|o| selected(o, &t, &sel)).collect();
        Ok(if table {
            let counts = |o: &Object| store.counts(o);
            let ctx = table::Context {
                now: v.now,
                counts: &counts,
                kubelet: store.guest_version(),
            };
            table::table(&chosen, res, &ctx, epoch, rv, true)
        } else {
            let items: Vec<Value> = chosen
                .iter()
                .map(|o| rendered(&store, o, res, epoch))
                .collect();
            json!({
                "kind": format!("{}List", res.kind),
                "apiVersion": res.api_version(),
                "metadata": {"resourceVersion": rv.to_string()},
                "items": items,
            })
        })
    })
    .await;
    match body {
        Some(Ok(b)) if table => HttpResponse::Ok()
            .content_type(table::TABLE)
            .body(b.to_string()),
        Some(Ok(b)) => ok(&b),
        Some(Err(e)) => no_guest(e, guest.as_ref()),
        None => stopping(),
    }
}

/// An object as its API shows it.
fn rendered(store: &Store<'_>, o: &Object, res: &Resource, epoch: Epoch) -> Value {
    let mut v = render::object(o, res, epoch, store.counts(o));
    store.finish(&mut v);
    v
}

/// The answer of a guest cluster's API that cannot answer.
fn no_guest(e: NoGuest, tkc: Option<&ObjectKey>) -> HttpResponse {
    let name = tkc.map_or("", |k| k.name.as_str());
    match e {
        NoGuest::NotFound => status(
            404,
            "NotFound",
            &format!("tanzukubernetesclusters \"{name}\" not found"),
            Some(json!({"name": name, "kind": "tanzukubernetesclusters"})),
        ),
        NoGuest::Unavailable(why) => status(503, "ServiceUnavailable", &why, None),
    }
}

fn key(t: &Target) -> ObjectKey {
    ObjectKey::new(
        t.res.store,
        t.namespace.as_deref().unwrap_or(""),
        t.name.as_deref().unwrap_or(""),
    )
}

/// The object `t` names; Err when its guest cluster cannot answer.
async fn fetch(state: &State, t: &Target) -> Option<Result<Option<Object>, HttpResponse>> {
    let (k, guest) = (key(t), t.guest.clone());
    let found = read(state, move |v| {
        let store = v.store(guest.as_ref())?;
        Ok(store.get(&k).cloned())
    })
    .await?;
    Some(found.map_err(|e| no_guest(e, t.guest.as_ref())))
}

fn not_found(t: &Target) -> HttpResponse {
    status(
        404,
        "NotFound",
        &format!(
            "{} \"{}\" not found",
            t.res.plural,
            t.name.as_deref().unwrap_or("")
        ),
        Some(details(t)),
    )
}

async fn get(req: &HttpRequest, state: &State, t: &Target) -> HttpResponse {
    let table = wants_table(req);
    let (res, epoch, k, guest) = (t.res, state.epoch, key(t), t.guest.clone());
    let body = read(state, move |v| {
        let store = v.store(guest.as_ref())?;
        let Some(o) = store.get(&k) else {
            return Ok(None);
        };
        Ok(Some(if table {
            let counts = |o: &Object| store.counts(o);
            let ctx = table::Context {
                now: v.now,
                counts: &counts,
                kubelet: store.guest_version(),
            };
            table::table(&[o], res, &ctx, epoch, store.resource_version(), true)
        } else {
            rendered(&store, o, res, epoch)
        }))
    })
    .await;
    match body {
        None => stopping(),
        Some(Err(e)) => no_guest(e, t.guest.as_ref()),
        Some(Ok(None)) => not_found(t),
        Some(Ok(Some(b))) if table => HttpResponse::Ok()
            .content_type(table::TABLE)
            .body(b.to_string()),
        Some(Ok(Some(b))) => ok(&b),
    }
}

/// `fieldValidation`: what a body's fields that look like typos do.
/// kube-apiserver's default is Warn; kubectl sends Strict unless given
/// `--validate=warn` or `--validate=false` (Ignore).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldValidation {
    Strict,
    Warn,
    Ignore,
}

fn field_validation(q: &[(String, String)]) -> Result<FieldValidation, Box<HttpResponse>> {
    match param(q, "fieldValidation") {
        None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
        Some("Strict") => Ok(FieldValidation::Strict),
        Some("Ignore") => Ok(FieldValidation::Ignore),
        Some(other) => Err(Box::new(status(
            400,
            "BadRequest",
            &format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
            ),
            None,
        ))),
    }
}

/// A write's `dryRun`: in the query, or for a delete also in the body's
/// DeleteOptions (where kubectl sends it).
fn dry_run_directive(q: &[(String, String)], verb: &str, body: &[u8]) -> Option<String> {
    if let Some(d) = param(q, "dryRun") {
        return Some(d.to_string());
    }
    if verb != "delete" || body.is_empty() {
        return None;
    }
    let options: Value = serde_json::from_slice(body).ok()?;
    let all: Vec<&str> = options["dryRun"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    (!all.is_empty()).then(|| all.join(","))
}

/// A write's body and how to take it.
struct Written<'a> {
    body: &'a [u8],
    validation: FieldValidation,
    /// `dryRun=All`: decided, answered, and not carried out.
    dry_run: bool,
}

/// The object a body gives, with the typo-like fields dropped from it
/// (under Warn and Ignore).
struct Read {
    object: Object,
    dropped: Vec<String>,
}

/// `response` with kube-apiserver's warning for each dropped field under
/// Warn, which kubectl prints as `Warning: unknown field "spec.replcas"`.
fn warned(
    dropped: &[String],
    validation: FieldValidation,
    mut response: HttpResponse,
) -> HttpResponse {
    if validation == FieldValidation::Warn && response.status().is_success() {
        for field in dropped {
            let text = format!("299 - {:?}", format!("unknown field {field:?}"));
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&text) {
                response
                    .headers_mut()
                    .append(actix_web::http::header::WARNING, value);
            }
        }
    }
    response
}

/// Parses a body for `t`: the object, with the URL's namespace and name
/// checked against it.
fn parse(w: &Written, state: &State, t: &Target) -> Result<Read, Box<HttpResponse>> {
    let body = w.body;
    let text = std::str::from_utf8(body)
        .map_err(|_| Box::new(status(400, "BadRequest", "the body is not UTF-8", None)))?;
    let ns = t.namespace.as_deref();
    let typos = match w.validation {
        FieldValidation::Strict => Typos::Refuse,
        FieldValidation::Warn | FieldValidation::Ignore => Typos::Drop,
    };
    let parsed = match t.guest {
        None => crate::scenario::manifests::parse_body(text, &state.config, ns, typos),
        Some(_) => crate::scenario::manifests::parse_guest_body(text, ns, typos),
    };
    let ParsedBody { object, dropped } = parsed.map_err(|e| Box::new(refused(text, &e, t)))?;
    let Some(object) = object else {
        return Err(Box::new(status(
            422,
            "Invalid",
            &format!("{}: pacsim stores only the kinds it models", t.res.kind),
            None,
        )));
    };
    if object.kind() != t.res.store {
        return Err(Box::new(status(
            400,
            "BadRequest",
            &format!(
                "the body is a {:?}, the URL is for {}",
                object.kind(),
                t.res.plural
            ),
            None,
        )));
    }
    if let Some(name) = &t.name
        && &object.meta.name != name
    {
        return Err(Box::new(status(
            400,
            "BadRequest",
            &format!(
                "the name of the object ({}) does not match the name in the URL ({name})",
                object.meta.name
            ),
            None,
        )));
    }
    Ok(Read { object, dropped })
}

/// A refused body as kube-apiserver answers it: kubectl prints
/// `The KIND "NAME" is invalid: FIELD: MESSAGE` from the details.
fn refused(text: &str, error: &str, t: &Target) -> HttpResponse {
    let r = super::invalid::refusal(text, error);
    let name = t.name.clone().unwrap_or(r.name);
    let reason = if r.code == 400 {
        "BadRequest"
    } else {
        "Invalid"
    };
    let at = if r.field.is_empty() {
        String::new()
    } else {
        format!("{}: ", r.field)
    };
    status(
        r.code,
        reason,
        &format!("{} {name:?} is invalid: {at}{}", t.res.kind, r.message),
        Some(
            json!({"kind": t.res.kind, "name": name, "causes": [{"field": r.field, "message": r.message}]}),
        ),
    )
}

fn body_resource_version(body: &[u8]) -> Option<u64> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v["metadata"]["resourceVersion"].as_str()?.parse().ok()
}

/// Whether a create's body names a version (YAML bodies too; "0" is
/// kube-apiserver's "none").
fn sets_resource_version(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    let v = serde_json::from_str::<Value>(&text)
        .ok()
        .or_else(|| yaml_to_json(&text));
    match v.as_ref().map(|v| &v["metadata"]["resourceVersion"]) {
        Some(Value::String(rv)) => !rv.is_empty() && rv != "0",
        Some(Value::Number(rv)) => rv.as_u64() != Some(0),
        _ => false,
    }
}

/// A write decided as the API server decides it, on the engine thread
/// between deliveries like a read, and not carried out: nothing is
/// journalled, stored or sent (`dryRun=All`). The object as it would be,
/// also rendered as a GET shows it (so that `kubectl diff` of an
/// unchanged manifest is empty); `None` for a delete.
async fn dry_call(
    state: &State,
    user: &str,
    verb: Verb,
    object: Object,
    t: &Target,
) -> Option<Result<Option<(Object, Value)>, Outcome>> {
    let (u, res, epoch) = (user.to_string(), t.res, state.epoch);
    let (scoped, ns) = (
        object.kind().cluster_scoped(),
        object.meta.namespace.clone(),
    );
    read(state, move |v| {
        v.proxy
            .authorize(&u, &verb, scoped, &ns)
            .map_err(Outcome::Denied)?;
        let would = v
            .api
            .dry_run(&verb, object, v.now)
            .map_err(Outcome::Refused)?;
        let store = Store::Supervisor {
            api: v.api,
            rollouts: v.rollouts,
        };
        Ok(would.map(|o| {
            let shown = rendered(&store, &o, res, epoch);
            (o, shown)
        }))
    })
    .await
}

async fn answer(
    state: &State,
    user: &str,
    verb: Verb,
    object: Object,
    t: &Target,
    created: bool,
    dry_run: bool,
) -> HttpResponse {
    let name = object.meta.name.clone();
    let t = Target {
        name: Some(name),
        sub: None,
        ..t.clone()
    };
    let shown = if dry_run {
        match dry_call(state, user, verb, object, &t).await {
            None => return stopping(),
            Some(Err(refused)) => return outcome_error(&refused, &t).unwrap_or_else(stopping),
            Some(Ok(would)) => would.map(|(_, shown)| shown),
        }
    } else {
        let Some(outcome) = call(state, user, verb, object, &t).await else {
            return stopping();
        };
        if let Some(e) = outcome_error(&outcome, &t) {
            return e;
        }
        let Outcome::Done { object, .. } = outcome else {
            unreachable!("errors are answered above")
        };
        object.map(|o| render::object(&o, t.res, state.epoch, None))
    };
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    match shown {
        Some(v) => json_response(code, &v),
        None => json_response(
            StatusCode::OK,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details(&t)}),
        ),
    }
}

async fn create(w: &Written<'_>, state: &State, user: &str, t: &Target) -> HttpResponse {
    let body = w.body;
    // kube-apiserver's storage refuses this too: the version is the
    // server's to give, and an exported object re-created as it is would
    // otherwise pass for an update.
    if sets_resource_version(body) {
        return status(
            400,
            "BadRequest",
            "resourceVersion should not be set on objects to be created: leave metadata.resourceVersion out",
            None,
        );
    }
    match parse(w, state, t) {
        Ok(Read { object, dropped }) => {
            let created = answer(state, user, Verb::Create, object, t, true, w.dry_run).await;
            warned(&dropped, w.validation, created)
        }
        Err(e) => *e,
    }
}

async fn update(w: &Written<'_>, state: &State, user: &str, t: &Target) -> HttpResponse {
    let Read {
        mut object,
        dropped,
    } = match parse(w, state, t) {
        Ok(read) => read,
        Err(e) => return *e,
    };
    if let Some(rv) = body_resource_version(w.body) {
        object.meta.resource_version = rv;
    }
    let updated = answer(state, user, Verb::Update, object, t, false, w.dry_run).await;
    warned(&dropped, w.validation, updated)
}

async fn delete(w: &Written<'_>, state: &State, user: &str, t: &Target) -> HttpResponse {
    answer(state, user, Verb::Delete, keyed(t), t, false, w.dry_run).await
}

async fn patch_object(
    req: &HttpRequest,
    w: &Written<'_>,
    state: &State,
    user: &str,
    t: &Target,
) -> HttpResponse {
    let content = req
        .headers()
        .get("content-type")
        .and_then(|c| c.to_str().ok())
        .unwrap_or("")
        .to_string();
    let Ok(patch) = parse_patch(w.body, &content) else {
        return status(
            400,
            "BadRequest",
            "the patch is not valid JSON or YAML",
            None,
        );
    };
    let existing = match fetch(state, t).await {
        None => return stopping(),
        Some(Err(e)) => return e,
        Some(Ok(o)) => o,
    };
    let apply = content.starts_with("application/apply-patch");
    let current = match existing {
        Some(o) => o,
        None if apply => return create(w, state, user, t).await,
        None => return not_found(t),
    };
    let mut doc = render::object(&current, t.res, state.epoch, None);
    if content.starts_with("application/json-patch") {
        if let Err(e) = patch::json_patch(&mut doc, &patch) {
            return status(
                422,
                "Invalid",
                &format!("the JSON patch does not apply: {e}"),
                None,
            );
        }
    } else if content.starts_with("application/strategic-merge-patch") {
        patch::strategic(&mut doc, &patch);
    } else {
        patch::merge(&mut doc, &patch);
    }
    let text = doc.to_string();
    let patched = Written {
        body: text.as_bytes(),
        ..*w
    };
    let Read {
        mut object,
        dropped,
    } = match parse(&patched, state, t) {
        Ok(read) => read,
        Err(e) => return *e,
    };
    object.meta.resource_version = current.meta.resource_version;
    let updated = answer(state, user, Verb::Update, object, t, false, w.dry_run).await;
    warned(&dropped, w.validation, updated)
}

fn parse_patch(body: &[u8], content: &str) -> Result<Value, ()> {
    if content.starts_with("application/apply-patch+yaml") {
        let text = std::str::from_utf8(body).map_err(|_| ())?;
        return yaml_to_json(text).ok_or(());
    }
    serde_json::from_slice(body).map_err(|_| ())
}

/// YAML (one document) as JSON, through pacsim's own YAML reader.
fn yaml_to_json(text: &str) -> Option<Value> {
    use crate::scenario::yaml::{Node, NodeKind};
    fn conv(n: &Node) -> Value {
        match &n.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Scalar { .. } => {
                let s = n.as_scalar().unwrap_or("");
                serde_json::from_str::<Value>(s)
                    .ok()
                    .filter(|v| v.is_number() || v.is_boolean())
                    .unwrap_or_else(|| Value::String(s.to_string()))
            }
            NodeKind::Seq(items) => Value::Array(items.iter().map(conv).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_scalar().unwrap_or("").to_string(), conv(v)))
                    .collect(),
            ),
        }
    }
    crate::scenario::yaml::parse(text).ok().map(|n| conv(&n))
}

fn scale_object(o: &Object, epoch: Epoch) -> Value {
    let (replicas, labels) = match &o.body {
        Body::ReplicaSet(rs) => (rs.replicas, Some(&rs.template_labels)),
        Body::Deployment(d) => (d.replicas, Some(&d.template_labels)),
        _ => (0, None),
    };
    let selector = (labels.into_iter().flatten())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": render::metadata(o, epoch),
        "spec": {"replicas": replicas},
        "status": {"replicas": replicas, "selector": selector},
    })
}

async fn get_scale(state: &State, t: &Target) -> HttpResponse {
    match fetch(state, t).await {
        None => stopping(),
        Some(Err(e)) => e,
        Some(Ok(None)) => not_found(t),
        Some(Ok(Some(o))) => ok(&scale_object(&o, state.epoch)),
    }
}

async fn scale(w: &Written<'_>, state: &State, user: &str, t: &Target, put: bool) -> HttpResponse {
    let body = w.body;
    let Ok(patch) = serde_json::from_slice::<Value>(body) else {
        return status(400, "BadRequest", "the body is not valid JSON", None);
    };
    let Some(replicas) = patch["spec"]["replicas"].as_u64() else {
        return status(
            422,
            "Invalid",
            "Scale.spec.replicas: a non-negative integer is needed",
            None,
        );
    };
    if replicas > crate::model::limits::MAX_REPLICAS {
        return status(
            422,
            "Invalid",
            &format!(
                "Scale.spec.replicas: at most {} replicas",
                crate::model::limits::MAX_REPLICAS
            ),
            None,
        );
    }
    let current = match fetch(state, t).await {
        None => return stopping(),
        Some(Err(e)) => return e,
        Some(Ok(None)) => return not_found(t),
        Some(Ok(Some(o))) => o,
    };
    let mut object = current.clone();
    match &mut object.body {
        Body::ReplicaSet(rs) => rs.replicas = replicas as u32,
        Body::Deployment(d) => d.replicas = replicas as u32,
        _ => {}
    }
    if put && let Some(rv) = body_resource_version(body) {
        object.meta.resource_version = rv;
    }
    let name = object.meta.name.clone();
    let t2 = Target {
        name: Some(name),
        sub: None,
        ..t.clone()
    };
    if w.dry_run {
        return match dry_call(state, user, Verb::Update, object, &t2).await {
            None => stopping(),
            Some(Err(refused)) => outcome_error(&refused, &t2).unwrap_or_else(stopping),
            Some(Ok(Some((o, _)))) => ok(&scale_object(&o, state.epoch)),
            Some(Ok(None)) => not_found(t),
        };
    }
    let Some(outcome) = call(state, user, Verb::Update, object, t).await else {
        return stopping();
    };
    if let Some(e) = outcome_error(&outcome, &t2) {
        return e;
    }
    match outcome {
        Outcome::Done {
            object: Some(o), ..
        } => ok(&scale_object(&o, state.epoch)),
        _ => not_found(t),
    }
}

async fn watch(
    req: &HttpRequest,
    state: &State,
    t: Target,
    q: Vec<(String, String)>,
    sel: Selection,
) -> HttpResponse {
    let table = wants_table(req);
    let after: u64 = param(&q, "resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let bookmarks = param(&q, "allowWatchBookmarks") == Some("true");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (started_tx, started_rx) = oneshot::channel();
    let command = Command::Watch {
        after,
        events: tx,
        started: started_tx,
    };
    if state.commands.send(command).is_err() {
        return stopping();
    }
    match started_rx.await {
        Err(_) => return stopping(),
        Ok(Err(oldest)) => {
            return status(
                410,
                "Expired",
                &format!("too old resource version: {after} ({oldest})"),
                None,
            );
        }
        Ok(Ok(())) => {}
    }
    let (res, epoch) = (t.res, state.epoch);
    let timeout = param(&q, "timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(std::time::Duration::from_secs);
    let every = state.bookmark_interval;
    let (out, stream) = super::stream::channel();
    actix_web::rt::spawn(async move {
        use actix_web::rt::time::{Instant, timeout as within};
        let line = |v: Value| web::Bytes::from(format!("{v}\n"));
        let bookmark = |rv: u64| {
            line(
                json!({"type": "BOOKMARK", "object": {"kind": res.kind, "apiVersion": res.api_version(), "metadata": {"resourceVersion": rv.to_string()}}}),
            )
        };
        if bookmarks && out.send(bookmark(after)).is_err() {
            return;
        }
        let deadline = timeout.map(|d| Instant::now() + d);
        // As kube-apiserver: a watch that allows bookmarks gets one
        // periodically, at the newest version it has seen (filtered out or
        // not), so a client resumes from there rather than from a version
        // that may be compacted by then.
        let mut next_bookmark = bookmarks.then(|| Instant::now() + every);
        let mut seen = after;
        let mut first = true;
        loop {
            let wake = match (deadline, next_bookmark) {
                (Some(d), Some(b)) => Some(d.min(b)),
                (d, b) => d.or(b),
            };
            let change = match wake {
                Some(w) => {
                    match within(w.saturating_duration_since(Instant::now()), rx.recv()).await {
                        Ok(c) => c,
                        Err(_) if deadline.is_some_and(|d| Instant::now() >= d) => return,
                        Err(_) => {
                            next_bookmark = Some(Instant::now() + every);
                            if out.send(bookmark(seen)).is_err() {
                                return;
                            }
                            continue;
                        }
                    }
                }
                None => rx.recv().await,
            };
            let Some(super::engine::Watched {
                change,
                counts,
                lines,
            }) = change
            else {
                return;
            };
            seen = change.rv;
            if !selected(&change.object, &t, &sel) {
                continue;
            }
            let key = (res.plural, res.version, table, table && first);
            let text = lines.get_or(key, || {
                let object = if table {
                    let counts = |_: &Object| counts;
                    let ctx = table::Context {
                        now: change.at,
                        counts: &counts,
                        kubelet: None,
                    };
                    table::table(&[&change.object], res, &ctx, epoch, change.rv, first)
                } else {
                    render::object(&change.object, res, epoch, counts)
                };
                format!(
                    "{}\n",
                    json!({"type": change.kind.name(), "object": object})
                )
            });
            first = false;
            if out
                .send(web::Bytes::copy_from_slice(text.as_bytes()))
                .is_err()
            {
                return;
            }
        }
    });
    let content = if table {
        table::TABLE
    } else {
        "application/json"
    };
    HttpResponse::Ok().content_type(content).streaming(stream)
}

/// How often a guest cluster's watch looks at its objects.
const GUEST_WATCH_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// What one look of a guest watch found: the newest version and the
/// watch lines of the changes after the last look; or the floor of a
/// history that no longer reaches back.
enum GuestLook {
    Lines(u64, Vec<String>),
    Gone(u64),
}

/// A watch on a guest cluster: its objects are looked at every
/// [`GUEST_WATCH_EVERY`], and the changes since the last look (versioned
/// by `guest_versions`) are streamed. It resumes from `resourceVersion`
/// (`410 Gone` when that is too old), starts with an ADDED event per
/// object without one, and sends bookmarks when asked, as the
/// Supervisor's watches do.
async fn guest_watch(
    req: &HttpRequest,
    state: &State,
    t: Target,
    q: Vec<(String, String)>,
    sel: Selection,
) -> HttpResponse {
    let table = wants_table(req);
    let timeout = param(&q, "timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(std::time::Duration::from_secs);
    let bookmarks = param(&q, "allowWatchBookmarks") == Some("true");
    // No version, or "0": the current objects first, as ADDED events.
    let from: Option<u64> = param(&q, "resourceVersion")
        .and_then(|v| v.parse().ok())
        .filter(|&v| v > 0);
    let (res, epoch) = (t.res, state.epoch);
    // Renders each change after `after` (all current objects when None)
    // as a watch line; the first line of a Table watch has the columns.
    let look = move |v: &View<'_>, t: &Target, sel: &Selection, after: Option<u64>, first: bool| {
        let Some(tkc) = t.guest.as_ref() else {
            return Err(NoGuest::NotFound);
        };
        let (store, changes) = match after {
            Some(after) => v.guest_changes(tkc, after)?,
            None => {
                let store = v.store(Some(tkc))?;
                let added = (store.objects())
                    .map(|o| super::guest_versions::GuestChange {
                        rv: o.meta.resource_version,
                        kind: crate::supervisor::api_server::ChangeKind::Added,
                        object: std::sync::Arc::new(o.clone()),
                        counts: store.counts(o),
                    })
                    .collect();
                (store, Ok(added))
            }
        };
        let changes = match changes {
            Ok(c) => c,
            Err(floor) => return Ok(GuestLook::Gone(floor)),
        };
        let mut first = first;
        let lines = changes
            .iter()
            .filter(|c| selected(&c.object, t, sel))
            .map(|c| {
                let object = if table {
                    let counts = |_: &Object| c.counts;
                    let ctx = table::Context {
                        now: v.now,
                        counts: &counts,
                        kubelet: store.guest_version(),
                    };
                    table::table(&[&c.object], res, &ctx, epoch, c.rv, first)
                } else {
                    let mut o = render::object(&c.object, res, epoch, c.counts);
                    store.finish(&mut o);
                    o
                };
                first = false;
                format!("{}\n", json!({"type": c.kind.name(), "object": object}))
            })
            .collect();
        Ok(GuestLook::Lines(store.resource_version(), lines))
    };
    let (t1, sel1) = (t.clone(), sel.clone());
    let opened = read(state, move |v| look(v, &t1, &sel1, from, true)).await;
    let (mut seen, lines) = match opened {
        None => return stopping(),
        Some(Err(e)) => return no_guest(e, t.guest.as_ref()),
        Some(Ok(GuestLook::Gone(floor))) => {
            return status(
                410,
                "Expired",
                &format!(
                    "too old resource version: {} ({floor})",
                    from.unwrap_or_default()
                ),
                None,
            );
        }
        Some(Ok(GuestLook::Lines(rv, lines))) => (rv, lines),
    };
    let state = state.clone();
    let every = state.bookmark_interval;
    let (out, stream) = super::stream::channel();
    actix_web::rt::spawn(async move {
        use std::time::Instant;
        let bookmark = |rv: u64| {
            let line = json!({"type": "BOOKMARK", "object": {"kind": res.kind, "apiVersion": res.api_version(), "metadata": {"resourceVersion": rv.to_string()}}});
            web::Bytes::from(format!("{line}\n"))
        };
        let deadline = timeout.map(|d| Instant::now() + d);
        let mut next_bookmark = bookmarks.then(|| Instant::now() + every);
        let mut first = lines.is_empty();
        for line in lines {
            if out.send(web::Bytes::from(line)).is_err() {
                return;
            }
        }
        while deadline.is_none_or(|d| Instant::now() < d) {
            actix_web::rt::time::sleep(GUEST_WATCH_EVERY).await;
            if state.closing() {
                return;
            }
            let (t2, sel2) = (t.clone(), sel.clone());
            let after = seen;
            let looked = read(&state, move |v| look(v, &t2, &sel2, Some(after), first)).await;
            let Some(Ok(GuestLook::Lines(rv, lines))) = looked else {
                // Stopping, the guest gone or unreachable, or the history
                // outrun: the client lists and watches again.
                return;
            };
            seen = rv;
            first &= lines.is_empty();
            for line in lines {
                if out.send(web::Bytes::from(line)).is_err() {
                    return;
                }
            }
            if let Some(b) = next_bookmark
                && Instant::now() >= b
            {
                next_bookmark = Some(Instant::now() + every);
                if out.send(bookmark(seen)).is_err() {
                    return;
                }
            }
        }
    });
    let content = if table {
        table::TABLE
    } else {
        "application/json"
    };
    HttpResponse::Ok().content_type(content).streaming(stream)
}

async fn access_review(body: &[u8], user: &str, state: &State) -> HttpResponse {
    let Some(attrs) = super::review::decode(body) else {
        return status(
            400,
            "BadRequest",
            "could not read the SelfSubjectAccessReview",
            None,
        );
    };
    let verb = match attrs.verb.as_str() {
        "get" | "list" | "watch" => Verb::Get,
        "create" => Verb::Create,
        "delete" | "deletecollection" => Verb::Delete,
        _ => Verb::Update,
    };
    let scoped = resources::all()
        .iter()
        .any(|r| r.plural == attrs.resource && !r.namespaced);
    let (u, ns) = (user.to_string(), attrs.namespace.clone());
    let verdict = read(state, move |v| v.proxy.authorize(&u, &verb, scoped, &ns)).await;
    let Some(verdict) = verdict else {
        return stopping();
    };
    let mut status_v = json!({"allowed": verdict.is_ok()});
    if let Err(reason) = verdict {
        status_v["reason"] = reason.into();
    }
    json_response(
        StatusCode::CREATED,
        &json!({
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {},
            "spec": {"resourceAttributes": {"namespace": attrs.namespace, "verb": attrs.verb, "resource": attrs.resource, "name": attrs.name}},
            "status": status_v,
        }),
    )
}

/// `kubectl auth can-i --list`: what `user` may do in the namespace asked.
async fn rules_review(body: &[u8], user: &str, state: &State) -> HttpResponse {
    let Some(namespace) = super::review::decode_rules(body) else {
        return status(
            400,
            "BadRequest",
            "could not read the SelfSubjectRulesReview",
            None,
        );
    };
    let (u, ns) = (user.to_string(), namespace.clone());
    let answer = read(state, move |v| {
        super::rules::status(|verb, scoped| v.proxy.authorize(&u, verb, scoped, &ns).is_ok())
    })
    .await;
    let Some(answer) = answer else {
        return stopping();
    };
    json_response(
        StatusCode::CREATED,
        &json!({
            "kind": "SelfSubjectRulesReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {},
            "spec": {"namespace": namespace},
            "status": answer,
        }),
    )
}
