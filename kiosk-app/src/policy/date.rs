//! Civil dates and the MRZ's two-digit years.
//!
//! An MRZ date is `YYMMDD`; a birth date may have `<<` for an unknown year,
//! month or day. The century is inferred relative to the lane's "today":
//!
//! - **Birth date**: `20YY` if the earliest date the field allows in `20YY`
//!   is not after today, else `19YY`. An unknown month or day widens the
//!   field to a range (month 01-12, day 01 to the month's last day); the age
//!   is then taken from the **latest** date in the range (capped at today),
//!   so the holder is assumed as young as the field allows: a possible minor
//!   is treated as a minor. An unknown year cannot be bounded and is refused.
//!   A holder aged 100 or more is read as an infant (the MRZ cannot tell
//!   them apart): conservative, the traveller is referred.
//! - **Expiry date**: `20YY`, unless that is more than 50 years after today,
//!   then `19YY` (long expired).

use std::fmt;

/// A proleptic Gregorian calendar date.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// A birth date field widened to the dates it allows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct BirthRange {
    /// The latest date the field allows, capped at today.
    pub(crate) latest: Date,
}

impl Date {
    /// The date, or `None` if the month or day does not exist.
    #[must_use]
    pub fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Self { year, month, day })
    }

    /// The date of a Unix time in seconds (UTC).
    #[must_use]
    pub fn from_unix_seconds(seconds: i64) -> Self {
        Self::from_days(seconds.div_euclid(86_400))
    }

    /// The year.
    #[must_use]
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1-12.
    #[must_use]
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    #[must_use]
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before).
    #[must_use]
    pub fn days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date this many days after 1970-01-01.
    #[must_use]
    pub fn from_days(days: i64) -> Self {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }

    /// The date `n` days later (earlier for negative `n`).
    #[must_use]
    pub fn add_days(self, n: i64) -> Self {
        Self::from_days(self.days() + n)
    }

    /// Completed years from `self` (a birth date) to `today`; a 29 February
    /// birthday is reached on 1 March in common years.
    #[must_use]
    pub fn age_on(self, today: Date) -> i32 {
        let before_birthday = (today.month, today.day) < (self.month, self.day);
        today.year - self.year - i32::from(before_birthday)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Days in a month of a year (0 for a month outside 1-12).
fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Whether a year is a Gregorian leap year.
fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Two ASCII digits as a number, or `None`.
fn two_digits(field: &[u8]) -> Option<u8> {
    match field {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

/// A two-digit field that may be `<<` (unknown): `Ok(None)` for unknown.
fn part(field: &[u8]) -> Result<Option<u8>, ()> {
    if field == b"<<" {
        return Ok(None);
    }
    two_digits(field).map(Some).ok_or(())
}

/// The dates a birth-date field allows (see the module documentation), or
/// `None` when the year is unknown or the field is not a date.
pub(crate) fn birth_range(yymmdd: &str, today: Date) -> Option<BirthRange> {
    let b = yymmdd.as_bytes();
    if b.len() != 6 {
        return None;
    }
    let yy = two_digits(b.get(0..2)?)?;
    let month = part(b.get(2..4)?).ok()?;
    let day = part(b.get(4..6)?).ok()?;
    if month.is_some_and(|m| !(1..=12).contains(&m)) || day.is_some_and(|d| d == 0 || d > 31) {
        return None;
    }
    let earliest_in = |year: i32| Date::new(year, month.unwrap_or(1), day.unwrap_or(1));
    let year = match earliest_in(2000 + i32::from(yy)) {
        Some(d) if d <= today => 2000 + i32::from(yy),
        _ => 1900 + i32::from(yy),
    };
    let latest_month = month.unwrap_or(12);
    let latest_day = day.unwrap_or_else(|| days_in_month(year, latest_month));
    let latest = Date::new(year, latest_month, latest_day)?;
    Some(BirthRange {
        latest: latest.min(today),
    })
}

/// The date of an expiry field (see the module documentation), or `None`
/// when it is not a date.
pub(crate) fn expiry_date(yymmdd: &str, today: Date) -> Option<Date> {
    let b = yymmdd.as_bytes();
    if b.len() != 6 {
        return None;
    }
    let yy = i32::from(two_digits(b.get(0..2)?)?);
    let month = two_digits(b.get(2..4)?)?;
    let day = two_digits(b.get(4..6)?)?;
    let year = if 2000 + yy > today.year + 50 {
        1900 + yy
    } else {
        2000 + yy
    };
    Date::new(year, month, day)
}
