//! `include: path.yaml`: manifests kept in their own (multi-document) files,
//! as people keep them for `kubectl apply -f`. Paths are relative to the
//! scenario file's folder, so a scenario and its manifests move together.
//! This is the only place the parser touches the file system besides the
//! scenario file itself.

use super::error::{Diag, PResult};
use super::read;
use super::yaml::{self, Node};
use std::path::PathBuf;

/// Where `include:` paths are resolved.
#[derive(Clone, Debug)]
pub(crate) struct Includes {
    /// The scenario file's folder; empty (the working directory) for text
    /// that came from no file (`<inline>`, `<trace header>`).
    base: PathBuf,
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
        Includes { base }
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
        let bytes = std::fs::read(&path)
            .map_err(|e| Diag::new(node.loc, format!("cannot read include file {named}: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Diag::new(node.loc, format!("include file {named} is not UTF-8 text")))?;
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
}
