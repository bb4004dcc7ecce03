//! [`ProtocolTimers`]: the connection's three timers (keep-alive ping, pong timeout, close
//! timeout) with the time handed in, never read from a clock.
//!
//! Only one timer runs at a time, and which one follows from the connection's phase: while
//! it is open, the keep-alive timer (or, once its ping is out, the pong timeout); after our
//! close frame, the close timeout. So one instant is kept, when the running timer started,
//! and the durations as milliseconds: 32 bytes a connection.
//!
//! Time is handed in with each call to [`ProtocolTimers::expire`]. What happened since the
//! last call (bytes arrived, our close frame was queued) is stamped with that call's time;
//! until then [`ProtocolTimers::deadline`] says the timer is due at once, so a driver that
//! only sleeps until the deadline still hands the time in right after.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::error::Timeout;

/// Which timer can run, from the connection's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Open: keep-alive, then pong timeout.
    Open,
    /// Our close frame is out: close timeout.
    Closing,
    /// Closed or failed: none (what is left is the transport's to close).
    Done,
}

/// What a call to [`ProtocolTimers::expire`] found due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// Nothing was heard for a ping interval: send a keep-alive ping.
    KeepAlive,
    /// A timer ran out: fail the connection.
    Failure(Timeout),
}

#[derive(Debug, Clone)]
#[cfg_attr(test, derive(PartialEq, Eq))]
pub(crate) struct ProtocolTimers {
    /// When the running timer started; `None` until time is first handed in.
    since: Option<Instant>,
    ping_interval: Option<NonZeroU32>,
    pong_timeout: u32,
    close_timeout: u32,
    /// Bytes arrived since time was last handed in: the keep-alive timer restarts then.
    heard: bool,
    /// Our close frame was queued since time was last handed in: the close timer starts.
    close_queued: bool,
    /// The keep-alive ping is out and nothing has been heard since.
    ping_outstanding: bool,
    /// The timer that failed the connection, until `poll_event` reports it.
    pub(crate) expired: Option<Timeout>,
}

/// Milliseconds, saturating at `u32::MAX` (49 days).
fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}

fn after(start: Instant, millis: u32) -> Instant {
    start + Duration::from_millis(u64::from(millis))
}

impl ProtocolTimers {
    pub(crate) fn new(config: &Config) -> ProtocolTimers {
        ProtocolTimers {
            since: None,
            // A zero interval is taken as the shortest one, a millisecond.
            ping_interval: config
                .ping_interval
                .map(|every| NonZeroU32::MIN.saturating_add(millis(every).saturating_sub(1))),
            pong_timeout: millis(config.pong_timeout),
            close_timeout: millis(config.close_timeout),
            heard: false,
            close_queued: false,
            ping_outstanding: false,
            expired: None,
        }
    }

    /// Bytes arrived from the peer.
    pub(crate) fn heard(&mut self) {
        self.heard = true;
    }

    /// Our close frame was queued.
    pub(crate) fn close_queued(&mut self) {
        self.close_queued = true;
    }

    /// When [`expire`](Self::expire) must next be called: at once (the start of the running
    /// timer, already past) while something waits to be stamped with the time, else when
    /// the running timer runs out. `None` before time was first handed in, and when no
    /// timer runs.
    pub(crate) fn deadline(&self, phase: Phase) -> Option<Instant> {
        let since = self.since?;
        if phase != Phase::Done && (self.heard || self.close_queued) {
            return Some(since);
        }
        self.running_deadline(phase)
    }

    fn running_deadline(&self, phase: Phase) -> Option<Instant> {
        let since = self.since?;
        match phase {
            Phase::Open if self.ping_outstanding => Some(after(since, self.pong_timeout)),
            Phase::Open => self.ping_interval.map(|every| after(since, every.get())),
            Phase::Closing => Some(after(since, self.close_timeout)),
            Phase::Done => None,
        }
    }

    /// While open, bytes arrived since time was last handed in: the keep-alive restarts at
    /// `now` (at least a millisecond from being due, so nothing is), and true is returned;
    /// false, changing nothing, if nothing arrived. The same as [`expire`](Self::expire)
    /// in the open phase, for the call a driver makes after every read.
    #[inline]
    pub(crate) fn restart_if_heard(&mut self, now: Instant) -> bool {
        if !self.heard {
            return false;
        }
        self.heard = false;
        self.restart_keep_alive(now);
        true
    }

    /// The keep-alive runs again from `now`, and a ping sent before is no longer waited for.
    fn restart_keep_alive(&mut self, now: Instant) {
        self.since = Some(now);
        self.ping_outstanding = false;
    }

    /// Hands in the time: stamps what happened since the last call with `now`, then says
    /// which timer is due, if one is. A keep-alive ping must be answered with
    /// [`ping_sent`](Self::ping_sent) once it is queued.
    pub(crate) fn expire(&mut self, now: Instant, phase: Phase) -> Option<Due> {
        let first = self.since.is_none();
        let heard = std::mem::take(&mut self.heard);
        let close_queued = std::mem::take(&mut self.close_queued);
        match phase {
            Phase::Open if first || heard => self.restart_keep_alive(now),
            Phase::Closing if first || close_queued => self.since = Some(now),
            _ if first => self.since = Some(now),
            _ => {}
        }
        if self.running_deadline(phase)? > now {
            return None;
        }
        Some(match phase {
            Phase::Open if self.ping_outstanding => Due::Failure(Timeout::Pong),
            Phase::Open => Due::KeepAlive,
            Phase::Closing => Due::Failure(Timeout::Close),
            Phase::Done => return None,
        })
    }

    /// The keep-alive ping went out at `now`: the pong timeout runs from here.
    pub(crate) fn ping_sent(&mut self, now: Instant) {
        self.since = Some(now);
        self.ping_outstanding = true;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn timers(ping: Option<u64>, pong: u64, close: u64) -> ProtocolTimers {
        ProtocolTimers::new(&Config {
            ping_interval: ping.map(Duration::from_millis),
            pong_timeout: Duration::from_millis(pong),
            close_timeout: Duration::from_millis(close),
            ..Config::default()
        })
    }

    fn at(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    #[test]
    fn no_timer_runs_before_time_is_handed_in() {
        let mut timers = timers(Some(100), 50, 30);
        timers.heard();
        timers.close_queued();
        assert_eq!(timers.deadline(Phase::Open), None);
        assert_eq!(timers.deadline(Phase::Closing), None);
    }

    #[test]
    fn keep_alive_then_pong_timeout_on_a_fake_clock() {
        let t0 = Instant::now();
        let mut timers = timers(Some(100), 50, 30);
        assert_eq!(timers.expire(t0, Phase::Open), None);
        assert_eq!(timers.deadline(Phase::Open), Some(at(t0, 100)));
        assert_eq!(timers.expire(at(t0, 99), Phase::Open), None);
        assert_eq!(
            timers.expire(at(t0, 100), Phase::Open),
            Some(Due::KeepAlive)
        );
        timers.ping_sent(at(t0, 100));
        assert_eq!(timers.deadline(Phase::Open), Some(at(t0, 150)));
        assert_eq!(
            timers.expire(at(t0, 150), Phase::Open),
            Some(Due::Failure(Timeout::Pong))
        );
    }

    #[test]
    fn bytes_heard_restart_the_keep_alive_from_when_time_is_next_handed_in() {
        let t0 = Instant::now();
        let mut timers = timers(Some(100), 50, 30);
        timers.expire(t0, Phase::Open);
        timers.heard();
        // Until stamped, the deadline is now: a driver that sleeps until it hands time in.
        assert_eq!(timers.deadline(Phase::Open), Some(t0));
        assert_eq!(timers.expire(at(t0, 70), Phase::Open), None);
        assert_eq!(timers.deadline(Phase::Open), Some(at(t0, 170)));
        // A ping is out; anything heard cancels the pong timeout.
        assert_eq!(
            timers.expire(at(t0, 170), Phase::Open),
            Some(Due::KeepAlive)
        );
        timers.ping_sent(at(t0, 170));
        timers.heard();
        assert_eq!(timers.expire(at(t0, 200), Phase::Open), None);
        assert_eq!(timers.deadline(Phase::Open), Some(at(t0, 300)));
    }

    #[test]
    fn restarting_on_bytes_heard_leaves_the_timers_as_expire_would() {
        let t0 = Instant::now();
        for ping_out in [false, true] {
            let mut fast = timers(Some(100), 50, 30);
            fast.expire(t0, Phase::Open);
            if ping_out {
                fast.ping_sent(at(t0, 100));
            }
            // Nothing heard: no change, and the full check must run.
            assert!(!fast.restart_if_heard(at(t0, 120)));
            assert_eq!(fast, {
                let mut again = timers(Some(100), 50, 30);
                again.expire(t0, Phase::Open);
                if ping_out {
                    again.ping_sent(at(t0, 100));
                }
                again
            });
            let mut slow = fast.clone();
            fast.heard();
            slow.heard();
            assert!(fast.restart_if_heard(at(t0, 120)));
            assert_eq!(slow.expire(at(t0, 120), Phase::Open), None);
            assert_eq!(fast, slow);
            assert_eq!(fast.deadline(Phase::Open), Some(at(t0, 220)));
        }
    }

    #[test]
    fn the_close_timer_starts_when_the_close_frame_is_stamped() {
        let t0 = Instant::now();
        let mut timers = timers(Some(100), 50, 30);
        timers.expire(t0, Phase::Open);
        timers.close_queued();
        assert_eq!(timers.deadline(Phase::Closing), Some(t0));
        assert_eq!(timers.expire(at(t0, 80), Phase::Closing), None);
        assert_eq!(timers.deadline(Phase::Closing), Some(at(t0, 110)));
        // Bytes heard while closing do not move it.
        timers.heard();
        assert_eq!(timers.expire(at(t0, 100), Phase::Closing), None);
        assert_eq!(
            timers.expire(at(t0, 110), Phase::Closing),
            Some(Due::Failure(Timeout::Close))
        );
    }

    #[test]
    fn without_a_ping_interval_an_open_connection_has_no_timer_and_a_done_one_none() {
        let t0 = Instant::now();
        let mut timers = timers(None, 50, 30);
        assert_eq!(timers.expire(t0, Phase::Open), None);
        assert_eq!(timers.deadline(Phase::Open), None);
        timers.heard();
        assert_eq!(timers.deadline(Phase::Done), None);
        assert_eq!(timers.expire(at(t0, 1_000_000), Phase::Done), None);
    }

    #[test]
    fn durations_saturate_and_a_zero_interval_is_one_millisecond() {
        let t0 = Instant::now();
        let mut timers = ProtocolTimers::new(&Config {
            ping_interval: Some(Duration::ZERO),
            close_timeout: Duration::from_secs(u64::MAX / 4),
            ..Config::default()
        });
        timers.expire(t0, Phase::Open);
        assert_eq!(timers.deadline(Phase::Open), Some(at(t0, 1)));
        timers.close_queued();
        timers.expire(t0, Phase::Closing);
        assert_eq!(
            timers.deadline(Phase::Closing),
            Some(at(t0, u64::from(u32::MAX)))
        );
    }

    #[test]
    fn the_timers_fit_in_32_bytes() {
        assert!(std::mem::size_of::<ProtocolTimers>() <= 32);
    }
}
