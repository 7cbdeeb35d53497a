//! Handles: the strings that stand for keys in a model's context.
//!
//! A handle is `prefix NAME separator TAG suffix` (by default `keyward-GITHUB_TOKEN-3f9a2b1c7d0e4a5b`).
//! The tag is an HMAC of the agent and the key name under a key of the edge's own, so a handle
//! holds nothing of the value, stays the same for the life of the edge (and across rotations),
//! and cannot be made up: a handle of another edge, or one with a guessed tag, is refused.
//!
//! The default form is made of the characters that no common encoding changes (letters, digits,
//! `-`, `_`, `.`): percent-encoding, form encoding, JSON and header values leave it as it is, so
//! one search finds a handle in a URL, a header or a body alike.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use regex::Regex;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::mask::Fingerprinter;

/// The characters a key name keeps in a handle; any other becomes `_`.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// The longest key name a handle shows, in characters: the tag tells longer names apart.
const MAX_SHOWN_NAME: usize = 64;
/// The shortest prefix and suffix together a handle format may have, so that ordinary text (a
/// hash after a short word) is never taken for a forged handle.
const MIN_LITERAL: usize = 3;
/// The shortest key [`EdgeBuilder::with_handle_key`](super::EdgeBuilder::with_handle_key) takes.
pub(crate) const MIN_HANDLE_KEY: usize = 16;

/// How handles are written: `prefix NAME separator TAG suffix`, or without the name.
///
/// The tag is 16 lowercase hexadecimal digits. The default, `keyward-NAME-TAG`, reads well to
/// a model (the key's name is in it) and survives every common encoding unchanged. A format
/// of your own is checked when the edge is built.
///
/// ```
/// use keyward::edge::HandleFormat;
///
/// let named = HandleFormat::new("<<", ":", ">>");      // <<GITHUB_TOKEN:3f9a2b1c7d0e4a5b>>
/// let anonymous = HandleFormat::anonymous("secret-", ""); // secret-3f9a2b1c7d0e4a5b
/// assert_eq!(HandleFormat::default(), HandleFormat::new("keyward-", "-", ""));
/// # let _ = (named, anonymous);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandleFormat {
    prefix: Box<str>,
    /// `None`: the handle does not show the key's name.
    separator: Option<Box<str>>,
    suffix: Box<str>,
}

impl Default for HandleFormat {
    fn default() -> HandleFormat {
        HandleFormat::new("keyward-", "-", "")
    }
}

impl HandleFormat {
    /// The number of hexadecimal digits of a tag.
    pub const TAG_LEN: usize = 16;

    /// Handles written `prefix NAME separator TAG suffix`. In the name, characters other than
    /// ASCII letters, digits, `_` and `.` are written `_`, and it is cut at 64 characters.
    ///
    /// The edge refuses the format when built unless the prefix is not empty, the prefix and
    /// suffix together are at least 3 characters, the separator holds a character that cannot
    /// be part of a name (so that the name's end is plain), and all three are printable ASCII
    /// without blanks, `"` or `\` (which JSON escapes).
    pub fn new(
        prefix: impl Into<String>,
        separator: impl Into<String>,
        suffix: impl Into<String>,
    ) -> HandleFormat {
        HandleFormat {
            prefix: prefix.into().into_boxed_str(),
            separator: Some(separator.into().into_boxed_str()),
            suffix: suffix.into().into_boxed_str(),
        }
    }

    /// Handles written `prefix TAG suffix`, which do not tell the model the key's name.
    pub fn anonymous(prefix: impl Into<String>, suffix: impl Into<String>) -> HandleFormat {
        HandleFormat {
            prefix: prefix.into().into_boxed_str(),
            separator: None,
            suffix: suffix.into().into_boxed_str(),
        }
    }

    /// Whether handles show the key's name.
    pub fn shows_name(&self) -> bool {
        self.separator.is_some()
    }

    /// The checks of [`EdgeBuilder::build`](super::EdgeBuilder::build).
    pub(crate) fn validate(&self) -> Result<()> {
        let invalid = |problem: &str| {
            Err(Error::new(
                ErrorKind::InvalidInput,
                format!("invalid handle format: {problem}"),
            ))
        };
        let parts = [
            Some(&self.prefix),
            self.separator.as_ref(),
            Some(&self.suffix),
        ];
        // Quotes and backslashes are escaped inside JSON strings, where the edge would no
        // longer find the handle.
        let allowed = |c: char| c.is_ascii_graphic() && c != '"' && c != '\\';
        if parts
            .iter()
            .flatten()
            .any(|part| !part.chars().all(allowed))
        {
            return invalid(
                "the prefix, separator and suffix must be printable ASCII without blanks, `\"` \
                 or `\\`",
            );
        }
        if self.prefix.is_empty() || self.prefix.len() + self.suffix.len() < MIN_LITERAL {
            return invalid(
                "the prefix must not be empty, and the prefix and suffix together must be at \
                 least 3 characters, so that ordinary text is never taken for a handle",
            );
        }
        if let Some(separator) = &self.separator
            && separator.chars().all(is_name_char)
        {
            return invalid(
                "the separator must hold a character other than ASCII letters, digits, `_` and \
                 `.`, which names are written with",
            );
        }
        Ok(())
    }

    /// The handle for `name` with `tag`.
    fn write(&self, name: &str, tag: &str) -> String {
        let mut handle = String::from(&*self.prefix);
        if let Some(separator) = &self.separator {
            handle.extend(
                name.chars()
                    .take(MAX_SHOWN_NAME)
                    .map(|c| if is_name_char(c) { c } else { '_' }),
            );
            handle.push_str(separator);
        }
        handle.push_str(tag);
        handle.push_str(&self.suffix);
        handle
    }

    /// A pattern for anything written in this format, valid or not; group 1 is the name.
    fn pattern(&self) -> Result<Regex> {
        let tag = format!("[0-9a-f]{{{}}}", Self::TAG_LEN);
        let pattern = match &self.separator {
            Some(separator) => format!(
                "{}([A-Za-z0-9_.]{{1,{MAX_SHOWN_NAME}}}){}{tag}{}",
                regex::escape(&self.prefix),
                regex::escape(separator),
                regex::escape(&self.suffix)
            ),
            None => format!(
                "{}(){tag}{}",
                regex::escape(&self.prefix),
                regex::escape(&self.suffix)
            ),
        };
        Regex::new(&pattern).map_err(|_| {
            Error::new(
                ErrorKind::InvalidInput,
                "invalid handle format: it does not make a pattern",
            )
        })
    }
}

/// The key the tags are made with: random per edge unless given.
pub(crate) struct HandleKey(Zeroizing<Vec<u8>>);

impl HandleKey {
    /// A fresh key from std's hasher keys, which the standard library draws from the operating
    /// system's random source (128 bits per thread, moved on for each hasher), mixed with the
    /// time and a counter. It avoids a `rand` dependency; give a key of your own for handles
    /// that must survive a restart.
    pub(crate) fn random() -> HandleKey {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut digest = Sha256::new();
        digest.update(b"keyward edge handle key\0");
        for round in 0..4u64 {
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_u64(round);
            digest.update(hasher.finish().to_le_bytes());
        }
        digest.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        digest.update(std::process::id().to_le_bytes());
        if let Ok(since) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            digest.update(since.as_nanos().to_le_bytes());
        }
        HandleKey(Zeroizing::new(digest.finalize().to_vec()))
    }

    pub(crate) fn given(key: &[u8]) -> Result<HandleKey> {
        if key.len() < MIN_HANDLE_KEY {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "a handle key must be at least {MIN_HANDLE_KEY} bytes (32 random bytes is a \
                     good choice), not {}",
                    key.len()
                ),
            ));
        }
        Ok(HandleKey(Zeroizing::new(key.to_vec())))
    }
}

impl fmt::Debug for HandleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// One place in a text written in the handle format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) range: Range<usize>,
    /// The index of the key among the edge's keys, or `None` for a handle this edge did not
    /// issue.
    pub(crate) key: Option<usize>,
}

/// The handles of one edge: one per key of its policy, and the search for them.
pub(crate) struct Handles {
    format: HandleFormat,
    pattern: Regex,
    /// By key index.
    texts: Vec<Arc<str>>,
    by_text: HashMap<Arc<str>, usize>,
}

impl Handles {
    /// The handles of `names` (the edge's keys, in order) for `agent`.
    pub(crate) fn new(
        format: HandleFormat,
        key: &HandleKey,
        agent: &str,
        names: &[Arc<str>],
    ) -> Result<Handles> {
        format.validate()?;
        let pattern = format.pattern()?;
        let mac = Fingerprinter::new(&key.0);
        let mut texts = Vec::with_capacity(names.len());
        let mut by_text = HashMap::with_capacity(names.len());
        for (index, name) in names.iter().enumerate() {
            // The agent and the name, each ended by a NUL (neither can hold one), so that no
            // two pairs give the same input.
            let tag = mac.fingerprint(&format!("edge handle\0{agent}\0{name}\0"));
            let text: Arc<str> = Arc::from(format.write(name, &tag.to_string()));
            debug_assert!(pattern.find(&text).map(|m| m.as_str()) == Some(&*text));
            by_text.insert(Arc::clone(&text), index);
            texts.push(text);
        }
        Ok(Handles {
            format,
            pattern,
            texts,
            by_text,
        })
    }

    pub(crate) fn format(&self) -> &HandleFormat {
        &self.format
    }

    /// The handle of key `index`.
    pub(crate) fn text(&self, index: usize) -> &Arc<str> {
        &self.texts[index]
    }

    /// The key a handle stands for.
    pub(crate) fn key_of(&self, handle: &str) -> Option<usize> {
        self.by_text.get(handle).copied()
    }

    /// Every place in `text` written in the handle format, in order, each with its key or
    /// `None` if this edge did not issue it. Linear in the length of the text.
    pub(crate) fn find(&self, text: &str) -> Vec<Found> {
        self.pattern
            .find_iter(text)
            .map(|m| Found {
                range: m.range(),
                key: self.key_of(m.as_str()),
            })
            .collect()
    }

    /// The name a text written in the handle format shows, for a denial's record; empty for
    /// an anonymous format.
    pub(crate) fn shown_name<'t>(&self, handle: &'t str) -> &'t str {
        self.pattern
            .captures(handle)
            .and_then(|c| c.get(1))
            .map_or("", |m| m.as_str())
    }
}

impl fmt::Debug for Handles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handles")
            .field("format", &self.format)
            .field("count", &self.texts.len())
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn names(names: &[&str]) -> Vec<Arc<str>> {
        names.iter().map(|n| Arc::from(*n)).collect()
    }

    fn handles(format: HandleFormat, key: &HandleKey, agent: &str) -> Handles {
        Handles::new(
            format,
            key,
            agent,
            &names(&["GITHUB_TOKEN", "prod/api#key"]),
        )
        .unwrap()
    }

    #[test]
    fn the_default_handle_shows_the_name_and_a_tag() {
        let h = handles(HandleFormat::default(), &HandleKey::random(), "researcher");
        let github = h.text(0);
        assert!(github.starts_with("keyward-GITHUB_TOKEN-"), "{github}");
        assert_eq!(
            github.len(),
            "keyward-GITHUB_TOKEN-".len() + HandleFormat::TAG_LEN
        );
        // a name with other characters is written with `_`
        assert!(
            h.text(1).starts_with("keyward-prod_api_key-"),
            "{}",
            h.text(1)
        );
        assert_eq!(h.key_of(github), Some(0));
    }

    #[test]
    fn handles_are_stable_per_key_and_differ_between_edges_and_agents() {
        let key = HandleKey::given(&[7; 32]).unwrap();
        let a = handles(HandleFormat::default(), &key, "researcher");
        let again = handles(HandleFormat::default(), &key, "researcher");
        assert_eq!(a.text(0), again.text(0));
        let other_agent = handles(HandleFormat::default(), &key, "writer");
        assert_ne!(a.text(0), other_agent.text(0));
        let other_edge = handles(HandleFormat::default(), &HandleKey::random(), "researcher");
        assert_ne!(a.text(0), other_edge.text(0));
        assert_ne!(
            HandleKey::random().0.as_slice(),
            HandleKey::random().0.as_slice()
        );
    }

    #[test]
    fn find_tells_issued_handles_from_forged_ones() {
        let h = handles(HandleFormat::default(), &HandleKey::random(), "researcher");
        let forged = "keyward-GITHUB_TOKEN-0123456789abcdef";
        let text = format!("a {} b {forged} c keyward-word d", h.text(0));
        let found = h.find(&text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].key, Some(0));
        assert_eq!(&text[found[0].range.clone()], &**h.text(0));
        assert_eq!(found[1].key, None);
        assert_eq!(h.shown_name(forged), "GITHUB_TOKEN");
        // a word before a handle does not hide it
        let glued = format!("keyward-{}", h.text(0));
        let found = h.find(&glued);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, Some(0));
    }

    #[test]
    fn formats_of_your_own_are_checked() {
        for bad in [
            HandleFormat::new("<", ":", ""),
            HandleFormat::new("", ":", ">>>"),
            HandleFormat::new("<<<", "_", ">>>"),
            HandleFormat::new("\"<<", ":", ">>"),
            HandleFormat::new("<<", "\\", ">>"),
            HandleFormat::new("<< ", ":", ">>"),
            HandleFormat::anonymous("x", ""),
        ] {
            let err = bad.validate().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
        let key = HandleKey::random();
        let h = handles(HandleFormat::new("<<", ":", ">>"), &key, "a");
        assert!(h.text(0).starts_with("<<GITHUB_TOKEN:"));
        assert!(h.text(0).ends_with(">>"));
        assert_eq!(h.find(&format!("x{}y", h.text(0)))[0].key, Some(0));
        let anonymous = handles(HandleFormat::anonymous("secret-", ""), &key, "a");
        assert!(!anonymous.text(0).contains("GITHUB"));
        assert_eq!(anonymous.find(anonymous.text(1))[0].key, Some(1));
    }

    #[test]
    fn short_handle_keys_are_refused_and_keys_never_print() {
        assert_eq!(
            HandleKey::given(&[1; 8]).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(format!("{:?}", HandleKey::random()), "***");
    }
}
