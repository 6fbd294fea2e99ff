//! Fault injection: what a flaky network and an overloaded server do.
//!
//! Two sources: a random share of all requests (`Faults::rate`, drawn from a
//! seeded generator), and scripted faults for the next requests matching a
//! method and path (`FakeCoder::script`). A request is never failed more than
//! `max_in_a_row` times running, so a client that retries a bounded number of
//! times always gets through and a test never depends on luck.

use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `Retry-After` (seconds) and the rate limiter's message. Not processed.
    TooManyRequests { retry_after: u64 },
    /// This status with a `codersdk.Response` body, before processing (a proxy or a restarting server).
    Status(u16),
    /// Processed (writes are carried out), then the connection closes halfway through the body.
    CutBody,
    /// Answer normally, after this long.
    Delay(Duration),
}

#[derive(Debug, Clone)]
pub struct Faults {
    /// Share of requests that get a random fault (0 = none).
    pub rate: f64,
    /// The faults drawn from, with equal chance.
    pub kinds: Vec<Fault>,
    pub seed: u64,
    /// Longest run of faults on one request (method, path and query).
    pub max_in_a_row: u32,
    /// Added to every answer: a server far away.
    pub latency: Duration,
    /// Requests whose `METHOD /path?query` contains one of these never get a random fault.
    pub spare: Vec<String>,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults { rate: 0.0, kinds: Vec::new(), seed: 1, max_in_a_row: 3, latency: Duration::ZERO, spare: Vec::new() }
    }
}

impl Faults {
    /// `rate` of requests fail with a 429, a 502, 503 or 504, or a body cut short.
    pub fn flaky(rate: f64, seed: u64) -> Faults {
        Faults {
            rate,
            kinds: vec![
                Fault::TooManyRequests { retry_after: 1 },
                Fault::Status(502),
                Fault::Status(503),
                Fault::Status(504),
                Fault::CutBody,
            ],
            seed,
            ..Faults::default()
        }
    }
}

/// A scripted fault for the next `times` requests whose method matches and
/// whose path (with query) contains `path`.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub method: String,
    pub path: String,
    pub fault: Fault,
    pub times: u32,
}

/// The injector's state: a counter for the random draws, runs per request.
#[derive(Debug, Default)]
pub struct Injector {
    pub faults: Faults,
    pub scripted: Vec<Scripted>,
    drawn: u64,
    runs: HashMap<String, u32>,
}

impl Injector {
    pub fn new(faults: Faults) -> Injector {
        Injector { faults, ..Injector::default() }
    }

    /// The fault for this request, if any. `line` is `METHOD /path?query`.
    pub fn pick(&mut self, method: &str, line: &str) -> Option<Fault> {
        if let Some(s) = self.scripted.iter_mut().find(|s| s.times > 0 && s.method == method && line.contains(&s.path))
        {
            s.times -= 1;
            return Some(s.fault);
        }
        if self.faults.spare.iter().any(|s| line.contains(s.as_str())) {
            return None;
        }
        self.drawn += 1;
        let run = self.runs.entry(line.to_string()).or_default();
        let roll = unit(self.faults.seed, self.drawn);
        if self.faults.kinds.is_empty() || roll >= self.faults.rate || *run >= self.faults.max_in_a_row {
            *run = 0;
            return None;
        }
        *run += 1;
        let which = (unit(self.faults.seed ^ 0x9e37_79b9, self.drawn) * self.faults.kinds.len() as f64) as usize;
        self.faults.kinds.get(which).copied()
    }
}

/// A number in 0..1 from (seed, n): splitmix64.
fn unit(seed: u64, n: u64) -> f64 {
    let mut z = seed.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}
