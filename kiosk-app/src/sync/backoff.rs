//! Exponential backoff with jitter, capped: a pure function.

use std::time::Duration;

/// How long to wait after failures: doubling from `base`, never above `cap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling after the first failure.
    pub base: Duration,
    /// The ceiling never exceeds this.
    pub cap: Duration,
}

impl Default for Backoff {
    /// 1 s doubling up to 5 minutes.
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// The ceiling after `failures` consecutive failures (0 is treated as 1):
    /// `min(cap, base * 2^(failures - 1))`, without overflow.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.base.saturating_mul(1u32 << doublings).min(self.cap)
    }

    /// The delay before the next try after `failures` consecutive failures,
    /// with "equal jitter": half the ceiling, plus `jitter` (a uniform random
    /// number in `[0, 1)`; anything else is clamped, NaN is 0) times the
    /// other half. Units that failed together so retry spread out, and a
    /// delay is never below half its ceiling nor above `cap`.
    pub fn delay(&self, failures: u32, jitter: f64) -> Duration {
        let ceiling = self.ceiling(failures);
        let jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        let half = ceiling / 2;
        (half + half.mul_f64(jitter)).min(ceiling)
    }
}

/// A uniform random number in `[0, 1)` from the OS; 0.5 if that fails.
pub(crate) fn random_jitter() -> f64 {
    let mut bytes = [0u8; 8];
    match getrandom::fill(&mut bytes) {
        // 53 random bits make an exact double in [0, 1).
        Ok(()) => (u64::from_be_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const B: Backoff = Backoff {
        base: Duration::from_millis(500),
        cap: Duration::from_secs(60),
    };

    #[test]
    fn ceiling_doubles_then_stays_at_the_cap() {
        let ceilings: Vec<u64> = (1..=10).map(|n| B.ceiling(n).as_millis() as u64).collect();
        assert_eq!(
            ceilings,
            [
                500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000
            ]
        );
        assert_eq!(B.ceiling(0), B.ceiling(1));
        assert_eq!(B.ceiling(u32::MAX), B.cap);
    }

    #[test]
    fn jitter_spans_half_to_full_ceiling() {
        assert_eq!(B.delay(3, 0.0), Duration::from_millis(1000));
        assert_eq!(B.delay(3, 0.5), Duration::from_millis(1500));
        assert!(B.delay(3, 0.999_999) < Duration::from_millis(2000));
        assert_eq!(B.delay(3, 7.0), Duration::from_millis(2000));
        assert_eq!(B.delay(3, -1.0), Duration::from_millis(1000));
        assert_eq!(B.delay(3, f64::NAN), Duration::from_millis(1000));
        assert_eq!(B.delay(99, 1.0), B.cap);
    }

    #[test]
    fn random_jitter_is_in_range() {
        for _ in 0..1000 {
            let j = random_jitter();
            assert!((0.0..1.0).contains(&j), "{j}");
        }
    }

    proptest! {
        #[test]
        fn never_above_cap_nor_below_half_ceiling(
            base_ms in 0u64..100_000,
            cap_ms in 0u64..10_000_000,
            failures in any::<u32>(),
            jitter in any::<f64>(),
        ) {
            let b = Backoff { base: Duration::from_millis(base_ms), cap: Duration::from_millis(cap_ms) };
            let d = b.delay(failures, jitter);
            prop_assert!(d <= b.cap);
            prop_assert!(d <= b.ceiling(failures));
            prop_assert!(d >= b.ceiling(failures) / 2);
        }

        #[test]
        fn ceiling_never_decreases(base_ms in 0u64..100_000, cap_ms in 0u64..10_000_000, n in 0u32..200) {
            let b = Backoff { base: Duration::from_millis(base_ms), cap: Duration::from_millis(cap_ms) };
            prop_assert!(b.ceiling(n + 1) >= b.ceiling(n));
        }
    }
}
