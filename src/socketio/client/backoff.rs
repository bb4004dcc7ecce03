//! The reference client's reconnection backoff (socket.io-client lib/contrib/backo2.ts):
//! exponential from `reconnection_delay`, randomized by `randomization_factor`, capped at
//! `reconnection_delay_max`.

use std::time::Duration;

/// The wait before reconnection attempt `attempt` (0 for the first), with `random` uniform
/// in [0, 1): `delay * 2^attempt`, moved up or down by at most `factor` of itself (the
/// direction from the same draw, as backo2 does), then capped at `max`.
pub(crate) fn delay(
    attempt: u32,
    delay: Duration,
    max: Duration,
    factor: f64,
    random: f64,
) -> Duration {
    let base = delay.as_secs_f64() * 2f64.powi(attempt.min(62) as i32);
    let factor = factor.clamp(0.0, 1.0);
    let deviation = (random * factor * base).max(0.0);
    // backo2: `(Math.floor(rand * 10) & 1) == 0 ? ms - deviation : ms + deviation`.
    let seconds = match ((random * 10.0).floor() as u64) & 1 {
        0 => base - deviation,
        _ => base + deviation,
    };
    Duration::try_from_secs_f64(seconds.max(0.0))
        .unwrap_or(max)
        .min(max)
}

/// A draw uniform in [0, 1) from the OS's random source (0.5 without one).
pub(crate) fn random() -> f64 {
    match crate::random::u16() {
        Ok(value) => f64::from(value) / 65536.0,
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::delay;
    use std::time::Duration;

    const SECOND: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(5);

    #[test]
    fn doubles_and_caps() {
        assert_eq!(delay(0, SECOND, MAX, 0.5, 0.0), SECOND);
        assert_eq!(delay(1, SECOND, MAX, 0.0, 0.3), 2 * SECOND);
        assert_eq!(delay(2, SECOND, MAX, 0.0, 0.3), 4 * SECOND);
        assert_eq!(delay(3, SECOND, MAX, 0.0, 0.3), MAX);
        assert_eq!(delay(1000, SECOND, MAX, 0.5, 0.99), MAX);
    }

    #[test]
    fn jitter_is_within_the_factor_either_way() {
        // floor(0.05 * 10) = 0, even: down by 0.05 * 0.5 * 1 s.
        let near =
            |wait: Duration, millis: f64| (wait.as_secs_f64() * 1000.0 - millis).abs() < 1e-3;
        assert!(near(delay(0, SECOND, MAX, 0.5, 0.05), 975.0));
        // floor(0.15 * 10) = 1, odd: up by 0.15 * 0.5 * 1 s.
        assert!(near(delay(0, SECOND, MAX, 0.5, 0.15), 1075.0));
        for step in 0..100 {
            let wait = delay(1, SECOND, MAX, 0.5, f64::from(step) / 100.0);
            assert!(wait >= SECOND && wait <= 3 * SECOND, "{wait:?}");
        }
    }
}
