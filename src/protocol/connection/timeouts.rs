//! The third part of [`Connection`], after receiving and sending: time. The driver hands
//! the time in ([`handle_timeout`](Connection::handle_timeout)) and asks when to do so next
//! ([`poll_timeout`](Connection::poll_timeout)); the connection runs its keep-alive ping,
//! pong timeout and close timeout from that alone, reading no clock.

use std::time::Instant;

use super::{Connection, State};
use crate::error::Error;
use crate::protocol::timers::{Due, Phase};

impl Connection {
    /// Hands in the current time and runs the timers that are due: after
    /// [`ping_interval`](crate::Config::ping_interval) without a byte from the peer, a ping
    /// is queued (and the connection, idle, frees its empty buffers); after
    /// [`pong_timeout`](crate::Config::pong_timeout) more without one, or
    /// [`close_timeout`](crate::Config::close_timeout) after our close frame without the
    /// peer's, the connection fails: a close frame with 1008 is queued if ours was not
    /// sent, the state becomes [`Failed`](State::Failed), and the next
    /// [`poll_event`](Self::poll_event) returns [`Error::Timeout`].
    ///
    /// Call it once when the connection opens (its timers start then), after each
    /// [`receive`](Self::receive) (the time is what bytes that arrived are stamped with),
    /// and whenever [`poll_timeout`](Self::poll_timeout) passes. Calling it more often is
    /// harmless; a connection that is never handed the time runs no timer.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use rfc6455::{Config, Connection, Error, Event, Role, State, Timeout};
    ///
    /// let config = Config {
    ///     ping_interval: Some(Duration::from_secs(25)),
    ///     pong_timeout: Duration::from_secs(20),
    ///     ..Config::default()
    /// };
    /// let mut connection = Connection::new(Role::Server, &config);
    /// let start = Instant::now(); // any instant: the connection never reads a clock
    /// connection.handle_timeout(start);
    /// assert_eq!(connection.poll_timeout(), Some(start + Duration::from_secs(25)));
    /// connection.handle_timeout(start + Duration::from_secs(25));
    /// assert_eq!(connection.buffered_amount(), 2); // the keep-alive ping
    /// connection.handle_timeout(start + Duration::from_secs(45)); // and no answer
    /// assert_eq!(connection.state(), State::Failed);
    /// assert!(matches!(connection.poll_event(), Err(Error::Timeout(Timeout::Pong))));
    /// ```
    #[inline]
    pub fn handle_timeout(&mut self, now: Instant) {
        // Bytes came while open (a driver hands the time in after each read): the
        // keep-alive restarts, nothing else can be due.
        if self.state == State::Open && self.timers.restart_if_heard(now) {
            return;
        }
        self.run_timers(now);
    }

    fn run_timers(&mut self, now: Instant) {
        match self.timers.expire(now, self.timer_phase()) {
            None => {}
            Some(Due::KeepAlive) => {
                // Silent for a ping interval: idle, so it gives back the memory it kept for
                // traffic.
                self.release_memory();
                if self.ping(b"").is_ok() {
                    self.timers.ping_sent(now);
                }
            }
            Some(Due::Failure(timeout)) => {
                let _ = self.fail(Error::Timeout(timeout));
                self.timers.expired = Some(timeout);
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called: `None` when no
    /// timer runs (none was configured, time was never handed in, or the connection is
    /// closed). An instant already past means "now": something happened that the time must
    /// be stamped on.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.deadline(self.timer_phase())
    }

    fn timer_phase(&self) -> Phase {
        match self.state {
            State::Open => Phase::Open,
            State::CloseSent => Phase::Closing,
            State::Closed | State::Failed => Phase::Done,
        }
    }
}
