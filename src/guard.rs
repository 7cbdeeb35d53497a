//! Leak prevention: catch secrets on their way out of the process.
//!
//! Secrets leave an agent through model output, tool-call arguments and logs. The guard checks
//! all three against every registered secret:
//!
//! - [`Redactor`] finds known secrets, as written, encoded (base64, hex, percent, JSON) or as a
//!   long enough fragment, and replaces or reports them.
//! - [`StreamRedactor`] does the same for text that arrives in pieces, holding back only the
//!   bytes that could still turn out to be a secret.
//! - [`RedactingWriter`] wraps any [`std::io::Write`]; with the `tracing` feature,
//!   [`RedactingMakeWriter`] wraps a `tracing-subscriber` writer so every formatted log line is
//!   redacted.
//! - [`Detector`] finds keys nobody registered, by their format or by a generic assignment of a
//!   high-entropy value to a name like `api_key`. With
//!   [`RedactorBuilder::with_unknown_detection`], a [`Redactor`] (and its streams) redacts what the
//!   detector finds too, looking at one line at a time: for tool output full of someone else's
//!   credentials.
//! - [`SharedRedactor`] is a handle that stays current as keys load and rotate.
//!
//! What is not guaranteed: a secret transformed in ways not listed (reversed, split by other
//! text, compressed, encrypted, or re-encoded twice) is not found; a fragment shorter than the
//! fragment length is not found; base64 leaves the one or two characters at each end of the
//! encoded secret that also depend on neighbouring bytes; base64 or hex wrapped onto lines is
//! found when its first line holds nothing but the encoding or the encoding follows a quote, `=`
//! or `:` directly, not when it follows a space. `docs/security.md` lists every form and every
//! bound. Detection of unregistered secrets
//! works line by line, so it misses a key spread over several lines (a PEM private key) and
//! one cut by the 64 KiB limit on a line with no space or tab before it. The compiled automaton encodes the
//! secrets in its transition tables, which are freed but not wiped when the last clone of a
//! [`Redactor`] is dropped (the secrets' own copies and the pattern lists are wiped).

mod detection_line;
mod detector;
mod encode;
mod hit;
mod overlay;
mod patterns;
mod received;
mod redactor;
mod region;
mod scan;
mod shared;
mod stream;
#[cfg(feature = "tracing")]
mod tracing;
mod wrapped;
mod writer;

pub use detector::{
    Confidence, Detection, DetectionKind, Detector, DetectorBuilder, LineDetection,
};
pub use encode::{Encoding, Encodings};
pub use redactor::{Finding, Redactor, RedactorBuilder, Replacement};
pub use shared::SharedRedactor;
pub use stream::StreamRedactor;
#[cfg(feature = "tracing")]
pub use tracing::{RedactedEvent, RedactingMakeWriter};
pub use writer::RedactingWriter;

/// The files of `guard`, lowest first: a file imports only files listed before it, so there is
/// no cycle and each file can be read knowing only the ones below it.
#[cfg(test)]
const LAYERS: &[&str] = &[
    "encode",
    "received",
    "hit",
    "detection_line",
    "detector",
    "overlay",
    "patterns",
    "wrapped",
    "scan",
    "region",
    "redactor",
    "stream",
    "shared",
    "writer",
    "tracing",
];

/// The same for the files in `guard/detector/`; `detector.rs` itself is above them all, and the
/// test files on top.
#[cfg(test)]
const DETECTOR_LAYERS: &[&str] = &[
    "work",
    "text",
    "detection",
    "plausibility",
    "line_cursor",
    "formats",
    "assignment",
    "builder",
    "assignment_tests",
    "linear_tests",
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod layers {
    use std::path::Path;

    use super::{DETECTOR_LAYERS, LAYERS};

    /// The sibling modules a file imports: `use super::name...` and `use crate::guard::name...`
    /// at the top level of the file (a nested `mod tests` importing its own file is not one).
    fn imported_siblings(source: &str, own_prefixes: &[&str], siblings: &[&str]) -> Vec<String> {
        let mut found = Vec::new();
        for line in source.lines() {
            let Some(path) = own_prefixes.iter().find_map(|p| line.strip_prefix(p)) else {
                continue;
            };
            let names: Vec<&str> = match path.strip_prefix('{') {
                Some(group) => group.split(',').collect(),
                None => vec![path],
            };
            for name in names {
                let name = name
                    .trim()
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("");
                if siblings.contains(&name) {
                    found.push(name.to_owned());
                }
            }
        }
        found
    }

    fn check_folder(dir: &Path, order: &[&str], prefixes: &[&str]) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let name = path.file_stem().unwrap().to_str().unwrap();
            let own = order.iter().position(|n| *n == name).unwrap_or_else(|| {
                panic!(
                    "{}: give the new file its place in the layer list",
                    path.display()
                )
            });
            let source = std::fs::read_to_string(&path).unwrap();
            for imported in imported_siblings(&source, prefixes, order) {
                let theirs = order.iter().position(|n| *n == imported).unwrap();
                assert!(
                    theirs < own,
                    "{}: `{name}` imports `{imported}`, which is above it in the layer list",
                    path.display()
                );
            }
        }
    }

    /// The files in the folder of `parent` (`redactor/builder.rs`) import only files of guard
    /// below `parent`.
    fn check_nested(dir: &Path, parent: &str) {
        let parent_at = LAYERS.iter().position(|n| *n == parent).unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            for imported in imported_siblings(&source, &["use crate::guard::"], LAYERS) {
                let theirs = LAYERS.iter().position(|n| *n == imported).unwrap();
                assert!(
                    theirs <= parent_at,
                    "{}: imports `{imported}`, which is above `{parent}` in the layer list",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn no_file_of_guard_imports_one_above_it() {
        let guard = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/guard");
        check_folder(&guard, LAYERS, &["use super::", "use crate::guard::"]);
        check_folder(
            &guard.join("detector"),
            DETECTOR_LAYERS,
            &["use super::", "use crate::guard::detector::"],
        );
        for entry in std::fs::read_dir(&guard).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                let name = path.file_name().unwrap().to_str().unwrap();
                check_nested(&path, name);
            }
        }
    }

    #[test]
    fn an_upward_import_is_caught() {
        let source = "use std::fmt;\n\nuse super::{hit::Hit, stream::StreamRedactor};\n";
        assert_eq!(
            imported_siblings(source, &["use super::"], LAYERS),
            ["hit", "stream"]
        );
        // a test module importing its own file is not a sibling import
        assert!(imported_siblings("    use super::*;\n", &["use super::"], LAYERS).is_empty());
    }
}
