//! A job's output cut into lines of bounded length.
//!
//! A job may print gigabytes without a newline; reading "up to the next newline" would
//! hold all of it in the server's memory. Lines are therefore cut at
//! [`MAX_LINE_BYTES`]: a longer line is kept as several, each piece but the last ending
//! with [`SPLIT_MARK`], and a cut never falls inside a UTF-8 character.

/// The longest line kept whole.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Ends each piece of a line that was too long, before its newline.
pub const SPLIT_MARK: &str = " [tollgate: line longer than 64 KiB, continued below]";

/// The line being read.
#[derive(Debug, Default)]
pub struct LineCutter {
    pending: Vec<u8>,
}

impl LineCutter {
    /// Takes bytes from `chunk` up to the end of a line or the length limit. Returns how
    /// many it took, and the line when one is complete (always ending in a newline).
    pub fn take(&mut self, chunk: &[u8]) -> (usize, Option<String>) {
        let room = MAX_LINE_BYTES.saturating_sub(self.pending.len());
        let window = &chunk[..chunk.len().min(room)];
        let taken = match window.iter().position(|&byte| byte == b'\n') {
            Some(at) => at + 1,
            None => window.len(),
        };
        self.pending.extend_from_slice(&chunk[..taken]);
        if self.pending.ends_with(b"\n") {
            let line = String::from_utf8_lossy(&self.pending).into_owned();
            self.pending.clear();
            return (taken, Some(line));
        }
        if self.pending.len() >= MAX_LINE_BYTES {
            return (taken, Some(self.cut()));
        }
        (taken, None)
    }

    /// What is left when the output ends, as a last line.
    pub fn finish(self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let mut line = String::from_utf8_lossy(&self.pending).into_owned();
        line.push('\n');
        Some(line)
    }

    /// Hands out the pending bytes as a marked piece, keeping back the start of a
    /// character that the limit cut in two.
    fn cut(&mut self) -> String {
        let keep_from = match std::str::from_utf8(&self.pending) {
            Err(error) if error.error_len().is_none() => error.valid_up_to(),
            _ => self.pending.len(),
        };
        let rest = self.pending.split_off(keep_from);
        let mut piece = String::from_utf8_lossy(&self.pending).into_owned();
        piece.push_str(SPLIT_MARK);
        piece.push('\n');
        self.pending = rest;
        piece
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in chunks of `size` bytes and returns the lines.
    fn lines_of(input: &[u8], size: usize) -> Vec<String> {
        let mut cutter = LineCutter::default();
        let mut lines = Vec::new();
        for mut chunk in input.chunks(size) {
            while !chunk.is_empty() {
                let (taken, line) = cutter.take(chunk);
                lines.extend(line);
                chunk = &chunk[taken..];
            }
        }
        lines.extend(cutter.finish());
        lines
    }

    #[test]
    fn short_lines_pass_whole_and_the_last_gets_a_newline() {
        assert_eq!(
            lines_of(b"one\ntwo\nthree", 3),
            ["one\n", "two\n", "three\n"]
        );
        assert!(lines_of(b"", 10).is_empty());
    }

    #[test]
    fn a_long_line_is_cut_into_marked_pieces_and_nothing_is_lost() {
        let long = vec![b'a'; MAX_LINE_BYTES * 2 + 10];
        let mut input = long.clone();
        input.extend_from_slice(b"\nnext\n");
        let lines = lines_of(&input, 10_000);
        assert_eq!(
            lines.len(),
            4,
            "{:?}",
            lines.iter().map(String::len).collect::<Vec<_>>()
        );
        assert!(lines[0].ends_with(&format!("{SPLIT_MARK}\n")));
        assert!(lines[1].ends_with(&format!("{SPLIT_MARK}\n")));
        assert_eq!(lines[2], format!("{}\n", "a".repeat(10)));
        assert_eq!(lines[3], "next\n");
        let kept: usize = lines[..3]
            .iter()
            .map(|line| {
                line.trim_end_matches('\n')
                    .trim_end_matches(SPLIT_MARK)
                    .len()
            })
            .sum();
        assert_eq!(kept, long.len());
        assert!(
            lines
                .iter()
                .all(|line| line.len() <= MAX_LINE_BYTES + SPLIT_MARK.len() + 1)
        );
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        // 'é' is two bytes: with one byte of padding, the limit falls inside one.
        let mut input = vec![b'x'];
        input.extend("é".repeat(MAX_LINE_BYTES).as_bytes());
        let lines = lines_of(&input, 4096);
        assert!(
            lines.iter().all(|line| !line.contains('\u{FFFD}')),
            "no replacement characters"
        );
        let text: String = lines
            .iter()
            .map(|line| line.trim_end_matches('\n').trim_end_matches(SPLIT_MARK))
            .collect();
        assert_eq!(text.as_bytes(), &input[..]);
    }
}
