//! Fuzzes `Detector::find` on arbitrary UTF-8.
//!
//! Invariants: no panic; detections are in order, non-empty, non-overlapping and on character
//! boundaries; `find_with_lines` agrees with `find`; `Debug` never shows a long detected value.
//! A permissive detector (no length or entropy threshold) drives the assignment parser
//! through far more paths than the default one.

#![no_main]

use keyward::Detector;
use libfuzzer_sys::fuzz_target;

fn check(detector: &Detector, text: &str) {
    let found = detector.find(text);
    let mut previous_end = 0;
    for detection in &found {
        let range = detection.range();
        assert!(range.start < range.end, "empty detection");
        assert!(range.start >= previous_end, "detections overlap or are out of order");
        assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        previous_end = range.end;
        let value = &text[range];
        if value.len() >= 16 {
            assert!(!format!("{detection:?}").contains(value), "Debug shows the value");
        }
    }
    let lines = detector.find_with_lines(text);
    assert_eq!(lines.len(), found.len());
    for (line, detection) in lines.iter().zip(&found) {
        assert_eq!(line.detection(), detection);
        let before = &text[..detection.range().start];
        assert_eq!(line.line(), before.matches('\n').count() + 1);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check(&Detector::new(), text);
    let Ok(permissive) = Detector::builder()
        .with_min_generic_len(1)
        .with_min_entropy(0.0)
        .build()
    else {
        unreachable!("1 character and 0 bits are valid settings")
    };
    check(&permissive, text);
});
