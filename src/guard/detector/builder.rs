//! [`DetectorBuilder`]: which formats to look for, whether the generic rule runs, and its
//! thresholds. Setters only record; [`build`](DetectorBuilder::build) checks.

use super::assignment::MAX_GENERIC_LEN;
use super::detection::Confidence;
use super::rule_set::RuleSet;
use super::{Detector, FORMAT_WORDS};
use crate::error::{Error, ErrorKind, Result};
use crate::format::KeyFormat;

/// Every format, the generic rule on, minimum entropy 3.0 bits per character, minimum generic
/// value length 12 characters, every confidence reported.
pub(super) const DEFAULT: Detector = Detector {
    formats: all_formats(),
    generic: true,
    min_entropy: 3.0,
    min_generic_len: 12,
    min_confidence: Confidence::Low,
    rules: None,
};

/// One bit set per format in `KeyFormat::ALL`.
const fn all_formats() -> [u64; FORMAT_WORDS] {
    let mut words = [0; FORMAT_WORDS];
    let mut index = 0;
    while index < KeyFormat::ALL.len() {
        words[index / 64] |= 1 << (index % 64);
        index += 1;
    }
    words
}

/// Builds a [`Detector`]; from [`Detector::builder`].
///
/// Setters take and return the builder by value and may be called in any order;
/// [`build`](DetectorBuilder::build) checks the settings.
///
/// ```
/// use keyward::{Detector, KeyFormat};
/// use keyward::guard::Confidence;
///
/// let detector = Detector::builder()
///     .with_formats(&[KeyFormat::OpenAi, KeyFormat::Anthropic])
///     .with_generic(false)
///     .with_min_confidence(Confidence::Medium)
///     .build()?;
/// let github = format!("token: ghp_{}", "a1B2".repeat(9));
/// assert!(!detector.is_match(&github));
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DetectorBuilder {
    detector: Detector,
}

impl Default for DetectorBuilder {
    fn default() -> Self {
        DetectorBuilder::new()
    }
}

impl DetectorBuilder {
    /// Every format, the generic rule on, minimum entropy 3.0 bits per character, minimum
    /// generic value length 12 characters, every confidence reported.
    pub fn new() -> DetectorBuilder {
        DetectorBuilder { detector: DEFAULT }
    }

    /// Looks for these formats only (none, if empty).
    pub fn with_formats(mut self, formats: &[KeyFormat]) -> DetectorBuilder {
        self.detector.formats = [0; FORMAT_WORDS];
        for format in formats {
            let index = format.index();
            self.detector.formats[index / 64] |= 1 << (index % 64);
        }
        self
    }

    /// Whether the generic assignment rule runs; on by default.
    pub fn with_generic(mut self, enabled: bool) -> DetectorBuilder {
        self.detector.generic = enabled;
        self
    }

    /// The Shannon entropy, in bits per character, a generic value needs at least (default 3.0;
    /// a random 12-character alphanumeric string has about 3.4, `hunter2hunter2` has 2.8). A
    /// finite number, 0 or more: [`build`](DetectorBuilder::build) refuses others.
    pub fn with_min_entropy(mut self, bits_per_char: f64) -> DetectorBuilder {
        self.detector.min_entropy = bits_per_char;
        self
    }

    /// The number of characters a generic value needs at least (default 12, at most 512: the
    /// rule ignores longer values).
    pub fn with_min_generic_len(mut self, chars: usize) -> DetectorBuilder {
        self.detector.min_generic_len = chars;
        self
    }

    /// Also finds what the user's own `rules` describe (none by default), besides the built-in
    /// formats and the generic rule; a later call replaces the rules of an earlier one (load
    /// several files into one [`RuleSet`]). Every user of the detector sees them: the
    /// [`Scanner`](crate::audit::Scanner), and a redactor's
    /// [`with_unknown_detection`](crate::guard::RedactorBuilder::with_unknown_detection), with
    /// its streams. A detection of a rule is a [`DetectionKind::Rule`](super::DetectionKind::Rule).
    ///
    /// ```
    /// use keyward::guard::{RuleSet, Redactor};
    /// use keyward::Detector;
    ///
    /// let rules = RuleSet::builder()
    ///     .with_rules_text("acme.rules", "[acme-token]\nkeywords = acme_\nshape = acme_[a-z0-9]{24}\n")
    ///     .build()?;
    /// let detector = Detector::builder().with_rules(rules).build()?;
    /// let redactor = Redactor::builder().with_detector(detector).build()?;
    /// let key = format!("acme_{}", "q7x2".repeat(6));
    /// assert_eq!(redactor.redact(&format!("token {key}")), "token [REDACTED:acme-token]");
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn with_rules(mut self, rules: RuleSet) -> DetectorBuilder {
        self.detector.rules = Some(rules);
        self
    }

    /// Reports only detections at least this sure (default: all).
    pub fn with_min_confidence(mut self, confidence: Confidence) -> DetectorBuilder {
        self.detector.min_confidence = confidence;
        self
    }

    /// The detector.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] if the minimum entropy is not a number, infinite or negative
    /// (with NaN, every comparison fails and every value would pass), or the minimum generic
    /// length is above 512 characters (the rule would find nothing; turn it off with
    /// [`with_generic(false)`](DetectorBuilder::with_generic) instead).
    ///
    /// ```
    /// use keyward::{Detector, ErrorKind};
    ///
    /// let err = Detector::builder().with_min_entropy(f64::NAN).build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// assert!(err.to_string().contains("minimum entropy"));
    /// ```
    pub fn build(self) -> Result<Detector> {
        let Detector {
            min_entropy,
            min_generic_len,
            ..
        } = self.detector;
        if !(min_entropy.is_finite() && min_entropy >= 0.0) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "the detector's minimum entropy is {min_entropy}: it must be a finite number \
                     of bits per character, 0 or more (the default is {})",
                    DEFAULT.min_entropy
                ),
            ));
        }
        if min_generic_len > MAX_GENERIC_LEN {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "the detector's minimum generic value length is {min_generic_len} characters, \
                     above the {MAX_GENERIC_LEN} the generic rule looks at, so it would find \
                     nothing: lower it, or turn the rule off with `with_generic(false)`"
                ),
            ));
        }
        Ok(self.detector)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_defaults_build_and_equal_detector_new() {
        let built = DetectorBuilder::new().build().unwrap();
        assert_eq!(format!("{built:?}"), format!("{:?}", Detector::new()));
    }

    #[test]
    fn min_generic_len_up_to_the_longest_value_builds() {
        assert!(
            Detector::builder()
                .with_min_generic_len(MAX_GENERIC_LEN)
                .build()
                .is_ok()
        );
        let err = Detector::builder()
            .with_min_generic_len(MAX_GENERIC_LEN + 1)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("513"), "{err}");
    }

    proptest! {
        /// Any entropy builds exactly when it is a finite number of 0 or more, whatever else is
        /// set and in whatever order.
        #[test]
        fn entropy_is_checked_by_build_in_any_setter_order(
            bits in prop_oneof![
                Just(f64::NAN),
                Just(f64::INFINITY),
                Just(f64::NEG_INFINITY),
                Just(-0.0),
                Just(f64::MIN_POSITIVE),
                -10.0..10.0f64,
            ],
            generic in any::<bool>(),
            len in 0..=MAX_GENERIC_LEN,
            entropy_first in any::<bool>(),
        ) {
            let set_entropy = |b: DetectorBuilder| b.with_min_entropy(bits);
            let set_rest = |b: DetectorBuilder| b.with_generic(generic).with_min_generic_len(len);
            let builder = if entropy_first {
                set_rest(set_entropy(Detector::builder()))
            } else {
                set_entropy(set_rest(Detector::builder()))
            };
            let result = builder.build();
            prop_assert_eq!(result.is_ok(), bits.is_finite() && bits >= 0.0);
            if let Err(err) = result {
                prop_assert_eq!(err.kind(), ErrorKind::InvalidInput);
                prop_assert!(err.to_string().contains("minimum entropy"));
            }
        }
    }
}
