//! Face verification: a driver trait for the lane's face unit and a
//! simulated unit for tests.
//!
//! The lane's state machine never calls a unit: it emits
//! [`Action::VerifyFace`](crate::session::Action::VerifyFace), the
//! orchestrator calls [`FaceVerifier::verify`] and feeds the result back as
//! [`Event::FaceResult`](crate::session::Event::FaceResult).

use std::collections::VecDeque;

use icao9303::lds::FaceImage;

/// A match score between a live capture and the reference image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceMatch {
    /// Similarity, 0.0 (different) to 1.0 (same person).
    pub score: f32,
}

impl FaceMatch {
    /// The score in per mille, clamped to 0..=1000 (NaN counts as 0).
    #[must_use]
    pub fn per_mille(self) -> u16 {
        if self.score.is_nan() {
            return 0;
        }
        // Clamped to 0..=1000 first, so the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let v = (self.score.clamp(0.0, 1.0) * 1000.0).round() as u16;
        v
    }
}

/// Why a verification gave no score.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FaceError {
    /// No usable live capture (no face, several faces, eyes closed, poor light); the traveller may try again.
    #[error("no usable face capture")]
    NoUsableCapture,
    /// The reference image could not be decoded.
    #[error("the reference image is unusable")]
    ReferenceUnusable,
    /// The unit failed (camera, matcher); trying again will not help.
    #[error("face unit fault: {0}")]
    Unit(String),
}

/// A face verification unit: captures a live face and compares it with a reference.
///
/// # Contract
/// - `verify` must capture a new live face on every call and must not
///   keep the capture or the reference after returning.
/// - It must return within the unit's own time limit; the lane also times
///   the call out (`timeouts.face_ms`).
pub trait FaceVerifier {
    /// Captures a live face and scores it against `reference` (from DG2).
    ///
    /// # Errors
    /// [`FaceError::NoUsableCapture`] when no capture was good enough,
    /// [`FaceError::ReferenceUnusable`] when the reference cannot be used,
    /// [`FaceError::Unit`] when the unit failed.
    fn verify(&mut self, reference: &FaceImage) -> Result<FaceMatch, FaceError>;
}

/// A face unit that answers from a script, for tests and the demo.
#[derive(Debug, Clone, Default)]
pub struct SimulatedFaceUnit {
    script: VecDeque<Result<FaceMatch, FaceError>>,
    calls: usize,
}

impl SimulatedFaceUnit {
    /// A unit that gives these answers in order, then [`FaceError::Unit`].
    #[must_use]
    pub fn scripted(script: impl IntoIterator<Item = Result<FaceMatch, FaceError>>) -> Self {
        Self {
            script: script.into_iter().collect(),
            calls: 0,
        }
    }

    /// Appends an answer.
    pub fn push(&mut self, answer: Result<FaceMatch, FaceError>) {
        self.script.push_back(answer);
    }

    /// How many times [`FaceVerifier::verify`] was called.
    #[must_use]
    pub fn calls(&self) -> usize {
        self.calls
    }
}

impl FaceVerifier for SimulatedFaceUnit {
    fn verify(&mut self, _reference: &FaceImage) -> Result<FaceMatch, FaceError> {
        self.calls += 1;
        self.script
            .pop_front()
            .unwrap_or_else(|| Err(FaceError::Unit("script exhausted".into())))
    }
}

#[cfg(test)]
mod tests;
