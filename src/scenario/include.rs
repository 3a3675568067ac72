//! `include: path.yaml`: manifests kept in their own (multi-document) files,
//! as people keep them for `kubectl apply -f`. Paths are relative to the
//! scenario file's folder, so a scenario and its manifests move together.
//! This is the only place the parser touches the file system besides the
//! scenario file itself.

use super::error::{Diag, PResult};
use super::read;
use super::yaml::{self, Node};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The most text a scenario reads: its own file, and its included files
/// together. Far above any real scenario; it keeps `include: /dev/zero`
/// or a stray log file from filling memory.
pub const MAX_TEXT_BYTES: u64 = 64 << 20;

/// The comment block that embeds included files at the end of a
/// scenario's stored text (`Scenario::source`), so that a log or trace,
/// which keeps only that text, re-parses anywhere.
const BUNDLE_START: &str =
    "# --- pacsim: included files, embedded so that logs and traces re-parse ---";
const BUNDLE_FILE: &str = "# @include ";
const BUNDLE_LINE: &str = "#| ";

/// Where `include:` paths are resolved.
#[derive(Clone, Debug)]
pub(crate) struct Includes {
    /// The scenario file's folder; empty (the working directory) for text
    /// that came from no file (`<inline>`, `<trace header>`).
    base: PathBuf,
    /// Files embedded in the text itself (by path as written): used first.
    bundled: BTreeMap<String, String>,
    /// What was read from disk, by path as written, in first-use order.
    read: RefCell<Vec<(String, String)>>,
    /// Bytes read from disk for includes so far (against MAX_TEXT_BYTES).
    read_bytes: Cell<u64>,
}

/// The documents of one included file, and the name errors inside it use.
pub(crate) struct Included {
    pub file: String,
    pub docs: Vec<Node>,
}

impl Includes {
    pub fn for_file(file: &str) -> Self {
        let base = if file.starts_with('<') {
            PathBuf::new()
        } else {
            std::path::Path::new(file)
                .parent()
                .map(PathBuf::from)
                .unwrap_or_default()
        };
        Includes {
            base,
            bundled: BTreeMap::new(),
            read: RefCell::new(Vec::new()),
            read_bytes: Cell::new(0),
        }
    }

    /// Also resolves includes from the files embedded in `text`.
    pub fn with_bundle(mut self, text: &str) -> Self {
        let Some((_, bundle)) = text.split_once(BUNDLE_START) else {
            return self;
        };
        let mut current: Option<(String, String)> = None;
        for line in bundle.lines() {
            if let Some(path) = line.strip_prefix(BUNDLE_FILE) {
                if let Some((p, t)) = current.take() {
                    self.bundled.insert(p, t);
                }
                current = Some((path.to_string(), String::new()));
            } else if let Some((_, text)) = &mut current {
                let content = line.strip_prefix(BUNDLE_LINE).or(line.strip_prefix("#|"));
                if let Some(content) = content {
                    text.push_str(content);
                    text.push('\n');
                }
            }
        }
        if let Some((p, t)) = current {
            self.bundled.insert(p, t);
        }
        self
    }

    /// `text` with the files read from disk embedded at its end (unchanged
    /// when nothing was read from disk).
    pub fn bundle_into(&self, text: &str) -> String {
        let read = self.read.borrow();
        if read.is_empty() {
            return text.to_string();
        }
        let mut out = text.to_string();
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(BUNDLE_START);
        out.push('\n');
        for (path, content) in read.iter() {
            out.push_str(BUNDLE_FILE);
            out.push_str(path);
            out.push('\n');
            for line in content.lines() {
                out.push_str(BUNDLE_LINE);
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Reads the file named by `node` (an `include:` value) and parses all
    /// its documents. A file that cannot be read is an error at `node`; a
    /// YAML error is an error in the included file.
    pub fn load(&self, node: &Node, field: &str) -> PResult<Included> {
        let written = read::string(node, field)?;
        let path = self.base.join(&written);
        let file = path.display().to_string();
        // Say where the path led when that is not what was written.
        let named = if file == written {
            format!("`{written}`")
        } else {
            format!("`{written}` ({file})")
        };
        let text = match self.bundled.get(&written) {
            Some(text) => text.clone(),
            None => {
                let regular = std::fs::metadata(&path).map(|m| m.is_file());
                if let Ok(false) = regular {
                    return Err(Diag::new(
                        node.loc,
                        format!("include file {named} is not a regular file"),
                    ));
                }
                let room = MAX_TEXT_BYTES - self.read_bytes.get();
                let bytes = read_at_most(&path, room).map_err(|e| {
                    Diag::new(node.loc, format!("cannot read include file {named}: {e}"))
                })?;
                self.read_bytes
                    .set(self.read_bytes.get() + bytes.len() as u64);
                let text = String::from_utf8(bytes).map_err(|_| {
                    Diag::new(node.loc, format!("include file {named} is not UTF-8 text"))
                })?;
                let mut read = self.read.borrow_mut();
                if !read.iter().any(|(p, _)| *p == written) {
                    read.push((written.clone(), text.clone()));
                }
                text
            }
        };
        let docs = yaml::parse_documents(&text).map_err(|d| d.located_in(&file))?;
        if docs.is_empty() {
            return Err(Diag::new(
                node.loc,
                format!("include file {named} holds no manifests"),
            ));
        }
        Ok(Included { file, docs })
    }
}

/// The bytes of `path`, or an error once there are more than `limit`
/// (read to the limit, not trusting a size the file reports: a pipe or a
/// /proc file reports none).
pub(crate) fn read_at_most(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "more than {} MiB: pacsim reads at most that for a scenario file, and as much for its includes together",
            MAX_TEXT_BYTES >> 20
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_scenario_folder() {
        assert_eq!(
            Includes::for_file("scenarios/a.yaml").base,
            PathBuf::from("scenarios")
        );
        assert_eq!(Includes::for_file("a.yaml").base, PathBuf::new());
        assert_eq!(Includes::for_file("<inline>").base, PathBuf::new());
    }

    #[test]
    fn a_bundle_round_trips_the_files_read() {
        let inc = Includes::for_file("<inline>");
        inc.read
            .borrow_mut()
            .push(("m/a.yaml".into(), "kind: Pod\n# note\n\nx: 1\n".into()));
        let text = inc.bundle_into("seed: 1\n");
        let again = Includes::for_file("<trace header>").with_bundle(&text);
        assert_eq!(again.bundled["m/a.yaml"], "kind: Pod\n# note\n\nx: 1\n");
    }
}
