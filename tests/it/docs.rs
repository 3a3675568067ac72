//! The docs are tested: every command README.md and docs/*.md show runs
//! against the built binary, in a temporary copy of the repository, and
//! must exit as the text says and print the lines it shows; every YAML
//! example parses, and complete scenarios pass their own `expect:`.
//!
//! Fences (ARCHITECTURE.md, "Testing", says the same for writers):
//! - ```console: `$ ` starts a command (a trailing `\` continues it); the
//!   lines after it, up to the next command, must each appear in its
//!   output (whitespace runs compared as one space; `...` elides). A
//!   command ending in `# exits N` must exit N, others 0. A command ending
//!   in ` &` runs in the background until the block ends (then SIGTERM);
//!   the next command waits for it to print `listening on`. Commands run
//!   in bash, HOME is a temporary folder.
//! - ```console long: the same, run only by the ignored test.
//! - ```yaml: must parse. ```yaml scenario: a whole scenario, run with
//!   `pacsim run --no-persist`, which must pass its `expect:`.

use super::support::{path_with_pacsim, repo};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One command of a console block and what the doc says it prints.
#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    exit: i32,
    background: bool,
    shows: Vec<String>,
}

#[derive(Debug)]
enum Block {
    Console {
        long: bool,
        steps: Vec<Step>,
    },
    Yaml {
        line: usize,
        scenario: bool,
        text: String,
    },
}

/// The blocks of a markdown page that the tests check, in page order.
fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let info: Vec<&str> = info.split_whitespace().collect();
        let body: Vec<(usize, &str)> = lines
            .by_ref()
            .take_while(|(_, l)| !l.trim_start().starts_with("```"))
            .collect();
        match info.first().copied() {
            Some("console") => out.push(Block::Console {
                long: info.contains(&"long"),
                steps: steps(&body),
            }),
            Some("yaml") => out.push(Block::Yaml {
                line: i + 1,
                scenario: info.contains(&"scenario"),
                text: body.iter().map(|(_, l)| format!("{l}\n")).collect(),
            }),
            _ => {}
        }
    }
    out
}

fn steps(body: &[(usize, &str)]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut continued = false;
    for (i, line) in body {
        if continued {
            let step = steps.last_mut().expect("a continued command");
            step.command.push(' ');
            step.command
                .push_str(line.trim().trim_end_matches('\\').trim());
            continued = line.trim_end().ends_with('\\');
            if !continued {
                finish(step);
            }
        } else if let Some(cmd) = line.strip_prefix("$ ") {
            continued = cmd.trim_end().ends_with('\\');
            steps.push(Step {
                line: i + 1,
                command: cmd.trim_end().trim_end_matches('\\').trim().to_string(),
                exit: 0,
                background: false,
                shows: Vec::new(),
            });
            if !continued {
                finish(steps.last_mut().expect("just pushed"));
            }
        } else if let Some(step) = steps.last_mut() {
            let shown = line.trim();
            if !shown.is_empty() && shown != "..." {
                step.shows.push(shown.to_string());
            }
        }
    }
    steps
}

/// Reads `# exits N` and a trailing `&` off a whole command.
fn finish(step: &mut Step) {
    if let Some((cmd, n)) = step.command.rsplit_once("# exits ")
        && let Ok(n) = n.trim().parse()
    {
        step.exit = n;
        step.command = cmd.trim().to_string();
    }
    if let Some(cmd) = step.command.strip_suffix('&') {
        step.background = true;
        step.command = cmd.trim().to_string();
    }
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The repository without build output and runs, in a temporary folder,
/// with `pacsim` on PATH.
struct Sandbox {
    dir: tempfile::TempDir,
    path: String,
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if [".git", "target", "runs"].contains(&name.to_str().unwrap_or("")) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&repo(), &dir.path().join("repo"));
        let path = path_with_pacsim(dir.path());
        Sandbox { dir, path }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn spawn(&self, command: &str, log: Option<&Path>) -> Child {
        let mut c = Command::new("bash");
        c.arg("-c")
            .arg(command)
            .current_dir(self.root())
            .env("PATH", &self.path)
            .env("NO_COLOR", "1")
            // kubectl keeps a cache under HOME.
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        match log {
            Some(file) => {
                let f = std::fs::File::create(file).unwrap();
                c.stdout(f.try_clone().unwrap()).stderr(f);
            }
            None => {
                c.stdout(Stdio::piped()).stderr(Stdio::piped());
            }
        }
        c.spawn().unwrap()
    }
}

/// Runs `child` to its end or `limit`; its exit code and output.
fn wait(mut child: Child, limit: Duration) -> Result<(i32, String), String> {
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap() + &err_reader.join().unwrap();
    Ok((status.code().unwrap_or(-1), text))
}

/// Checks one page's blocks; returns what failed, one line each.
fn check_page(page: &str, long: bool) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(page)).unwrap();
    let sandbox = Sandbox::new();
    let mut failures = Vec::new();
    for block in blocks(&text) {
        match block {
            Block::Yaml {
                line,
                scenario,
                text,
            } => {
                for event in saphyr_parser::Parser::new_from_str(&text) {
                    if let Err(e) = event {
                        failures.push(format!("{page}:{line}: yaml does not parse: {e}"));
                        break;
                    }
                }
                if scenario {
                    let file = sandbox.root().join(format!("doc-example-{line}.yaml"));
                    std::fs::write(&file, &text).unwrap();
                    let cmd = format!("pacsim run {} --no-persist", file.display());
                    match wait(sandbox.spawn(&cmd, None), Duration::from_secs(300)) {
                        Ok((0, _)) => {}
                        Ok((code, out)) => failures.push(format!(
                            "{page}:{line}: the example scenario exits {code}:\n{out}"
                        )),
                        Err(e) => failures.push(format!("{page}:{line}: {e}")),
                    }
                }
            }
            Block::Console {
                long: is_long,
                steps,
            } if is_long == long => {
                failures.extend(run_steps(page, &sandbox, &steps));
            }
            Block::Console { .. } => {}
        }
    }
    failures
}

fn run_steps(page: &str, sandbox: &Sandbox, steps: &[Step]) -> Vec<String> {
    let mut failures = Vec::new();
    let mut background: Vec<Child> = Vec::new();
    for step in steps {
        let at = format!("{page}:{} `{}`", step.line, step.command);
        if step.background {
            let log = sandbox.dir.path().join(format!("bg-{}.log", step.line));
            background.push(sandbox.spawn(&step.command, Some(&log)));
            let started = Instant::now();
            while !std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("listening on")
            {
                if started.elapsed() > Duration::from_secs(120) {
                    failures.push(format!("{at}: never said `listening on`"));
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            continue;
        }
        match wait(sandbox.spawn(&step.command, None), Duration::from_secs(600)) {
            Err(e) => failures.push(format!("{at}: {e}")),
            Ok((code, out)) => {
                if code != step.exit {
                    failures.push(format!(
                        "{at}: exits {code}, the doc says {}:\n{out}",
                        step.exit
                    ));
                }
                let printed: Vec<String> = out.lines().map(squeeze).collect();
                for shown in &step.shows {
                    let shown = squeeze(shown);
                    if !printed.iter().any(|l| l.contains(&shown)) {
                        failures.push(format!(
                            "{at}: does not print `{shown}`; it printed:\n{out}"
                        ));
                    }
                }
            }
        }
    }
    // A server stops cleanly on SIGTERM (its session can then be
    // exported); one that does not within a minute is killed.
    for mut child in background {
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    failures
}

/// README.md and every page of docs/.
fn pages() -> Vec<String> {
    let mut pages = vec!["README.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn check_all(long: bool) {
    let failures: Vec<String> = pages().iter().flat_map(|p| check_page(p, long)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_commands_and_examples_in_the_docs_work_as_shown() {
    check_all(false);
}

/// The examples the docs mark as long (`console long`).
#[test]
#[ignore = "long: cargo test -- --ignored"]
fn the_long_examples_in_the_docs_work_as_shown() {
    check_all(true);
}

#[test]
fn doc_blocks_are_read_as_the_header_says() {
    let page = "x\n```console\n$ pacsim run a.yaml \\\n    --seed 2   # exits 1\nline one\n...\n\n$ pacsim serve x &\n```\n```yaml scenario\nname: t\n```\n```sh\nnot run\n```\n";
    let b = blocks(page);
    assert_eq!(b.len(), 2);
    let Block::Console { long, steps } = &b[0] else {
        panic!("{b:?}")
    };
    assert!(!long);
    assert_eq!(steps[0].command, "pacsim run a.yaml --seed 2");
    assert_eq!(
        (steps[0].exit, &steps[0].shows[..]),
        (1, &["line one".to_string()][..])
    );
    assert!(steps[1].background && steps[1].command == "pacsim serve x");
    assert!(matches!(
        &b[1],
        Block::Yaml {
            scenario: true,
            line: 10,
            ..
        }
    ));
}

/// The checker can fail: a line not printed, or the wrong exit code.
#[test]
fn a_missing_line_or_another_exit_code_fails_the_page() {
    let page = "```console\n$ echo hello; echo there\nhello\n...\n$ echo hi   # exits 3\n$ exit 3  # exits 3\n$ echo hi\nbye\n```\n";
    let Block::Console { steps, .. } = blocks(page).remove(0) else {
        panic!("a console block")
    };
    let failures = run_steps("page.md", &Sandbox::new(), &steps);
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert!(failures[0].starts_with("page.md:5 `echo hi`: exits 0, the doc says 3"));
    assert!(failures[1].starts_with("page.md:7 `echo hi`: does not print `bye`"));
}
