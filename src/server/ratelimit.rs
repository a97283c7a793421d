//! The per-principal rate limit: a token bucket per authenticated user (GCRA, `governor`), kept in
//! this instance's memory. With several instances behind a load balancer each has its own
//! buckets, so a user may get up to (instances × limit) per minute in all.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use uuid::Uuid;

/// Forget users who have not been seen for a while every this many checks.
const HOUSEKEEPING_EVERY: u64 = 4096;

/// Requests per minute per principal; a burst of the whole minute's allowance is allowed, then
/// one request per (60 s / limit).
pub struct RateLimiter {
    limiter: Option<DefaultKeyedRateLimiter<Uuid>>,
    per_minute: u32,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("per_minute", &self.per_minute)
            .finish()
    }
}

impl RateLimiter {
    /// A limit of `per_minute` requests per principal; 0 means no limit.
    pub fn per_minute(per_minute: u32) -> RateLimiter {
        RateLimiter {
            limiter: NonZeroU32::new(per_minute)
                .map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))),
            per_minute,
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// The configured limit (0: none).
    pub fn limit(&self) -> u32 {
        self.per_minute
    }

    /// Takes one request from `principal`'s bucket, or says how long until one is available.
    pub fn check(&self, principal: Uuid) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % HOUSEKEEPING_EVERY
            == HOUSEKEEPING_EVERY - 1
        {
            limiter.retain_recent();
        }
        limiter
            .check_key(&principal)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// Whole seconds to put in `Retry-After` (at least 1).
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_principal_has_its_own_bucket() {
        let limiter = RateLimiter::per_minute(3);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        for _ in 0..3 {
            assert!(limiter.check(a).is_ok());
        }
        let wait = limiter.check(a).unwrap_err();
        assert!(wait <= Duration::from_secs(20), "{wait:?}");
        assert!(retry_after_secs(wait) >= 1);
        assert!(
            limiter.check(b).is_ok(),
            "another principal is not affected"
        );
        let off = RateLimiter::per_minute(0);
        assert!((0..10_000).all(|_| off.check(a).is_ok()));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }
}
