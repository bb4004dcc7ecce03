//! Outgoing connections: where a client connects, and [`Reconnect`], the policy that brings
//! it back with exponential backoff and jitter.

use std::time::Duration;

use crate::handshake::{ClientRequest, Url};

/// Automatic reconnection for a client: after a connection ends (other than by the
/// application's own close or a shutdown), wait, then connect again.
///
/// The wait before attempt `n` (counting from 0) is `initial_delay * 2^n`, capped at
/// `max_delay`, then scaled by a random factor in [0.5, 1.0] so that many clients dropped at
/// once do not come back at once. The attempt count resets once a connection opens.
///
/// ```
/// use std::time::Duration;
/// use rfc6455::events::Reconnect;
/// let policy = Reconnect::default();
/// assert_eq!(policy.initial_delay, Duration::from_millis(500));
/// let wait = policy.delay(3);
/// assert!(wait >= Duration::from_secs(2) && wait <= Duration::from_secs(4));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconnect {
    /// The wait before the first attempt.
    pub initial_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// Give up after this many attempts in a row (`None`: never give up).
    pub max_attempts: Option<u32>,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            max_attempts: None,
        }
    }
}

impl Reconnect {
    /// The wait before attempt `attempt` (0 for the first), jitter included.
    pub fn delay(&self, attempt: u32) -> Duration {
        let doubled = self
            .initial_delay
            .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX));
        let capped = doubled.min(self.max_delay);
        // Scale by 0.5 + r/2 with r uniform in [0, 1].
        let r = f64::from(crate::random::u16().unwrap_or(u16::MAX / 2)) / f64::from(u16::MAX);
        capped.mul_f64(0.5 + r / 2.0)
    }
}

/// Where a client connection goes, kept to reconnect.
#[derive(Debug, Clone)]
pub(crate) struct ClientOrigin {
    pub(crate) url: Url,
    pub(crate) request: ClientRequest,
    pub(crate) reconnect: Option<Reconnect>,
    /// Attempts since the last successful open.
    pub(crate) attempt: u32,
    /// For `wss://`: whom to trust (`None`: the platform's roots).
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::TlsConnector>,
}
