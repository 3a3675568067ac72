//! The command line: clap definitions and the glue that turns library results
//! into output and exit codes. Exit codes: 0 ok, 1 an `expect:` failed or
//! an invariant was violated (run --check, fuzz),
//! 2 bad input (scenario, arguments), 3 an I/O or storage failure.

mod export_cmd;
mod fuzz_cmd;
mod import_cmd;
mod input_fuzz_cmd;
mod inspect_cmd;
mod plan_cmd;
mod progress;
mod ranges;
mod replay_cmd;
mod run_cmd;
mod serve_cmd;
mod trace_cmd;
mod trace_input;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "pacsim",
    version,
    about = "Simulate a vSphere Supervisor datacenter, deterministically"
)]
struct Cli {
    /// More diagnostics on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print its summary.
    Run(run_cmd::RunArgs),
    /// Convert a real public trace into a scenario file.
    Import(import_cmd::ImportArgs),
    /// Re-run a trace and compare (--verify), or re-drive its inputs (--what-if).
    Replay(replay_cmd::ReplayArgs),
    /// Write a log folder (or a trace) as a trace file or JSON Lines.
    Export(export_cmd::ExportArgs),
    /// Show a trace's or log's records: filters, counts, cause chains.
    Inspect(inspect_cmd::InspectArgs),
    /// Serve the Supervisor to kubectl over HTTPS, live and crash-safe.
    Serve(serve_cmd::ServeArgs),
    /// Write a kubeconfig that reaches a served guest cluster.
    Kubeconfig(serve_cmd::KubeconfigArgs),
    /// Find the smallest host count meeting the SLOs, with a report.
    Plan(plan_cmd::PlanArgs),
    /// Swarm-test a scenario over many seeds with invariants on.
    Fuzz(fuzz_cmd::FuzzArgs),
    /// Mutated scenario files by the million (pacsim's own testing).
    #[command(hide = true)]
    FuzzInputs(input_fuzz_cmd::InputFuzzArgs),
}

/// A failure the CLI reports in one message, with its exit code.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn bad_input(message: impl std::fmt::Display) -> Self {
        Failure {
            code: 2,
            message: message.to_string(),
        }
    }

    pub fn io(message: impl std::fmt::Display) -> Self {
        Failure {
            code: 3,
            message: message.to_string(),
        }
    }
}

/// `--jobs`: 1 to 1,024 threads (default: the available cores); more would
/// only fail to spawn.
/// The scenario's parse-time notices on stderr (the first
/// [`MAX_NOTICES`], then how many more).
pub fn print_notices(scenario: &pacsim::scenario::Scenario) {
    for notice in scenario.notices.iter().take(MAX_NOTICES) {
        eprintln!("warning: {notice}");
    }
    if scenario.notices.len() > MAX_NOTICES {
        let more = scenario.notices.len() - MAX_NOTICES;
        eprintln!("warning: ... and {more} more like these");
    }
}

const MAX_NOTICES: usize = 20;

pub fn jobs(given: Option<usize>) -> Result<usize, Failure> {
    match given {
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        Some(n @ 1..=1024) => Ok(n),
        Some(n) => Err(Failure::bad_input(format!(
            "--jobs must be 1 to 1024, found {n}"
        ))),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let result = match cli.command {
        Command::Run(args) => run_cmd::run(args),
        Command::Import(args) => import_cmd::run(args),
        Command::Replay(args) => replay_cmd::run(args),
        Command::Export(args) => export_cmd::run(args),
        Command::Inspect(args) => inspect_cmd::run(args),
        Command::Plan(args) => plan_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Kubeconfig(args) => serve_cmd::kubeconfig(args),
        Command::Fuzz(args) => fuzz_cmd::run(args),
        Command::FuzzInputs(args) => input_fuzz_cmd::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    // sled reports a failed write as dozens of raw ERROR lines; pacsim
    // reports it once, in its own words (RUST_LOG=sled=warn shows them).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{default},sled=off")));
    // Colours only for a terminal: a log file or a pipe gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}
