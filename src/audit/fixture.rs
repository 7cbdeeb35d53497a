//! Whether a finding of `keyward scan` is likely a test vector rather than a live key: where it
//! sits (a test directory or test file) or what it is (a key for an issuer's test environment).
//! Such findings are lowered one confidence level, so the default `medium` leaves most fixtures
//! out while `--min-confidence low` still shows them.

use std::path::{Component, Path};

use crate::guard::Confidence;

/// Directories whose files are tests or their data.
const TEST_DIRS: &[&str] = &[
    "test",
    "tests",
    "testdata",
    "test_data",
    "fixtures",
    "__fixtures__",
    "__tests__",
    "__mocks__",
    "spec",
];

/// Starts and ends of test file names, by language convention.
const TEST_FILE_STARTS: &[&str] = &["test_"];
const TEST_FILE_ENDS: &[&str] = &[
    "_test.go",
    "_test.py",
    "_test.rs",
    "_spec.rb",
    "_test.rb",
    ".test.js",
    ".test.ts",
    ".test.jsx",
    ".test.tsx",
    ".spec.js",
    ".spec.ts",
    ".spec.jsx",
    ".spec.tsx",
    "Test.java",
    "Tests.java",
    "Test.kt",
    "Tests.cs",
];

/// Public prefixes of keys that only work in an issuer's test or sandbox environment.
const TEST_MODE_PREFIXES: &[&str] = &[
    "sk_test_",
    "rk_test_",
    "whsec_test_",
    "FLWSECK_TEST-",
    "shippo_test_",
    "duffel_test_",
    "pdl_sdbx_apikey_",
    "EZTK",
    "access-sandbox-",
    "access_token$sandbox$",
    "tvly-dev-",
    "pypi-AgENdGVzdC5weXBpLm9yZw",
];

/// Why a finding is lowered one confidence level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lowered {
    /// The file is under a test directory or named as a test: the directory or name pattern.
    TestPath(&'static str),
    /// The key is for a test environment: its public prefix.
    TestModeKey(&'static str),
}

impl Lowered {
    /// Why a finding at `path` whose value is `value` is likely a test vector, if it is.
    pub(super) fn of(path: &Path, value: &str) -> Option<Lowered> {
        test_path(path)
            .map(Lowered::TestPath)
            .or_else(|| test_mode_prefix(value).map(Lowered::TestModeKey))
    }

    /// `confidence` one level down; `Low` stays `Low`, so nothing is hidden at `low`.
    pub(super) fn lower(confidence: Confidence) -> Confidence {
        match confidence {
            Confidence::High => Confidence::Medium,
            Confidence::Medium | Confidence::Low => Confidence::Low,
        }
    }

    /// The reason, for a report.
    pub(super) fn describe(self) -> String {
        match self {
            Lowered::TestPath(marker) => format!("under a test path (`{marker}`)"),
            Lowered::TestModeKey(prefix) => {
                format!("a key for a test environment (`{prefix}`)")
            }
        }
    }
}

/// The test directory or file-name pattern `path` (relative to the scanned root) matches.
fn test_path(path: &Path) -> Option<&'static str> {
    let mut components = path.components().peekable();
    while let Some(component) = components.next() {
        let Component::Normal(name) = component else {
            continue;
        };
        let Some(name) = name.to_str() else {
            continue;
        };
        if components.peek().is_some() {
            if let Some(dir) = TEST_DIRS.iter().find(|d| **d == name) {
                return Some(dir);
            }
        } else {
            return TEST_FILE_STARTS
                .iter()
                .find(|start| name.starts_with(**start))
                .or_else(|| TEST_FILE_ENDS.iter().find(|end| name.ends_with(**end)))
                .copied();
        }
    }
    None
}

/// The test-environment prefix `value` starts with.
fn test_mode_prefix(value: &str) -> Option<&'static str> {
    TEST_MODE_PREFIXES
        .iter()
        .find(|prefix| value.starts_with(**prefix))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_directories_and_test_file_names_are_test_paths() {
        for (path, marker) in [
            ("tests/fixtures.rs", Some("tests")),
            ("crate/src/test/data.json", Some("test")),
            ("pkg/testdata/config.yaml", Some("testdata")),
            ("web/__tests__/api.js", Some("__tests__")),
            ("spec/models/user_spec.rb", Some("spec")),
            ("server/handler_test.go", Some("_test.go")),
            ("app/test_settings.py", Some("test_")),
            ("ui/login.spec.ts", Some(".spec.ts")),
            ("src/main/java/KeyTest.java", Some("Test.java")),
            // Not tests: the word inside a longer name, or a file named like a directory.
            ("src/latest/config.py", None),
            ("src/contest.rs", None),
            ("docs/tests", None),
            (".env", None),
            ("src/attestation/keys.rs", None),
        ] {
            assert_eq!(test_path(Path::new(path)), marker, "{path}");
        }
    }

    #[test]
    fn test_mode_keys_are_recognised_by_their_public_prefix() {
        let body = "a1B2c3D4".repeat(4);
        assert_eq!(
            Lowered::of(Path::new("src/pay.rs"), &format!("sk_test_{body}")),
            Some(Lowered::TestModeKey("sk_test_"))
        );
        assert_eq!(
            Lowered::of(Path::new("src/pay.rs"), &format!("sk_live_{body}")),
            None
        );
        // A test path wins the description, one level either way.
        assert_eq!(
            Lowered::of(Path::new("tests/pay.rs"), &format!("sk_test_{body}")),
            Some(Lowered::TestPath("tests"))
        );
    }

    #[test]
    fn lowering_is_one_level_and_never_below_low() {
        assert_eq!(Lowered::lower(Confidence::High), Confidence::Medium);
        assert_eq!(Lowered::lower(Confidence::Medium), Confidence::Low);
        assert_eq!(Lowered::lower(Confidence::Low), Confidence::Low);
    }
}
