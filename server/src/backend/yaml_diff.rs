//! The lines that changed between two versions of a pipeline's YAML, for the history's
//! diff. A diff of two large specs is cut off after a second: what is left is shown as
//! removed and added whole, still correct, only less fine.

use std::time::Duration;

use app::api::DiffLine;
use similar::{ChangeTag, TextDiff};

/// How long one diff may search for the smallest set of changes.
const DEADLINE: Duration = Duration::from_secs(1);

/// `before` to `after`, line by line.
pub fn lines(before: &str, after: &str) -> Vec<DiffLine> {
    TextDiff::configure()
        .timeout(DEADLINE)
        .diff_lines(before, after)
        .iter_all_changes()
        .map(|change| DiffLine {
            change: match change.tag() {
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
                ChangeTag::Equal => ' ',
            },
            text: change.value().trim_end_matches('\n').to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::lines;

    #[test]
    fn says_which_lines_went_and_came() {
        let shown: Vec<String> = lines("a\nb\nc\n", "a\nc\nd\n")
            .into_iter()
            .map(|line| format!("{}{}", line.change, line.text))
            .collect();
        assert_eq!(shown, [" a", "-b", " c", "+d"]);
    }
}
