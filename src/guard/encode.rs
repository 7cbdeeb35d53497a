//! The encodings a secret may leak in, and the search patterns each one yields.
//!
//! Every function returns the *stable* text an encoding produces for a secret: the part that does
//! not depend on what surrounds the secret. For base64 that is the inner part of the encoding at
//! each of the three byte alignments, so a secret inside a larger blob is found as well.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

use zeroize::{Zeroize, Zeroizing};

use crate::error::quote_name;

/// A set of [`Encoding`]s to search for, combined with `|`.
///
/// ```
/// use keyward::guard::Encodings;
///
/// let some = Encodings::RAW | Encodings::BASE64;
/// assert!(some.contains(Encodings::BASE64));
/// assert!(!some.contains(Encodings::HEX));
/// assert!(Encodings::ALL.contains(some));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encodings(u8);

impl Encodings {
    /// No encoding at all: not even the secret as written.
    pub const NONE: Encodings = Encodings(0);
    /// The secret as written.
    pub const RAW: Encodings = Encodings(1);
    /// Standard base64 (`+/`), padded or not, at every byte alignment; with
    /// [`PERCENT`](Encodings::PERCENT) or [`JSON`](Encodings::JSON) on, also with its `+` and
    /// `/` escaped as those write them (`%2B`, `\u002B`, `\/`: base64 in a URL's query or in the
    /// JSON of .NET or PHP).
    pub const BASE64: Encodings = Encodings(1 << 1);
    /// URL-safe base64 (`-_`), padded or not, at every byte alignment.
    pub const BASE64_URL: Encodings = Encodings(1 << 2);
    /// Hexadecimal, lower and upper case.
    pub const HEX: Encodings = Encodings(1 << 3);
    /// Percent-encoding (URLs, form bodies), `%XX` in either case.
    pub const PERCENT: Encodings = Encodings(1 << 4);
    /// Escaped inside a JSON string (`\"`, `\\`, `\/`, `\uXXXX`).
    pub const JSON: Encodings = Encodings(1 << 5);
    /// Every encoding above.
    pub const ALL: Encodings = Encodings(0b11_1111);

    /// Whether every encoding of `other` is in `self`.
    pub fn contains(self, other: Encodings) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// `self` without the encodings of `other`.
    pub fn without(self, other: Encodings) -> Encodings {
        Encodings(self.0 & !other.0)
    }
}

impl Default for Encodings {
    /// [`Encodings::ALL`].
    fn default() -> Encodings {
        Encodings::ALL
    }
}

impl BitOr for Encodings {
    type Output = Encodings;

    fn bitor(self, rhs: Encodings) -> Encodings {
        Encodings(self.0 | rhs.0)
    }
}

impl BitOrAssign for Encodings {
    fn bitor_assign(&mut self, rhs: Encodings) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for Encodings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Encoding::WHOLE
            .iter()
            .filter(|e| self.contains(e.flag()))
            .map(|e| e.name())
            .collect();
        write!(f, "Encodings({})", names.join(" | "))
    }
}

/// How a secret appeared in the text: reported by a [`Finding`](crate::guard::Finding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Encoding {
    /// The secret as written.
    Raw,
    /// Standard base64.
    Base64,
    /// URL-safe base64.
    Base64Url,
    /// Hexadecimal (either case).
    Hex,
    /// Percent-encoded.
    Percent,
    /// Escaped inside a JSON string.
    Json,
    /// A contiguous part of the secret, long enough to count as a leak.
    Fragment,
    /// Not a registered secret: found by the [`Detector`](crate::Detector), with
    /// [`RedactorBuilder::with_unknown_detection`](super::RedactorBuilder::with_unknown_detection)
    /// on.
    Detected,
}

impl Encoding {
    /// The encodings that match a whole secret, in the order patterns are generated.
    const WHOLE: [Encoding; 6] = [
        Encoding::Raw,
        Encoding::Base64,
        Encoding::Base64Url,
        Encoding::Hex,
        Encoding::Percent,
        Encoding::Json,
    ];

    /// A short lowercase name, stable for logs and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Raw => "raw",
            Encoding::Base64 => "base64",
            Encoding::Base64Url => "base64url",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
            Encoding::Json => "json",
            Encoding::Fragment => "fragment",
            Encoding::Detected => "detected",
        }
    }

    fn flag(self) -> Encodings {
        match self {
            Encoding::Raw => Encodings::RAW,
            Encoding::Base64 => Encodings::BASE64,
            Encoding::Base64Url => Encodings::BASE64_URL,
            Encoding::Hex => Encodings::HEX,
            Encoding::Percent => Encodings::PERCENT,
            Encoding::Json => Encodings::JSON,
            Encoding::Fragment | Encoding::Detected => Encodings::NONE,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every pattern that finds `secret` in the encodings of `enabled`, each with the encoding it
/// stands for. Patterns equal to one already listed (a key of letters and digits reads the same
/// percent-encoded) are left out, so each text position is reported once.
pub(crate) fn patterns(secret: &str, enabled: Encodings) -> Vec<(Vec<u8>, Encoding)> {
    let mut out: Vec<(Vec<u8>, Encoding)> = Vec::new();
    // The 44 escaped forms, most of them equal to one listed already (for a key of letters and
    // digits, all of them): each is written into one buffer, sized for the longest escape so
    // it never moves, and copied out only if new; the buffer is wiped when done.
    // Not needed at all when no escape changes the secret.
    let escapes_change_nothing = no_escape_changes(secret);
    // Standard base64 inside a URL or a JSON string has its `+` and `/` escaped by some
    // encoders (`%2B`, `\u002B`, `\/`): its forms are escaped too.
    let escape_base64 = enabled.contains(Encodings::BASE64)
        && (enabled.contains(Encodings::PERCENT) || enabled.contains(Encodings::JSON));
    let mut room = 0;
    if !escapes_change_nothing {
        room = MAX_ESCAPED_PER_BYTE * secret.len();
    }
    if escape_base64 {
        room = room.max(MAX_ESCAPED_PER_BYTE * base64_len(secret.len()));
    }
    let mut escaped = Zeroizing::new(String::with_capacity(room));
    let capacity = escaped.capacity();
    for encoding in Encoding::WHOLE {
        if !enabled.contains(encoding.flag()) {
            continue;
        }
        match encoding {
            Encoding::Raw => add(&mut out, secret.as_bytes(), encoding),
            // Each of the 44 styles would write the secret as it is: one comparison, not 44.
            Encoding::Percent | Encoding::Json if escapes_change_nothing => {
                add(&mut out, secret.as_bytes(), encoding);
            }
            Encoding::Base64 | Encoding::Base64Url => {
                let alphabet = if encoding == Encoding::Base64 {
                    BASE64_STANDARD
                } else {
                    BASE64_URL_SAFE
                };
                for offset in 0..3 {
                    let inner = base64_inner(secret.as_bytes(), offset, alphabet);
                    // URL-safe base64 holds nothing any style escapes.
                    if escape_base64 && encoding == Encoding::Base64 {
                        add_escaped_base64(&mut out, &mut escaped, &inner, enabled);
                    }
                    add_owned(&mut out, inner, encoding);
                }
            }
            Encoding::Hex => {
                let lower = hex::encode(secret);
                add_owned(&mut out, lower.to_ascii_uppercase().into_bytes(), encoding);
                add_owned(&mut out, lower.into_bytes(), encoding);
            }
            Encoding::Percent | Encoding::Json => {
                add_escaped(&mut out, &mut escaped, secret, encoding, encoding);
            }
            Encoding::Fragment | Encoding::Detected => {}
        }
    }
    // Grown, it would have freed an escaped secret unwiped.
    debug_assert_eq!(escaped.capacity(), capacity, "an escape outgrew its buffer");
    out
}

/// Lists `text` as every style of `escape` ([`Encoding::Percent`] or [`Encoding::Json`]) writes
/// it, each form written into `buffer` first and labelled `encoding`.
fn add_escaped(
    out: &mut Vec<(Vec<u8>, Encoding)>,
    buffer: &mut String,
    text: &str,
    escape: Encoding,
    encoding: Encoding,
) {
    match escape {
        Encoding::Percent => {
            for style in PercentStyle::ALL {
                buffer.clear();
                percent_into(buffer, text, style);
                add(out, buffer.as_bytes(), encoding);
            }
        }
        Encoding::Json => {
            for style in JsonStyle::ALL {
                buffer.clear();
                json_into(buffer, text, style);
                add(out, buffer.as_bytes(), encoding);
            }
        }
        _ => {}
    }
}

/// Lists the standard base64 form `inner` with its `+` and `/` escaped as the percent and JSON
/// styles of `enabled` write them, labelled [`Encoding::Base64`]: a key's base64 in a URL's
/// query (`%2B`, `%2F`), in .NET's JSON (`\u002B`) or PHP's (`\/`).
fn add_escaped_base64(
    out: &mut Vec<(Vec<u8>, Encoding)>,
    buffer: &mut String,
    inner: &[u8],
    enabled: Encodings,
) {
    if !inner.iter().any(|&b| b == b'+' || b == b'/') {
        return;
    }
    // Base64 is ASCII.
    let Ok(inner) = std::str::from_utf8(inner) else {
        return;
    };
    for escape in [Encoding::Percent, Encoding::Json] {
        if enabled.contains(escape.flag()) {
            add_escaped(out, buffer, inner, escape, Encoding::Base64);
        }
    }
}

/// Whether every percent and JSON style writes `secret` as it is: all of them leave ASCII
/// letters, digits, `-`, `.` and `_` alone, and most API keys hold nothing else.
fn no_escape_changes(secret: &str) -> bool {
    secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// The most bytes an escape writes for one byte of the secret: `\u0001` for a control byte.
const MAX_ESCAPED_PER_BYTE: usize = 6;

/// Lists a copy of `pattern` unless it is empty or listed already.
fn add(out: &mut Vec<(Vec<u8>, Encoding)>, pattern: &[u8], encoding: Encoding) {
    if is_new(out, pattern) {
        out.push((pattern.to_vec(), encoding));
    }
}

/// Lists `pattern` itself unless it is empty or listed already, and wipes it then: a copy of
/// the secret (or of an encoding of it) all the same.
fn add_owned(out: &mut Vec<(Vec<u8>, Encoding)>, mut pattern: Vec<u8>, encoding: Encoding) {
    if is_new(out, &pattern) {
        out.push((pattern, encoding));
    } else {
        pattern.zeroize();
    }
}

fn is_new(out: &[(Vec<u8>, Encoding)], pattern: &[u8]) -> bool {
    !pattern.is_empty() && !out.iter().any(|(p, _)| p == pattern)
}

const BASE64_STANDARD: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_URL_SAFE: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Standard base64 with padding, as RFC 4648 writes it: for basic authentication at the agent
/// edge, and for the tests' blobs.
#[cfg(any(test, feature = "edge-http"))]
pub(crate) fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(
                    BASE64_STANDARD[((n >> (18 - 6 * i)) & 0x3f) as usize],
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An upper bound of the length of [`base64_inner`] of a secret of `len` bytes.
fn base64_len(len: usize) -> usize {
    (len + 2) * 4 / 3 + 1
}

/// The base64 characters that depend only on `secret` when it starts `offset` bytes (0, 1 or 2)
/// into a 3-byte group. The characters before and the last partial character also depend on
/// the neighbouring bytes (or on padding), so they are dropped; what is left appears in every
/// encoding of every blob that contains the secret at that alignment, padded or not.
fn base64_inner(secret: &[u8], offset: usize, alphabet: &[u8; 64]) -> Vec<u8> {
    let mut bytes = vec![0u8; offset];
    bytes.extend_from_slice(secret);
    // Each character holds 6 bits; only characters whose bits all come from `bytes` are stable.
    let full_chars = bytes.len() * 8 / 6;
    let first_stable = [0, 2, 3][offset];
    let mut out = Vec::with_capacity(full_chars);
    for i in first_stable..full_chars {
        let bit = i * 6;
        let (byte, shift) = (bit / 8, bit % 8);
        let hi = u16::from(bytes[byte]) << 8;
        let lo = bytes.get(byte + 1).copied().map_or(0, u16::from);
        let sextet = ((hi | lo) >> (10 - shift)) & 0x3f;
        out.push(alphabet[usize::from(sextet)]);
    }
    bytes.zeroize();
    out
}

/// One way of percent-encoding, as some encoder writes it. Encoders differ in three things: the
/// case of the hex digits, whether a space is `%20` or `+` (HTML forms), and which punctuation
/// they leave alone.
#[derive(Debug, Clone, Copy)]
struct PercentStyle {
    upper: bool,
    plus_for_space: bool,
    kept: PercentKept,
}

/// Which bytes besides ASCII letters and digits an encoder leaves as they are.
#[derive(Debug, Clone, Copy)]
enum PercentKept {
    /// RFC 3986 unreserved: `-._~` (Rust's `urlencoding`, Go's `url.PathEscape`, curl).
    Unreserved,
    /// JavaScript's `encodeURIComponent`: `-._~!'()*`.
    JavaScript,
    /// Python's `urllib.parse.quote` with its default `safe='/'`: `-._~/`.
    PythonQuote,
    /// The WHATWG `application/x-www-form-urlencoded` serializer (browsers, Go's
    /// `url.QueryEscape` keeps `~` too but is `Unreserved` with `+`): `*-._`, `~` escaped.
    Form,
    /// Go's `url.PathEscape`, for a path segment: `-._~` and `$&+:=@`.
    GoPathSegment,
}

impl PercentStyle {
    /// Every combination: real encoders pick one of each.
    const ALL: [PercentStyle; 20] = {
        let kept = [
            PercentKept::Unreserved,
            PercentKept::JavaScript,
            PercentKept::PythonQuote,
            PercentKept::Form,
            PercentKept::GoPathSegment,
        ];
        let mut all = [PercentStyle {
            upper: true,
            plus_for_space: false,
            kept: PercentKept::Unreserved,
        }; 20];
        let mut i = 0;
        while i < 20 {
            all[i] = PercentStyle {
                upper: i & 1 == 0,
                plus_for_space: i & 2 != 0,
                kept: kept[i >> 2],
            };
            i += 1;
        }
        all
    };

    fn keeps(self, b: u8) -> bool {
        b.is_ascii_alphanumeric()
            || match self.kept {
                PercentKept::Unreserved => matches!(b, b'-' | b'.' | b'_' | b'~'),
                PercentKept::JavaScript => {
                    matches!(
                        b,
                        b'-' | b'.' | b'_' | b'~' | b'!' | b'\'' | b'(' | b')' | b'*'
                    )
                }
                PercentKept::PythonQuote => matches!(b, b'-' | b'.' | b'_' | b'~' | b'/'),
                PercentKept::Form => matches!(b, b'*' | b'-' | b'.' | b'_'),
                PercentKept::GoPathSegment => matches!(
                    b,
                    b'-' | b'.' | b'_' | b'~' | b'$' | b'&' | b'+' | b':' | b'=' | b'@'
                ),
            }
    }
}

/// Appends `secret` percent-encoded in `style` to `out`.
fn percent_into(out: &mut String, secret: &str, style: PercentStyle) {
    for &b in secret.as_bytes() {
        if style.keeps(b) {
            out.push(char::from(b));
        } else if b == b' ' && style.plus_for_space {
            out.push('+');
        } else {
            push_hex_escape(out, "%", u16::from(b), 2, style.upper);
        }
    }
}

/// One way of escaping a string inside JSON, as some encoder writes it. All escape `"`, `\` and
/// control characters; they differ in `/`, in the characters they escape for HTML, in non-ASCII
/// characters, and in the case of `\uXXXX` hex digits.
#[derive(Debug, Clone, Copy)]
struct JsonStyle {
    escape_slash: bool,
    html: JsonHtml,
    ascii_only: bool,
    upper: bool,
}

/// Which characters an encoder writes as `\uXXXX` so its JSON can sit inside HTML.
#[derive(Debug, Clone, Copy)]
enum JsonHtml {
    /// None (serde_json, JavaScript's `JSON.stringify`, Python's `json`).
    Plain,
    /// Go's `encoding/json`: `<`, `>`, `&`, U+2028 and U+2029.
    Go,
    /// .NET's `System.Text.Json` default encoder: also `'`, `+`, `` ` `` and `"` (as `\u0022`).
    DotNet,
}

impl JsonStyle {
    /// Every combination: real encoders pick one of each (PHP escapes `/` and non-ASCII,
    /// Python's `ensure_ascii` non-ASCII only, Go the HTML set, .NET the HTML set and non-ASCII
    /// in upper case).
    const ALL: [JsonStyle; 24] = {
        let html = [JsonHtml::Plain, JsonHtml::Go, JsonHtml::DotNet];
        let mut all = [JsonStyle {
            escape_slash: false,
            html: JsonHtml::Plain,
            ascii_only: false,
            upper: false,
        }; 24];
        let mut i = 0;
        while i < 24 {
            all[i] = JsonStyle {
                escape_slash: i & 1 != 0,
                ascii_only: i & 2 != 0,
                upper: i & 4 != 0,
                html: html[i >> 3],
            };
            i += 1;
        }
        all
    };

    /// Whether the encoder writes `c` as `\uXXXX` (apart from control characters).
    fn escapes_as_unicode(self, c: char) -> bool {
        (self.ascii_only && !c.is_ascii())
            || match self.html {
                JsonHtml::Plain => false,
                JsonHtml::Go => matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}'),
                JsonHtml::DotNet => {
                    matches!(c, '<' | '>' | '&' | '\'' | '+' | '`' | '"') || !c.is_ascii()
                }
            }
    }
}

/// Appends `secret` as it reads inside a JSON string literal written in `style`, without the
/// quotes, to `out`.
fn json_into(out: &mut String, secret: &str, style: JsonStyle) {
    for c in secret.chars() {
        match c {
            c if c.is_control() || style.escapes_as_unicode(c) => {
                let short = match c {
                    '\n' => Some("\\n"),
                    '\r' => Some("\\r"),
                    '\t' => Some("\\t"),
                    '\u{8}' => Some("\\b"),
                    '\u{c}' => Some("\\f"),
                    _ => None,
                };
                match short {
                    Some(escape) => out.push_str(escape),
                    None => {
                        let mut units = [0u16; 2];
                        for &mut unit in c.encode_utf16(&mut units) {
                            push_hex_escape(out, "\\u", unit, 4, style.upper);
                        }
                    }
                }
            }
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if style.escape_slash => out.push_str("\\/"),
            c => out.push(c),
        }
    }
}

/// Appends `prefix` and `value` in `digits` hex digits of the given case, without a temporary
/// string (the digits are part of an encoded secret).
fn push_hex_escape(out: &mut String, prefix: &str, value: u16, digits: u32, upper: bool) {
    let table = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    out.push_str(prefix);
    for i in (0..digits).rev() {
        out.push(char::from(table[usize::from((value >> (4 * i)) & 0xf)]));
    }
}

/// Secrets found and how each appeared, for a message: `` `OPENAI_API_KEY` (raw, base64) ``,
/// labels quoted, never a value.
pub(crate) fn describe_found(found: &[(&str, Vec<Encoding>)]) -> String {
    found
        .iter()
        .map(|(label, encodings)| {
            let names: Vec<&str> = encodings.iter().map(|e| e.name()).collect();
            format!("{} ({})", quote_name(label), names.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The shortcut of [`patterns`] holds for every character, so for every string of them:
    /// escapes work character by character.
    #[test]
    fn no_escape_changes_only_what_every_style_leaves_alone() {
        let mut kept = 0;
        for c in (0..=0x7f_u8).map(char::from).chain(['é', '\u{2028}', '😀']) {
            let text = c.to_string();
            if !no_escape_changes(&text) {
                continue;
            }
            kept += 1;
            let mut out = String::new();
            for style in PercentStyle::ALL {
                out.clear();
                percent_into(&mut out, &text, style);
                assert_eq!(out, text, "{style:?}");
            }
            for style in JsonStyle::ALL {
                out.clear();
                json_into(&mut out, &text, style);
                assert_eq!(out, text, "{style:?}");
            }
        }
        assert_eq!(kept, 26 + 26 + 10 + 3);
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn base64_inner_part_is_found_at_every_alignment_and_surrounding() {
        let secret = b"sk-test-0123456789abcdef";
        for before in 0..6 {
            for after in 0..4 {
                let mut blob = vec![b'x'; before];
                blob.extend_from_slice(secret);
                blob.extend(std::iter::repeat_n(b'~', after));
                let encoded = base64(&blob);
                let inner = base64_inner(secret, before % 3, BASE64_STANDARD);
                let inner = String::from_utf8(inner).unwrap();
                assert!(inner.len() >= 28, "inner part too short: {}", inner.len());
                assert!(encoded.contains(&inner), "offset {before}, tail {after}");
            }
        }
    }

    #[test]
    fn alphanumeric_secret_has_no_duplicate_percent_or_json_pattern() {
        // `z` is 0x7a, so the hex has a letter and lower and upper case differ
        let got = patterns("zbcdEFGH12345678", Encodings::ALL);
        let raw = got.iter().filter(|(p, _)| p == b"zbcdEFGH12345678").count();
        assert_eq!(raw, 1);
        assert!(
            got.iter()
                .all(|(_, e)| *e != Encoding::Percent && *e != Encoding::Json)
        );
        // three alignments of two alphabets, with no `+/` the alphabets agree
        assert_eq!(
            got.iter().filter(|(_, e)| *e == Encoding::Base64).count(),
            3
        );
        assert_eq!(got.iter().filter(|(_, e)| *e == Encoding::Hex).count(), 2);
    }

    fn percent(secret: &str, style: PercentStyle) -> String {
        let mut out = String::new();
        percent_into(&mut out, secret, style);
        out
    }

    fn json(secret: &str, style: JsonStyle) -> String {
        let mut out = String::new();
        json_into(&mut out, secret, style);
        out
    }

    #[test]
    fn percent_and_json_escape_what_they_must() {
        let style = |upper, plus_for_space, kept| PercentStyle {
            upper,
            plus_for_space,
            kept,
        };
        assert_eq!(
            percent("a b/c~", style(true, false, PercentKept::Unreserved)),
            "a%20b%2Fc~"
        );
        assert_eq!(
            percent("a b/c~", style(false, true, PercentKept::Form)),
            "a+b%2fc%7e"
        );
        assert_eq!(
            percent("a b/c!", style(false, false, PercentKept::PythonQuote)),
            "a%20b/c%21"
        );
        assert_eq!(
            percent(
                "a+b/c;d$e@f=",
                style(true, false, PercentKept::GoPathSegment)
            ),
            "a+b%2Fc%3Bd$e@f="
        );
        let php = JsonStyle {
            escape_slash: true,
            html: JsonHtml::Plain,
            ascii_only: true,
            upper: false,
        };
        assert_eq!(
            json("a\"b\\c/d\u{1}é", php),
            "a\\\"b\\\\c\\/d\\u0001\\u00e9"
        );
        let dotnet = JsonStyle {
            escape_slash: false,
            html: JsonHtml::DotNet,
            ascii_only: false,
            upper: true,
        };
        assert_eq!(json("a\"<&é", dotnet), "a\\u0022\\u003C\\u0026\\u00E9");
    }

    #[test]
    fn standard_base64_is_also_found_with_its_plus_and_slash_escaped() {
        // `>>>` is `Pj4+` and `???` is `Pz8/` in base64: every alignment holds `+` or `/`.
        let secret = "sk-test->>>???>>>???-0123456789";
        let got = patterns(secret, Encodings::ALL);
        let has = |form: &str| {
            got.iter()
                .any(|(p, e)| p == form.as_bytes() && *e == Encoding::Base64)
        };
        for offset in 0..3 {
            let inner = String::from_utf8(base64_inner(secret.as_bytes(), offset, BASE64_STANDARD))
                .unwrap();
            assert!(inner.contains(['+', '/']), "alignment {offset}: {inner}");
            assert!(has(&inner));
            // a URL's query, upper and lower case; Python's `quote`, which keeps `/`; Go's
            // `url.PathEscape`, which keeps `+`
            assert!(has(&inner.replace('+', "%2B").replace('/', "%2F")));
            assert!(has(&inner.replace('+', "%2b").replace('/', "%2f")));
            assert!(has(&inner.replace('+', "%2B")));
            assert!(has(&inner.replace('/', "%2F")));
            // .NET's JSON (`+` as `\u002B`), PHP's (`/` as `\/`)
            assert!(has(&inner.replace('+', "\\u002B")));
            assert!(has(&inner.replace('/', "\\/")));
            assert!(has(&inner.replace('+', "\\u002B").replace('/', "\\/")));
        }
        // URL-safe base64 holds nothing to escape; without percent or JSON, nothing is escaped.
        let plain = patterns(secret, Encodings::BASE64 | Encodings::BASE64_URL);
        assert!(
            plain
                .iter()
                .all(|(p, _)| !p.contains(&b'%') && !p.contains(&b'\\'))
        );
        let only_json = patterns(secret, Encodings::BASE64 | Encodings::JSON);
        assert!(only_json.iter().all(|(p, _)| !p.contains(&b'%')));
        assert!(only_json.iter().any(|(p, _)| p.contains(&b'\\')));
    }

    #[test]
    fn disabled_encodings_give_no_patterns() {
        let got = patterns("abcdEFGH12345678", Encodings::RAW | Encodings::HEX);
        assert!(
            got.iter()
                .all(|(_, e)| matches!(e, Encoding::Raw | Encoding::Hex))
        );
        assert!(patterns("abcdEFGH12345678", Encodings::NONE).is_empty());
    }

    #[test]
    fn plain_secret_without_raw_still_has_its_escaped_form() {
        let got = patterns("ab-cd.EF_GH12345678", Encodings::PERCENT | Encodings::JSON);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, b"ab-cd.EF_GH12345678");
        assert_eq!(got[0].1, Encoding::Percent);
    }
}
