//! [`Scan`]: the MRZ lines of one document as the reader sent them, and their check against ICAO 9303.
//!
//! A scan has the right shape (2 or 3 lines of MRZ characters, all of one
//! MRZ length) but is not yet known to be an MRZ: [`Scan::parse`] runs
//! `icao9303::mrz::parse` on it and returns the [`Mrz`] or an [`InvalidMrz`].

use std::fmt;

use icao9303::mrz::{self, Mode, Mrz, MrzError};

/// The MRZ lines of one scan, in order, without line ends.
///
/// Its `Debug` output shows the shape only: the lines are personal data.
#[derive(Clone, PartialEq, Eq)]
pub struct Scan {
    /// The lines, each of `A`-`Z`, `0`-`9` and `<` only, all of one length (30, 36 or 44).
    pub lines: Vec<String>,
}

/// An MRZ that failed its ICAO 9303 check; shows the failed check, never the MRZ.
#[derive(Clone, PartialEq, Eq)]
pub struct InvalidMrz(MrzError);

impl Scan {
    /// The lines joined with `\n`, as `icao9303::mrz::parse` takes them.
    #[must_use]
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Checks the scan as an MRZ (layout, characters, every check digit).
    ///
    /// # Errors
    /// [`InvalidMrz`] naming the failed check.
    pub fn parse(&self, mode: Mode) -> Result<Mrz, InvalidMrz> {
        mrz::parse(&self.text(), mode).map_err(InvalidMrz)
    }
}

impl InvalidMrz {
    /// The check that failed.
    #[must_use]
    pub fn error(&self) -> &MrzError {
        &self.0
    }

    /// The check that failed, by value.
    #[must_use]
    pub fn into_error(self) -> MrzError {
        self.0
    }
}

impl fmt::Debug for Scan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scan")
            .field("lines", &self.lines.len())
            .field("line_len", &self.lines.first().map_or(0, String::len))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for InvalidMrz {
    /// The Display text of the `MrzError` (whose `Debug` may hold field values).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("InvalidMrz")
            .field(&format_args!("{}", self.0))
            .finish()
    }
}

impl fmt::Display for InvalidMrz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for InvalidMrz {}
