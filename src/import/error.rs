//! The importers' one error type: every message names the file, and a bad
//! row also its line and text, so a user can open the trace and look.

use thiserror::Error;

/// Row text kept in messages, in characters.
const ROW_SHOWN_CHARS: usize = 120;

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{file}: cannot read: {reason}")]
    Unreadable {
        file: String,
        reason: std::io::Error,
    },
    #[error("{file}:{line}: {message}\n  row: {row}")]
    BadRow {
        file: String,
        line: u64,
        message: String,
        /// The row as written, truncated to a readable length.
        row: String,
    },
    /// The file as a whole is not what the format expects (wrong header,
    /// missing companion file, no data).
    #[error("{file}: {message}")]
    BadFile { file: String, message: String },
}

impl ImportError {
    pub fn bad_row(file: &str, line: u64, message: impl Into<String>, row: &str) -> Self {
        ImportError::BadRow {
            file: file.to_string(),
            line,
            message: message.into(),
            row: truncate(row),
        }
    }

    pub fn bad_file(file: &str, message: impl Into<String>) -> Self {
        ImportError::BadFile {
            file: file.to_string(),
            message: message.into(),
        }
    }
}

fn truncate(row: &str) -> String {
    match row.char_indices().nth(ROW_SHOWN_CHARS) {
        Some((cut, _)) => format!("{}...", &row[..cut]),
        None => row.to_string(),
    }
}
