//! `/metrics` in the Prometheus text format: requests by verb, resource
//! and code with latency histograms, and the engine's own figures.

use actix_web::HttpResponse;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Latency bucket bounds, in seconds (as kube-apiserver's, trimmed).
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Requests {
    count: u64,
    /// Per bucket of BUCKETS (cumulative when rendered).
    buckets: [u64; BUCKETS.len()],
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Requests>>,
    gauges: Mutex<BTreeMap<String, f64>>,
    /// Journal commits: (batches, requests, fdatasync seconds).
    journal: Mutex<(u64, u64, f64)>,
}

impl Metrics {
    pub fn request(&self, verb: &str, resource: &str, code: u16, took: Duration) {
        let secs = took.as_secs_f64();
        let mut r = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let e = r
            .entry((verb.to_string(), resource.to_string(), code))
            .or_default();
        e.count += 1;
        e.sum += secs;
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            e.buckets[i] += 1;
        }
    }

    /// One journal commit of `requests` requests that took `took`.
    pub fn journal_batch(&self, requests: usize, took: Duration) {
        let mut j = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        j.0 += 1;
        j.1 += requests as u64;
        j.2 += took.as_secs_f64();
    }

    /// Sets a gauge (`name{labels}` as written).
    pub fn set(&self, series: String, value: f64) {
        let mut g = self.gauges.lock().unwrap_or_else(|e| e.into_inner());
        g.insert(series, value);
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        out.push_str("# TYPE pacsim_apiserver_requests_total counter\n");
        let r = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        for ((verb, res, code), e) in r.iter() {
            out.push_str(&format!(
                "pacsim_apiserver_requests_total{{verb=\"{verb}\",resource=\"{res}\",code=\"{code}\"}} {}\n",
                e.count
            ));
        }
        out.push_str("# TYPE pacsim_apiserver_request_duration_seconds histogram\n");
        for ((verb, res, code), e) in r.iter() {
            let labels = format!("verb=\"{verb}\",resource=\"{res}\",code=\"{code}\"");
            let mut cumulative = 0;
            for (b, n) in BUCKETS.iter().zip(e.buckets) {
                cumulative += n;
                out.push_str(&format!(
                    "pacsim_apiserver_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {cumulative}\n"
                ));
            }
            out.push_str(&format!(
                "pacsim_apiserver_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n",
                e.count
            ));
            out.push_str(&format!(
                "pacsim_apiserver_request_duration_seconds_sum{{{labels}}} {}\n",
                e.sum
            ));
            out.push_str(&format!(
                "pacsim_apiserver_request_duration_seconds_count{{{labels}}} {}\n",
                e.count
            ));
        }
        drop(r);
        let (batches, requests, secs) = *self.journal.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str(&format!(
            "# TYPE pacsim_journal_batches_total counter\npacsim_journal_batches_total {batches}\n\
             # TYPE pacsim_journal_requests_total counter\npacsim_journal_requests_total {requests}\n\
             # TYPE pacsim_journal_fdatasync_seconds_total counter\npacsim_journal_fdatasync_seconds_total {secs}\n"
        ));
        let g = self.gauges.lock().unwrap_or_else(|e| e.into_inner());
        for (series, v) in g.iter() {
            out.push_str(&format!("{series} {v}\n"));
        }
        out
    }

    pub fn render(&self) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4")
            .body(self.text())
    }
}
