//! When and how long to wait before trying a request again.
//!
//! Retried: 429 (waiting what `Retry-After` says), 502, 503, 504, and
//! connections that fail or close before the whole answer arrived. Waits
//! grow exponentially with jitter (so parallel workers do not retry in step)
//! and the number of attempts is bounded. Time goes through [`Sleep`], so
//! tests can run the retry paths without waiting.

use std::fmt;
use std::time::{Duration, SystemTime};

/// Waiting, made replaceable for tests.
pub trait Sleep: Send + Sync {
    fn sleep(&self, duration: Duration);
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct ThreadSleep;

impl Sleep for ThreadSleep {
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub retries: u32,
    /// The first backoff; each retry doubles it.
    pub base_delay: Duration,
    /// The longest backoff computed from `base_delay`.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a server asking for more is an error.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            retries: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(15),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry): the
    /// exponential step, of which the upper half is random (`unit` in 0..1).
    pub fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let step = self.base_delay.saturating_mul(1u32 << retry.saturating_sub(1).min(20)).min(self.max_delay);
        step / 2 + step.mul_f64(unit.clamp(0.0, 1.0) / 2.0)
    }
}

/// Status codes worth another try: the server or a proxy in front of it is
/// overloaded or restarting. Other 4xx and 5xx answers would come back the same.
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// `Retry-After`: a number of seconds, or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(at.timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A source of jitter shared by the worker threads: `fastrand`'s generator,
/// one per thread, seeded apart, so threads need no lock and do not retry in
/// step. Jitter only spreads retries out; it needs no cryptographic quality.
pub struct Jitter(());

impl Jitter {
    pub fn new() -> Jitter {
        Jitter(())
    }

    /// A number in 0..1.
    pub fn unit(&self) -> f64 {
        fastrand::f64()
    }
}

impl Default for Jitter {
    fn default() -> Jitter {
        Jitter::new()
    }
}

impl fmt::Debug for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Jitter")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_its_jitter_and_is_capped() {
        let p = RetryPolicy::default();
        let have: Vec<(Duration, Duration)> = (1..=8).map(|n| (p.backoff(n, 0.0), p.backoff(n, 1.0))).collect();
        let want_ms = [250u64, 500, 1000, 2000, 4000, 8000, 15000, 15000];
        for ((low, high), step) in have.iter().zip(want_ms) {
            assert_eq!(*high, Duration::from_millis(step));
            assert_eq!(*low, Duration::from_millis(step / 2));
        }
        let mid = p.backoff(3, 0.5);
        assert!(mid > Duration::from_millis(500) && mid < Duration::from_millis(1000), "{mid:?}");
        assert_eq!(p.backoff(1000, 1.0), p.max_delay, "no overflow on absurd retry numbers");
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO), "a past date");
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn only_overload_statuses_are_retried() {
        let retried: Vec<u16> = (400..600).filter(|s| retryable_status(*s)).collect();
        assert_eq!(retried, vec![429, 502, 503, 504]);
    }

    #[test]
    fn jitter_stays_in_the_unit_interval() {
        let j = Jitter::new();
        let draws: Vec<f64> = (0..1000).map(|_| j.unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        let low = draws.iter().filter(|u| **u < 0.5).count();
        assert!((300..700).contains(&low), "spread over the interval: {low} of 1000 under 0.5");
    }
}
