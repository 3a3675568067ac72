//! Judgements on a loaded scenario that are not errors: warnings before a
//! run that a scenario asks for something absurd, and hints, after a run
//! was stopped for its memory or a stalled clock, at what made it grow.
//! Pure arithmetic on the scenario's means (Little's law: VMs alive at
//! steady state = arrival rate x mean lifetime).

use super::model::{Generator, Scenario};
use crate::model::Dist;
use crate::model::time::format_span;

/// Demand more than this many times the capacity is called absurd.
const ABSURD_DEMAND: f64 = 100.0;

/// Events past which a run is called long (about ten minutes at 5 M/s).
const LONG_RUN_EVENTS: f64 = 3e9;

/// Events a VM's life costs, about (request, power-on, delete, power-off).
const EVENTS_PER_VM: f64 = 4.0;

/// Warnings to print before running `s`.
pub fn warnings(s: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    let run = s.duration.0 as f64;
    let capacity = s.datacenter.hosts.iter().fold((0.0, 0.0), |(c, m), h| {
        let cap = s.datacenter.models[h.model].capacity;
        (c + cap.cpu_millis as f64, m + cap.memory_bytes as f64)
    });
    let (mut cpu, mut memory, mut arrivals) = (0.0, 0.0, 0.0);
    for g in &s.workloads.generators {
        let alive = alive_at_steady_state(g, run);
        let (c, m) = mean_size(g);
        cpu += alive * c;
        memory += alive * m;
        arrivals += expected_arrivals(g, run);
    }
    let worst = (cpu / capacity.0).max(memory / capacity.1);
    if worst > ABSURD_DEMAND {
        out.push(format!(
            "the generators ask for about {worst:.0} times the datacenter's capacity at steady state (arrival rate x mean lifetime x mean size): nearly every VM will be rejected"
        ));
    }
    if arrivals * EVENTS_PER_VM > LONG_RUN_EVENTS {
        out.push(format!(
            "the generators make about {arrivals:.2e} VMs, some {:.1e} events: this run will take a long time",
            arrivals * EVENTS_PER_VM
        ));
    }
    for r in &s.faults.random {
        let (mtbf, mttr) = (r.mtbf.mean_nanos(), r.mttr.mean_nanos());
        if mtbf < mttr {
            out.push(format!(
                "random faults with a mean time between failures ({}) shorter than the mean repair ({}): those hosts will be down most of the time",
                format_span(mtbf as u64),
                format_span(mttr as u64)
            ));
        }
    }
    out
}

/// What in `s` keeps memory or events growing, largest first: the
/// generators by VMs alive at steady state, and random faults that fail
/// faster than they repair.
pub fn growth_hints(s: &Scenario) -> Vec<String> {
    let run = s.duration.0 as f64;
    let mut by_alive: Vec<(f64, &Generator)> = s
        .workloads
        .generators
        .iter()
        .map(|g| (alive_at_steady_state(g, run), g))
        .collect();
    by_alive.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<String> = by_alive
        .iter()
        .take(3)
        .map(|(alive, g)| {
            format!(
                "generator `{}` keeps about {alive:.3e} VMs alive (rate {:.3e}/s x mean lifetime {}): lower its rate or lifetime, or give it `count` or `stop`",
                g.name,
                1e9 / mean_gap(&g.interarrival),
                format_span(g.lifetime.mean_nanos() as u64)
            )
        })
        .collect();
    for g in &s.workloads.manifests.generators {
        out.push(format!(
            "object generator `{}` creates about {:.3e} objects per second",
            g.name,
            1e9 / mean_gap(&g.interarrival)
        ));
    }
    for r in &s.faults.random {
        if r.mtbf.mean_nanos() < r.mttr.mean_nanos() || r.mtbf.mean_nanos() < 1e9 {
            out.push(format!(
                "random faults on {} hosts fail every {} on average: a longer `mtbf` lets time advance",
                r.hosts.len(),
                format_span(r.mtbf.mean_nanos() as u64)
            ));
        }
    }
    out
}

/// Mean nanoseconds between arrivals (never 0: loading refuses that).
fn mean_gap(d: &Dist) -> f64 {
    d.mean_nanos().max(1.0)
}

/// Arrivals over a run of `run` ns, bounded by the generator's count and
/// window.
fn expected_arrivals(g: &Generator, run: f64) -> f64 {
    let stop = g.stop.map_or(run, |t| (t.0 as f64).min(run));
    let window = (stop - g.start.0 as f64).max(0.0);
    let n = window / mean_gap(&g.interarrival);
    g.count.map_or(n, |c| n.min(c as f64))
}

/// VMs alive at once at steady state: rate x mean lifetime, and never more
/// than the generator makes.
fn alive_at_steady_state(g: &Generator, run: f64) -> f64 {
    let little = g.lifetime.mean_nanos() / mean_gap(&g.interarrival);
    little.min(expected_arrivals(g, run))
}

/// The mix's mean cpu (millicores) and memory (bytes).
fn mean_size(g: &Generator) -> (f64, f64) {
    let total = g.sizes.total_weight() as f64;
    g.sizes.entries().iter().fold((0.0, 0.0), |(c, m), e| {
        let w = f64::from(e.weight) / total;
        (
            c + w * e.size.cpu_millis as f64,
            m + w * e.size.memory_bytes as f64,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse_scenario;

    fn scenario(rate: &str, lifetime: &str, faults: &str) -> Scenario {
        let text = format!(
            "seed: 1\nduration: 1h\ndatacenter:\n  host_models: [{{name: m, cpu: 64, memory: 512Gi}}]\n  clusters: [{{name: c, hosts: [{{model: m, count: 4}}]}}]\nworkloads:\n  generators:\n    - {{name: web, rate: {rate}, lifetime: {lifetime}, sizes: [{{cpu: 4, memory: 16Gi}}]}}\n{faults}"
        );
        parse_scenario(&text, "t.yaml").expect("valid")
    }

    #[test]
    fn a_sensible_scenario_has_no_warnings() {
        assert_eq!(warnings(&scenario("1/min", "1h", "")), Vec::<String>::new());
    }

    #[test]
    fn demand_far_past_capacity_is_warned_about() {
        // 1000/s x 1h = 3.6 M VMs of 4 cores on 256 cores.
        let w = warnings(&scenario("1000/s", "1h", ""));
        assert!(
            w.iter()
                .any(|w| w.contains("nearly every VM will be rejected")),
            "{w:?}"
        );
    }

    #[test]
    fn hosts_failing_faster_than_they_repair_are_warned_about() {
        let faults = "faults:\n  - random: {hosts: all, mtbf: 1ns, mttr: 1h}\n";
        let s = scenario("1/min", "1h", faults);
        assert!(
            warnings(&s)
                .iter()
                .any(|w| w.contains("down most of the time"))
        );
        assert!(growth_hints(&s).iter().any(|h| h.contains("fail every")));
    }

    #[test]
    fn the_hint_names_the_generator_and_its_steady_state() {
        let hints = growth_hints(&scenario("100/s", "10h", ""));
        // 100/s x 10 h would be 3.6 M, but a 1 h run makes only 360,000.
        assert!(
            hints[0].contains("generator `web` keeps about 3.600e5 VMs alive"),
            "{hints:?}"
        );
    }
}
