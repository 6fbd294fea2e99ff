//! How many steps apply keeps in flight: additive increase, multiplicative
//! decrease (as TCP does). A rate limit (429) halves the number at once and
//! holds new steps back for the server's `Retry-After`; a burst of gateway
//! errors (502, 503, 504: three or more among the answers since the last
//! look) halves it too. After as many steps done without either as the
//! current limit, it grows by one, up to `--concurrency`. The client still
//! retries each request on its own (`coder/retry.rs`): pacing only spares
//! the server more of them.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::coder::Stats;

/// Gateway errors among the answers since the last look that count as a burst.
const BURST: u64 = 3;

#[derive(Debug)]
pub(crate) struct Pace {
    limit: usize,
    max: usize,
    /// Steps done since the limit last changed.
    calm: usize,
    throttled: u64,
    overloaded: u64,
}

/// What the scheduler does after a look.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Go,
    /// Start nothing new for this long (the server's `Retry-After`).
    Hold(Duration),
}

impl Pace {
    pub fn new(max: usize, stats: &Stats) -> Pace {
        let max = max.max(1);
        Pace {
            limit: max,
            max,
            calm: 0,
            throttled: stats.throttled.load(Ordering::Relaxed),
            overloaded: stats.overloaded.load(Ordering::Relaxed),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Look at the client's counters after `finished` more steps ended.
    pub fn after(&mut self, finished: usize, stats: &Stats) -> Verdict {
        let throttled = stats.throttled.load(Ordering::Relaxed);
        let overloaded = stats.overloaded.load(Ordering::Relaxed);
        let (new_429, new_5xx) = (throttled - self.throttled, overloaded - self.overloaded);
        self.throttled = throttled;
        self.overloaded = overloaded;
        let retry_after = Duration::from_millis(stats.retry_after_ms.swap(0, Ordering::Relaxed));
        if new_429 > 0 {
            self.shrink();
            return if retry_after.is_zero() { Verdict::Go } else { Verdict::Hold(retry_after) };
        }
        if new_5xx >= BURST {
            self.shrink();
            return Verdict::Go;
        }
        self.calm += finished;
        if self.calm >= self.limit && self.limit < self.max {
            self.limit += 1;
            self.calm = 0;
        }
        Verdict::Go
    }

    fn shrink(&mut self) {
        self.limit = (self.limit / 2).max(1);
        self.calm = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_halve_what_is_in_flight_and_calm_grows_it_back() {
        let stats = Stats::default();
        let mut pace = Pace::new(8, &stats);
        assert_eq!((pace.after(5, &stats), pace.limit()), (Verdict::Go, 8), "never above the maximum");
        stats.throttled.fetch_add(2, Ordering::Relaxed);
        stats.retry_after_ms.fetch_max(2000, Ordering::Relaxed);
        assert_eq!(pace.after(1, &stats), Verdict::Hold(Duration::from_secs(2)));
        assert_eq!(pace.limit(), 4);
        assert_eq!(stats.retry_after_ms.load(Ordering::Relaxed), 0, "taken");
        stats.overloaded.fetch_add(2, Ordering::Relaxed);
        assert_eq!((pace.after(1, &stats), pace.limit()), (Verdict::Go, 4), "two gateway errors are no burst");
        stats.overloaded.fetch_add(3, Ordering::Relaxed);
        assert_eq!((pace.after(1, &stats), pace.limit()), (Verdict::Go, 2), "a burst");
        for want in [2, 3, 3, 3, 4] {
            pace.after(1, &stats);
            assert_eq!(pace.limit(), want);
        }
        for _ in 0..100 {
            pace.after(1, &stats);
        }
        assert_eq!(pace.limit(), 8);
        let mut one = Pace::new(0, &stats);
        stats.throttled.fetch_add(1, Ordering::Relaxed);
        assert_eq!((one.after(1, &stats), one.limit()), (Verdict::Go, 1), "never below one");
    }
}
