//! Importers of real public traces: each format read from the real files in
//! ../shared/traces (or the committed slice in traces/), checked against
//! counts and demand figures computed here from the raw file with plain code
//! (never with the importer); bad rows; lifetime-in-bin; exported scenarios
//! re-parse and run.

use super::support::{pacsim, repo};
use flate2::read::MultiGzDecoder;
use pacsim::import::export::{ExportOptions, scenario_yaml};
use pacsim::import::{ImportOptions, ImportedWorkload, LifetimeInBin, TraceFormat, import};
use pacsim::scenario::ExplicitVm;
use std::io::Read;
use std::path::{Path, PathBuf};

const NS: u64 = 1_000_000_000;

fn shared(rel: &str) -> PathBuf {
    repo().join("../shared/traces").join(rel)
}

fn read_text(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("trace readable");
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .expect("gzip");
        s
    } else {
        String::from_utf8(bytes).expect("utf-8")
    }
}

fn run(format: TraceFormat, path: &Path, opts: &ImportOptions) -> ImportedWorkload {
    import(format, path, opts).unwrap_or_else(|e| panic!("import failed: {e}"))
}

/// Millicores of the imported VMs alive at `t_ns` ([at, delete_at)).
fn cpu_alive_at(vms: &[ExplicitVm], t_ns: u64) -> u64 {
    vms.iter()
        .filter(|v| v.at.0 <= t_ns && v.delete_at.is_none_or(|d| t_ns < d.0))
        .map(|v| v.size.cpu_millis)
        .sum()
}

/// Peak of concurrent `amount` over intervals [start, end) (end None = open),
/// ends before starts at equal times: a plain sweep over the raw numbers.
fn peak(intervals: &[(u64, Option<u64>, u64)]) -> u64 {
    let mut steps: Vec<(u64, i8, u64)> = Vec::new();
    for &(s, e, amount) in intervals {
        steps.push((s, 1, amount));
        if let Some(e) = e {
            steps.push((e, -1, amount));
        }
    }
    steps.sort();
    let (mut now, mut best) = (0i128, 0i128);
    for (_, sign, amount) in steps {
        now += i128::from(sign) * amount as i128;
        best = best.max(now);
    }
    best as u64
}

fn imported_intervals(vms: &[ExplicitVm]) -> Vec<(u64, Option<u64>, u64)> {
    vms.iter()
        .map(|v| (v.at.0, v.delete_at.map(|d| d.0), v.size.cpu_millis))
        .collect()
}

#[test]
fn azure_vmtable_fixture_matches_the_raw_rows() {
    let path = shared("azure-v1-raw-format-fixture-opendc/vmtable.csv.gz");
    let w = run(TraceFormat::AzureVmtable, &path, &ImportOptions::default());
    let raw = read_text(&path);
    let rows: Vec<Vec<&str>> = raw.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(w.vms.len(), rows.len());
    let censored = rows.iter().filter(|r| r[4] == "2591700").count();
    assert_eq!(w.censored as usize, censored);
    for t_s in [0u64, 2_290_600, 2_291_000] {
        let expected: u64 = rows
            .iter()
            .filter(|r| {
                let (c, d): (u64, u64) = (r[3].parse().unwrap(), r[4].parse().unwrap());
                c <= t_s && (d == 2_591_700 || t_s < d)
            })
            .map(|r| r[9].parse::<u64>().unwrap() * 1000)
            .sum();
        assert_eq!(cpu_alive_at(&w.vms, t_s * NS), expected, "at {t_s} s");
    }
}

/// The first `lines` lines of a Huawei split: (VM count, censored, total
/// cores, and (start s, lifetime bin or None, cores) per VM).
type RawBins = (usize, usize, u64, Vec<(u64, Option<usize>, u64)>);

fn raw_bins(dir: &Path, lines: usize) -> RawBins {
    let flav: Vec<(String, u64)> = read_text(&dir.join("flav_map.txt"))
        .lines()
        .map(|l| {
            let (shape, letter) = l.split_once(' ').unwrap();
            (
                letter.to_string(),
                shape.split(',').next().unwrap().parse().unwrap(),
            )
        })
        .collect();
    let arrivals = read_text(&dir.join("v1.dev.txt"));
    let lifetimes = read_text(&dir.join("v1.dev.c2100000.txt"));
    let mut vms = Vec::new();
    let (mut censored, mut cores) = (0, 0);
    for (a, l) in arrivals.lines().zip(lifetimes.lines()).take(lines) {
        let (t, toks) = a.split_once(' ').unwrap();
        let t: u64 = t.parse().unwrap();
        let lives: Vec<&str> = l.split_once(' ').unwrap().1.split(',').collect();
        for (tok, life) in toks.split(',').zip(lives) {
            if tok == "|" || tok.is_empty() {
                continue;
            }
            let c = flav.iter().find(|(f, _)| f == tok).unwrap().1;
            cores += c;
            let bin = life.strip_prefix('U').map(|b| b.parse().unwrap());
            censored += usize::from(bin.is_none());
            vms.push((t, bin, c));
        }
    }
    (vms.len(), censored, cores, vms)
}

/// Per bin: (lowest, highest) lifetime listed in the interval map.
fn raw_bin_table(dir: &Path) -> Vec<(u64, u64)> {
    let mut bins: Vec<(u64, u64)> = Vec::new();
    for l in read_text(&dir.join("v1.interval_map.txt")).lines() {
        let (s, b) = l.split_once(' ').unwrap();
        let (s, b): (u64, usize) = (s.parse().unwrap(), b.parse().unwrap());
        if b == bins.len() {
            bins.push((s, s));
        }
        bins[b].1 = s;
    }
    bins
}

#[test]
fn azure_bins_counts_and_peak_cores_match_the_raw_lines() {
    let dir = shared("azure-v1-vm-arrivals-huawei");
    let opts = ImportOptions {
        limit: Some(40),
        ..ImportOptions::default()
    };
    let w = run(TraceFormat::AzureBins, &dir.join("v1.dev.txt"), &opts);
    let (count, censored, cores, raw) = raw_bins(&dir, 40);
    let table = raw_bin_table(&dir);
    // Mid of [lo, hi + 300 s); U0 (mid 150 s) is kept.
    let intervals: Vec<(u64, Option<u64>, u64)> = raw
        .iter()
        .map(|&(t, bin, c)| {
            let start = (t - 1_800_000) * NS;
            let life = bin.map(|b| (table[b].0 + (table[b].1 + 300 - table[b].0) / 2) * NS);
            (start, life.map(|l| start + l), c * 1000)
        })
        .collect();
    assert_eq!((w.vms.len(), w.censored as usize), (count, censored));
    assert_eq!(w.rows_read, 40);
    let total: u64 = w.vms.iter().map(|v| v.size.cpu_millis).sum();
    assert_eq!(total, cores * 1000);
    assert_eq!(peak(&imported_intervals(&w.vms)), peak(&intervals));
}

#[test]
fn azure_bins_lifetime_in_bin_picks_lower_mid_or_upper() {
    let slice = repo().join("traces/azure-bins-slice/v1.dev.txt");
    let with = |point| {
        let opts = ImportOptions {
            lifetime_in_bin: point,
            limit: Some(5),
            ..ImportOptions::default()
        };
        run(TraceFormat::AzureBins, &slice, &opts)
    };
    let (lower, mid, upper) = (
        with(LifetimeInBin::Lower),
        with(LifetimeInBin::Mid),
        with(LifetimeInBin::Upper),
    );
    let life = |w: &ImportedWorkload, name: &str| {
        let vm = w.vms.iter().find(|v| v.name == name).expect("vm");
        vm.delete_at.map(|d| (d.0 - vm.at.0) / (NS / 1000))
    };
    // The first VM of the trace has lifetime bin U1: [300 s, 600 s).
    assert_eq!(life(&lower, "az-1800000-0"), Some(300_000));
    assert_eq!(life(&mid, "az-1800000-0"), Some(450_000));
    assert_eq!(life(&upper, "az-1800000-0"), Some(600_000));
    // Bin 0 is [0, 300 s): with `lower` those VMs occupy nothing and are dropped.
    let (_, _, _, raw) = raw_bins(&repo().join("traces/azure-bins-slice"), 5);
    let zero = raw.iter().filter(|r| r.1 == Some(0)).count() as u64;
    assert!(zero > 0);
    assert_eq!(lower.dropped_empty, zero);
    assert_eq!(mid.vms.len() as u64, lower.vms.len() as u64 + zero);
    assert_eq!(mid.vms.len(), upper.vms.len());
}

#[test]
fn azure_bins_slice_in_traces_is_the_head_of_the_shared_trace() {
    let opts = ImportOptions::default();
    let slice = run(
        TraceFormat::AzureBins,
        &repo().join("traces/azure-bins-slice/v1.dev.txt"),
        &opts,
    );
    let full = run(
        TraceFormat::AzureBins,
        &shared("azure-v1-vm-arrivals-huawei/v1.dev.txt"),
        &ImportOptions {
            limit: Some(slice.rows_read),
            ..opts
        },
    );
    assert_eq!(slice.rows_read, 50);
    assert_eq!(slice.vms.len(), full.vms.len());
    assert!(
        slice
            .vms
            .iter()
            .zip(&full.vms)
            .all(|(a, b)| a.name == b.name && a.at == b.at && a.delete_at == b.delete_at)
    );
}

#[test]
fn alibaba_gpu2023_pods_and_nodes_match_the_raw_csv() {
    let dir = shared("alibaba-gpu-v2023-openb");
    let w = run(TraceFormat::AlibabaGpu2023, &dir, &ImportOptions::default());
    let pods = read_text(&dir.join("openb_pod_list_default.csv"));
    let mut intervals = Vec::new();
    let mut gpu_total = 0u64;
    for row in pods.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let n = |i: usize| f[i].parse::<u64>().unwrap();
        let end = (f[7] != "Running").then(|| n(9));
        if end.is_some_and(|e| e <= n(8)) || n(1) == 0 || n(2) == 0 {
            continue;
        }
        gpu_total += n(3) * n(4);
        intervals.push((n(8) * NS, end.map(|e| e * NS), n(1)));
    }
    assert_eq!(w.vms.len(), intervals.len());
    let gpus: u64 = w.vms.iter().map(|v| v.size.gpu_millis).sum();
    assert_eq!(gpus, gpu_total);
    assert_eq!(peak(&imported_intervals(&w.vms)), peak(&intervals));

    // SOURCE.txt: 1,523 nodes with 125,514 cores and 6,212 GPUs in all.
    let mix = w.host_mix.expect("node list is a host mix");
    let sum = |f: &dyn Fn(&pacsim::scenario::HostModel) -> u64| -> u64 {
        mix.iter().map(|(m, n)| f(m) * u64::from(*n)).sum()
    };
    assert_eq!(mix.iter().map(|(_, n)| u64::from(*n)).sum::<u64>(), 1523);
    assert_eq!(sum(&|m| m.capacity.cpu_millis), 125_514_000);
    assert_eq!(sum(&|m| m.capacity.gpu_millis), 6_212_000);
}

#[test]
fn alibaba_dlrm2025_instances_alive_at_the_start_exist_at_zero() {
    let path = shared("alibaba-dlrm-v2025/disaggregated_DLRM_trace.csv");
    let w = run(
        TraceFormat::AlibabaDlrm2025,
        &path,
        &ImportOptions::default(),
    );
    let raw = read_text(&path);
    let rows: Vec<Vec<&str>> = raw
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let secs = |s: &str| (s.parse::<f64>().unwrap() * 1e9).round() as u64;
    let intervals: Vec<(u64, Option<u64>, u64)> = rows
        .iter()
        .map(|f| {
            let start = if f[14].is_empty() { 0 } else { secs(f[14]) };
            let end = (!f[16].is_empty()).then(|| secs(f[16]));
            (start, end, f[3].parse::<u64>().unwrap() * 1000)
        })
        .filter(|&(s, e, _)| e.is_none_or(|e| e > s))
        .collect();
    assert_eq!(w.vms.len(), intervals.len());
    assert_eq!(
        w.censored as usize,
        rows.iter().filter(|f| f[16].is_empty()).count()
    );
    for t_s in [0u64, 1_000_000, 2_600_000] {
        let t = t_s * NS;
        let expected: u64 = intervals
            .iter()
            .filter(|&&(s, e, _)| s <= t && e.is_none_or(|e| t < e))
            .map(|i| i.2)
            .sum();
        assert_eq!(cpu_alive_at(&w.vms, t), expected, "at {t_s} s");
    }
}

#[test]
fn swf_jobs_become_vms_and_peak_processors_match() {
    let path = shared("pwa-nasa-ipsc-1993-swf/NASA-iPSC-1993-3.1-cln.swf.gz");
    let w = run(TraceFormat::Swf, &path, &ImportOptions::default());
    let raw = read_text(&path);
    let intervals: Vec<(u64, Option<u64>, u64)> = raw
        .lines()
        .filter(|l| !l.trim_start().starts_with(';') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<i64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
            let start = (f[1] + f[2].max(0)) as u64;
            (
                start * NS,
                Some((start + f[3].max(0) as u64) * NS),
                f[4] as u64 * 1000,
            )
        })
        .filter(|&(s, e, _)| e.unwrap() > s)
        .collect();
    assert_eq!(w.rows_read, 18_239);
    assert_eq!(w.vms.len(), intervals.len());
    assert_eq!(w.dropped_empty, 173);
    let p = peak(&intervals);
    // SOURCE.txt: the overlap briefly exceeds the machine's 128 processors.
    assert!(p > 128_000);
    assert_eq!(peak(&imported_intervals(&w.vms)), p);
}

#[test]
fn bitbrains_file_is_one_vm_from_first_to_last_sample() {
    let path = shared("bitbrains-rnd-2013-7-first50/2013-7/1.csv.gz");
    let w = run(TraceFormat::Bitbrains, &path, &ImportOptions::default());
    let raw = read_text(&path);
    let samples: Vec<Vec<&str>> = raw
        .lines()
        .skip(1)
        .map(|l| l.split(';').map(str::trim).collect())
        .collect();
    let ts: Vec<u64> = samples.iter().map(|f| f[0].parse().unwrap()).collect();
    let cores = samples.iter().map(|f| f[1].parse::<u64>().unwrap()).max();
    assert_eq!(w.rows_read as usize, samples.len());
    assert_eq!(w.vms.len(), 1);
    let vm = &w.vms[0];
    assert_eq!(vm.name, "bb-1");
    assert_eq!(vm.size.cpu_millis, cores.unwrap() * 1000);
    let life = ts.iter().max().unwrap() - ts.iter().min().unwrap();
    assert_eq!((vm.at.0, vm.delete_at.map(|d| d.0)), (0, Some(life * NS)));
}

#[test]
fn bitbrains_folder_is_read_in_numeric_order_under_the_row_limit() {
    let dir = shared("bitbrains-rnd-2013-7-first50/2013-7");
    let rows_1 = read_text(&dir.join("1.csv.gz")).lines().count() as u64 - 1;
    let opts = ImportOptions {
        limit: Some(rows_1 + 100),
        ..ImportOptions::default()
    };
    let w = run(TraceFormat::Bitbrains, &dir, &opts);
    assert_eq!(w.rows_read, rows_1 + 100);
    let names: Vec<&str> = w.vms.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["bb-1", "bb-2"]);
}

#[test]
fn google2019_machine_histogram_is_a_host_mix_only() {
    let path = shared("google-2019-borg-lgdcloudsim/2019_a_host_resource.csv");
    let w = run(
        TraceFormat::Google2019Machines,
        &path,
        &ImportOptions::default(),
    );
    let raw = read_text(&path);
    let rows: Vec<&str> = raw.lines().skip(1).collect();
    let machines: u64 = rows
        .iter()
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    let mix = w.host_mix.expect("host mix");
    assert!(w.vms.is_empty());
    assert_eq!(mix.len(), rows.len());
    assert_eq!(
        mix.iter().map(|(_, n)| u64::from(*n)).sum::<u64>(),
        machines
    );
    // 1.0 NCU = 128 cores by default.
    assert_eq!(mix[0].0.capacity.cpu_millis, 128_000);
}

fn bad_swf() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = "; a comment\n\
        1 0 -1 100 4 -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1\n\
        2 10 -1 oops 4 -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1\n\
        3 20 -1 100 2 -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1\n";
    std::fs::write(dir.path().join("bad.swf"), text).unwrap();
    dir
}

#[test]
fn a_bad_row_is_an_error_naming_file_line_and_row() {
    let dir = bad_swf();
    let path = dir.path().join("bad.swf");
    let err = import(TraceFormat::Swf, &path, &ImportOptions::default())
        .expect_err("bad row")
        .to_string();
    assert!(err.contains(&format!("{}:3:", path.display())), "{err}");
    assert!(err.contains("run time") && err.contains("oops"), "{err}");
}

#[test]
fn skip_bad_rows_skips_and_counts_them() {
    let dir = bad_swf();
    let opts = ImportOptions {
        skip_bad_rows: true,
        ..ImportOptions::default()
    };
    let w = run(TraceFormat::Swf, &dir.path().join("bad.swf"), &opts);
    assert_eq!((w.rows_read, w.rows_skipped, w.vms.len()), (3, 1, 2));
}

#[test]
fn exported_scenario_reparses_and_runs() {
    let opts = ImportOptions {
        limit: Some(300),
        ..ImportOptions::default()
    };
    let w = run(
        TraceFormat::AlibabaGpu2023,
        &shared("alibaba-gpu-v2023-openb"),
        &opts,
    );
    let text = scenario_yaml(
        &w,
        &ExportOptions {
            command: "test".into(),
            name: "gpu-300".into(),
            host_model: None,
        },
    )
    .unwrap();
    let scenario = pacsim::scenario::parse_scenario(&text, "<export>").expect("re-parses");
    assert_eq!(scenario.workloads.vms.len(), w.vms.len());
    assert!(
        scenario
            .workloads
            .vms
            .iter()
            .zip(&w.vms)
            .all(|(a, b)| a.size == b.size && a.at == b.at && a.delete_at == b.delete_at)
    );
    assert_eq!(scenario.datacenter.hosts.len(), 1523);
    let mut out = pacsim::run::simulate(&scenario, pacsim::store::EventLog::in_memory(), |_, _| {})
        .expect("runs");
    let json = out.summary(&scenario, 0.0).to_json();
    assert_eq!(json["vms"]["requested"], w.vms.len() as u64);
}

#[test]
fn cli_import_writes_a_scenario_with_a_default_host_model_sized_for_the_peak() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("azure.yaml");
    let slice = repo().join("traces/azure-bins-slice/v1.dev.txt");
    let o = pacsim(&[
        "import",
        "azure-bins",
        slice.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--limit",
        "10",
        "--host-model",
        "cpu=32,memory=256Gi",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("rows read 10") && stderr.contains("rows/s"),
        "{stderr}"
    );
    let scenario = pacsim::scenario::load_scenario(&out).expect("re-parses");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("# Imported from a real trace"));
    let host = scenario.datacenter.models[0].capacity;
    assert_eq!(host.cpu_millis, 32_000);
    let peak = pacsim::import::peak_demand(&scenario.workloads.vms);
    let hosts = scenario.datacenter.hosts.len() as u128;
    let needed = peak
        .cpu_millis
        .div_ceil(host.cpu_millis.into())
        .max(peak.memory_bytes.div_ceil(host.memory_bytes.into()));
    assert_eq!(hosts, needed);
}

#[test]
fn cli_import_of_a_bad_row_exits_2_naming_the_line() {
    let dir = bad_swf();
    let path = dir.path().join("bad.swf");
    let out = dir.path().join("x.yaml");
    let o = pacsim(&[
        "import",
        "swf",
        path.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.swf:3:"));
}

#[test]
fn run_with_workload_trace_replaces_the_scenario_workloads() {
    let slice = repo().join("traces/azure-bins-slice/v1.dev.txt");
    let spec = format!("azure-bins:{}", slice.display());
    let scenario = repo().join("scenarios/quickstart.yaml");
    let o = pacsim(&[
        "run",
        scenario.to_str().unwrap(),
        "--no-persist",
        "--json",
        "--workload-trace",
        &spec,
    ]);
    // Exit 1 is allowed: quickstart's `expect:` was written for its own workload.
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let expected = run(TraceFormat::AzureBins, &slice, &ImportOptions::default());
    assert_eq!(json["vms"]["requested"], expected.vms.len() as u64);
}

/// A copy of the committed azure-bins slice in a temporary folder.
fn slice_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = repo().join("traces/azure-bins-slice");
    for file in [
        "v1.dev.txt",
        "v1.dev.c2100000.txt",
        "flav_map.txt",
        "v1.interval_map.txt",
    ] {
        std::fs::copy(from.join(file), dir.path().join(file)).unwrap();
    }
    dir
}

/// Rewrites `file` in `dir` line by line; `edit` gets the 1-based line
/// number and returns the new line, or None to delete it.
fn edit_lines(dir: &Path, file: &str, edit: impl Fn(usize, &str) -> Option<String>) {
    let path = dir.join(file);
    let text: String = read_text(&path)
        .lines()
        .enumerate()
        .filter_map(|(i, l)| edit(i + 1, l))
        .map(|l| l + "\n")
        .collect();
    std::fs::write(path, text).unwrap();
}

/// The time `t` of line `n` of the slice's arrivals file.
fn slice_time(n: usize) -> u64 {
    let text = read_text(&repo().join("traces/azure-bins-slice/v1.dev.txt"));
    let line = text.lines().nth(n - 1).unwrap();
    line.split_once(' ').unwrap().0.parse().unwrap()
}

/// Before, the lifetimes file was paired with the arrivals by position:
/// after a missing lifetimes line every later line disagreed, and
/// --skip-bad-rows dropped all of them. Paired by time, a bad or missing
/// line costs that line only.
#[test]
fn azure_bins_pairs_lifetimes_by_time_so_a_bad_or_missing_line_costs_one_line() {
    let dir = slice_copy();
    let arrivals = dir.path().join("v1.dev.txt");
    let whole = run(TraceFormat::AzureBins, &arrivals, &ImportOptions::default());
    edit_lines(dir.path(), "v1.dev.txt", |n, l| {
        Some(if n == 10 {
            l.replacen('0', "O", 1)
        } else {
            l.to_string()
        })
    });
    edit_lines(dir.path(), "v1.dev.c2100000.txt", |n, l| {
        (n != 30).then(|| l.to_string())
    });
    let skip = ImportOptions {
        skip_bad_rows: true,
        ..ImportOptions::default()
    };
    let w = run(TraceFormat::AzureBins, &arrivals, &skip);
    assert_eq!((w.rows_read, w.rows_skipped), (50, 2));
    let lost = [slice_time(10), slice_time(30)].map(|t| format!("az-{t}-"));
    let key = |v: &ExplicitVm| (v.name.clone(), v.size, v.at, v.delete_at);
    let kept: Vec<_> = (whole.vms.iter())
        .filter(|v| !lost.iter().any(|p| v.name.starts_with(p.as_str())))
        .map(key)
        .collect();
    assert!(kept.len() > 10_000 && kept.len() < whole.vms.len());
    assert_eq!(w.vms.iter().map(key).collect::<Vec<_>>(), kept);

    // Without --skip-bad-rows, the first bad line is the error.
    let err = import(TraceFormat::AzureBins, &arrivals, &ImportOptions::default())
        .expect_err("a bad line")
        .to_string();
    assert!(err.contains("v1.dev.txt:10: bin time"), "{err}");
    edit_lines(dir.path(), "v1.dev.txt", |n, l| {
        Some(if n == 10 {
            l.replacen('O', "0", 1)
        } else {
            l.to_string()
        })
    });
    let err = import(TraceFormat::AzureBins, &arrivals, &ImportOptions::default())
        .expect_err("a missing lifetimes line")
        .to_string();
    let t = slice_time(30);
    assert!(
        err.contains("v1.dev.txt:30: ") && err.contains(&format!("no line for time {t}")),
        "{err}"
    );
}

/// Before, a wrong azure-bins PATH was reported as a missing flav_map.txt.
#[test]
fn a_missing_azure_bins_arrivals_file_is_named_as_such() {
    let dir = slice_copy();
    for missing in [
        dir.path().join("v1.nope.txt"),
        dir.path().join("nope/v1.dev.txt"),
    ] {
        let err = import(TraceFormat::AzureBins, &missing, &ImportOptions::default())
            .expect_err("missing")
            .to_string();
        assert!(
            err.starts_with(&format!("{}: no such arrivals file", missing.display())),
            "{err}"
        );
        assert!(!err.contains("cannot read"), "{err}");
    }
}

/// Before, a google2019 shape of 10^8 machines was written as it was, and
/// `pacsim run` refused the scenario ("too many hosts").
#[test]
fn machine_shapes_a_scenario_cannot_hold_are_bad_rows_and_what_is_written_loads() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("2019_x_host_resource.csv");
    let text = "cpus,ram,machine_count\n1.0,0.5,100000000\n1.0,1.0,643\n10000,0.5,1\n";
    std::fs::write(&csv, text).unwrap();
    let err = import(
        TraceFormat::Google2019Machines,
        &csv,
        &ImportOptions::default(),
    )
    .expect_err("too many machines")
    .to_string();
    assert!(
        err.contains(
            "2019_x_host_resource.csv:2: machine_count 100000000: the datacenter would \
             have 100000000 hosts, more than the 1000000 a scenario may have"
        ),
        "{err}"
    );
    let out = dir.path().join("x.yaml");
    let o = pacsim(&[
        "import",
        "google2019-machines",
        csv.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--skip-bad-rows",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("rows read 3, bad rows skipped 2"),
        "{stderr}"
    );
    let scenario = pacsim::scenario::load_scenario(&out).expect("loads");
    assert_eq!(scenario.datacenter.hosts.len(), 643);
}

/// A VM a scenario cannot hold (too large, or later than 100 years less an
/// hour) is a bad row; VMs at the limits are written, and the file loads.
#[test]
fn vms_past_a_scenarios_limits_are_bad_rows_and_vms_at_them_load() {
    let dir = tempfile::tempdir().unwrap();
    let swf = dir.path().join("limits.swf");
    // id submit wait run processors ...: 1 GiB per processor (no memory given).
    let job = |id: u32, submit: u64, run: u64, procs: u64| {
        format!("{id} {submit} -1 {run} {procs} -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1\n")
    };
    let last_start = 3_153_596_400 - 400;
    let text = [
        job(1, 0, 100, 1_000_000),
        job(2, 0, 100, 1_000_001),
        job(3, last_start, 400, 1),
        job(4, last_start + 1, 400, 1),
    ]
    .concat();
    std::fs::write(&swf, text).unwrap();
    let err = import(TraceFormat::Swf, &swf, &ImportOptions::default())
        .expect_err("too large")
        .to_string();
    assert!(
        err.contains("limits.swf:2: VM cpu 1000001 cores is more than a scenario may hold"),
        "{err}"
    );
    let skip = ImportOptions {
        skip_bad_rows: true,
        ..ImportOptions::default()
    };
    let w = run(TraceFormat::Swf, &swf, &skip);
    assert_eq!((w.rows_read, w.rows_skipped, w.vms.len()), (4, 2, 2));
    let options = ExportOptions {
        command: "test".into(),
        name: "limits".into(),
        host_model: None,
    };
    let text = scenario_yaml(&w, &options).unwrap();
    let scenario = pacsim::scenario::parse_scenario(&text, "<export>").expect("re-parses");
    assert_eq!(scenario.duration.0, 36_500 * 86_400 * NS);
    let sizes: Vec<u64> = (scenario.workloads.vms.iter())
        .map(|v| v.size.cpu_millis)
        .collect();
    assert_eq!(sizes, [1_000_000_000, 1000]);
}

/// A trace that gives no VM (an empty file, rows that all drop) is
/// refused, naming the file and why, instead of an empty scenario.
#[test]
fn a_trace_that_gives_no_vm_is_refused_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let out = dir.path().join("x.yaml");
    for format in ["azure-vmtable", "swf", "bitbrains", "alibaba-dlrm2025"] {
        let o = pacsim(&[
            "import",
            format,
            empty.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{format}: {stderr}");
        assert!(
            stderr.contains("empty.txt: no VMs: it holds no data rows"),
            "{format}: {stderr}"
        );
        assert!(!out.exists(), "{format} wrote a scenario");
    }
    // Two well-formed jobs, neither with a run time.
    let swf = dir.path().join("no-duration.swf");
    let job = |n: u32| format!("{n} 0 0 -1 4 -1 -1 4 100 -1 1 1 1 1 1 1 -1 -1\n");
    std::fs::write(&swf, job(1) + &job(2)).unwrap();
    let opts = ImportOptions::default();
    let Err(e) = import(TraceFormat::Swf, &swf, &opts) else {
        panic!("a trace of jobs without a run time was imported");
    };
    assert!(
        e.to_string()
            .contains("no VMs: of its 2 data rows, 0 were malformed (skipped), 2 had no duration"),
        "{e}"
    );
}

/// A file whose last line has no line end may have been cut short, in the
/// middle of its last record: the import says so (and not for a whole file).
#[test]
fn a_last_line_without_a_line_end_is_warned_of() {
    let whole = read_text(&shared("azure-v1-raw-format-fixture-opendc/vmtable.csv.gz"));
    let dir = tempfile::tempdir().unwrap();
    let (cut, full) = (dir.path().join("cut.csv"), dir.path().join("full.csv"));
    std::fs::write(&cut, &whole[..whole.len() - 3]).unwrap();
    std::fs::write(&full, &whole).unwrap();
    let rows = whole.lines().count();
    let w = run(TraceFormat::AzureVmtable, &cut, &ImportOptions::default());
    assert_eq!(w.warnings.len(), 1, "{:?}", w.warnings);
    assert!(
        w.warnings[0].starts_with(&format!(
            "{}:{rows}: the last line has no line end",
            cut.display()
        )),
        "{:?}",
        w.warnings
    );
    let w = run(TraceFormat::AzureVmtable, &full, &ImportOptions::default());
    assert_eq!(w.warnings, Vec::<String>::new());
    // The CLI prints it.
    let o = pacsim(&[
        "import",
        "azure-vmtable",
        cut.to_str().unwrap(),
        "-o",
        dir.path().join("x.yaml").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: "));
}

/// azure-bins: a gzipped arrivals file finds its lifetimes file; without
/// one, every VM is censored, and the import says so.
#[test]
fn azure_bins_lifetimes_beside_a_gzipped_file_and_their_absence() {
    let dir = slice_copy();
    let plain = run(
        TraceFormat::AzureBins,
        &dir.path().join("v1.dev.txt"),
        &ImportOptions::default(),
    );
    let text = std::fs::read(dir.path().join("v1.dev.txt")).unwrap();
    let gz = dir.path().join("v1.dev.txt.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &text).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    std::fs::remove_file(dir.path().join("v1.dev.txt")).unwrap();
    let zipped = run(TraceFormat::AzureBins, &gz, &ImportOptions::default());
    assert_eq!(
        imported_intervals(&zipped.vms),
        imported_intervals(&plain.vms)
    );
    assert!(zipped.censored < zipped.vms.len() as u64);
    std::fs::remove_file(dir.path().join("v1.dev.c2100000.txt")).unwrap();
    let alone = run(TraceFormat::AzureBins, &gz, &ImportOptions::default());
    assert_eq!(alone.censored, alone.vms.len() as u64);
    assert!(
        alone
            .warnings
            .iter()
            .any(|w| w.contains("is censored") && w.contains("no lifetimes file")),
        "{:?}",
        alone.warnings
    );
}

/// A bad token in the lifetimes file is reported with that file's name and
/// line, not only the arrivals line it pairs with.
#[test]
fn azure_bins_a_bad_lifetime_names_the_lifetimes_file_and_line() {
    let dir = slice_copy();
    edit_lines(dir.path(), "v1.dev.c2100000.txt", |i, l| {
        Some(if i == 3 {
            l.replacen('U', "Uabc", 1)
        } else {
            l.to_string()
        })
    });
    let e = import(
        TraceFormat::AzureBins,
        &dir.path().join("v1.dev.txt"),
        &ImportOptions::default(),
    )
    .expect_err("a bad lifetime");
    let lifetimes = dir.path().join("v1.dev.c2100000.txt");
    assert!(
        e.to_string()
            .contains(&format!("lifetimes line {}:3: ", lifetimes.display())),
        "{e}"
    );
}

/// `run scenarios/plan-azure.yaml --no-persist --json --workload-trace SPEC`.
fn run_plan_azure_with(spec: &str) -> std::process::Output {
    let scenario = repo().join("scenarios/plan-azure.yaml");
    pacsim(&[
        "run",
        scenario.to_str().unwrap(),
        "--no-persist",
        "--json",
        "--workload-trace",
        spec,
    ])
}

/// `--workload-trace`: VMs arriving after the scenario's duration are not
/// simulated, and the run says how many and what duration would take them.
#[test]
fn workload_trace_arrivals_after_the_duration_are_warned_of() {
    let swf = shared("pwa-nasa-ipsc-1993-swf/NASA-iPSC-1993-3.1-cln.swf.gz");
    let o = run_plan_azure_with(&format!("swf:{}", swf.display()));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let all = run(TraceFormat::Swf, &swf, &ImportOptions::default());
    let requested = json["vms"]["requested"].as_u64().unwrap() as usize;
    let late = all.vms.len() - requested;
    assert!(late > 0);
    assert!(
        stderr.contains(&format!(
            "warning: {late} of the trace's {} VMs arrive after the scenario's duration",
            all.vms.len()
        )),
        "{stderr}"
    );
}

/// google2019-machines gives machines, no VMs: it is no workload, and a
/// host model sized to its (absent) VMs would replace all its machines.
#[test]
fn google2019_machines_is_no_workload_and_takes_no_host_model() {
    let csv = shared("google-2019-borg-lgdcloudsim/2019_a_host_resource.csv");
    let o = run_plan_azure_with(&format!("google2019-machines:{}", csv.display()));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no workload"));
    let dir = tempfile::tempdir().unwrap();
    let o = pacsim(&[
        "import",
        "google2019-machines",
        csv.to_str().unwrap(),
        "--host-model",
        "cpu=64,memory=256Gi",
        "-o",
        dir.path().join("x.yaml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path().join("x.yaml").exists());
}

/// A byte-order mark before the header is not part of it; a gzip cut
/// short is an error naming the line where it broke off; `--limit 0` is
/// refused, not read as "no data rows".
#[test]
fn a_bom_is_skipped_a_cut_gzip_names_its_line_and_limit_0_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let swf = shared("pwa-nasa-ipsc-1993-swf/NASA-iPSC-1993-3.1-cln.swf.gz");
    let whole = run(TraceFormat::Swf, &swf, &ImportOptions::default());
    let with_bom = dir.path().join("bom.swf");
    let text = read_text(&swf);
    std::fs::write(
        &with_bom,
        [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat(),
    )
    .unwrap();
    let read = run(TraceFormat::Swf, &with_bom, &ImportOptions::default());
    assert_eq!(read.vms.len(), whole.vms.len());

    let bytes = std::fs::read(&swf).unwrap();
    let cut = dir.path().join("cut.swf.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = import(TraceFormat::Swf, &cut, &ImportOptions::default()).expect_err("cut short");
    let message = e.to_string();
    let at = message
        .strip_prefix(&format!("{}:", cut.display()))
        .and_then(|rest| rest.split(':').next())
        .and_then(|line| line.parse::<usize>().ok());
    assert!(at.is_some_and(|line| line > 1), "{message}");

    let o = pacsim(&[
        "import",
        "swf",
        swf.to_str().unwrap(),
        "--limit",
        "0",
        "-o",
        dir.path().join("x.yaml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// SWF times out of a scenario's range are errors with the seconds as
/// written (they were dropped as "no duration", or named a saturated
/// end), and a run time below -1 is malformed, not unknown.
#[test]
fn swf_times_out_of_range_and_odd_run_times_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let job = |submit: &str, run: &str| {
        format!("1 {submit} -1 {run} 2 -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1\n")
    };
    for (submit, run, says) in [
        (
            "9223372036854775000",
            "10",
            "start 9223372036854775000 s is later",
        ),
        (
            "0",
            "9223372036854775000",
            "end 9223372036854775000 s is later",
        ),
        ("0", "-5", "run time -5 is negative"),
    ] {
        let path = dir.path().join("odd.swf");
        std::fs::write(&path, job(submit, run)).unwrap();
        let e = import(TraceFormat::Swf, &path, &ImportOptions::default()).expect_err(says);
        assert!(e.to_string().contains(says), "{e}");
    }
}

/// alibaba-gpu2023 without its node list says the datacenter is not the
/// trace's.
#[test]
fn alibaba_gpu2023_without_its_node_list_warns() {
    let dir = tempfile::tempdir().unwrap();
    let pods = dir.path().join("openb_pod_list_default.csv");
    std::fs::copy(
        shared("alibaba-gpu-v2023-openb/openb_pod_list_default.csv"),
        &pods,
    )
    .unwrap();
    let w = run(
        TraceFormat::AlibabaGpu2023,
        &pods,
        &ImportOptions::default(),
    );
    assert!(w.host_mix.is_none());
    assert!(
        w.warnings
            .iter()
            .any(|m| m.contains("not the trace's nodes")),
        "{:?}",
        w.warnings
    );
    let with_nodes = run(
        TraceFormat::AlibabaGpu2023,
        &shared("alibaba-gpu-v2023-openb"),
        &ImportOptions::default(),
    );
    assert_eq!(with_nodes.warnings, Vec::<String>::new());
}
