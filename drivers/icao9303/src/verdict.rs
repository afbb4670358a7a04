//! One verdict per document: every authenticity check with its outcome, and
//! one `genuine` answer that the lane's policy reads.
//!
//! The checks come from access control (BAC or PACE), Passive
//! Authentication ([`crate::pa`]), clone detection (Active Authentication,
//! [`crate::aa`]; Chip Authentication, [`crate::ca`]) and the comparison of the MRZ
//! that was scanned with the MRZ signed into DG1.

use crate::aa::AaFailure;
use crate::mrz::Mrz;
use crate::pa::{Outcome, PaReport};

/// Every check made on one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The checks, in the order they were made.
    pub checks: Vec<VerdictCheck>,
}

/// One named check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictCheck {
    /// A stable identifier, e.g. `access_control`, `sod_signature`, `dg_hash_2`.
    pub name: String,
    /// Passed, failed (why) or not possible (why).
    pub outcome: Outcome,
    /// Whether `genuine` needs this check to pass.
    pub mandatory: bool,
}

/// What clone detection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloneCheck {
    /// Active Authentication ran (DG15 present) with this result.
    ActiveAuthentication(Result<(), AaFailure>),
    /// The chip offers neither Chip nor Active Authentication.
    NotOffered,
    /// The chip offers clone detection but it was not run, for this reason.
    NotRun(String),
    /// Chip Authentication ran (DG14, 9303-11 section 6.2; or PACE-CAM's check against DG14) with this result.
    ChipAuthentication(Result<(), String>),
}

impl Verdict {
    /// Builds the verdict from what the read established.
    ///
    /// `access` names the protocol that opened the chip (the read could not
    /// have happened otherwise). A clone check that ran must pass; a chip
    /// that offers none is recorded as not possible, for the lane policy to
    /// weigh. `dg1_mrz` is `None` when DG1 could not be read or parsed.
    pub fn new(
        access: &str,
        pa: &PaReport,
        clone: &CloneCheck,
        scanned: &Mrz,
        dg1_mrz: Option<&Mrz>,
    ) -> Self {
        let mut checks = vec![VerdictCheck {
            name: "access_control".into(),
            outcome: Outcome::Passed,
            mandatory: true,
        }];
        checks.push(VerdictCheck {
            name: format!("access_protocol_{}", access.to_ascii_lowercase()),
            outcome: Outcome::Passed,
            mandatory: false,
        });
        checks.extend(pa.checks.iter().map(|c| VerdictCheck {
            name: c.name.id(),
            outcome: c.outcome.clone(),
            mandatory: false,
        }));
        checks.push(VerdictCheck {
            name: "passive_authentication".into(),
            outcome: if pa.genuine() {
                Outcome::Passed
            } else {
                let failed: Vec<String> = pa.failures().map(|c| c.name.id()).collect();
                Outcome::Failed(if failed.is_empty() {
                    "a mandatory check could not be made".into()
                } else {
                    format!("failed: {}", failed.join(", "))
                })
            },
            mandatory: true,
        });
        let (clone_outcome, clone_mandatory) = match clone {
            CloneCheck::ActiveAuthentication(Ok(())) => (Outcome::Passed, true),
            CloneCheck::ActiveAuthentication(Err(e)) => (Outcome::Failed(e.to_string()), true),
            CloneCheck::NotOffered => (
                Outcome::NotPossible(
                    "the chip offers neither Chip nor Active Authentication".into(),
                ),
                false,
            ),
            CloneCheck::NotRun(why) => (Outcome::NotPossible(why.clone()), false),
            CloneCheck::ChipAuthentication(Ok(())) => (Outcome::Passed, true),
            CloneCheck::ChipAuthentication(Err(e)) => (Outcome::Failed(e.clone()), true),
        };
        checks.push(VerdictCheck {
            name: "clone_detection".into(),
            outcome: clone_outcome,
            mandatory: clone_mandatory,
        });
        checks.push(VerdictCheck {
            name: "mrz_matches_dg1".into(),
            outcome: match dg1_mrz {
                None => Outcome::Failed("DG1 was not read".into()),
                Some(dg1) if same_document(scanned, dg1) => Outcome::Passed,
                Some(_) => {
                    Outcome::Failed("the scanned MRZ differs from the one signed in DG1".into())
                }
            },
            mandatory: true,
        });
        Self { checks }
    }

    /// True only if every mandatory check passed and no check failed.
    pub fn genuine(&self) -> bool {
        self.checks.iter().all(|c| match &c.outcome {
            Outcome::Passed => true,
            Outcome::Failed(_) => false,
            Outcome::NotPossible(_) => !c.mandatory,
        })
    }

    /// The checks that failed, or that were mandatory and could not be made.
    pub fn failures(&self) -> impl Iterator<Item = &VerdictCheck> {
        self.checks.iter().filter(|c| match c.outcome {
            Outcome::Passed => false,
            Outcome::Failed(_) => true,
            Outcome::NotPossible(_) => c.mandatory,
        })
    }
}

/// Whether two MRZs describe the same document and holder, field by field.
fn same_document(a: &Mrz, b: &Mrz) -> bool {
    a.format == b.format
        && a.document_type == b.document_type
        && a.issuing_state == b.issuing_state
        && a.document_number == b.document_number
        && a.nationality == b.nationality
        && a.birth_date == b.birth_date
        && a.sex == b.sex
        && a.expiry_date == b.expiry_date
        && a.primary_identifier == b.primary_identifier
        && a.secondary_identifier == b.secondary_identifier
        && a.optional_data == b.optional_data
        && a.optional_data_2 == b.optional_data_2
}

#[cfg(test)]
mod tests;
