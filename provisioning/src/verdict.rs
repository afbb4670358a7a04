//! The document verdict as `kioskctl` prints it.

use icao9303::pa::Outcome;
use icao9303::verdict::Verdict;
use serde::Serialize;

/// The verdict under `"verdict"` in `chip read --json`.
#[derive(Debug, Serialize)]
pub(crate) struct VerdictJson {
    /// True only if every mandatory check passed and none failed.
    genuine: bool,
    /// Every check in the order made.
    checks: Vec<CheckJson>,
}

/// One check of the verdict.
#[derive(Debug, Serialize)]
struct CheckJson {
    name: String,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    mandatory: bool,
}

impl From<&Verdict> for VerdictJson {
    fn from(v: &Verdict) -> Self {
        Self {
            genuine: v.genuine(),
            checks: v
                .checks
                .iter()
                .map(|c| {
                    let (outcome, reason) = match &c.outcome {
                        Outcome::Passed => ("passed", None),
                        Outcome::Failed(why) => ("failed", Some(why.clone())),
                        Outcome::NotPossible(why) => ("not_possible", Some(why.clone())),
                    };
                    CheckJson {
                        name: c.name.clone(),
                        outcome,
                        reason,
                        mandatory: c.mandatory,
                    }
                })
                .collect(),
        }
    }
}

/// Prints the verdict as a table for a person.
pub(crate) fn print(v: &Verdict) {
    println!();
    println!(
        "verdict          {}",
        if v.genuine() {
            "GENUINE"
        } else {
            "NOT GENUINE"
        }
    );
    for c in &v.checks {
        let (mark, why) = match &c.outcome {
            Outcome::Passed => ("pass", String::new()),
            Outcome::Failed(why) => ("FAIL", format!("  {why}")),
            Outcome::NotPossible(why) => ("n/a ", format!("  {why}")),
        };
        println!("  {mark} {:<28}{why}", c.name);
    }
}
