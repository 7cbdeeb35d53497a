//! Whether a candidate is plausibly a secret: not a placeholder, a sequence, code, a path, a
//! date or a word, and random enough (Shannon entropy). These heuristics keep the detector's
//! false positives down; each is a plain function of the candidate's text.

use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};

/// Substrings that mark a value as an example, anywhere and in any case.
const PLACEHOLDER_SUBSTRINGS: &[&str] = &[
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "redacted",
    "replace",
    "dummy",
    "sample",
    "yourkey",
    "yourtoken",
    "your_",
    "your-",
    "insert",
    "keyhere",
];

/// Words that mark a value as an example when they stand alone between separators. At least
/// three letters: a two-letter word between `-` and `_` turns up in long random keys.
const PLACEHOLDER_WORDS: &[&str] = &[
    "your", "here", "fake", "test", "mock", "todo", "foo", "bar", "none", "null", "nil", "key",
    "token", "secret", "password", "api",
];

/// An automaton finding any of `patterns` in any ASCII case: one pass over a candidate and no
/// allocation, where lowercasing it and searching for each pattern in turn was most of the cost
/// of a line full of keys.
fn any_case(patterns: &[&str]) -> AhoCorasick {
    #[allow(clippy::expect_used)] // short constant patterns, exercised by every test
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .build(patterns)
        .expect("constant patterns build")
}

/// Whether `value` (a key without its public prefix, or an assigned value) is a placeholder,
/// a sequence or too repetitive to be a real secret.
///
/// A placeholder says so: it holds a long marker (`EXAMPLE`, `placeholder`, `changeme`), or its
/// short markers cover a third of it (`dummy-token`, `r4-key-2m`), or there are two of them
/// (`sk-proj-dummy-...-test-...`). One short marker in a long random body is chance, not intent:
/// a real key of 100 characters from 64 holds `dummy` or `-key-` about once in 20,000, and a
/// security library must not drop it for that; one of the markers of 7 letters or more turns up
/// by chance in such a key once in tens of millions.
pub(super) fn is_placeholder(value: &str) -> bool {
    let markers = placeholder_markers(value);
    markers.long > 0
        || markers.count >= 2
        || (markers.count == 1 && markers.covered * 3 >= value.len())
        || is_repetitive(value)
        || few_alphanumerics(value)
}

/// A marker at least this long marks a placeholder by itself.
const LONG_MARKER: usize = 7;

/// The placeholder markers a value holds.
#[derive(Debug, Default, PartialEq)]
struct Markers {
    /// How many, a marker inside another counted once.
    count: usize,
    /// How many of them are [`LONG_MARKER`] bytes or longer.
    long: usize,
    /// How many bytes of the value they cover together.
    covered: usize,
}

/// The placeholder markers in `value`.
fn placeholder_markers(value: &str) -> Markers {
    static SUBSTRINGS: LazyLock<AhoCorasick> = LazyLock::new(|| any_case(PLACEHOLDER_SUBSTRINGS));
    let substrings = SUBSTRINGS.find_iter(value).map(|found| found.range());
    let words = alphanumeric_words(value).filter(|word| {
        PLACEHOLDER_WORDS
            .iter()
            .any(|marker| marker.eq_ignore_ascii_case(&value[word.clone()]))
    });
    let mut marked: Vec<Range<usize>> = substrings.chain(words).collect();
    marked.sort_unstable_by_key(|range| range.start);
    // `your_` and the word `your` are one marker, not two
    let mut markers = Markers::default();
    let mut end = 0;
    for range in marked {
        if range.len() >= LONG_MARKER {
            markers.long += 1;
        }
        if range.start >= end {
            markers.count += 1;
            markers.covered += range.len();
        } else if range.end > end {
            markers.covered += range.end - end;
        }
        end = end.max(range.end);
    }
    markers
}

/// The ranges of `value`'s runs of ASCII letters and digits.
fn alphanumeric_words(value: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let bytes = value.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        while start < bytes.len() && !bytes[start].is_ascii_alphanumeric() {
            start += 1;
        }
        if start == bytes.len() {
            return None;
        }
        let word_start = start;
        while start < bytes.len() && bytes[start].is_ascii_alphanumeric() {
            start += 1;
        }
        Some(word_start..start)
    })
}

/// Whether `value`'s letters and digits are fewer than four distinct ones: `x_xx-xxx.x`, a
/// placeholder written in a key's shape, whose punctuation breaks the runs `is_repetitive`
/// looks for.
fn few_alphanumerics(value: &str) -> bool {
    let mut seen = [false; 128];
    let mut distinct = 0;
    for byte in value.bytes().filter(u8::is_ascii_alphanumeric) {
        if !seen[usize::from(byte)] {
            seen[usize::from(byte)] = true;
            distinct += 1;
            if distinct >= 4 {
                return false;
            }
        }
    }
    true
}

/// Whether `value` is mostly one character, a sequence, or a few characters over and over.
///
/// Word lists are left out: a PEM body has so many characters that it holds `dummy` or `sample`
/// by chance once in a few thousand keys.
pub(super) fn is_repetitive(value: &str) -> bool {
    let bytes = value.as_bytes();
    // Six: five alike in a row turn up in a random 16-character AWS key id once in 100,000.
    let min_same_run = (bytes.len() / 4).max(6);
    let min_sequence = (bytes.len() / 4).max(6);
    let mut distinct = [false; 256];
    let mut distinct_count = 0;
    let mut same_run = 1;
    let mut up_run = 1;
    let mut down_run = 1;
    for (i, &byte) in bytes.iter().enumerate() {
        if !distinct[usize::from(byte)] {
            distinct[usize::from(byte)] = true;
            distinct_count += 1;
        }
        if i == 0 {
            continue;
        }
        let prev = bytes[i - 1];
        same_run = if byte == prev { same_run + 1 } else { 1 };
        let sequential = byte.is_ascii_alphanumeric() && prev.is_ascii_alphanumeric();
        up_run = if sequential && byte == prev.wrapping_add(1) {
            up_run + 1
        } else {
            1
        };
        down_run = if sequential && byte.wrapping_add(1) == prev {
            down_run + 1
        } else {
            1
        };
        // `xxxxx`, `00000`; `abcdef`, `123456`, `987654`; a long key may hold a short run
        // by chance (`123456` in a Slack team id), a placeholder is mostly run
        if same_run >= min_same_run || up_run >= min_sequence || down_run >= min_sequence {
            return true;
        }
    }
    distinct_count < 4
}

/// Whether `value` looks like a secret rather than code, a word, a path or a placeholder.
pub(super) fn looks_like_secret_value(value: &str) -> bool {
    static TEMPLATES: LazyLock<AhoCorasick> = LazyLock::new(|| {
        any_case(&[
            "${",
            "{{",
            "}}",
            "%(",
            "$(",
            "<%",
            "process.env",
            "os.environ",
            "getenv",
            "env[",
            "://",
            // markup escaped into a value: `&lt;key=&quot;value&quot;&gt;`
            "&lt;",
            "&gt;",
            "&quot;",
            "&amp;",
        ])
    });
    if TEMPLATES.is_match(value)
        || value.starts_with(['$', '<', '{', '%', '[', '(', '*', '/', '.', '~'])
        || value.ends_with('>')
        || value.contains(char::is_whitespace)
    {
        return false;
    }
    if is_placeholder(value)
        || is_uuid(value)
        || is_file_name(value)
        || is_date_or_version(value)
        || is_words(value)
        || has_template_variable(value)
        || value.contains("::")
        // An AWS Signature V4 credential scope (`AKIA.../20150830/us-east-1/s3/aws4_request`):
        // the access key id in it is found by its own rule, the rest is public.
        || value.ends_with("/aws4_request")
    {
        return false;
    }
    let mut lower_case = false;
    let mut upper_case = false;
    let mut digit = false;
    let mut other = false;
    for c in value.chars() {
        match c {
            'a'..='z' => lower_case = true,
            'A'..='Z' => upper_case = true,
            '0'..='9' => digit = true,
            // Separators of identifiers, paths and words carry no secret by themselves.
            '_' | '-' | '.' | ':' => {}
            _ => other = true,
        }
    }
    // `config.apiKey`, `Some-Header`, `snake_case_name`: letters and separators only.
    if !digit && !other {
        return false;
    }
    let classes = [lower_case, upper_case, digit, other]
        .iter()
        .filter(|&&c| c)
        .count();
    classes >= 2
}

/// `2024-05-27T07:32:00Z`, `1.88.0`, `10.0.0.1`: digits and date, time or version punctuation.
fn is_date_or_version(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | '.' | 'T' | 'Z' | '+' | '/'))
}

/// `x-hello-world-64`, `my_app.prod`, `prod/api#OPENAI`: separated words of one case and
/// numbers, as names and paths are.
fn is_words(value: &str) -> bool {
    let mut parts = value
        .split(['-', '_', '.', ':', '/', '#'])
        .filter(|p| !p.is_empty());
    let all_words = parts.clone().all(|part| {
        let rest = part.get(1..).unwrap_or("");
        part.bytes().all(|b| b.is_ascii_digit())
            || part.bytes().all(|b| b.is_ascii_lowercase())
            || part.bytes().all(|b| b.is_ascii_uppercase())
            || (part.starts_with(|c: char| c.is_ascii_uppercase())
                && rest.bytes().all(|b| b.is_ascii_lowercase()))
    });
    parts.nth(1).is_some() && all_words
}

/// `$HOME`, `$API_KEY`: a shell variable, though not the `$2b$12$...` of a bcrypt hash.
fn has_template_variable(value: &str) -> bool {
    value.split('$').skip(1).any(|after| {
        after.len() >= 3
            && after
                .bytes()
                .take(3)
                .all(|b| b.is_ascii_uppercase() || b == b'_')
    })
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `server.pem`, `keys/prod.json`: a name with a short alphabetic extension.
fn is_file_name(value: &str) -> bool {
    value.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && (2..=4).contains(&ext.len())
            && ext.bytes().all(|b| b.is_ascii_lowercase())
    })
}

/// Shannon entropy of the characters of `value`, in bits per character.
pub(super) fn shannon_entropy(value: &str) -> f64 {
    let entropy = |counts: &mut dyn Iterator<Item = usize>, total: usize| -> f64 {
        let total = total as f64;
        counts
            .map(|count| {
                let p = count as f64 / total;
                -p * p.log2()
            })
            .sum()
    };
    if value.is_ascii() {
        // Nearly every candidate: count bytes, no allocation.
        let mut counts = [0usize; 128];
        for &byte in value.as_bytes() {
            counts[usize::from(byte)] += 1;
        }
        return entropy(&mut counts.into_iter().filter(|&c| c > 0), value.len());
    }
    let mut chars: Vec<char> = value.chars().collect();
    chars.sort_unstable();
    entropy(
        &mut chars.chunk_by(|a, b| a == b).map(<[char]>::len),
        chars.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_counts_bits_per_character() {
        assert_eq!(shannon_entropy(""), 0.0);
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("abab") - 1.0).abs() < 1e-9);
        assert!((shannon_entropy("abcdefgh") - 3.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders_sequences_and_repetition_are_recognised() {
        for value in [
            "xxxxxxxxxxxxxxxxxxxx",
            "your-api-key-here",
            "EXAMPLEKEY12345",
            "abcdefghij0Q",
            "Zq0123456789",
            "Q9876543210z",
            "a1a1a1a1a1a1",
            "MY_SECRET_TOKEN",
            "changeme123!",
            "0000000AbC9",
            "xxx_xxx_x-xxx_-xx--.x-xxxx_-_xxx",
            "x+xxxx+xxxxxxx+x+xxxx/xx+xx==",
        ] {
            assert!(is_placeholder(value), "{value}");
        }
        for value in ["Ab3dAb3dAb3dAb3d", "Zr4_pQ8-wX2mK9vT", "a1B2a1B2a1B2"] {
            assert!(!is_placeholder(value), "{value}");
        }
    }

    /// Random bodies of the shape of an Anthropic or OpenAI project key (letters, digits, `-`
    /// and `_`), none of them repetitive, with each placeholder marker set into them.
    fn random_body(len: usize, seed: u64) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut state = seed | 1;
        (0..len)
            .map(|_| {
                // xorshift64: enough to spread characters, no dependency
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(ALPHABET[(state % 64) as usize])
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn one_marker_in_a_long_random_body_is_chance(
            len in 24usize..160,
            seed in proptest::prelude::any::<u64>(),
            marker in proptest::sample::select(
                PLACEHOLDER_SUBSTRINGS
                    .iter()
                    .chain(PLACEHOLDER_WORDS)
                    .copied()
                    .filter(|marker| marker.len() < LONG_MARKER)
                    .collect::<Vec<_>>()
            ),
            at in 0.0f64..1.0,
        ) {
            let body = random_body(len, seed);
            proptest::prop_assume!(placeholder_markers(&body).count == 0 && !is_repetitive(&body));
            proptest::prop_assume!(!few_alphanumerics(&body));
            let at = ((len as f64) * at) as usize;
            let marked = format!("{}-{marker}-{}", &body[..at], &body[at..]);
            proptest::prop_assume!(marker.len() * 3 < marked.len());
            // The dashes may make a word of the body's characters next to them a marker too
            // (`...qv-dummy-fOO-0I...`): then there are two.
            proptest::prop_assume!(placeholder_markers(&marked).count == 1);
            proptest::prop_assert!(!is_placeholder(&marked), "{marked}");
            // a second marker makes it intent
            let twice = format!("{marked}_{}", PLACEHOLDER_WORDS[len % PLACEHOLDER_WORDS.len()]);
            proptest::prop_assert!(is_placeholder(&twice), "{twice}");
        }
    }

    #[test]
    fn a_long_marker_anywhere_is_a_placeholder() {
        let body = random_body(60, 7);
        for marker in PLACEHOLDER_SUBSTRINGS
            .iter()
            .filter(|marker| marker.len() >= LONG_MARKER)
        {
            for at in [0, 13, 60] {
                let value = format!("{}{}{}", &body[..at], marker.to_uppercase(), &body[at..]);
                assert!(is_placeholder(&value), "{value}");
            }
        }
    }

    #[test]
    fn a_marker_covering_a_third_is_a_placeholder() {
        for (value, placeholder) in [
            ("IOSFODNN7EXAMPLE", true),
            ("zQ8wX2mK9-dummy", true),
            ("zQ8wX2mK9vT4rP7s-dummy", false),
            ("your_Zr4pQ8wX2m", true),
            ("your_Zr4pQ8wX2mK9vT7n", false),
            ("r4pQ8wX-key-2mK9vT", false),
            ("r4-key-2m", true),
        ] {
            assert_eq!(is_placeholder(value), placeholder, "{value}");
        }
    }

    #[test]
    fn code_is_not_an_assigned_value() {
        for value in [
            "config.apiKey",
            "String",
            "snake_case_name",
            "${OPENAI_API_KEY}",
            "<API_KEY>",
            "{{ api_key }}",
            "keys/server.pem",
            "https://example.org/a1",
            "550e8400-e29b-41d4-a716-446655440000",
            "process.env.KEY1",
            "ANOTREAL/20150830/us-east-1/service/aws4_request",
            "&lt;key=&quot;value&quot;&gt;",
            "prod/api#OPENAI",
        ] {
            assert!(!looks_like_secret_value(value), "{value}");
        }
        for value in [
            "Zr4_pQ8-wX2mK9vT",
            "9f86d081884c7d659a2feaa0c55ad015",
            "Tr0ub4dor&3x",
        ] {
            assert!(looks_like_secret_value(value), "{value}");
        }
    }
}
