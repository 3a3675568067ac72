//! `/metrics` through prometheus-client, in the OpenMetrics text format
//! (which Prometheus scrapes): requests by verb, resource and code with
//! latency histograms, the journal's commits, and the engine's figures,
//! which it sets as gauges after each batch.

use actix_web::HttpResponse;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// Latency bucket bounds, in seconds (as kube-apiserver's, trimmed).
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    verb: String,
    resource: String,
    code: u16,
}

type FloatGauge = Gauge<f64, AtomicU64>;
type Labelled = Family<Vec<(&'static str, String)>, FloatGauge>;

/// The engine's figures, each a family of gauges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Figure {
    EventsDelivered,
    VirtualTimeSeconds,
    HostsUp,
    CpuAllocatedCores,
    MemoryAllocatedBytes,
    Pods,
    Vms,
    GuestClusters,
    Nodes,
}

impl Figure {
    const ALL: [Figure; 9] = [
        Figure::EventsDelivered,
        Figure::VirtualTimeSeconds,
        Figure::HostsUp,
        Figure::CpuAllocatedCores,
        Figure::MemoryAllocatedBytes,
        Figure::Pods,
        Figure::Vms,
        Figure::GuestClusters,
        Figure::Nodes,
    ];

    /// Name (without the `pacsim_` prefix) and help.
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            Figure::EventsDelivered => ("events_delivered", "Events the kernel delivered"),
            Figure::VirtualTimeSeconds => ("virtual_time_seconds", "The session's virtual time"),
            Figure::HostsUp => ("hosts_up", "Hosts up, by cluster"),
            Figure::CpuAllocatedCores => (
                "cpu_allocated_cores",
                "Cpu allocated on the hosts, by cluster",
            ),
            Figure::MemoryAllocatedBytes => (
                "memory_allocated_bytes",
                "Memory allocated on the hosts, by cluster",
            ),
            Figure::Pods => ("pods", "Pods by phase"),
            Figure::Vms => ("vms", "VirtualMachines by power state"),
            Figure::GuestClusters => ("guest_clusters", "TanzuKubernetesClusters by phase"),
            Figure::Nodes => ("nodes", "Nodes by readiness"),
        }
    }
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RequestLabels, Histogram, fn() -> Histogram>,
    journal_batches: Counter,
    journal_requests: Counter,
    journal_fdatasync: Counter<f64, AtomicU64>,
    figures: Vec<Labelled>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("pacsim");
        let requests = Family::<RequestLabels, Counter>::default();
        let durations: Family<RequestLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(BUCKETS));
        let (journal_batches, journal_requests) = (Counter::default(), Counter::default());
        let journal_fdatasync = Counter::<f64, AtomicU64>::default();
        registry.register(
            "apiserver_requests",
            "API requests by verb, resource and code",
            requests.clone(),
        );
        registry.register(
            "apiserver_request_duration_seconds",
            "Time to answer an API request",
            durations.clone(),
        );
        registry.register(
            "journal_batches",
            "Journal commits (one fdatasync each)",
            journal_batches.clone(),
        );
        registry.register(
            "journal_requests",
            "Requests made durable by the journal's commits",
            journal_requests.clone(),
        );
        registry.register(
            "journal_fdatasync_seconds",
            "Time spent in the journal's fdatasync",
            journal_fdatasync.clone(),
        );
        let figures = (Figure::ALL.iter())
            .map(|f| {
                let family = Labelled::default();
                let (name, help) = f.describe();
                registry.register(name, help, family.clone());
                family
            })
            .collect();
        Metrics {
            registry,
            requests,
            durations,
            journal_batches,
            journal_requests,
            journal_fdatasync,
            figures,
        }
    }
}

impl Metrics {
    pub fn request(&self, verb: &str, resource: &str, code: u16, took: Duration) {
        let labels = RequestLabels {
            verb: verb.to_string(),
            resource: resource.to_string(),
            code,
        };
        self.requests.get_or_create(&labels).inc();
        self.durations
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// One journal commit of `requests` requests that took `took`.
    pub fn journal_batch(&self, requests: usize, took: Duration) {
        self.journal_batches.inc();
        self.journal_requests.inc_by(requests as u64);
        self.journal_fdatasync.inc_by(took.as_secs_f64());
    }

    /// Sets one of the engine's figures, for `labels` (none for a single
    /// series).
    pub fn set(&self, figure: Figure, labels: &[(&'static str, &str)], value: f64) {
        let labels: Vec<(&'static str, String)> =
            labels.iter().map(|(k, v)| (*k, v.to_string())).collect();
        self.figures[figure as usize]
            .get_or_create(&labels)
            .set(value);
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String does not fail");
        out
    }

    pub fn render(&self) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_read_as_prometheus_expects() {
        let m = Metrics::default();
        m.request("create", "pods", 201, Duration::from_millis(3));
        m.request("create", "pods", 201, Duration::from_millis(30));
        m.journal_batch(2, Duration::from_millis(1));
        m.set(Figure::HostsUp, &[("cluster", "wcp")], 5.0);
        m.set(Figure::Pods, &[("phase", "Running")], 2.0);
        let text = m.text();
        for line in [
            r#"pacsim_apiserver_requests_total{verb="create",resource="pods",code="201"} 2"#,
            r#"pacsim_apiserver_request_duration_seconds_bucket{le="0.005",verb="create",resource="pods",code="201"} 1"#,
            r#"pacsim_apiserver_request_duration_seconds_count{verb="create",resource="pods",code="201"} 2"#,
            "pacsim_journal_batches_total 1",
            "pacsim_journal_requests_total 2",
            r#"pacsim_hosts_up{cluster="wcp"} 5.0"#,
            r#"pacsim_pods{phase="Running"} 2.0"#,
            "# EOF",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
    }
}
