//! Splits `.env` text into statements exactly where dotenvy 0.15.7 splits it.
//!
//! dotenvy reads a file line by line and joins lines while a quote is open (its `QuotedLines`
//! and `eval_end_state`). We mirror that state machine so that each statement can be rewritten
//! and handed to dotenvy alone, and so that errors carry the line number where the statement
//! starts. Any change here must keep agreeing with dotenvy: the tests in `super::tests` compare
//! the two on tricky inputs.

/// Where dotenvy's line reader is inside a statement (its `ParseState`, minus `Comment`, which
/// ends a statement at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Complete,
    Escape,
    StrongOpen,
    StrongOpenEscape,
    WeakOpen,
    WeakOpenEscape,
    WhiteSpace,
}

/// How one physical line leaves the reader.
enum LineEnd {
    /// In this state, after the whole line.
    State(State),
    /// At a `#` comment starting at this byte offset of the line; the statement ends there.
    Comment(usize),
}

/// Runs dotenvy's `eval_end_state` over one line.
fn eval_line(mut state: State, line: &str) -> LineEnd {
    for (pos, c) in line.char_indices() {
        state = match state {
            State::WhiteSpace => match c {
                '#' => return LineEnd::Comment(pos),
                '\\' => State::Escape,
                '"' => State::WeakOpen,
                '\'' => State::StrongOpen,
                _ => State::Complete,
            },
            State::Escape => State::Complete,
            State::Complete => match c {
                c if c.is_whitespace() && c != '\n' && c != '\r' => State::WhiteSpace,
                '\\' => State::Escape,
                '"' => State::WeakOpen,
                '\'' => State::StrongOpen,
                _ => State::Complete,
            },
            State::WeakOpen => match c {
                '\\' => State::WeakOpenEscape,
                '"' => State::Complete,
                _ => State::WeakOpen,
            },
            State::WeakOpenEscape => State::WeakOpen,
            State::StrongOpen => match c {
                '\\' => State::StrongOpenEscape,
                '\'' => State::Complete,
                _ => State::StrongOpen,
            },
            State::StrongOpenEscape => State::StrongOpen,
        };
    }
    LineEnd::State(state)
}

/// One statement: usually one line, several when a quoted value spans lines.
///
/// Holds raw text, secrets included: `Debug` only in tests, so it cannot reach a log.
#[cfg_attr(test, derive(Debug))]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Statement<'a> {
    /// The 1-based number of the line the statement starts on.
    pub(super) line: usize,
    /// The text as dotenvy's line reader returns it: without the final line break, and cut
    /// before a trailing `# comment`.
    pub(super) text: &'a str,
}

/// The input ended inside a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Unterminated {
    /// The 1-based number of the line the statement starts on.
    pub(super) line: usize,
    /// What is left open, for the error message.
    pub(super) reason: &'static str,
}

/// The statements of `input`, comment lines left out; stops after the first error.
pub(super) fn statements(input: &str) -> Statements<'_> {
    Statements {
        rest: input,
        next_line: 1,
    }
}

/// Iterator returned by [`statements`]. Holds the rest of the input: no `Debug`.
#[cfg_attr(test, derive(Debug))]
pub(super) struct Statements<'a> {
    rest: &'a str,
    next_line: usize,
}

impl<'a> Iterator for Statements<'a> {
    type Item = Result<Statement<'a>, Unterminated>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let input = self.rest;
            if input.is_empty() {
                return None;
            }
            let line = self.next_line;
            let mut state = State::Complete;
            let mut end = 0;
            let (text, is_comment_line) = loop {
                let remaining = &input[end..];
                if remaining.is_empty() {
                    self.rest = "";
                    let reason = match state {
                        // dotenvy also fails on a last line that ends in exactly one blank
                        // (`KEY=value ` with no line break); nothing is open there, so we accept it.
                        State::Complete | State::WhiteSpace => break (input, false),
                        State::Escape => "the input ends with a backslash",
                        State::WeakOpen | State::WeakOpenEscape => "a double quote is not closed",
                        State::StrongOpen | State::StrongOpenEscape => {
                            "a single quote is not closed"
                        }
                    };
                    return Some(Err(Unterminated { line, reason }));
                }
                let line_start = end;
                end += remaining.find('\n').map_or(remaining.len(), |i| i + 1);
                self.next_line += 1;
                // dotenvy skips a statement whose text so far starts with `#`, and looks again
                // at every line it joins; only the first line can decide that (a first line of
                // blanks ends the statement), so we look once: looking at every line would be
                // quadratic in a statement that starts with many blanks and spans many lines.
                if line_start == 0 && input[..end].trim_start().starts_with('#') {
                    break (&input[..0], true);
                }
                match eval_line(state, &input[line_start..end]) {
                    LineEnd::Comment(pos) => break (&input[..line_start + pos], false),
                    LineEnd::State(State::Complete) => {
                        let text = &input[..end];
                        let text = text
                            .strip_suffix('\n')
                            .map_or(text, |text| text.strip_suffix('\r').unwrap_or(text));
                        break (text, false);
                    }
                    LineEnd::State(open) => state = open,
                }
            };
            self.rest = &input[end..];
            if !is_comment_line {
                return Some(Ok(Statement { line, text }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &str) -> Vec<(usize, &str)> {
        statements(input)
            .map(|s| s.map(|s| (s.line, s.text)))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("unexpected {e:?}"))
    }

    #[test]
    fn one_statement_per_line() {
        assert_eq!(
            split("A=1\r\nB=2\n\nC=3"),
            [(1, "A=1"), (2, "B=2"), (3, ""), (4, "C=3")]
        );
    }

    #[test]
    fn quoted_values_span_lines_and_keep_their_start_line() {
        assert_eq!(
            split("A=1\nB=\"x\ny\nz\"\nC='p\nq'\nD=4\n"),
            [
                (1, "A=1"),
                (2, "B=\"x\ny\nz\""),
                (5, "C='p\nq'"),
                (7, "D=4")
            ]
        );
    }

    #[test]
    fn comments_are_cut_or_skipped() {
        assert_eq!(
            split("# all comment\n  # indented\nA=1 # trailing\nB=x#not\nC=\"a # b\"\n"),
            [(3, "A=1 "), (4, "B=x#not"), (5, "C=\"a # b\"")]
        );
    }

    #[test]
    fn a_comment_like_line_inside_quotes_is_part_of_the_value() {
        assert_eq!(split("A=\"x\n# y\n\"\n"), [(1, "A=\"x\n# y\n\"")]);
    }

    #[test]
    fn open_quotes_at_the_end_are_reported_with_the_start_line() {
        let mut it = statements("A=1\nB=\"open\nstill open\n");
        assert_eq!(
            it.next(),
            Some(Ok(Statement {
                line: 1,
                text: "A=1"
            }))
        );
        let err = it.next();
        assert!(
            matches!(err, Some(Err(Unterminated { line: 2, .. }))),
            "{err:?}"
        );
        assert_eq!(it.next(), None);

        let err = statements("A='x").next();
        assert!(matches!(err, Some(Err(Unterminated { line: 1, .. }))));
        let err = statements("A=x\\").next();
        assert!(matches!(err, Some(Err(Unterminated { line: 1, .. }))));
    }

    #[test]
    fn an_escaped_quote_does_not_close() {
        assert_eq!(split("A=\"a\\\"b\nc\"\n"), [(1, "A=\"a\\\"b\nc\"")]);
        // dotenvy's reader also treats a backslash inside single quotes as an escape.
        assert_eq!(split("A='a\\'b\nc'\n"), [(1, "A='a\\'b\nc'")]);
    }
}
