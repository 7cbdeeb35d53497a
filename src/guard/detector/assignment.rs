//! The generic rule: a value assigned to a secret-sounding name (`API_KEY = "..."`,
//! `"token": "..."`, `--api-key ...`). A prefilter finds the secret words (`key`, `token`,
//! `secret` ...) as names write them; around each, the name is read, judged by its words, and
//! the assigned value parsed by hand in the syntaxes of code, configuration files and command
//! lines, then judged by [`plausibility`](super::plausibility).

use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::Detector;
use super::detection::{Confidence, Detection, DetectionKind};
use super::line_cursor::LineCursor;
use super::plausibility::{looks_like_secret_value, shannon_entropy};
use super::work::examined;

impl Detector {
    /// Values assigned to secret-sounding names, outside the `keys` already found.
    pub(super) fn find_assignments(&self, text: &str, keys: &[Detection]) -> Vec<Detection> {
        let mut found = Vec::new();
        let mut keys = keys.iter().peekable();
        // `SECRET_KEY` holds two keywords, one name; keywords inside a value are not names.
        let mut name_end = 0;
        let mut lines = LineCursor::new(text);
        for hit in NAME_KEYWORDS_AUTOMATON.find_iter(text) {
            let start = hit.start();
            while keys.next_if(|key| key.claimed.end <= start).is_some() {}
            if start < name_end || keys.peek().is_some_and(|key| key.claimed.start <= start) {
                continue;
            }
            let name = identifier_around(text.as_bytes(), start, hit.end());
            name_end = name.end;
            let mut scanned_to = name.end;
            if let Some(detection) = self.match_assignment(text, name, &mut scanned_to, &mut lines)
            {
                found.push(detection);
            }
            name_end = name_end.max(scanned_to);
        }
        found
    }

    /// Appends the start of every secret word in `text`: where
    /// [`find_assignments`](Detector::find_assignments) looks, and all it looks at.
    pub(super) fn push_name_keyword_starts(text: &str, starts: &mut Vec<usize>) {
        starts.extend(
            NAME_KEYWORDS_AUTOMATON
                .find_iter(text)
                .map(|hit| hit.start()),
        );
    }

    /// The value assigned to the identifier at `name`, if the name sounds secret and the value
    /// looks like a secret.
    fn match_assignment(
        &self,
        text: &str,
        name: Range<usize>,
        scanned_to: &mut usize,
        lines: &mut LineCursor<'_>,
    ) -> Option<Detection> {
        examined(name.len());
        if !is_secret_name(&text[name.clone()]) || is_fixture_name(&text[name.clone()]) {
            return None;
        }
        let bytes = text.as_bytes();
        // `arn:aws:secretsmanager:...:secret:name`: a segment of a colon path, not a name.
        if name.start > 0 && bytes[name.start - 1] == b':' {
            return None;
        }
        let is_flag = bytes[name.start] == b'-';
        let value = assigned_value(text, name.end, is_flag, scanned_to)?;
        let value_text = &text[value.clone()];
        examined(value_text.len());
        let chars = value_text.chars().count();
        if chars < self.min_generic_len || chars > MAX_GENERIC_LEN {
            return None;
        }
        if !looks_like_secret_value(value_text) {
            return None;
        }
        let entropy = shannon_entropy(value_text);
        if entropy < self.min_entropy || lines.on_lock_file_hash_line(value.start) {
            return None;
        }
        let confidence = if chars >= 20 && entropy >= 3.5 {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        Some(Detection::new(
            text,
            value,
            DetectionKind::GenericAssignment,
            confidence,
        ))
    }
}

/// Generic values longer than this are data, not a credential someone typed.
pub(super) const MAX_GENERIC_LEN: usize = 512;

/// The last word of a name that makes it secret-sounding, lowercase.
pub(super) const SECRET_NAME_WORDS: &[&str] = &[
    "key",
    "apikey",
    "secretkey",
    "accesskey",
    "privatekey",
    "token",
    "authtoken",
    "accesstoken",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "pass",
    "pwd",
    "auth",
    "authorization",
    "credential",
    "credentials",
];

/// Words whose presence anywhere in a name makes it public: `public_key`, `publishable_key`.
const PUBLIC_NAME_WORDS: &[&str] = &["public", "pub", "publishable"];

/// The prefilter's words for the generic rule; every word of `SECRET_NAME_WORDS` contains one.
pub(super) const NAME_KEYWORDS: &[&str] = &[
    "key",
    "token",
    "secret",
    "pass",
    "pwd",
    "auth",
    "credential",
];

/// `NAME_KEYWORDS` as written in names: `api_key`, `API_KEY`, `apiKey`.
pub(super) static NAME_KEYWORDS_AUTOMATON: LazyLock<AhoCorasick> = LazyLock::new(|| {
    let variants = NAME_KEYWORDS.iter().flat_map(|word| {
        let mut capitalized = (*word).to_owned();
        capitalized[..1].make_ascii_uppercase();
        [(*word).to_owned(), word.to_ascii_uppercase(), capitalized]
    });
    #[allow(clippy::expect_used)] // 21 short constant patterns, exercised by every test
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(variants)
        .expect("name keyword automaton builds")
});

/// The identifier around the keyword at `start..end`: letters, digits, `_`, `-` and `.`, so
/// `OPENAI_API_KEY`, `x-api-key`, `--api-key` and `config.token` are whole names.
fn identifier_around(bytes: &[u8], start: usize, end: usize) -> Range<usize> {
    let is_name_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let mut from = start;
    while from > 0 && is_name_byte(bytes[from - 1]) {
        from -= 1;
    }
    let mut to = end;
    while to < bytes.len() && is_name_byte(bytes[to]) {
        to += 1;
    }
    examined(to - from);
    from..to
}

/// Whether `name`'s last word is secret-sounding and no word says it is public: `API_KEY`,
/// `apiKey`, `client_secret` and `--auth-token` are; `token_count`, `keyboard` and
/// `public_key` are not.
fn is_secret_name(name: &str) -> bool {
    // Called for every keyword in the text: no allocation on the way to a "no".
    let Some(last) = words(name).last() else {
        return false;
    };
    SECRET_NAME_WORDS
        .iter()
        .any(|w| w.eq_ignore_ascii_case(last))
        && !words(name).any(|word| {
            PUBLIC_NAME_WORDS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(word))
        })
}

/// Whether `name` marks its value as a test fixture: `TEST_API_KEY`, `fakeToken`, `mock_secret`.
fn is_fixture_name(name: &str) -> bool {
    const FIXTURE_WORDS: &[&str] = &[
        "test", "fake", "dummy", "mock", "example", "sample", "fixture",
    ];
    words(name).any(|word| FIXTURE_WORDS.iter().any(|f| f.eq_ignore_ascii_case(word)))
}

/// The words of an ASCII identifier, split at `_`, `-`, `.` and case changes: `APIKey` is
/// `API` and `Key`.
fn words(name: &str) -> impl Iterator<Item = &str> {
    let bytes = name.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() && !bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        let start = i;
        i += 1;
        let starts_word = |i: usize| {
            bytes[i].is_ascii_uppercase()
                && (!bytes[i - 1].is_ascii_uppercase()
                    || bytes.get(i + 1).is_some_and(u8::is_ascii_lowercase))
        };
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() && !starts_word(i) {
            i += 1;
        }
        name.get(start..i)
    })
}

/// The range of the value assigned after a name ending at `at`, in the syntaxes of code,
/// config files and command lines: `= v`, `: v`, `:= v`, `=> v`, `== v`, quoted or bare,
/// after an optional closing quote or `]` of the name and an optional `Bearer`/`Basic`/`Token`
/// scheme; with `is_flag`, also `--name v`.
///
/// `scanned_to` is set to where the search for the value stopped, found or not: keywords before
/// it were read as part of this value (`token="api_key=...` with no closing quote), and reading
/// them again for every keyword would make such text quadratic.
///
/// A bare value written `NAME=value`, with nothing in between, may be followed by more text:
/// that is how shell lines (`API_KEY=v SECRET=w ./run.sh`, `export A=v; B=w`), `.env` files,
/// log fields (`user=bob token=v status=200`) and query strings put several on one line.
fn assigned_value(
    text: &str,
    at: usize,
    is_flag: bool,
    scanned_to: &mut usize,
) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let mut i = at;
    // The closing quote of a quoted name, maybe escaped: `"api_key":`, `\"api_key\":`, `['key']`.
    if bytes.get(i) == Some(&b'\\') && bytes.get(i + 1) == Some(&b'"') {
        i += 2;
    } else if matches!(bytes.get(i), Some(b'"' | b'\'' | b'`')) {
        i += 1;
    }
    if bytes.get(i) == Some(&b']') {
        i += 1;
    }
    let after_name = i;
    i = skip_blanks(bytes, i);
    let separator_at = i;
    let rest = &bytes[i..];
    // `auth::Scheme` is a path, not an assignment.
    if rest.starts_with(b"::") {
        return None;
    }
    // `==` compares in code (`if token == "..."`); in `KEY==v` the value starts with `=`.
    let comparison = rest.starts_with(b"==") && matches!(rest.get(2), Some(b' ' | b'"' | b'\''));
    let separator = if rest.starts_with(b":=") || rest.starts_with(b"=>") || comparison {
        2
    } else if rest.starts_with(b"=") || rest.starts_with(b":") {
        1
    } else if is_flag && i > after_name {
        0
    } else {
        return None;
    };
    let value_at = separator_at + separator;
    i = skip_blanks(bytes, value_at);
    // Nothing between name, `=` and value: no quote or `]` after the name, no blanks, no scheme.
    let mut glued =
        separator_at == at && separator == 1 && rest.first() == Some(&b'=') && i == value_at;
    for scheme in ["bearer ", "basic ", "token "] {
        let end = i + scheme.len();
        if bytes.len() >= end && bytes[i..end].eq_ignore_ascii_case(scheme.as_bytes()) {
            i = skip_blanks(bytes, end);
            glued = false;
            break;
        }
    }
    let syntax = if glued {
        Syntax::Glued
    } else if is_flag {
        Syntax::Flag
    } else {
        Syntax::Spaced
    };
    let value = quoted_or_bare_value(bytes, i, syntax, scanned_to);
    examined(scanned_to.saturating_sub(i));
    value
}

/// How a value was assigned, which decides what may follow a bare value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// `key = v`, `key: v`, `"key" => v`: code and config files, where a bare value ends its
    /// line (or a quoted command, query parameter or comment).
    Spaced,
    /// `NAME=v` with nothing between name, `=` and value: shell, `.env`, log fields and query
    /// strings, where a bare value may be followed by a blank, `;`, `,`, `|` or an escaped
    /// line end, and then anything.
    Glued,
    /// `--name v`: a command-line flag, whose value may be followed by more arguments.
    Flag,
}

fn skip_blanks(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    examined(i - from);
    i
}

/// The value starting at `i`: inside quotes (`"v"`, `'v'`, `` `v` ``, `\"v\"`) or a bare run up
/// to whitespace or punctuation. Every end it returns is at an ASCII byte or the end of the
/// text, so the range is on character boundaries.
///
/// Secrets written in code are string literals; a bare value must end its line (`.env`, YAML,
/// headers), a quoted command (`"Authorization: Bearer v"`), a query parameter (`&`) or a
/// comment, or be a command-line flag's argument. That leaves out `key: Type,`,
/// `let token = next_token;` and `fn f(key: Key<'a>)`.
fn quoted_or_bare_value(
    bytes: &[u8],
    i: usize,
    syntax: Syntax,
    scanned_to: &mut usize,
) -> Option<Range<usize>> {
    // A longer value is rejected anyway; do not read further.
    let limit = bytes.len().min(i + MAX_GENERIC_LEN + 3);
    *scanned_to = limit;
    let first = *bytes.get(i)?;
    if first == b'\\' && bytes.get(i + 1) == Some(&b'"') {
        let start = i + 2;
        let end = (start..limit.saturating_sub(1))
            .find(|&j| (bytes[j] == b'\\' && bytes[j + 1] == b'"') || bytes[j] == b'\n')?;
        *scanned_to = end;
        return (bytes[end] == b'\\').then_some(start..end);
    }
    if matches!(first, b'"' | b'\'' | b'`') {
        let start = i + 1;
        let end = (start..limit).find(|&j| bytes[j] == first || bytes[j] == b'\n')?;
        *scanned_to = end;
        return (bytes[end] == first).then_some(start..end);
    }
    let is_value_byte = |b: u8| {
        !b.is_ascii_whitespace()
            && !matches!(
                b,
                b'"' | b'\''
                    | b'`'
                    | b','
                    | b';'
                    | b'('
                    | b')'
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b'<'
                    | b'>'
                    | b'&'
                    | b'|'
                    | b'\\'
            )
    };
    let mut end = i;
    while end < limit && is_value_byte(bytes[end]) {
        end += 1;
    }
    let run_end = end;
    *scanned_to = run_end;
    // Prose ends a sentence after the value: "the key is: Zr4pQ8wX2mK9vT."
    while end > i && matches!(bytes[end - 1], b'.' | b':') {
        end -= 1;
    }
    let next = skip_blanks(bytes, run_end);
    let ends_statement = match bytes.get(next) {
        None | Some(b'\r' | b'\n' | b'#' | b'"' | b'\'' | b'`' | b'&') => true,
        Some(_) if syntax == Syntax::Glued => match bytes[run_end] {
            b';' | b',' | b'|' => true,
            // `\n`, `\"`: a line end or quote escaped in a JSON string or a log line
            b'\\' => matches!(
                bytes.get(run_end + 1),
                Some(b'n' | b'r' | b't' | b'"' | b'\'')
            ),
            other => other.is_ascii_whitespace(),
        },
        Some(_) => syntax == Syntax::Flag && next > run_end,
    };
    if !ends_statement {
        return None;
    }
    // Stop at a character boundary even if the value runs into multi-byte text.
    while end > i && end < bytes.len() && (bytes[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    (end > i).then_some(i..end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_words() {
        let split = |name| words(name).collect::<Vec<_>>();
        assert_eq!(split("OPENAI_API_KEY"), ["OPENAI", "API", "KEY"]);
        assert_eq!(split("apiKey"), ["api", "Key"]);
        assert_eq!(split("--auth-token"), ["auth", "token"]);
        assert_eq!(split("X509Key"), ["X509", "Key"]);
        assert_eq!(split("config.clientSecret"), ["config", "client", "Secret"]);
        assert_eq!(split("APIKey"), ["API", "Key"]);
    }

    #[test]
    fn secret_names_end_in_a_secret_word() {
        for name in [
            "API_KEY",
            "apiKey",
            "token",
            "client_secret",
            "DB_PASSWORD",
            "--api-key",
            "x-api-key",
            "Authorization",
            "aws_secret_access_key",
            "APIKEY",
            "APIKey",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "token_count",
            "max_tokens",
            "keyboard",
            "monkey",
            "public_key",
            "key_id",
            "bypass",
            "passenger",
            "author",
            "secretKeyRef",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn the_name_prefilter_sees_every_secret_word() {
        for word in SECRET_NAME_WORDS {
            for written in [word.to_string(), word.to_ascii_uppercase()] {
                assert!(NAME_KEYWORDS_AUTOMATON.is_match(&written), "{written}");
            }
        }
    }

    #[test]
    fn assigned_values_are_found_in_many_syntaxes() {
        let cases = [
            ("API_KEY = \"V4lue9xQ\"", "V4lue9xQ"),
            ("api_key='V4lue9xQ'", "V4lue9xQ"),
            ("\"token\": \"V4lue9xQ\",", "V4lue9xQ"),
            ("{\\\"token\\\": \\\"V4lue9xQ\\\"}", "V4lue9xQ"),
            ("password: V4lue9xQ\n", "V4lue9xQ"),
            ("secret := `V4lue9xQ`", "V4lue9xQ"),
            ("'key' => 'V4lue9xQ'", "V4lue9xQ"),
            ("config[\"api_key\"] = \"V4lue9xQ\"", "V4lue9xQ"),
            ("Authorization: Bearer V4lue9xQ", "V4lue9xQ"),
            ("--api-key V4lue9xQ --verbose", "V4lue9xQ"),
            ("--api-key=V4lue9xQ", "V4lue9xQ"),
            ("?token=V4lue9xQ&page=2", "V4lue9xQ"),
            ("the key: V4lue9xQ.", "V4lue9xQ"),
            ("curl -H \"Authorization: Bearer V4lue9xQ\" x", "V4lue9xQ"),
            ("TOKEN=V4lue9xQ # rotated monthly", "V4lue9xQ"),
            ("API_KEY=V4lue9xQ SECRET=x ./run.sh", "V4lue9xQ"),
            ("password=V4lue9xQ;password=x", "V4lue9xQ"),
            ("token=V4lue9xQ, user=bob", "V4lue9xQ"),
            ("TOKEN=V4lue9xQ|tee log", "V4lue9xQ"),
            ("\"cmd\": \"TOKEN=V4lue9xQ\\nX=1\"", "V4lue9xQ"),
            ("--auth=Bearer V4lue9xQ --verbose", "V4lue9xQ"),
        ];
        for (text, value) in cases {
            let bytes = text.as_bytes();
            let start = NAME_KEYWORDS_AUTOMATON.find(text).unwrap();
            let name = identifier_around(bytes, start.start(), start.end());
            let is_flag = bytes[name.start] == b'-';
            let range = assigned_value(text, name.end, is_flag, &mut 0);
            assert_eq!(range.map(|r| &text[r]), Some(value), "{text}");
        }
    }

    #[test]
    fn code_after_a_secret_name_is_not_an_assignment() {
        for text in [
            "pub aio_key: crate::__u32,",
            "key: Utf8SuffixKey,",
            "fn from(key: PrivatePkcs1KeyDer<'a>) -> Self {",
            "let token = next_token9;",
            "let key = Utf8SuffixKey {",
            "pub use auth::SchemeV2;",
            "let token = make_token2(x);",
            "token=make_token2(x);",
            "key=keys[2];",
            "token = next_token9 and more",
            "Authorization=Bearer V4lue9xQ more",
        ] {
            let name_hit = NAME_KEYWORDS_AUTOMATON.find(text).unwrap();
            let name = identifier_around(text.as_bytes(), name_hit.start(), name_hit.end());
            assert_eq!(
                assigned_value(text, name.end, false, &mut 0),
                None,
                "{text}"
            );
        }
    }
}
