//! A glob matcher for key names: `*` and `?`, nothing else.
//!
//! Scopes need only these two wildcards, and a small matcher whose every rule fits in a doc
//! comment is easier to trust than a general glob crate with character classes and braces.

use crate::key_name::MAX_KEY_NAME_LEN;

/// A compiled key-name pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pattern {
    text: Box<str>,
    /// No wildcard: compared with `==`, the common case.
    literal: bool,
}

impl Pattern {
    /// Checks `text` and compiles it; the error says what is wrong, for a message that already
    /// names the pattern.
    pub(super) fn new(text: &str) -> Result<Pattern, &'static str> {
        if text.is_empty() {
            return Err("is empty");
        }
        if text.len() > MAX_KEY_NAME_LEN {
            return Err("is longer than 512 bytes");
        }
        if text.chars().any(char::is_control) {
            return Err("contains a control character");
        }
        if text.contains("**") {
            return Err("contains `**`: a single `*` already matches across `/`");
        }
        if text.contains(['[', ']', '{', '}']) {
            return Err("uses `[`, `]`, `{` or `}`: only `*` and `?` are wildcards");
        }
        Ok(Pattern {
            literal: !text.contains(['*', '?']),
            text: text.into(),
        })
    }

    pub(super) fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `key` matches.
    pub(super) fn matches(&self, key: &str) -> bool {
        if self.literal {
            &*self.text == key
        } else {
            wildcard_match(self.text.as_bytes(), key)
        }
    }
}

/// Matches with one backtracking point, the last `*` seen: linear in practice and
/// O(pattern × key) at worst, with no recursion and no allocation.
///
/// Literal bytes compare byte for byte, which is exact for UTF-8 since no character's encoding is
/// a prefix of another's; `?` and the backtracking step advance by whole characters.
fn wildcard_match(pattern: &[u8], key: &str) -> bool {
    let text = key.as_bytes();
    let (mut p, mut t) = (0, 0);
    // (pattern index after the last `*`, key index that `*` is currently matched up to)
    let mut resume: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                p += 1;
                resume = Some((p, t));
            }
            Some(b'?') => {
                p += 1;
                t += char_len(key, t);
            }
            Some(&byte) if byte == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match resume {
                Some((after_star, matched_to)) => {
                    // Let the `*` swallow one more character and try again from there.
                    let next = matched_to + char_len(key, matched_to);
                    resume = Some((after_star, next));
                    p = after_star;
                    t = next;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// The length of the character starting at byte `at` of `s` (1 if `at` is not a boundary, which
/// the matcher never asks for but must not loop on).
fn char_len(s: &str, at: usize) -> usize {
    s.get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(1, char::len_utf8)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn matches(pattern: &str, key: &str) -> bool {
        Pattern::new(pattern).unwrap().matches(key)
    }

    #[test]
    fn literals_match_only_themselves() {
        assert!(matches("OPENAI_API_KEY", "OPENAI_API_KEY"));
        assert!(!matches("OPENAI_API_KEY", "OPENAI_API_KEY2"));
        assert!(!matches("OPENAI_API_KEY", "openai_api_key"));
        assert!(!matches("OPENAI_API_KEY", ""));
    }

    #[test]
    fn star_matches_any_run_including_slash_and_nothing() {
        assert!(matches("openai/*", "openai/"));
        assert!(matches("openai/*", "openai/prod/key"));
        assert!(!matches("openai/*", "openai"));
        assert!(!matches("openai/*", "anthropic/openai/x"));
        assert!(matches("*_API_KEY", "OPENAI_API_KEY"));
        assert!(matches("*_API_KEY", "_API_KEY"));
        assert!(!matches("*_API_KEY", "OPENAI_API_KEY_OLD"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "aXXbYYbZZc"));
        assert!(!matches("a*b*c", "aXXbYYbZZ"));
    }

    #[test]
    fn question_mark_is_one_character_even_multibyte() {
        assert!(matches("key?", "key1"));
        assert!(!matches("key?", "key"));
        assert!(!matches("key?", "key12"));
        assert!(matches("ключ?", "ключé"));
        assert!(matches("?", "é"));
        assert!(!matches("??", "é"));
        assert!(matches("*é", "ééé"));
    }

    #[test]
    fn backtracking_is_not_exponential() {
        let key = "a".repeat(MAX_KEY_NAME_LEN);
        let pattern = format!("{}b", "a*".repeat(40));
        assert!(!matches(&pattern, &key));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for bad in ["", "a**", "key[0-9]", "{a,b}", "a\nb", &"k".repeat(513)] {
            assert!(Pattern::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn agrees_with_a_naive_recursive_matcher() {
        fn naive(p: &[char], t: &[char]) -> bool {
            match (p.first(), t.first()) {
                (None, None) => true,
                (Some('*'), _) => naive(&p[1..], t) || (!t.is_empty() && naive(p, &t[1..])),
                (Some('?'), Some(_)) => naive(&p[1..], &t[1..]),
                (Some(a), Some(b)) if a == b => naive(&p[1..], &t[1..]),
                _ => false,
            }
        }
        let alphabet = ['a', 'b', 'é'];
        let patterns = ["*", "a*", "*a", "?b*", "a?*é", "*a*b", "é?", "a*?a"];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(longer);
        }
        for pattern in patterns {
            let p: Vec<char> = pattern.chars().collect();
            for text in &texts {
                let t: Vec<char> = text.chars().collect();
                assert_eq!(
                    matches(pattern, text),
                    naive(&p, &t),
                    "{pattern:?} vs {text:?}"
                );
            }
        }
    }
}
