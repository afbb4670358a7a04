//! The officer's PIN: held in memory only while the officer is logged in,
//! zeroed when dropped, never shown by `Debug`.
#![forbid(unsafe_code)]

use std::fmt;

use kiosk_app::supervision::auth::PIN_LENGTH;
use zeroize::Zeroizing;

/// Most digits the keypad takes.
pub const MAX_PIN_DIGITS: usize = 12;

/// Fewest digits a PIN has (the kiosks refuse shorter ones).
pub const MIN_PIN_DIGITS: usize = 4;

/// An officer's PIN: zeroed when dropped, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct OfficerPin(Zeroizing<String>);

/// The PIN is not of an acceptable form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a PIN is {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} digits")]
pub struct BadPin;

impl OfficerPin {
    /// Takes a PIN of [`MIN_PIN_DIGITS`] to [`MAX_PIN_DIGITS`] ASCII digits.
    ///
    /// # Errors
    /// [`BadPin`] for anything else.
    pub fn new(digits: &str) -> Result<Self, BadPin> {
        let n = digits.len();
        if (MIN_PIN_DIGITS..=MAX_PIN_DIGITS).contains(&n)
            && PIN_LENGTH.contains(&n)
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            Ok(Self(Zeroizing::new(digits.to_owned())))
        } else {
            Err(BadPin)
        }
    }

    /// The digits, to send to a kiosk.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OfficerPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OfficerPin(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_four_to_twelve_digits_make_a_pin() {
        assert!(OfficerPin::new("4829").is_ok());
        assert!(OfficerPin::new("482916482916").is_ok());
        for bad in ["", "482", "4829164829161", "48a916", "4829 6", "٤٨٢٩"] {
            assert_eq!(OfficerPin::new(bad), Err(BadPin), "{bad:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_pin() {
        let pin = OfficerPin::new("482916").unwrap();
        assert!(!format!("{pin:?}").contains("482916"));
        assert_eq!(pin.expose(), "482916");
    }
}
