//! [`Overlay`]: a view of a [`Redactor`](super::Redactor) that writes a text of the caller's
//! choice, instead of a marker, for some secrets where they stand as written and whole.
//!
//! The agent edge shows a model a *handle* in place of each of its keys, and a marker for
//! everything it cannot give back (an encoded key, a fragment, somebody else's key). Both come
//! out of one search: the overlay is laid over the matcher the key manager keeps current, so
//! nothing is compiled again, and one-shot and streamed output still agree for any split
//! (the choice is made on a finished region, see [`Region::whole_raw`](super::region::Region)).

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use super::detector::Detector;

/// Replacement texts by registered secret, and the detector to use instead of the redactor's.
pub(crate) struct Overlay {
    /// By index of registered secret: the text that replaces it where it stands as written and
    /// whole, and alone in its region.
    whole: Vec<Option<Arc<str>>>,
    /// The same texts: a detection that is exactly one of them is not a secret (a handle in a
    /// configuration line looks like an assignment of a random value).
    texts: HashSet<Arc<str>>,
    detector: Option<Detector>,
}

impl Overlay {
    pub(crate) fn new(whole: Vec<Option<Arc<str>>>, detector: Option<Detector>) -> Overlay {
        let texts = whole.iter().flatten().cloned().collect();
        Overlay {
            whole,
            texts,
            detector,
        }
    }

    /// The text for registered secret `secret`, found whole and as written.
    pub(crate) fn whole(&self, secret: u32) -> Option<&str> {
        self.whole.get(secret as usize)?.as_deref()
    }

    /// Whether `text`, found by the detector, is one of the overlay's own texts.
    pub(crate) fn is_own_text(&self, text: &str) -> bool {
        self.texts.contains(text)
    }

    pub(crate) fn detector(&self) -> Option<&Detector> {
        self.detector.as_ref()
    }
}

impl fmt::Debug for Overlay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Overlay")
            .field("texts", &self.texts.len())
            .field("detector", &self.detector.is_some())
            .finish()
    }
}
