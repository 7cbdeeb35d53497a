//! [`LineCursor`]: where the line of a position starts, found by reading forward once, and
//! whether that line records a package hash (lock files are full of hashes that are not
//! secrets); [`LineNumbers`]: the line and column of positions, for reports.

use super::text::is_word_byte;
use super::work::examined;

/// A position moving forward through a text, with where its line starts.
///
/// Detections come in order, so each byte between them is read once, however long the line:
/// going back to the line start for every detection made a line full of keys quadratic. Only
/// the last line break between two positions is looked for (`memrchr`): the redactor and the
/// detector's searches need no line numbers, and counting them, with the columns, over a long
/// line (a JSON tool result on one line) took a third of `Edge::to_model`'s time.
pub(super) struct LineCursor<'t> {
    text: &'t str,
    at: usize,
    line_start: usize,
    /// Whether the current line records a package hash, once asked.
    hash_line: Option<bool>,
}

impl<'t> LineCursor<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        LineCursor {
            text,
            at: 0,
            line_start: 0,
            hash_line: None,
        }
    }

    /// Moves to `to`, a position at or after the current one.
    fn advance(&mut self, to: usize) {
        debug_assert!(to >= self.at, "a line cursor only moves forward");
        let gap = &self.text.as_bytes()[self.at..to];
        examined(gap.len());
        if let Some(last) = memchr::memrchr(b'\n', gap) {
            self.line_start = self.at + last + 1;
            self.hash_line = None;
        }
        self.at = to;
    }

    /// Moves to `at` and says whether its line records a package hash: `checksum = "..."` in
    /// `Cargo.lock`, `"integrity": "sha512-..."` in `package-lock.json`, `integrity sha512-...`
    /// in `yarn.lock`.
    pub(super) fn on_lock_file_hash_line(&mut self, at: usize) -> bool {
        const HASH_WORDS: &[&str] = &[
            "checksum",
            "integrity",
            "shasum",
            "sha1",
            "sha256",
            "sha384",
            "sha512",
        ];
        self.advance(at);
        let (text, line_start) = (self.text, self.line_start);
        let starts_with_hash_word = *self.hash_line.get_or_insert_with(|| {
            let line = text[line_start..].trim_start_matches([' ', '\t', '"']);
            examined(text.len() - line_start - line.len());
            // The longest hash word and one byte after it: no need to read further.
            let head = &line.as_bytes()[..line.len().min(10)];
            let word_end = head
                .iter()
                .position(|&b| !is_word_byte(b))
                .unwrap_or(head.len());
            HASH_WORDS
                .iter()
                .any(|w| w.as_bytes().eq_ignore_ascii_case(&head[..word_end]))
        });
        starts_with_hash_word
            || ["sha1-", "sha256-", "sha384-", "sha512-"]
                .iter()
                .any(|p| text[..at].ends_with(p))
    }
}

/// The line and column of positions met in order, each byte between them read once.
pub(super) struct LineNumbers<'t> {
    text: &'t str,
    at: usize,
    /// The line `at` is on, counting from 1.
    line: usize,
    /// Characters from the start of that line to `at`.
    column: usize,
}

impl<'t> LineNumbers<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        LineNumbers {
            text,
            at: 0,
            line: 1,
            column: 0,
        }
    }

    /// The line and the column of `to` (a character boundary at or after the last position
    /// asked for), counting both from 1.
    pub(super) fn of(&mut self, to: usize) -> (usize, usize) {
        debug_assert!(to >= self.at, "line numbers are asked for in order");
        let gap = &self.text.as_bytes()[self.at..to];
        examined(gap.len());
        let chars = |bytes: &[u8]| bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
        match memchr::memrchr(b'\n', gap) {
            Some(last) => {
                self.line += memchr::memchr_iter(b'\n', gap).count();
                self.column = chars(&gap[last + 1..]);
            }
            None => self.column += chars(gap),
        }
        self.at = to;
        (self.line, self.column + 1)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters_from_one() {
        let text = "ab\nc\u{e9}d\n\n  x";
        let mut numbers = LineNumbers::new(text);
        let expected = [
            (0, (1, 1)),
            (2, (1, 3)),
            (3, (2, 1)),
            (6, (2, 3)),
            (8, (3, 1)),
            (11, (4, 3)),
        ];
        for (at, line_and_column) in expected {
            assert_eq!(numbers.of(at), line_and_column, "at {at}");
        }
    }

    #[test]
    fn lock_file_hash_lines_are_recognised() {
        let cargo = "name = \"x\"\nchecksum = \"9f86d081884c7d65\"\n";
        let on_hash_line = |text, at| LineCursor::new(text).on_lock_file_hash_line(at);
        assert!(on_hash_line(cargo, cargo.find("9f86").unwrap()));
        let npm = "  \"integrity\": \"sha512-Zr4pQ8wX\",";
        assert!(on_hash_line(npm, npm.find("Zr4").unwrap()));
        let env = "TOKEN=Zr4pQ8wX";
        assert!(!on_hash_line(env, env.find("Zr4").unwrap()));
    }
}
