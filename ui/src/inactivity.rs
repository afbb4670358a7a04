//! The inactivity timer: a warning, then back to the start. Pure: it is told
//! how long nobody touched the screen, and says what to show.
#![forbid(unsafe_code)]

use std::time::Duration;

/// When to warn and when to start over, counted from the last touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InactivityTimeouts {
    /// Idle this long: ask "are you still there?".
    pub warn_after: Duration,
    /// Idle this long: start over (or log the officer out).
    pub reset_after: Duration,
}

impl InactivityTimeouts {
    /// A traveller who chose a language and walked away: warn at 20 s,
    /// start over at 30 s.
    pub const TRAVELLER: InactivityTimeouts = InactivityTimeouts {
        warn_after: Duration::from_secs(20),
        reset_after: Duration::from_secs(30),
    };

    /// An officer at the kiosk: warn at 45 s, log out at 60 s.
    pub const OFFICER: InactivityTimeouts = InactivityTimeouts {
        warn_after: Duration::from_secs(45),
        reset_after: Duration::from_secs(60),
    };
}

/// What the inactivity timer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inactivity {
    /// Recently touched: nothing to show.
    Active,
    /// Show the warning, with the whole seconds left before starting over
    /// (rounded up, so never 0).
    Warning {
        /// Seconds left, at least 1.
        seconds_left: u32,
    },
    /// Start over now.
    Expired,
}

/// What to show after `idle` without a touch.
///
/// # Contract
/// - `idle < warn_after`: [`Inactivity::Active`].
/// - `warn_after <= idle < reset_after`: [`Inactivity::Warning`] with the
///   seconds left rounded up.
/// - `idle >= reset_after`: [`Inactivity::Expired`]. A `warn_after` at or
///   past `reset_after` means no warning at all.
pub fn inactivity(idle: Duration, timeouts: InactivityTimeouts) -> Inactivity {
    if idle >= timeouts.reset_after {
        return Inactivity::Expired;
    }
    if idle < timeouts.warn_after {
        return Inactivity::Active;
    }
    let left = timeouts.reset_after - idle;
    let whole = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    Inactivity::Warning {
        seconds_left: u32::try_from(whole).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: InactivityTimeouts = InactivityTimeouts {
        warn_after: Duration::from_secs(20),
        reset_after: Duration::from_secs(30),
    };

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn active_until_the_warning() {
        assert_eq!(inactivity(ms(0), T), Inactivity::Active);
        assert_eq!(inactivity(ms(19_999), T), Inactivity::Active);
    }

    #[test]
    fn warning_counts_down_in_whole_seconds_rounded_up() {
        assert_eq!(
            inactivity(ms(20_000), T),
            Inactivity::Warning { seconds_left: 10 }
        );
        assert_eq!(
            inactivity(ms(20_001), T),
            Inactivity::Warning { seconds_left: 10 }
        );
        assert_eq!(
            inactivity(ms(21_000), T),
            Inactivity::Warning { seconds_left: 9 }
        );
        assert_eq!(
            inactivity(ms(29_999), T),
            Inactivity::Warning { seconds_left: 1 }
        );
    }

    #[test]
    fn expires_at_the_reset_time_and_after() {
        assert_eq!(inactivity(ms(30_000), T), Inactivity::Expired);
        assert_eq!(
            inactivity(Duration::from_secs(3600), T),
            Inactivity::Expired
        );
    }

    #[test]
    fn warning_at_or_past_the_reset_means_no_warning() {
        let t = InactivityTimeouts {
            warn_after: Duration::from_secs(40),
            reset_after: Duration::from_secs(30),
        };
        assert_eq!(inactivity(ms(29_999), t), Inactivity::Active);
        assert_eq!(inactivity(ms(30_000), t), Inactivity::Expired);
    }

    #[test]
    fn the_shipped_timeouts_warn_before_they_reset() {
        for t in [InactivityTimeouts::TRAVELLER, InactivityTimeouts::OFFICER] {
            assert!(t.warn_after < t.reset_after);
            assert!(matches!(
                inactivity(t.warn_after, t),
                Inactivity::Warning { .. }
            ));
        }
    }
}
