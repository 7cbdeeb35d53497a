//! How often each byte occurs in the text an agent handles, to plan the keyword prefilter.
//!
//! Counts per 65,536 bytes (at least 1), measured once on this machine's cargo registry: 16 MB
//! of Rust sources, 2.5 MB of Markdown and 0.5 MB of JSON, weighted 1 : 2 : 4 so that prose and
//! tool results count as much as code. Only the planner reads it, and only to compare choices,
//! so a rough table is enough: a wrong guess costs speed, never a finding.

/// Occurrences of each byte value per 65,536 bytes of ordinary text.
pub(super) const BYTE_FREQUENCY: [u16; 256] = [
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2197, 1, 1, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 14294, 32, 3933, 254, 13, 93, 29, 25, 206, 206, 117, 19, 1172, 604, 616, 1012, 1188, 727,
    552, 416, 326, 318, 346, 287, 342, 358, 2081, 107, 31, 125, 55, 27, 22, 168, 77, 177, 102, 216,
    85, 53, 34, 148, 14, 48, 87, 97, 125, 84, 113, 7, 127, 173, 209, 65, 39, 22, 57, 37, 68, 199,
    84, 199, 7, 838, 315, 2254, 583, 1329, 895, 3085, 722, 478, 1080, 1731, 23, 175, 1285, 946,
    1929, 2142, 1139, 39, 1811, 2159, 2605, 1063, 269, 326, 285, 289, 59, 284, 15, 283, 5, 1, 6, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1,
    1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
];
