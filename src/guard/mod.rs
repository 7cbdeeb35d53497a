//! Leak prevention: catching secrets before they leave the process.

mod detector;

pub use detector::{
    Confidence, Detection, DetectionKind, Detector, DetectorBuilder, LineDetection,
};
