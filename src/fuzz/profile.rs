//! A fault profile: the faults one fuzz seed adds to a scenario, drawn from
//! the seed, encoded as one short string (`--fault-profile`) so a failure
//! can be reproduced with `pacsim run`, and printed as a YAML snippet.
//!
//! Encoding (times in whole seconds, hosts by index, `;` between items):
//! `crash:H@AT[+REPAIR]`, `maint:H@AT+DUR`, `slow:H@AT+DUR*FACTOR`,
//! `part:H,H@AT+DUR`,
//! `msg:DROP,DELAY_P,DELAY_MEAN,DUP` (probabilities as `n/d`); for
//! Supervisor scenarios also `sph-crash:H@AT+RESTART`, `sph-hang:H@AT+DUR`,
//! `cp-crash:C@AT+RESTART` (C = 0: every control-plane part; C >= 1: the
//! C-th of [`crate::api::addrs::Part::components`] alone),
//! `cp-vm:M@AT`, `ds-fail:D@AT[+REPAIR]` (the D-th of
//! `supervisor.datastores`); `none` for no faults.

use crate::model::{Dist, HostId, SimDuration, SimTime};
use crate::random::StreamRng;
use crate::scenario::{ActorClass, HostFaultKind, MessageFaults, Ratio, Scenario, ScheduledFault};

const S: u64 = 1_000_000_000;

/// The liveness bound a Supervisor scenario is fuzzed with unless it sets
/// `expect_recovery_within:`: half an hour after the last fault ends, its
/// pods and VMs must have settled (see `check::supervisor::unsettled`).
pub const SUPERVISOR_RECOVERY: SimDuration = SimDuration::from_secs(30 * 60);

/// How a run's scenario text records the profile it ran with: a comment,
/// so the text still parses as the plain scenario, that readers of a log
/// or trace find again ([`Profile::embedded`]) to rebuild the same world.
const EMBEDDED: &str = "# pacsim run --fault-profile ";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Crash {
        host: u32,
        at: u64,
        repair: Option<u64>,
    },
    Maintenance {
        host: u32,
        at: u64,
        duration: u64,
    },
    Slow {
        host: u32,
        at: u64,
        duration: u64,
        factor: u32,
    },
    Partition {
        hosts: Vec<u32>,
        at: u64,
        duration: u64,
    },
    Messages {
        drop: Ratio,
        delay: Ratio,
        delay_mean: u64,
        duplicate: Ratio,
    },
    SphereletCrash {
        host: u32,
        at: u64,
        restart: u64,
    },
    SphereletHang {
        host: u32,
        at: u64,
        duration: u64,
    },
    /// `component` 0: every control-plane part; k: the k-th alone.
    ControlPlaneCrash {
        component: u32,
        at: u64,
        restart: u64,
    },
    ControlPlaneVm {
        member: u32,
        at: u64,
    },
    DatastoreFailure {
        datastore: u32,
        at: u64,
        repair: Option<u64>,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub items: Vec<Item>,
}

fn ratio(r: Ratio) -> String {
    format!("{}/{}", r.num, r.den)
}

impl Profile {
    /// Swarm testing: which fault kinds are on, and how hard, from the seed.
    pub fn draw(seed: u64, scenario: &Scenario) -> Profile {
        let mut rng = StreamRng::derive(seed, "fuzz/profile");
        let hosts = scenario.datacenter.hosts.len() as u64;
        let window = (scenario.duration.0 / S * 3 / 4).max(1);
        let mut items = Vec::new();
        if rng.chance(1, 2) {
            for _ in 0..1 + rng.below(3) {
                let repair = rng.chance(3, 4).then(|| 60 + rng.below(3600));
                items.push(Item::Crash {
                    host: rng.below(hosts) as u32,
                    at: rng.below(window),
                    repair,
                });
            }
        }
        if rng.chance(1, 3) {
            for _ in 0..1 + rng.below(2) {
                items.push(Item::Maintenance {
                    host: rng.below(hosts) as u32,
                    at: rng.below(window),
                    duration: 600 + rng.below(3600),
                });
            }
        }
        if rng.chance(1, 3) && hosts > 1 {
            let first = rng.below(hosts) as u32;
            let mut hs = vec![first];
            if rng.chance(1, 2) {
                let second = ((first as u64 + 1 + rng.below(hosts - 1)) % hosts) as u32;
                hs.push(second);
                hs.sort();
            }
            items.push(Item::Partition {
                hosts: hs,
                at: rng.below(window),
                duration: 5 + rng.below(120),
            });
        }
        if rng.chance(1, 4) {
            items.push(Item::Slow {
                host: rng.below(hosts) as u32,
                at: rng.below(window),
                duration: 60 + rng.below(3600),
                factor: 2 + rng.below(9) as u32,
            });
        }
        if rng.chance(1, 3) {
            let pick = |rng: &mut StreamRng, options: &[Ratio]| {
                options[rng.below(options.len() as u64) as usize]
            };
            let levels = [
                Ratio::ZERO,
                Ratio { num: 1, den: 1000 },
                Ratio { num: 1, den: 100 },
            ];
            let drop = pick(&mut rng, &levels);
            let delay = pick(&mut rng, &levels);
            let delay_mean = 1 + rng.below(5);
            let duplicate = pick(&mut rng, &levels);
            // All three at zero is no rule (it would only switch off the
            // agreement check).
            if drop.num + delay.num + duplicate.num > 0 {
                items.push(Item::Messages {
                    drop,
                    delay,
                    delay_mean,
                    duplicate,
                });
            }
        }
        if scenario.supervisor.is_some() {
            // Its own stream: plain scenarios keep the profiles they had.
            draw_supervisor(
                &mut StreamRng::derive(seed, "fuzz/profile/supervisor"),
                scenario,
                &mut items,
            );
        }
        keep_survivable(&mut items, scenario);
        Profile { items }
    }

    pub fn encode(&self) -> String {
        if self.items.is_empty() {
            return "none".into();
        }
        let parts: Vec<String> = self
            .items
            .iter()
            .map(|i| match i {
                Item::Crash { host, at, repair } => match repair {
                    Some(r) => format!("crash:{host}@{at}+{r}"),
                    None => format!("crash:{host}@{at}"),
                },
                Item::Maintenance { host, at, duration } => {
                    format!("maint:{host}@{at}+{duration}")
                }
                Item::Slow {
                    host,
                    at,
                    duration,
                    factor,
                } => format!("slow:{host}@{at}+{duration}*{factor}"),
                Item::Partition {
                    hosts,
                    at,
                    duration,
                } => {
                    let hs: Vec<String> = hosts.iter().map(u32::to_string).collect();
                    format!("part:{}@{at}+{duration}", hs.join(","))
                }
                Item::Messages {
                    drop,
                    delay,
                    delay_mean,
                    duplicate,
                } => format!(
                    "msg:{},{},{delay_mean},{}",
                    ratio(*drop),
                    ratio(*delay),
                    ratio(*duplicate)
                ),
                Item::SphereletCrash { host, at, restart } => {
                    format!("sph-crash:{host}@{at}+{restart}")
                }
                Item::SphereletHang { host, at, duration } => {
                    format!("sph-hang:{host}@{at}+{duration}")
                }
                Item::ControlPlaneCrash {
                    component,
                    at,
                    restart,
                } => format!("cp-crash:{component}@{at}+{restart}"),
                Item::ControlPlaneVm { member, at } => format!("cp-vm:{member}@{at}"),
                Item::DatastoreFailure {
                    datastore,
                    at,
                    repair,
                } => match repair {
                    Some(r) => format!("ds-fail:{datastore}@{at}+{r}"),
                    None => format!("ds-fail:{datastore}@{at}"),
                },
            })
            .collect();
        parts.join(";")
    }

    /// Adds the profile to the faults of `scenario` ([`Profile::apply`])
    /// and records it in `scenario.source`, the text a log or trace embeds.
    pub fn apply_and_embed(&self, scenario: &mut Scenario) {
        self.apply(scenario);
        if !scenario.source.ends_with('\n') {
            scenario.source.push('\n');
        }
        scenario
            .source
            .push_str(&format!("{EMBEDDED}{}\n", self.encode()));
    }

    /// The profile recorded in an embedded scenario text, with its 1-based
    /// line: `None` when the run had none.
    pub fn embedded(source: &str) -> Option<(usize, Result<Profile, String>)> {
        let (i, line) = (source.lines().enumerate())
            .filter(|(_, l)| l.starts_with(EMBEDDED))
            .last()?;
        Some((i + 1, Profile::decode(&line[EMBEDDED.len()..])))
    }

    pub fn decode(text: &str) -> Result<Profile, String> {
        let text = text.trim();
        if text == "none" || text.is_empty() {
            return Ok(Profile::default());
        }
        let items = text
            .split(';')
            .map(|part| {
                let item = decode_item(part.trim()).ok_or_else(|| {
                    format!(
                        "bad fault profile item `{part}`: expected KIND:HOSTS@AT[+SECONDS] (slow: HOST@AT+SECONDS*FACTOR, FACTOR >= 1; msg: DROP,DELAY,MEAN_S,DUP with each probability N/D at most 1; see docs/faults-and-fuzzing.md)"
                    )
                })?;
                // A fault past the end of any scenario would never fire.
                let last = item.last_second();
                match last.checked_mul(1_000_000_000) {
                    Some(ns) if ns <= crate::model::limits::MAX_DURATION_NANOS => Ok(item),
                    _ => Err(format!(
                        "fault profile item `{part}`: {last} s is later than a scenario may run (100 years)"
                    )),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Profile { items })
    }

    /// Checks host indexes against the scenario.
    pub fn validate(&self, scenario: &Scenario) -> Result<(), String> {
        let n = scenario.datacenter.hosts.len() as u32;
        for i in &self.items {
            let hosts: Vec<u32> = match i {
                Item::Crash { host, .. }
                | Item::Maintenance { host, .. }
                | Item::Slow { host, .. } => vec![*host],
                Item::Partition { hosts, .. } => hosts.clone(),
                Item::SphereletCrash { host, .. } | Item::SphereletHang { host, .. } => {
                    if scenario.supervisor.is_none() {
                        return Err("fault profile has Supervisor faults, but the scenario has no `supervisor:`".into());
                    }
                    vec![*host]
                }
                Item::ControlPlaneCrash { .. }
                | Item::ControlPlaneVm { .. }
                | Item::DatastoreFailure { .. } => {
                    let Some(sup) = &scenario.supervisor else {
                        return Err("fault profile has Supervisor faults, but the scenario has no `supervisor:`".into());
                    };
                    if let Item::DatastoreFailure { datastore, .. } = i
                        && *datastore as usize >= sup.datastores.len()
                    {
                        return Err(format!(
                            "fault profile names datastore {datastore}, but the scenario has {}",
                            sup.datastores.len()
                        ));
                    }
                    vec![]
                }
                Item::Messages { .. } => vec![],
            };
            if let Some(h) = hosts.iter().find(|h| **h >= n) {
                return Err(format!(
                    "fault profile names host {h}, but the scenario has {n} hosts"
                ));
            }
        }
        Ok(())
    }

    /// Adds the profile's faults to `scenario` (a `messages` item replaces
    /// any rule it had). A Supervisor scenario without
    /// `expect_recovery_within:` gets [`SUPERVISOR_RECOVERY`], so that
    /// fuzzing (and the `pacsim run --fault-profile` that reproduces a
    /// seed) checks that its workloads settle after the faults.
    pub fn apply(&self, scenario: &mut Scenario) {
        if scenario.supervisor.is_some() && scenario.expect_recovery_within.is_none() {
            scenario.expect_recovery_within = Some(SUPERVISOR_RECOVERY);
        }
        let secs = |s: u64| SimDuration(s.saturating_mul(S));
        for i in &self.items {
            let fault = match i {
                Item::Crash { host, at, repair } => ScheduledFault {
                    at: SimTime(at.saturating_mul(S)),
                    host: HostId(*host),
                    kind: HostFaultKind::Crash,
                    repair_after: repair.map(secs),
                    duration: None,
                    hosts: vec![HostId(*host)],
                    factor: 1,
                },
                Item::Maintenance { host, at, duration } => ScheduledFault {
                    at: SimTime(at.saturating_mul(S)),
                    host: HostId(*host),
                    kind: HostFaultKind::Maintenance,
                    repair_after: None,
                    duration: Some(secs(*duration)),
                    hosts: vec![HostId(*host)],
                    factor: 1,
                },
                Item::Slow {
                    host,
                    at,
                    duration,
                    factor,
                } => ScheduledFault {
                    at: SimTime(at.saturating_mul(S)),
                    host: HostId(*host),
                    kind: HostFaultKind::Slow,
                    repair_after: None,
                    duration: Some(secs(*duration)),
                    hosts: vec![HostId(*host)],
                    factor: *factor,
                },
                Item::Partition {
                    hosts,
                    at,
                    duration,
                } => ScheduledFault {
                    at: SimTime(at.saturating_mul(S)),
                    host: HostId(hosts[0]),
                    kind: HostFaultKind::Partition,
                    repair_after: None,
                    duration: Some(secs(*duration)),
                    hosts: hosts.iter().map(|h| HostId(*h)).collect(),
                    factor: 1,
                },
                Item::Messages {
                    drop,
                    delay,
                    delay_mean,
                    duplicate,
                } => {
                    scenario.faults.messages = Some(MessageFaults {
                        drop: *drop,
                        resend_after: secs(1),
                        delay: *delay,
                        delay_by: Dist::Exponential {
                            mean: delay_mean.saturating_mul(S),
                        },
                        duplicate: *duplicate,
                        between: (ActorClass::Placement, ActorClass::Host),
                    });
                    continue;
                }
                sup => {
                    let fault = supervisor_fault(sup, scenario);
                    scenario.faults.supervisor.push(fault);
                    continue;
                }
            };
            scenario.faults.scheduled.push(fault);
        }
    }

    /// The profile as lines to add under the scenario's `faults:`.
    pub fn yaml(&self, scenario: &Scenario) -> String {
        let name = |h: &u32| scenario.datacenter.hosts[*h as usize].name.clone();
        let mut out = String::from("faults:\n");
        for i in &self.items {
            let line = match i {
                Item::Crash { host, at, repair } => match repair {
                    Some(r) => format!(
                        "{{ at: {at}s, host: {}, fault: crash, repair_after: {r}s }}",
                        name(host)
                    ),
                    None => format!("{{ at: {at}s, host: {}, fault: crash }}", name(host)),
                },
                Item::Maintenance { host, at, duration } => format!(
                    "{{ at: {at}s, host: {}, fault: maintenance, duration: {duration}s }}",
                    name(host)
                ),
                Item::Slow {
                    host,
                    at,
                    duration,
                    factor,
                } => format!(
                    "{{ at: {at}s, host: {}, fault: slow, duration: {duration}s, factor: {factor} }}",
                    name(host)
                ),
                Item::Partition {
                    hosts,
                    at,
                    duration,
                } => {
                    let hs: Vec<String> = hosts.iter().map(name).collect();
                    format!(
                        "{{ at: {at}s, hosts: [{}], fault: partition, duration: {duration}s }}",
                        hs.join(", ")
                    )
                }
                Item::Messages {
                    drop,
                    delay,
                    delay_mean,
                    duplicate,
                } => format!(
                    "messages: {{ drop: {}, delay: {{ p: {}, by: exp({delay_mean}s) }}, duplicate: {}, between: [placement, host] }}",
                    ratio(*drop),
                    ratio(*delay),
                    ratio(*duplicate)
                ),
                Item::SphereletCrash { host, at, restart } => format!(
                    "{{ at: {at}s, fault: spherelet-crash, host: {}, repair_after: {restart}s }}",
                    name(host)
                ),
                Item::SphereletHang { host, at, duration } => format!(
                    "{{ at: {at}s, fault: spherelet-hang, host: {}, duration: {duration}s }}",
                    name(host)
                ),
                Item::ControlPlaneCrash {
                    component: 0,
                    at,
                    restart,
                } => {
                    format!("{{ at: {at}s, fault: control-plane-crash, repair_after: {restart}s }}")
                }
                Item::ControlPlaneCrash {
                    component,
                    at,
                    restart,
                } => format!(
                    "{{ at: {at}s, fault: control-plane-crash, components: [{}], repair_after: {restart}s }}",
                    component_name(*component)
                ),
                Item::ControlPlaneVm { member, at } => {
                    format!("{{ at: {at}s, fault: control-plane-vm, member: {member} }}")
                }
                Item::DatastoreFailure {
                    datastore,
                    at,
                    repair,
                } => {
                    let name = datastore_name(scenario, *datastore);
                    let repair = repair.map_or(String::new(), |r| format!(", repair_after: {r}s"));
                    format!("{{ at: {at}s, fault: datastore-failure, datastore: {name}{repair} }}")
                }
            };
            out.push_str("  - ");
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// Supervisor faults for one seed: Spherelet crashes and hangs, a control
/// plane crash, a control-plane VM failure, each on or off by the seed.
/// The repair, in seconds, given to a crash that would have taken one host
/// too many down for good.
const SURVIVABLE_REPAIR: u64 = 3_600;

/// Never more hosts down for good than the scenario can survive, so that a
/// failed liveness check is never a false alarm: a Supervisor's control
/// plane needs a quorum of its VMs on distinct hosts (firm anti-affinity),
/// so that many hosts must stay up. Lasting crashes past that get a repair;
/// profiles that need no change keep every draw.
fn keep_survivable(items: &mut [Item], scenario: &Scenario) {
    let Some(sup) = &scenario.supervisor else {
        return;
    };
    let quorum = sup.control_plane.vms as usize / 2 + 1;
    let allowed = scenario.datacenter.hosts.len().saturating_sub(quorum);
    let mut down = std::collections::BTreeSet::new();
    for item in items.iter_mut() {
        if let Item::Crash { host, repair, .. } = item
            && repair.is_none()
            && !down.contains(host)
        {
            if down.len() < allowed {
                down.insert(*host);
            } else {
                *repair = Some(SURVIVABLE_REPAIR);
            }
        }
    }
}

fn draw_supervisor(rng: &mut StreamRng, scenario: &Scenario, items: &mut Vec<Item>) {
    let hosts = scenario.datacenter.hosts.len() as u64;
    let window = (scenario.duration.0 / S * 3 / 4).max(1);
    if rng.chance(1, 2) {
        items.push(Item::SphereletCrash {
            host: rng.below(hosts) as u32,
            at: rng.below(window),
            restart: 5 + rng.below(600),
        });
    }
    if rng.chance(1, 3) {
        items.push(Item::SphereletHang {
            host: rng.below(hosts) as u32,
            at: rng.below(window),
            duration: 5 + rng.below(900),
        });
    }
    if rng.chance(1, 3) {
        items.push(Item::ControlPlaneCrash {
            component: 0,
            at: rng.below(window),
            restart: 1 + rng.below(300),
        });
    }
    if let Some(sup) = &scenario.supervisor
        && sup.control_plane.vms > 0
        && rng.chance(1, 3)
    {
        items.push(Item::ControlPlaneVm {
            member: rng.below(u64::from(sup.control_plane.vms)) as u32,
            at: rng.below(window),
        });
    }
    // Drawn after the ones above, so that those keep their draws.
    let components = crate::api::addrs::Part::components().len() as u64;
    if rng.chance(1, 2) {
        items.push(Item::ControlPlaneCrash {
            component: 1 + rng.below(components) as u32,
            at: rng.below(window),
            restart: 1 + rng.below(300),
        });
    }
    if let Some(sup) = &scenario.supervisor
        && !sup.datastores.is_empty()
        && rng.chance(1, 3)
    {
        items.push(Item::DatastoreFailure {
            datastore: rng.below(sup.datastores.len() as u64) as u32,
            at: rng.below(window),
            repair: rng.chance(3, 4).then(|| 60 + rng.below(3600)),
        });
    }
    // A host fault while its own Spherelet is down: what the Spherelet
    // would have been told is lost with its process (independent draws
    // above almost never line the two up).
    if rng.chance(1, 3) {
        let host = rng.below(hosts) as u32;
        let at = rng.below(window);
        let restart = 5 + rng.below(600);
        items.push(Item::SphereletCrash { host, at, restart });
        let during = at + rng.below(restart);
        if rng.chance(1, 2) {
            items.push(Item::Crash {
                host,
                at: during,
                repair: Some(5 + rng.below(restart + 300)),
            });
        } else if hosts > 1 {
            items.push(Item::Partition {
                hosts: vec![host],
                at: during,
                duration: 5 + rng.below(restart + 120),
            });
        }
    }
}

/// The control-plane part a `cp-crash:K` names (K >= 1).
fn component_name(k: u32) -> &'static str {
    let all = crate::api::addrs::Part::components();
    all[(k as usize).saturating_sub(1).min(all.len() - 1)]
}

/// The name of the `index`-th of `supervisor.datastores` (validated).
fn datastore_name(scenario: &Scenario, index: u32) -> String {
    scenario
        .supervisor
        .as_ref()
        .and_then(|s| s.datastores.get(index as usize))
        .map_or_else(|| format!("datastore#{index}"), |d| d.name.clone())
}

fn supervisor_fault(item: &Item, scenario: &Scenario) -> crate::scenario::SupervisorFault {
    use crate::scenario::{SupervisorFault, SupervisorFaultKind as K};
    let secs = |s: u64| SimDuration(s.saturating_mul(S));
    let (at, kind, lasts) = match item {
        Item::SphereletCrash { host, at, restart } => {
            (*at, K::SphereletCrash(HostId(*host)), Some(secs(*restart)))
        }
        Item::SphereletHang { host, at, duration } => {
            (*at, K::SphereletHang(HostId(*host)), Some(secs(*duration)))
        }
        Item::ControlPlaneCrash {
            component: 0,
            at,
            restart,
        } => (
            *at,
            K::ControlPlaneCrash(
                crate::api::addrs::Part::components()
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
            ),
            Some(secs(*restart)),
        ),
        Item::ControlPlaneCrash {
            component,
            at,
            restart,
        } => (
            *at,
            K::ControlPlaneCrash(vec![component_name(*component).to_string()]),
            Some(secs(*restart)),
        ),
        Item::ControlPlaneVm { member, at } => (*at, K::ControlPlaneVm(*member), None),
        Item::DatastoreFailure {
            datastore,
            at,
            repair,
        } => (
            *at,
            K::Datastore(datastore_name(scenario, *datastore)),
            repair.map(secs),
        ),
        other => unreachable!("not a Supervisor fault: {other:?}"),
    };
    SupervisorFault {
        at: SimTime(at.saturating_mul(S)),
        kind,
        lasts,
        location: Default::default(),
    }
}

fn decode_ratio(s: &str) -> Option<Ratio> {
    let (n, d) = s.split_once('/')?;
    let (num, den) = (n.parse().ok()?, d.parse().ok()?);
    (den > 0 && num <= den).then_some(Ratio { num, den })
}

impl Item {
    /// The last second of virtual time the fault names (its start plus
    /// its length, repair or restart); 0 for message rules.
    fn last_second(&self) -> u64 {
        match *self {
            Item::Crash { at, repair, .. } | Item::DatastoreFailure { at, repair, .. } => {
                at.saturating_add(repair.unwrap_or(0))
            }
            Item::Maintenance { at, duration, .. }
            | Item::Slow { at, duration, .. }
            | Item::Partition { at, duration, .. }
            | Item::SphereletHang { at, duration, .. } => at.saturating_add(duration),
            Item::SphereletCrash { at, restart, .. }
            | Item::ControlPlaneCrash { at, restart, .. } => at.saturating_add(restart),
            Item::ControlPlaneVm { at, .. } => at,
            Item::Messages { .. } => 0,
        }
    }
}

fn decode_item(part: &str) -> Option<Item> {
    let (kind, rest) = part.split_once(':')?;
    if kind == "msg" {
        let f: Vec<&str> = rest.split(',').collect();
        if f.len() != 4 {
            return None;
        }
        return Some(Item::Messages {
            drop: decode_ratio(f[0])?,
            delay: decode_ratio(f[1])?,
            delay_mean: f[2].parse().ok()?,
            duplicate: decode_ratio(f[3])?,
        });
    }
    if kind == "slow" {
        let (host, when) = rest.split_once('@')?;
        let (at, tail) = when.split_once('+')?;
        let (duration, factor) = tail.split_once('*')?;
        return Some(Item::Slow {
            host: host.parse().ok()?,
            at: at.parse().ok()?,
            duration: duration.parse().ok()?,
            factor: factor.parse().ok().filter(|f| *f >= 1)?,
        });
    }
    let (hosts, when) = rest.split_once('@')?;
    let (at, extra) = match when.split_once('+') {
        Some((a, e)) => (a.parse().ok()?, Some(e.parse::<u64>().ok()?)),
        None => (when.parse().ok()?, None),
    };
    let hosts: Vec<u32> = hosts
        .split(',')
        .map(|h| h.parse().ok())
        .collect::<Option<_>>()?;
    match (kind, hosts.as_slice()) {
        ("sph-crash", [host]) => Some(Item::SphereletCrash {
            host: *host,
            at,
            restart: extra?,
        }),
        ("sph-hang", [host]) => Some(Item::SphereletHang {
            host: *host,
            at,
            duration: extra?,
        }),
        ("cp-crash", [component]) => Some(Item::ControlPlaneCrash {
            component: *component,
            at,
            restart: extra?,
        })
        .filter(|_| *component as usize <= crate::api::addrs::Part::components().len()),
        ("ds-fail", [datastore]) => Some(Item::DatastoreFailure {
            datastore: *datastore,
            at,
            repair: extra,
        }),
        ("cp-vm", [member]) => Some(Item::ControlPlaneVm {
            member: *member,
            at,
        })
        .filter(|_| extra.is_none()),
        ("crash", [host]) => Some(Item::Crash {
            host: *host,
            at,
            repair: extra,
        }),
        ("maint", [host]) => Some(Item::Maintenance {
            host: *host,
            at,
            duration: extra?,
        }),
        ("part", [_, ..]) => Some(Item::Partition {
            hosts,
            at,
            duration: extra?,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_past_any_scenario_or_malformed_is_refused_saying_why() {
        let e = Profile::decode("crash:1@18446744073709551615").unwrap_err();
        assert!(e.contains("later than a scenario may run"), "{e}");
        let e = Profile::decode("part:1@4000000000+60").unwrap_err();
        assert!(e.contains("4000000060 s"), "{e}");
        assert!(Profile::decode("crash:1@3000+60").is_ok());
        let e = Profile::decode("msg:2/1,0/1,100,0/1").unwrap_err();
        assert!(e.contains("at most 1"), "{e}");
    }

    /// The text a log embeds carries the profile as a comment: it still
    /// parses as the plain scenario, `embedded` finds the profile again,
    /// and a damaged one is named with its line.
    #[test]
    fn an_embedded_profile_is_found_again_and_a_bad_one_has_its_line() {
        let text = "seed: 1\nduration: 1h\ndatacenter:\n  host_models: [{name: m, cpu: 8, memory: 32Gi}]\n  clusters: [{name: c, hosts: [{model: m, count: 2}]}]\n";
        let mut scenario = crate::scenario::parse_scenario(text, "<inline>").unwrap();
        assert_eq!(Profile::embedded(&scenario.source).map(|(l, _)| l), None);
        let profile = Profile::decode("crash:1@60+30").unwrap();
        profile.apply_and_embed(&mut scenario);
        let (line, found) = Profile::embedded(&scenario.source).unwrap();
        assert_eq!((line, found), (6, Ok(profile)));
        let rebuilt = crate::trace::header_scenario(&scenario.source, 9).unwrap();
        assert_eq!(rebuilt.seed, 9);
        assert_eq!(rebuilt.faults.scheduled.len(), 1);
        let bad = scenario.source.replace("crash:1@60+30", "crash:7@60+30");
        let err = crate::trace::header_scenario(&bad, 9)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "<trace header>:6:1: the run's fault profile: fault profile names host 7, but the scenario has 2 hosts"
        );
    }

    #[test]
    fn a_profile_survives_encoding() {
        let p = Profile {
            items: vec![
                Item::Crash {
                    host: 3,
                    at: 7200,
                    repair: Some(600),
                },
                Item::Crash {
                    host: 1,
                    at: 5,
                    repair: None,
                },
                Item::Maintenance {
                    host: 0,
                    at: 10,
                    duration: 600,
                },
                Item::Slow {
                    host: 2,
                    at: 11,
                    duration: 60,
                    factor: 4,
                },
                Item::Partition {
                    hosts: vec![1, 2],
                    at: 99,
                    duration: 30,
                },
                Item::Messages {
                    drop: Ratio { num: 1, den: 1000 },
                    delay: Ratio::ZERO,
                    delay_mean: 2,
                    duplicate: Ratio { num: 1, den: 100 },
                },
                Item::SphereletCrash {
                    host: 2,
                    at: 40,
                    restart: 70,
                },
                Item::SphereletHang {
                    host: 0,
                    at: 41,
                    duration: 300,
                },
                Item::ControlPlaneCrash {
                    component: 0,
                    at: 42,
                    restart: 9,
                },
                Item::ControlPlaneCrash {
                    component: 3,
                    at: 44,
                    restart: 8,
                },
                Item::ControlPlaneVm { member: 1, at: 43 },
                Item::DatastoreFailure {
                    datastore: 1,
                    at: 45,
                    repair: Some(60),
                },
                Item::DatastoreFailure {
                    datastore: 0,
                    at: 46,
                    repair: None,
                },
            ],
        };
        assert_eq!(Profile::decode(&p.encode()).unwrap(), p);
        assert_eq!(Profile::decode("none").unwrap(), Profile::default());
        assert!(Profile::decode("crash:x@1").is_err());
        assert!(Profile::decode("maint:1@1").is_err());
        assert!(Profile::decode("cp-crash:8@1+1").is_err(), "seven parts");
    }
}
