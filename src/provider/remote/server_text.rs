//! Text a server wrote, made fit for an error message.
//!
//! A remote provider's errors quote what the server said (`permission denied`, `AADSTS7000215:
//! Invalid client secret provided`): it is often the only clue to the cause. But that text is
//! the server's, or that of a proxy in between, and an error is printed, logged and sent to
//! monitoring. A server that echoes the request would put the provider's own credentials there
//! (the Vault token, a bearer token, a client secret, a signed assertion), and one that writes
//! `\n` would forge a second log line. Every piece of server text that reaches an error goes
//! through [`ServerText::clean`], for every provider, which
//!
//! 1. redacts the provider's credentials (in every encoding a [`Redactor`] knows, and in
//!    fragments of 16 characters or more) and whatever the [`Detector`](crate::Detector) finds;
//! 2. escapes control characters and the invisible characters that reorder or break a line
//!    (`\n`, `\u{1b}`, `\u{202e}`), so the text stays on its line and looks like what it is;
//! 3. cuts the result to [`MAX_SHOWN_CHARS`] characters, marking the cut with `...`.
//!
//! The redactor is built when an error is written, not before: errors are rare, and a Vault
//! session token changes at each login.

use crate::guard::Redactor;
use crate::secret::SecretString;

/// The most characters of server text an error shows.
pub(crate) const MAX_SHOWN_CHARS: usize = 200;

/// The most bytes of server text redacted, when that is enough. Redaction is linear, but need
/// not run over a megabyte to show 200 characters. A piece cut there may end in the head of a
/// secret, which must not be shown: when the redacted piece is so short that its end would be
/// shown (redaction shrank 64 KiB to 200 characters), the whole text is redacted instead.
const MAX_READ_BYTES: usize = 64 * 1024;

/// How many of the last characters of a piece cut from a longer text are never shown: a
/// credential cut there has its start at the piece's end, too short to be found (a fragment
/// needs 16 characters, a key format its whole length).
const CUT_MARGIN: usize = 512;

/// What stands in for server text when no redactor could be built: nothing is shown.
const WITHHELD: &str = "[withheld: it could not be checked for credentials]";

/// The credentials a request carried, which the server's text must not repeat.
///
/// ```ignore
/// let quiet = ServerText::new([("vault token", &token)]);
/// let shown = quiet.clean(&server_message);
/// ```
#[derive(Default)]
pub(crate) struct ServerText<'a> {
    credentials: Vec<(&'static str, &'a SecretString)>,
}

impl<'a> ServerText<'a> {
    /// Text that must not repeat `credentials`, each named by its label (`vault token`).
    pub(crate) fn new(
        credentials: impl IntoIterator<Item = (&'static str, &'a SecretString)>,
    ) -> ServerText<'a> {
        ServerText {
            credentials: credentials.into_iter().collect(),
        }
    }

    /// Adds one more credential.
    #[cfg_attr(not(any(feature = "vault", feature = "azure")), allow(dead_code))]
    pub(crate) fn with(mut self, label: &'static str, credential: &'a SecretString) -> Self {
        self.credentials.push((label, credential));
        self
    }

    /// `text`, redacted, escaped and cut (see the module documentation).
    pub(crate) fn clean(&self, text: &str) -> String {
        self.clean_reading(text, MAX_READ_BYTES)
    }

    /// [`clean`](ServerText::clean), redacting the first `read_bytes` of `text` when that is
    /// enough: when what is shown ends [`CUT_MARGIN`] characters before the cut.
    fn clean_reading(&self, text: &str, read_bytes: usize) -> String {
        let Some(redactor) = self.redactor() else {
            return WITHHELD.to_owned();
        };
        let mut head = &text[..floor_char_boundary(text, read_bytes)];
        let mut redacted = redactor.redact(head);
        if head.len() < text.len() && redacted.chars().nth(MAX_SHOWN_CHARS + CUT_MARGIN).is_none() {
            head = text;
            redacted = redactor.redact(text);
        }
        let mut shown = String::with_capacity(MAX_SHOWN_CHARS + 3);
        let mut chars = 0;
        let mut escaped = String::new();
        for c in redacted.chars() {
            escaped.clear();
            if needs_escape(c) {
                escaped.extend(c.escape_debug());
            } else {
                escaped.push(c);
            }
            let width = escaped.chars().count();
            if chars + width > MAX_SHOWN_CHARS {
                shown.push_str("...");
                return shown;
            }
            chars += width;
            shown.push_str(&escaped);
        }
        if head.len() < text.len() {
            shown.push_str("...");
        }
        shown
    }

    /// `" (text)"` for an explanation the server gave, `""` for none.
    #[cfg_attr(
        not(any(feature = "vault", feature = "azure", feature = "gcp")),
        allow(dead_code)
    )]
    pub(crate) fn detail(&self, text: Option<&str>) -> String {
        match text.map(str::trim).filter(|text| !text.is_empty()) {
            Some(text) => format!(" ({})", self.clean(text)),
            None => String::new(),
        }
    }

    /// A redactor for the credentials and the detector. Credentials shorter than the usual
    /// minimum of 8 characters are redacted too: here, destroying some of the server's words is
    /// the lesser harm. `None` when it cannot be built, and then nothing is shown.
    fn redactor(&self) -> Option<Redactor> {
        let credentials = self
            .credentials
            .iter()
            .filter(|(_, credential)| !credential.expose_secret().is_empty())
            .map(|&(label, credential)| (label, credential));
        Redactor::builder()
            .with_min_len(1)
            .with_unknown_detection(true)
            .with_secrets(credentials)
            .build()
            .ok()
    }
}

impl std::fmt::Debug for ServerText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let labels: Vec<&str> = self.credentials.iter().map(|(label, _)| *label).collect();
        f.debug_struct("ServerText")
            .field("credentials", &labels)
            .finish()
    }
}

/// Whether `c` must be shown escaped: control characters, and the format and separator
/// characters that a terminal or log viewer would act on instead of showing (line and paragraph
/// separators, bidirectional overrides, zero-width characters). Quotes and backslashes, which
/// `escape_debug` escapes too, are shown as they are.
fn needs_escape(c: char) -> bool {
    !matches!(c, '"' | '\'' | '\\') && c.escape_debug().nth(1).is_some()
}

/// The largest index `<= at` that is a character boundary of `text`.
fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    (0..=at)
        .rev()
        .find(|&index| text.is_char_boundary(index))
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn token() -> SecretString {
        SecretString::from(format!("hvs.{}", "FaKeT0ken".repeat(4)))
    }

    #[test]
    fn credentials_and_detected_keys_are_redacted() {
        let token = token();
        let quiet = ServerText::new([("vault token", &token)]);
        let github = format!("ghp_{}", "q7Rt2mXz9K".repeat(4));
        let text = format!(
            "permission denied for token {} (also {github})",
            token.expose_secret()
        );
        let shown = quiet.clean(&text);
        // The rule set knows Vault tokens too: the label names both.
        assert!(
            shown.contains("[REDACTED:HashiCorp Vault token,vault token]"),
            "{shown}"
        );
        assert!(!shown.contains(token.expose_secret()), "{shown}");
        assert!(!shown.contains(&github), "{shown}");
        assert!(shown.starts_with("permission denied for token "), "{shown}");
    }

    #[test]
    fn short_credentials_are_redacted_too() {
        let short = SecretString::from("s3cr");
        let empty = SecretString::from("");
        let quiet = ServerText::new([("client secret", &short), ("empty", &empty)]);
        assert_eq!(
            quiet.clean("bad secret s3cr"),
            "bad secret [REDACTED:client secret]"
        );
    }

    #[test]
    fn control_characters_are_escaped_and_the_text_cut() {
        let quiet = ServerText::default();
        assert_eq!(
            quiet.clean("bad\nthing\u{7}\u{1b}[31m \"q\" \\"),
            "bad\\nthing\\u{7}\\u{1b}[31m \"q\" \\"
        );
        assert_eq!(quiet.clean("a\u{2028}b\u{202e}c"), "a\\u{2028}b\\u{202e}c");
        let long = "x".repeat(300);
        assert_eq!(quiet.clean(&long), format!("{}...", "x".repeat(200)));
        assert_eq!(quiet.clean(&"é".repeat(200)), "é".repeat(200));
        // An escape is never cut in half.
        let shown = quiet.clean(&format!("{}\u{1b}", "x".repeat(197)));
        assert_eq!(shown, format!("{}...", "x".repeat(197)));
    }

    #[test]
    fn details_are_parenthesised_or_absent() {
        let quiet = ServerText::default();
        assert_eq!(quiet.detail(Some("denied")), " (denied)");
        assert_eq!(quiet.detail(Some(" \n")), "");
        assert_eq!(quiet.detail(None), "");
    }

    #[test]
    fn a_megabyte_is_cut_before_it_is_redacted() {
        let token = SecretString::from("abcdefgh");
        let quiet = ServerText::new([("vault token", &token)]);
        let text = "é".repeat(1 << 19);
        let shown = quiet.clean(&text);
        assert_eq!(shown, format!("{}...", "é".repeat(200)));
        assert_eq!(floor_char_boundary("aé", 2), 1);
    }

    #[test]
    fn a_secret_across_the_first_cut_is_not_shown() {
        // Long credentials shrink the piece read first to a few labels, so its end, where the
        // token starts, would be among the characters shown. (A piece of 2 KiB instead of
        // 64 KiB, for speed; the rule is the same.)
        let read_bytes = 2048;
        let token = token();
        let long = SecretString::from("L0ng-Cred3ntial.".repeat(20));
        let quiet = ServerText::new([("vault token", &token), ("long credential", &long)]);
        let longs = long.expose_secret().repeat(6);
        let pad = "-".repeat(read_bytes - longs.len() - 10);
        let text = format!("{longs}{pad}{}", token.expose_secret());
        assert_eq!(floor_char_boundary(&text, read_bytes), read_bytes);
        let shown = quiet.clean_reading(&text, read_bytes);
        assert!(shown.starts_with("[REDACTED:long credential]"), "{shown}");
        assert!(
            shown.ends_with("[REDACTED:HashiCorp Vault token,vault token]"),
            "{shown}"
        );
        // A piece that shrinks to just over what is shown, ending in the first characters of
        // the token (too few for a fragment): they would be among the characters shown.
        let labels = quiet.clean(&longs).chars().count();
        for total in [
            MAX_SHOWN_CHARS + 1,
            MAX_SHOWN_CHARS + 8,
            MAX_SHOWN_CHARS + 15,
        ] {
            for kept in [6, 10, 15] {
                let filler = "x".repeat(total - labels - kept);
                let text = format!("{longs}{filler}{}", token.expose_secret());
                let cut = longs.len() + filler.len() + kept;
                let shown = quiet.clean_reading(&text, cut);
                assert!(!shown.contains(&token.expose_secret()[..5]), "{shown}");
            }
        }
        // Text whose first piece stays long is redacted in that piece only.
        let text = format!("{}{}", "x".repeat(4096), token.expose_secret());
        assert_eq!(
            quiet.clean_reading(&text, read_bytes),
            format!("{}...", "x".repeat(200))
        );
    }

    proptest! {
        /// Whatever the server wraps around a credential, or however it repeats it, the shown
        /// text holds no credential, no control character, and at most 203 characters.
        #[test]
        fn no_credential_no_control_character_bounded(
            before in "\\PC{0,40}[\\n\\r\\t\\u{1b}\\u{0}]?\\PC{0,40}",
            after in "[\\s\\S]{0,300}",
            copies in 1usize..40,
            form in 0usize..4,
        ) {
            let token = token();
            let secret = SecretString::from("cl-S3cret/value_12345");
            let quiet = ServerText::new([("bearer token", &token)]).with("client secret", &secret);
            let echoed = match form {
                0 => token.expose_secret().to_owned(),
                1 => secret.expose_secret().replace('/', "%2F"),
                2 => format!("{{\"client_secret\":\"{}\"}}", secret.expose_secret()),
                _ => token.expose_secret()[..20].to_owned(),
            };
            let text = format!("{before}{}{after}", echoed.repeat(copies));
            let shown = quiet.clean(&text);
            prop_assert!(shown.chars().count() <= MAX_SHOWN_CHARS + 3);
            prop_assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
            for credential in [token.expose_secret(), secret.expose_secret()] {
                prop_assert!(!shown.contains(credential), "{shown:?}");
            }
            prop_assert!(!shown.contains(&token.expose_secret()[4..20]), "{shown:?}");
            prop_assert!(!shown.contains("S3cret/value"), "{shown:?}");
            prop_assert!(!shown.contains("S3cret%2Fvalue"), "{shown:?}");
        }
    }
}
