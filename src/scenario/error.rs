//! The one error a scenario file can produce: where (file, line, column) and
//! what was found versus what was expected. Parsing stops at the first error;
//! one precise message beats a cascade of consequences.

use super::model::Location;

/// Why a scenario could not be loaded.
///
/// Display is `{file}:{line}:{col}: {message}`, or, when the file could not
/// be read at all, `{file}: cannot read scenario: {os error}`.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The text was read but is not a valid scenario.
    #[error("{file}:{}:{}: {message}", location.line, location.col)]
    Invalid {
        file: String,
        location: Location,
        message: String,
    },
    /// The file could not be read (missing, unreadable, a directory...).
    #[error("{file}: cannot read scenario: {reason}")]
    Unreadable {
        file: String,
        reason: std::io::Error,
    },
}

impl ScenarioError {
    pub fn file(&self) -> &str {
        match self {
            ScenarioError::Invalid { file, .. } | ScenarioError::Unreadable { file, .. } => file,
        }
    }

    /// 1-based line and column; `None` when the file could not be read.
    pub fn location(&self) -> Option<Location> {
        match self {
            ScenarioError::Invalid { location, .. } => Some(*location),
            ScenarioError::Unreadable { .. } => None,
        }
    }

    /// The message without the `file:line:col: ` prefix.
    pub fn message(&self) -> String {
        match self {
            ScenarioError::Invalid { message, .. } => message.clone(),
            ScenarioError::Unreadable { reason, .. } => format!("cannot read scenario: {reason}"),
        }
    }
}

/// An error inside one file, before the file name is attached. The parser
/// passes these around so that no function needs to know the file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Diag {
    pub loc: Location,
    pub message: String,
    /// Set when the error is inside an `include:`d file rather than the
    /// scenario file itself: `loc` is then a place in that file.
    pub file: Option<String>,
}

impl Diag {
    pub fn new(loc: Location, message: impl Into<String>) -> Self {
        Diag {
            loc,
            message: message.into(),
            file: None,
        }
    }

    /// Marks the error as located in `file` unless it already names one
    /// (the innermost file is the one the line and column refer to).
    pub fn located_in(mut self, file: &str) -> Self {
        self.file.get_or_insert_with(|| file.to_string());
        self
    }

    pub fn in_file(self, file: &str) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.unwrap_or_else(|| file.to_string()),
            location: self.loc,
            message: self.message,
        }
    }
}

pub(crate) type PResult<T> = Result<T, Diag>;

/// The closest candidate to a misspelt `word`, if one is close enough to be
/// a plausible typo. Both metrics are used because Jaro-Winkler favours
/// shared prefixes (`plicy` -> `policy`) and the edit distance (with
/// transpositions) catches short words with an early slip (`sed` -> `seed`,
/// `dsr` -> `drs`).
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        let jw = strsim::jaro_winkler(word, candidate);
        let edits = strsim::osa_distance(word, candidate);
        let max_edits = (candidate.chars().count().max(word.chars().count()) / 3).max(1);
        let close = jw >= 0.85 || edits <= max_edits;
        if close && best.is_none_or(|(score, _)| jw > score) {
            best = Some((jw, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// `; did you mean `x`?` or nothing.
pub(crate) fn suggestion<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match did_you_mean(word, candidates) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

/// `` `a`, `b`, `c` `` for messages.
pub(crate) fn backticked<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(
            did_you_mean("plicy", ["policy", "power_on_delay"]),
            Some("policy")
        );
        assert_eq!(
            did_you_mean("sed", ["name", "seed", "duration"]),
            Some("seed")
        );
        assert_eq!(
            did_you_mean("esx-3", ["esx-01", "esx-02", "esx-03"]),
            Some("esx-03")
        );
        assert_eq!(did_you_mean("zzzzzz", ["policy", "power_on_delay"]), None);
    }

    #[test]
    fn display_has_file_line_col_prefix() {
        let e = Diag::new(Location { line: 3, col: 7 }, "boom").in_file("a.yaml");
        assert_eq!(e.to_string(), "a.yaml:3:7: boom");
        assert_eq!(e.location(), Some(Location { line: 3, col: 7 }));
    }

    #[test]
    fn an_included_file_keeps_its_own_name() {
        let e = Diag::new(Location { line: 2, col: 5 }, "boom")
            .located_in("inc/web.yaml")
            .located_in("outer.yaml")
            .in_file("a.yaml");
        assert_eq!(e.to_string(), "inc/web.yaml:2:5: boom");
        assert_eq!(e.file(), "inc/web.yaml");
    }
}
