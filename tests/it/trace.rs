//! Trace files: the run→trace→read round trip, exact replay (and its first
//! divergence), what-if replays, inspect and export, and damaged traces:
//! every flipped byte and every truncation is a typed error at the right
//! offset, and salvage keeps exactly the good frames.

use crate::support::{load, pacsim, repo, scenario_path};
use pacsim::event::Record;
use pacsim::run::drive;
use pacsim::scenario::parse_scenario;
use pacsim::sim::RecordSink;
use pacsim::store::codec::Encoding;
use pacsim::store::{EventLog, LogReader};
use pacsim::trace::format::{Damage, HEADER_PREFIX_BYTES};
use pacsim::trace::inspect::{self, Counts, Filter};
use pacsim::trace::source::RecordSource;
use pacsim::trace::verify::{Verdict, verify};
use pacsim::trace::whatif::what_if;
use pacsim::trace::{TraceError, TraceHeader, TraceReader, TraceWriter};
use pacsim::world::World;
use std::ops::ControlFlow;
use std::path::Path;

fn quickstart_trace() -> std::path::PathBuf {
    repo().join("traces").join("quickstart.pstrace")
}

fn read_all(path: &Path) -> Vec<Record> {
    let mut reader = TraceReader::open(path).unwrap();
    reader.records().map(|r| r.unwrap()).collect()
}

fn write_trace(path: &Path, header: &TraceHeader, records: &[Record]) {
    let mut w = TraceWriter::create(path, header).unwrap();
    for r in records {
        w.record(&r.borrowed());
    }
    w.commit().unwrap();
}

#[test]
fn a_run_written_to_a_trace_reads_back_as_the_logs_records_with_the_runs_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (out, trace) = (dir.path().join("log"), dir.path().join("q.pstrace"));
    let scenario = scenario_path("quickstart.yaml");
    let run = pacsim(&[
        "run",
        scenario.to_str().unwrap(),
        "--json",
        "--out",
        out.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    let json = crate::support::stdout_json(&run);

    let log = LogReader::open(&out).unwrap();
    let logged: Vec<Record> = log.records().map(|r| r.unwrap()).collect();
    let mut reader = TraceReader::open(&trace).unwrap();
    let traced: Vec<Record> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(traced, logged);
    let footer = reader.footer().expect("footer read");
    assert_eq!(footer.records, logged.len() as u64);
    assert_eq!(footer.digest.to_string(), json["digest"].as_str().unwrap());
    assert_eq!(footer.digest.to_string(), log.meta().digest);
    assert_eq!(reader.header().scenario, load(&scenario).source);
}

/// `pacsim export SOURCE` into `dir` writes exactly the committed
/// quickstart trace.
fn assert_exports_to_the_quickstart_trace(source: &Path, dir: &Path) {
    let exported = dir.join("e.pstrace");
    let o = pacsim(&[
        "export",
        source.to_str().unwrap(),
        "-o",
        exported.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(&exported).unwrap(),
        std::fs::read(quickstart_trace()).unwrap()
    );
}

#[test]
fn exporting_a_log_gives_the_same_trace_bytes_and_jsonl_has_one_line_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("log");
    let scenario = load(&scenario_path("quickstart.yaml"));
    let log = EventLog::create(&out, &scenario.source, scenario.seed).unwrap();
    pacsim::run::simulate(&scenario, log, |_, _| {}).unwrap();

    assert_exports_to_the_quickstart_trace(&out, dir.path());

    let jsonl = dir.path().join("e.jsonl");
    let o = pacsim(&[
        "export",
        out.to_str().unwrap(),
        "-o",
        jsonl.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    assert!(o.status.success());
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records = read_all(&quickstart_trace());
    assert_eq!(lines.len(), 1 + records.len());
    assert_eq!(lines[0]["pacsim_trace"]["seed"], 42);
    assert_eq!(lines[1]["seq"], 0);
    assert_eq!(lines[records.len()]["seq"], records.len() as u64 - 1);
    assert!(!lines[1]["to_name"].as_str().unwrap().starts_with("actor#"));
}

#[test]
fn a_traced_run_is_checked_like_any_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let quickstart = scenario_path("quickstart.yaml");
    let quickstart = quickstart.to_str().unwrap();
    let checks = |extra: &[&str]| {
        let out = pacsim(&[&["run", quickstart, "--no-persist", "--json"][..], extra].concat());
        assert!(out.status.success());
        crate::support::stdout_json(&out)["invariant_checks"].clone()
    };
    let traced = checks(&["--trace", &path("q.pstrace")]);
    assert_eq!(traced, checks(&[]));
    assert!(traced.as_u64().unwrap() >= 1, "{traced}");

    // With --check, a planted bug stops the run at its violation; the
    // trace is kept, and holds what the log holds.
    let ha = std::fs::read_to_string(scenario_path("ha-small.yaml")).unwrap();
    let buggy = path("buggy.yaml");
    std::fs::write(&buggy, ha + "debug: {placement_ignores_memory: true}\n").unwrap();
    let (log, trace) = (path("log"), path("b.pstrace"));
    let args = ["run", &buggy, "--seed", "3", "--check", "--out", &log];
    let out = pacsim(&[&args[..], &["--trace", &trace]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("invariant `host-capacity` violated"),
        "{stderr}"
    );
    let logged: Vec<Record> = (LogReader::open(Path::new(&log)).unwrap().records())
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(read_all(Path::new(&trace)), logged);
}

/// Runs the real `pacsim` with its temporary folder in `tmp`.
fn pacsim_with_tmp(args: &[&str], tmp: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pacsim"))
        .args(args)
        .env("TMPDIR", tmp)
        .output()
        .expect("pacsim runs")
}

#[test]
fn replay_and_plan_take_a_log_folder_as_they_take_its_trace_and_leave_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (tmp, log) = (dir.path().join("tmp"), dir.path().join("log"));
    std::fs::create_dir(&tmp).unwrap();
    let scenario = load(&scenario_path("quickstart.yaml"));
    let events = EventLog::create(&log, &scenario.source, scenario.seed).unwrap();
    pacsim::run::simulate(&scenario, events, |_, _| {}).unwrap();
    let (log, trace) = (log.to_str().unwrap(), quickstart_trace());
    let trace = trace.to_str().unwrap();

    let verified = pacsim_with_tmp(&["replay", log, "--verify"], &tmp);
    let stdout = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{stdout}");
    let from_trace = pacsim(&["replay", trace, "--verify"]);
    // The same count and digest (the wall time line differs).
    let lines = |o: &[u8]| -> Vec<String> {
        let text = String::from_utf8_lossy(o);
        text.lines().take(2).map(str::to_string).collect()
    };
    assert_eq!(lines(&verified.stdout), lines(&from_trace.stdout));
    assert!(stdout.contains("2782 records, identical"), "{stdout}");

    let what_if = ["--what-if", "hosts=4", "policy=first-fit"];
    let from_log = pacsim_with_tmp(&[&["replay", log][..], &what_if].concat(), &tmp);
    let from_trace = pacsim(&[&["replay", trace][..], &what_if].concat());
    assert!(from_log.status.success());
    assert_eq!(from_log.stdout, from_trace.stdout);

    let plan = |input: &str| {
        let args = ["plan", input, "--model", "r650", "--seeds", "1", "--json"];
        let out = pacsim_with_tmp(&args, &tmp);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let mut report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report.as_object_mut().unwrap().remove("wall_seconds");
        report
    };
    assert_eq!(plan(log), plan(trace));

    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn every_committed_trace_passes_replay_verify() {
    let mut seen = 0;
    for entry in std::fs::read_dir(repo().join("traces")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pstrace") {
            match verify(&path, false, |_, _| {}).unwrap() {
                Verdict::Match { records, .. } => assert!(records > 0),
                other => panic!("{} does not verify: {other:?}", path.display()),
            }
            seen += 1;
        }
    }
    assert!(seen >= 2, "traces/ holds the committed traces");
}

/// A trace in the first record encoding (bincode, every field whole),
/// as pacsim wrote before the delta encoding: it reads back as the same
/// records, replays to a match under its own digest, and exports to the
/// current encoding, byte for byte the trace a run writes today.
#[test]
fn a_trace_in_the_bincode_encoding_reads_replays_and_exports_to_todays_bytes() {
    let legacy = repo().join("tests/fixtures/legacy/quickstart-bincode.pstrace");
    let reader = TraceReader::open(&legacy).unwrap();
    assert_eq!(reader.encoding(), Encoding::Bincode);
    assert_eq!(read_all(&legacy), read_all(&quickstart_trace()));
    match verify(&legacy, false, |_, _| {}).unwrap() {
        Verdict::Match { records, digest } => {
            assert_eq!(records, 2_782);
            assert_eq!(
                digest.to_string(),
                "ecee3c92362593ed01e95ac9277b7e11c8798eabc5cc3ce89b2bd743aa9138f2"
            );
        }
        other => panic!("the bincode trace does not verify: {other:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    assert_exports_to_the_quickstart_trace(&legacy, dir.path());
}

#[test]
fn verify_reports_the_first_altered_record_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("altered.pstrace");
    let header = TraceReader::open(&quickstart_trace())
        .unwrap()
        .header()
        .clone();
    let mut records = read_all(&quickstart_trace());
    records[1234].at.0 += 1;
    // A fully valid file (checksums, footer digest): only the content differs.
    write_trace(&path, &header, &records);
    match verify(&path, false, |_, _| {}).unwrap() {
        Verdict::Diverged(d) => {
            assert_eq!(d.seq, 1234);
            assert_eq!(d.trace.unwrap().unwrap(), records[1234]);
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
    let o = pacsim(&["replay", path.to_str().unwrap(), "--verify"]);
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("diverged at record #1234"), "{stdout}");

    let o = pacsim(&["replay", quickstart_trace().to_str().unwrap(), "--verify"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("verified   2782 records"));
}

#[test]
fn verify_reports_a_trace_that_ends_early_or_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let header = TraceReader::open(&quickstart_trace())
        .unwrap()
        .header()
        .clone();
    let records = read_all(&quickstart_trace());
    let short = dir.path().join("short.pstrace");
    write_trace(&short, &header, &records[..100]);
    match verify(&short, false, |_, _| {}).unwrap() {
        Verdict::Diverged(d) => {
            assert_eq!(d.seq, 100);
            assert!(d.trace.unwrap().is_none());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn what_if_refuses_a_host_model_of_nothing_as_a_scenario_does() {
    for (change, field) in [
        ("model.r650.cpu=0", "cpu"),
        ("model.r650.memory=0Gi", "memory"),
    ] {
        let Err(e) = what_if(&quickstart_trace(), &[change.into()], false) else {
            panic!("{change} was accepted");
        };
        let e = e.to_string();
        assert!(
            e.contains(&format!("{field} must be greater than zero")),
            "{e}"
        );
    }
    assert!(what_if(&quickstart_trace(), &["model.r650.cpu=32".into()], false).is_ok());
}

#[test]
fn what_if_with_the_same_configuration_reproduces_the_original_run() {
    let w = what_if(&quickstart_trace(), &[], false).unwrap();
    assert_eq!(w.dropped, 0);
    let (a, b) = (w.original.to_json(), w.what_if.to_json());
    for key in [
        "events",
        "digest",
        "vms",
        "hosts",
        "peak_allocated",
        "utilization",
    ] {
        assert_eq!(a[key], b[key], "{key}");
    }
    let w = what_if(&quickstart_trace(), &["policy=drs".into()], false).unwrap();
    assert_eq!(
        w.original.to_json()["digest"],
        w.what_if.to_json()["digest"]
    );
}

#[test]
fn what_if_with_fewer_hosts_rejects_more_and_drops_crashes_of_missing_hosts() {
    let w = what_if(&quickstart_trace(), &["hosts=2".into()], false).unwrap();
    assert_eq!(w.what_if.hosts.count, 2);
    assert_eq!(w.original.vms.requested, w.what_if.vms.requested);
    assert!(w.what_if.vms.rejected > w.original.vms.rejected + 100);
    // The scheduled crash and repair of esx-03 have no host to go to.
    assert_eq!(w.dropped, 2);

    let more = what_if(
        &quickstart_trace(),
        &[
            "hosts=10".into(),
            "model.r650.cpu=8".into(),
            "policy=first-fit".into(),
        ],
        false,
    )
    .unwrap();
    assert_eq!(more.what_if.hosts.count, 10);
    assert_eq!(more.what_if.policy, "first-fit");
    assert!(more.what_if.vms.rejected > 0);

    for bad in [
        "hosts=0",
        "policy=random",
        "model.nope.cpu=4",
        "color=red",
        "hosts",
    ] {
        assert!(
            what_if(&quickstart_trace(), &[bad.into()], false).is_err(),
            "{bad}"
        );
    }
    let o = pacsim(&[
        "replay",
        quickstart_trace().to_str().unwrap(),
        "--what-if",
        "hosts=x",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn what_if_json_has_both_summaries() {
    let o = pacsim(&[
        "replay",
        quickstart_trace().to_str().unwrap(),
        "--what-if",
        "hosts=4",
        "--json",
    ]);
    let json = crate::support::stdout_json(&o);
    assert_eq!(json["original"]["hosts"]["count"], 8);
    assert_eq!(json["what_if"]["hosts"]["count"], 4);
}

fn quickstart_names() -> Vec<String> {
    let header = TraceReader::open(&quickstart_trace())
        .unwrap()
        .header()
        .clone();
    let s = parse_scenario(&header.scenario, "x").unwrap();
    World::build(&s).names
}

fn matching(filter: &Filter) -> Vec<Record> {
    let mut out = Vec::new();
    RecordSource::at(&quickstart_trace())
        .for_each(false, |r| {
            if filter.matches(&r) {
                out.push(r);
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    out
}

#[test]
fn inspect_filters_and_counts_give_the_known_quickstart_answers() {
    let names = quickstart_names();
    let esx03 = inspect::resolve_actor("host/esx-03", Some(&names)).unwrap();
    let filter = Filter {
        actor: Some(esx03),
        from: Some(inspect::parse_time("6h").unwrap()),
        until: Some(inspect::parse_time("7h").unwrap()),
        kinds: Some(inspect::parse_kinds("HostCrash,HostRepair,HostDown").unwrap()),
        ..Filter::default()
    };
    let kinds: Vec<&str> = matching(&filter).iter().map(|r| r.event.kind()).collect();
    assert_eq!(kinds, ["HostCrash", "HostDown"]);

    let vm7 = matching(&Filter {
        vm: Some(pacsim::model::VmId(7)),
        ..Filter::default()
    });
    assert_eq!(vm7[0].event.kind(), "VmRequested");
    assert!(
        vm7.iter()
            .all(|r| inspect::vm_of(&r.event) == Some(pacsim::model::VmId(7)))
    );

    let mut counts = Counts::default();
    for r in read_all(&quickstart_trace()) {
        counts.add(&r);
    }
    assert_eq!(counts.total, 2782);
    assert_eq!(counts.kinds["VmRequested"], 706);
    assert_eq!(counts.kinds["VmPowerOn"], 784);
    assert_eq!(counts.kinds["HostCrash"], 1);
    assert_eq!(counts.kinds["Start"], 8);
    assert_eq!(counts.actors[&pacsim::model::ActorId(0)], 1347);
    assert!(inspect::parse_kinds("VmPowerOn,Nope").is_err());
    assert!(inspect::resolve_actor("host/esx-99", Some(&names)).is_err());
}

/// `--kind` takes the Supervisor's message kinds too, the names `--counts`
/// shows for them (before, only the plain events' were accepted).
#[test]
fn inspect_filters_by_the_supervisors_message_kinds() {
    let kinds = inspect::parse_kinds("WatchEvent, nodeheartbeat,VmPowerOn").unwrap();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["NodeHeartbeat", "VmPowerOn", "WatchEvent"]
    );
    let err = inspect::parse_kinds("Nope").unwrap_err();
    assert!(err.contains("or of the Supervisor's: ApiCall, "), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let s = scenario_path("supervisor-basic.yaml");
    let o = pacsim(&["run", s.to_str().unwrap(), "--out", log.to_str().unwrap()]);
    assert!(o.status.code().is_some());
    let o = pacsim(&[
        "inspect",
        log.to_str().unwrap(),
        "--kind",
        "SupPlaced",
        "--to",
        "1s",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.lines().count() >= 3
            && stdout
                .lines()
                .all(|l| l.contains("Placed { vm: vm-") && l.contains(", host: esx-")),
        "{stdout}"
    );
}

#[test]
fn a_cause_chain_runs_from_an_external_input_to_the_record() {
    let source = RecordSource::at(&quickstart_trace());
    let chain = inspect::cause_chain(&source, 565, false).unwrap();
    let seqs: Vec<u64> = chain.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [564, 565]);
    assert_eq!(chain[0].event, pacsim::event::Event::HostCrash);
    assert_eq!(chain[0].cause, None);

    // A power-on is caused by its request, or by a host going down.
    let records = read_all(&quickstart_trace());
    let power_on = records
        .iter()
        .rev()
        .find(|r| r.event.kind() == "VmPowerOn")
        .unwrap();
    let chain = inspect::cause_chain(&source, power_on.seq, false).unwrap();
    assert_eq!(chain.last().unwrap(), power_on);
    assert_eq!(chain[0].cause, None);
    for pair in chain.windows(2) {
        assert_eq!(pair[1].cause, Some(pair[0].seq));
    }
    assert!(inspect::cause_chain(&source, 1_000_000, false).is_err());

    let o = pacsim(&[
        "inspect",
        quickstart_trace().to_str().unwrap(),
        "--cause-chain",
        "565",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.lines().count(), 2);
    assert!(
        text.contains("06:00:00  faults -> host/esx-03  HostCrash  (input)"),
        "{text}"
    );
}

/// A small trace with many small frames, its bytes, and where each frame
/// starts with the records it holds.
struct Small {
    bytes: Vec<u8>,
    header_end: u64,
    /// (frame start offset, records in all frames before it).
    frames: Vec<(u64, u64)>,
    records: Vec<Record>,
}

fn small_trace() -> Small {
    let text = std::fs::read_to_string(scenario_path("quickstart.yaml"))
        .unwrap()
        .replace("duration: 24h", "duration: 2h");
    let scenario = parse_scenario(&text, "small").unwrap();
    let header = TraceHeader::new(&scenario.source, scenario.seed);
    let mut w = TraceWriter::new(Vec::new(), Path::new("small"), &header)
        .unwrap()
        .with_frame_bytes(200);
    drive(World::build(&scenario), &mut w, |_, _, _| true);
    let (bytes, _) = w.finish().unwrap();
    let header_end = (HEADER_PREFIX_BYTES + header.encode().len() - HEADER_PREFIX_BYTES) as u64;
    let mut reader = TraceReader::new(&bytes[..], Path::new("small")).unwrap();
    let records: Vec<Record> = reader.records().map(|r| r.unwrap()).collect();
    let mut frames = Vec::new();
    let (mut at, mut before) = (header_end as usize, 0u64);
    while at < bytes.len() {
        frames.push((at as u64, before));
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if bytes[at + 8] == 1 {
            before += u32::from_le_bytes(bytes[at + 9..at + 13].try_into().unwrap()) as u64;
        }
        at += 8 + len;
    }
    assert!(frames.len() > 8, "many frames: {}", frames.len());
    Small {
        bytes,
        header_end,
        frames,
        records,
    }
}

/// Reads `bytes` as a salvaging reader would: the records of the good
/// frames, and the error that ended reading.
fn read_damaged(bytes: &[u8]) -> Result<(Vec<Record>, TraceError), TraceError> {
    let mut reader = TraceReader::new(bytes, Path::new("damaged"))?;
    let mut kept = Vec::new();
    for r in reader.records() {
        match r {
            Ok(r) => kept.push(r),
            Err(e) => {
                let salvage = reader.salvage(e, Some(bytes.len() as u64));
                assert_eq!(salvage.records_kept, kept.len() as u64);
                return Ok((kept, salvage.error));
            }
        }
    }
    panic!("damage went unnoticed");
}

impl Small {
    /// The frame holding byte `offset`: its start and the records before it.
    fn frame_at(&self, offset: u64) -> (u64, u64) {
        *self
            .frames
            .iter()
            .rev()
            .find(|(start, _)| *start <= offset)
            .expect("offset is after the header")
    }
}

#[test]
fn every_flipped_byte_is_a_typed_error_at_its_frame_and_salvage_keeps_the_frames_before() {
    let small = small_trace();
    for offset in 0..small.bytes.len() {
        let mut bytes = small.bytes.clone();
        // Vary the flipped bits deterministically with the offset.
        bytes[offset] ^= 1 << (offset % 8);
        let result = read_damaged(&bytes);
        if (offset as u64) < small.header_end {
            let e = result.expect_err("a damaged header is an error");
            assert!(e.damage().is_none(), "header damage at {offset}: {e}");
            continue;
        }
        let (kept, e) = result.expect("the header is intact");
        let (start, before) = small.frame_at(offset as u64);
        assert_eq!(e.offset(), Some(start), "flip at {offset}: {e}");
        assert!(
            matches!(
                e.damage(),
                Some(Damage::Checksum | Damage::Length | Damage::Truncated)
            ),
            "flip at {offset}: {e}"
        );
        assert_eq!(
            kept.as_slice(),
            &small.records[..before as usize],
            "flip at {offset}"
        );
        assert!(e.to_string().contains(&format!("byte {start}")));
        assert!(e.to_string().contains(&format!("record #{before}")));
    }
}

#[test]
fn every_truncation_is_a_typed_error_and_salvage_keeps_the_whole_frames() {
    let small = small_trace();
    for len in 0..small.bytes.len() {
        let result = read_damaged(&small.bytes[..len]);
        if (len as u64) < small.header_end {
            assert!(result.is_err(), "cut at {len}");
            continue;
        }
        let (kept, e) = result.expect("the header is intact");
        let (start, before) = small.frame_at(len as u64);
        assert_eq!(e.damage(), Some(Damage::Truncated), "cut at {len}: {e}");
        assert_eq!(e.offset(), Some(start), "cut at {len}: {e}");
        assert_eq!(
            kept.as_slice(),
            &small.records[..before as usize],
            "cut at {len}"
        );
    }
}

#[test]
fn bytes_after_the_footer_are_damage_and_salvage_keeps_every_record() {
    let small = small_trace();
    let mut longer = small.bytes.clone();
    longer.push(0);
    let (kept, e) = read_damaged(&longer).unwrap();
    assert_eq!(e.damage(), Some(Damage::Trailing));
    assert_eq!(e.offset(), Some(small.bytes.len() as u64));
    assert_eq!(kept, small.records);

    // The CLI counts the junk, not the footer before it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.pstrace");
    let mut bytes = std::fs::read(quickstart_trace()).unwrap();
    bytes.extend_from_slice(b"junk!");
    std::fs::write(&path, &bytes).unwrap();
    let o = pacsim(&["inspect", path.to_str().unwrap(), "--counts", "--salvage"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "salvaged all 2782 records in 2 frames, and the footer; lost the 5 bytes after it"
        ),
        "{stderr}"
    );
}

#[test]
fn the_cli_names_the_damage_and_salvages_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pstrace");
    let bytes = std::fs::read(repo().join("traces").join("churn-1h.pstrace")).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let p = path.to_str().unwrap();

    let o = pacsim(&["replay", p, "--verify"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("damaged trace at byte") && err.contains("frame 1"),
        "{err}"
    );

    let o = pacsim(&["replay", p, "--verify", "--salvage"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("salvaged") && out.contains("lost"), "{out}");

    let o = pacsim(&["inspect", p, "--counts", "--salvage"]);
    assert_eq!(o.status.code(), Some(0));
    let o = pacsim(&[
        "export",
        p,
        "-o",
        dir.path().join("x.jsonl").to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    assert_eq!(o.status.code(), Some(2));

    std::fs::write(&path, b"not a trace at all").unwrap();
    let o = pacsim(&["inspect", p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a pacsim trace"));
}

/// `run --fault-profile` adds faults that the scenario file does not have:
/// the text the log and the trace embed records the profile, so `replay
/// --verify` re-runs the same world and `inspect` names its actors (here
/// the fault source that the profile alone brings). Before, the embedded
/// text was the bare file: verify diverged at record #0, and inspect
/// named every actor after the fault source by its neighbour's name.
#[test]
fn a_run_with_a_fault_profile_replays_and_inspects_as_it_ran() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.yaml");
    std::fs::write(
        &file,
        "seed: 3
duration: 2h
datacenter:
  host_models: [{name: m, cpu: 16, memory: 64Gi}]
  clusters: [{name: c, hosts: [{model: m, count: 3}]}]
workloads:
  generators:
    - {name: g, rate: 1/min, lifetime: exp(20m), sizes: [{cpu: 2, memory: 4Gi}]}
",
    )
    .unwrap();
    let (log, trace) = (dir.path().join("log"), dir.path().join("t.pstrace"));
    let o = pacsim(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        log.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
        "--fault-profile",
        "crash:1@1800+600",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    match verify(&trace, false, |_, _| {}).unwrap() {
        Verdict::Match { records, .. } => assert!(records > 0),
        other => panic!("the run does not verify: {other:?}"),
    }
    let o = pacsim(&["inspect", log.to_str().unwrap(), "--kind", "HostCrash"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("00:30:00  faults -> host/esx-02  HostCrash"),
        "{stdout}"
    );
}

/// `run --workload-trace` replaces the scenario's workloads with a trace's
/// VMs: the embedded text names the trace and the blake3 of the VMs read,
/// so `replay --verify` re-reads the same VMs and reproduces the run, and
/// says plainly when the trace gives other VMs or is gone. Before, verify
/// re-ran the scenario's own generators and diverged at record #0.
#[test]
fn a_run_with_a_workload_trace_replays_from_the_same_file_and_names_a_changed_one() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["v1.dev.txt", "flav_map.txt", "v1.interval_map.txt"] {
        let from = repo().join("traces/azure-bins-slice").join(file);
        std::fs::copy(from, dir.path().join(file)).unwrap();
    }
    let slice = dir.path().join("v1.dev.txt");
    let trace = dir.path().join("t.pstrace");
    let spec = format!("azure-bins:{}", slice.display());
    let o = pacsim(&[
        "run",
        scenario_path("quickstart.yaml").to_str().unwrap(),
        "--no-persist",
        "--workload-trace",
        &spec,
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(
        o.status.code().is_some(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    match verify(&trace, false, |_, _| {}).unwrap() {
        Verdict::Match { records, .. } => assert!(records > 10_000),
        other => panic!("the run does not verify: {other:?}"),
    }
    let text = std::fs::read_to_string(&slice).unwrap();
    std::fs::write(&slice, text.replacen(",g,", ",b,", 1)).unwrap();
    let changed = verify(&trace, false, |_, _| {}).unwrap_err().to_string();
    assert!(changed.contains("which gives other VMs now"), "{changed}");
    std::fs::remove_file(&slice).unwrap();
    let gone = verify(&trace, false, |_, _| {}).unwrap_err().to_string();
    assert!(gone.contains("which cannot be read here"), "{gone}");

    // inspect still shows the records, actors by number, and says why.
    let t = trace.to_str().unwrap();
    let o = pacsim(&["inspect", t, "--vm", "3"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(
        o.status.success() && stdout.contains("VmRequested vm-3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: actors are shown by number")
            && stderr.contains("which cannot be read here"),
        "{stderr}"
    );
    let o = pacsim(&["inspect", t, "--actor", "placement"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("name it by number, `actor#N`"), "{stderr}");
}

/// A trace that `export --salvage` made from a damaged one ends where the
/// damage was; its header says so, and `replay --verify` checks the records
/// up to there. Before, verify reported a divergence at the record after
/// the last ("the run delivered, the trace ended") and exited 1.
#[test]
fn a_salvaged_export_verifies_up_to_where_it_ends_and_still_catches_a_changed_record() {
    let dir = tempfile::tempdir().unwrap();
    let (cut, salvaged) = (dir.path().join("cut.pstrace"), dir.path().join("s.pstrace"));
    let bytes = std::fs::read(repo().join("traces").join("churn-1h.pstrace")).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (c, s) = (cut.to_str().unwrap(), salvaged.to_str().unwrap());
    let o = pacsim(&["export", c, "-o", s, "--salvage"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("salvaged"));

    let records = read_all(&salvaged);
    let n = records.len();
    assert!(n > 1000 && n < read_all(&repo().join("traces/churn-1h.pstrace")).len());
    match verify(&salvaged, false, |_, _| {}).unwrap() {
        Verdict::EndsSalvaged { records, .. } => assert_eq!(records, n as u64),
        other => panic!("{other:?}"),
    }
    let o = pacsim(&["replay", s, "--verify"]);
    assert_eq!(o.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let expected =
        format!("the trace ends at record {n} (salvaged); all {n} records match the re-run");
    assert!(stdout.contains(&expected), "{stdout}");

    // The same salvaged header over records one of which differs.
    let header = TraceReader::open(&salvaged).unwrap().header().clone();
    let mut altered = records.clone();
    altered[n / 2].at.0 += 1;
    let changed = dir.path().join("changed.pstrace");
    write_trace(&changed, &header, &altered);
    let o = pacsim(&["replay", changed.to_str().unwrap(), "--verify"]);
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(&format!("diverged at record #{}", n / 2)),
        "{stdout}"
    );
    // And over fewer records than it says: the trace ends early.
    let short = dir.path().join("short.pstrace");
    write_trace(&short, &header, &records[..n - 1]);
    match verify(&short, false, |_, _| {}).unwrap() {
        Verdict::Diverged(d) => assert_eq!(d.seq, n as u64 - 1),
        other => panic!("{other:?}"),
    }
}

/// A what-if into a smaller world drops the recorded inputs that name a
/// host it lacks (a maintenance window, a partition's detection), as it
/// drops those sent to one: it panicked on them.
#[test]
fn what_if_fewer_hosts_drops_inputs_naming_a_host_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_path("ha-small.yaml");
    for profile in ["maint:6@20000+600", "part:5@30000+60"] {
        let trace = dir.path().join("t.pstrace");
        let _ = std::fs::remove_file(&trace);
        let o = pacsim(&[
            "run",
            scenario.to_str().unwrap(),
            "--no-persist",
            "--fault-profile",
            profile,
            "--trace",
            trace.to_str().unwrap(),
        ]);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{profile}");
        let o = pacsim(&["replay", trace.to_str().unwrap(), "--what-if", "hosts=4"]);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{profile}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(stdout.contains("(hosts that no longer exist)"), "{stdout}");
    }
}

/// The trace of a run an invariant stopped (`run --check`, the planted
/// bug of faults-and-fuzzing.md) verifies: the re-run, with its checks,
/// stops at the same record. It was reported as a divergence where the
/// trace ends.
#[test]
fn the_trace_of_a_run_an_invariant_stopped_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let buggy = dir.path().join("buggy.yaml");
    let text = std::fs::read_to_string(scenario_path("ha-small.yaml")).unwrap();
    std::fs::write(&buggy, text + "debug: {placement_ignores_memory: true}\n").unwrap();
    let trace = dir.path().join("fail.pstrace");
    let o = pacsim(&[
        "run",
        buggy.to_str().unwrap(),
        "--seed",
        "3",
        "--check",
        "--no-persist",
        "--fault-profile",
        "crash:4@3171+3117",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "the planted bug stops the run");
    let o = pacsim(&["replay", trace.to_str().unwrap(), "--verify"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("identical, to where invariant `host-capacity` stopped the run"),
        "{stdout}"
    );
    // A trace cut to fewer records is still a divergence, not a stop.
    let short = dir.path().join("short.pstrace");
    let records: Vec<_> = read_all(&trace);
    let header = TraceReader::open(&trace).unwrap().header().clone();
    write_trace(&short, &header, &records[..records.len() - 5]);
    let o = pacsim(&["replay", short.to_str().unwrap(), "--verify"]);
    assert_eq!(o.status.code(), Some(1));
}

/// Filters that can select nothing by mistake are refused, not answered
/// with an empty listing: an actor number past the world's, an empty
/// `--kind`, a window whose end is not after its start.
#[test]
fn inspect_refuses_filters_that_select_nothing_by_mistake() {
    let trace = quickstart_trace();
    for (args, says) in [
        (vec!["--actor", "999999"], "no actor #999999"),
        (vec!["--kind", ""], "names no kind"),
        (vec!["--from", "7h", "--to", "6h"], "is not after --from"),
    ] {
        let mut all = vec!["inspect", trace.to_str().unwrap()];
        all.extend(args.iter().copied());
        let o = pacsim(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(says),
            "{args:?}"
        );
    }
    let o = pacsim(&[
        "inspect",
        trace.to_str().unwrap(),
        "--actor",
        "3",
        "--counts",
    ]);
    assert_eq!(o.status.code(), Some(0));
}
