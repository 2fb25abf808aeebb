//! What a job wrote, made safe to print to a terminal. A log line can carry escape
//! sequences that move the cursor, rewrite earlier lines (a fake "approved"), change
//! the window title or, on some terminals, answer back into the input. Shown to a
//! person, every control character but newline and tab is written as a visible escape
//! (`\x1b`, `\r`); piped to a file or a program, the bytes stay as the job wrote them.

use std::borrow::Cow;
use std::io::IsTerminal;

/// `text` as it should reach standard output.
pub fn for_stdout(text: &str) -> Cow<'_, str> {
    if std::io::stdout().is_terminal() {
        visible(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// `text` with every control character but `\n` and `\t` escaped.
pub fn visible(text: &str) -> Cow<'_, str> {
    let hidden = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' => shown.push_str("\\r"),
            // Control characters are all below U+00A0: two hex digits each.
            c if hidden(c) => shown.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn control_characters_become_visible_but_lines_and_tabs_stay() {
        assert_eq!(visible("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            visible("\u{1b}[2Aapproved\r\u{7}\u{9b}"),
            "\\x1b[2Aapproved\\r\\x07\\x9b"
        );
    }
}
