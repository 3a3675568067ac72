//! The kernel on the churn-small benchmark (7 simulated days, 100 hosts,
//! ~3.6 million events), with every event persisted to sled and in memory.
//! Criterion reports time per run; events/s = 3.63e6 / that time.

use criterion::{Criterion, criterion_group, criterion_main};
use pacsim::run::simulate;
use pacsim::scenario::load_scenario;
use pacsim::store::EventLog;
use std::path::Path;

fn churn_small(c: &mut Criterion) {
    let scenario =
        load_scenario(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/churn-small.yaml"))
            .expect("churn-small parses");
    let mut group = c.benchmark_group("churn-small");
    group.sample_size(10);
    group.bench_function("in-memory", |b| {
        b.iter(|| {
            simulate(&scenario, EventLog::in_memory(), |_, _| {})
                .expect("runs")
                .events
        })
    });
    group.bench_function("persisted", |b| {
        b.iter_with_setup(
            || tempfile::tempdir().expect("temp dir"),
            |dir| {
                let log = EventLog::create(dir.path(), &scenario.source, scenario.seed)
                    .expect("log opens");
                simulate(&scenario, log, |_, _| {}).expect("runs").events
            },
        )
    });
    group.finish();
}

criterion_group!(benches, churn_small);
criterion_main!(benches);
