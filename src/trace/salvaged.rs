//! A trace that `pacsim export --salvage` made from a damaged or unfinished
//! run holds the records before the damage only: its run went on. The
//! scenario text in its header says where it ends, in a comment line (as
//! runs with `--fault-profile` or `--workload-trace` record theirs), so that
//! `replay --verify` can tell a salvaged copy's end from a trace that ends
//! early.

const MARK: &str = "# pacsim export --salvage: the trace ends at record ";
const TAIL: &str = " (salvaged; its run went on)";

/// `scenario` with the line saying the trace ends after `records` records
/// (replacing the line of an earlier salvage).
pub fn mark(scenario: &str, records: u64) -> String {
    let mut text = match end(scenario) {
        None => scenario.to_string(),
        Some(_) => (scenario.lines())
            .filter(|l| !l.starts_with(MARK))
            .flat_map(|l| [l, "\n"])
            .collect(),
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("{MARK}{records}{TAIL}\n"));
    text
}

/// Where a salvaged trace ends (its record count), if its scenario text
/// says it is one.
pub fn end(scenario: &str) -> Option<u64> {
    let line = scenario.lines().rfind(|l| l.starts_with(MARK))?;
    line[MARK.len()..].strip_suffix(TAIL)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_reads_back_and_a_second_salvage_replaces_it() {
        let text = "name: x\nseed: 1\n";
        assert_eq!(end(text), None);
        let once = mark(text, 1234);
        assert!(once.starts_with(text), "{once}");
        assert_eq!(end(&once), Some(1234));
        let twice = mark(&once, 99);
        assert_eq!(end(&twice), Some(99));
        assert_eq!(twice.matches(MARK).count(), 1);
        assert_eq!(end(&mark("name: x", 0)), Some(0));
    }
}
