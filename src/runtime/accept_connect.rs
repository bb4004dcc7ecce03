//! Where a loop's connections come from: [`Listener`] accepts them and hands each to a loop
//! in turn; [`Dialer`] opens a client's socket and keeps a client that lost its connection
//! until its reconnection backoff passes (the deadline itself is in the loop's timer heap).

use std::io::ErrorKind;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Instant;

use mio::net::{TcpListener, TcpStream};
use slab::Slab;

use super::client::ClientOrigin;
#[cfg(feature = "tls")]
use super::tls_session::TlsSession;
use super::transport::{Security, Transport};
use crate::config::Config;
use crate::error::Error;
use crate::handshake::ClientHandshake;

/// A listening socket, owned by loop 0, and how its connections are secured.
#[derive(Debug)]
pub(crate) struct Listener {
    socket: TcpListener,
    security: Security,
    /// The loop the next accepted connection goes to.
    next_worker: usize,
    /// Accepting failed for want of resources (out of file descriptors): connections may
    /// wait in the backlog, which an edge-triggered poll will not report again until
    /// another arrives. The loop retries at the end of every turn until it works.
    paused: bool,
}

impl Listener {
    pub(crate) fn new(socket: TcpListener, security: Security) -> Listener {
        Listener {
            socket,
            security,
            next_worker: 0,
            paused: false,
        }
    }

    pub(crate) fn socket_mut(&mut self) -> &mut TcpListener {
        &mut self.socket
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    /// Accepts every connection waiting, handing each to `adopt` with the loop (of
    /// `workers`) that is to own it and the listener's security.
    pub(crate) fn accept(
        &mut self,
        workers: usize,
        mut adopt: impl FnMut(usize, TcpStream, SocketAddr, &Security),
    ) {
        self.paused = false;
        loop {
            match self.socket.accept() {
                Ok((stream, peer)) => {
                    let worker = self.next_worker % workers.max(1);
                    self.next_worker = self.next_worker.wrapping_add(1);
                    adopt(worker, stream, peer, &self.security);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // ECONNABORTED and the like concern one connection; out of file
                // descriptors, stop for now and try again at the end of each turn (a
                // connection that closes frees one).
                Err(e) if e.kind() == ErrorKind::ConnectionAborted => {}
                Err(_) => {
                    self.paused = true;
                    return;
                }
            }
        }
    }
}

/// A loop's clients between connections.
#[derive(Debug, Default)]
pub(crate) struct Dialer {
    waiting: Slab<Box<ClientOrigin>>,
}

/// A client's socket (connecting, TLS over it for `wss://`), and the handshake to run on
/// it.
pub(crate) type Dialed = (Transport, SocketAddr, Box<ClientHandshake>);

impl Dialer {
    /// Resolves the client's address, prepares its handshake and starts connecting.
    pub(crate) fn dial(origin: &ClientOrigin, config: &Config) -> Result<Dialed, Error> {
        let address = origin
            .url
            .authority()
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::from(ErrorKind::AddrNotAvailable))?;
        let handshake = Box::new(ClientHandshake::new(&origin.request, config)?);
        let tcp = TcpStream::connect(address)?;
        #[cfg(feature = "tls")]
        if origin.url.is_secure() {
            let connector = match &origin.tls {
                Some(connector) => connector.clone(),
                None => crate::tls::TlsConnector::platform()?,
            };
            let session = connector.unbuffered_session(origin.url.host())?;
            return Ok((
                Transport::tls(tcp, TlsSession::client(session)),
                address,
                handshake,
            ));
        }
        Ok((Transport::plain(tcp), address, handshake))
    }

    /// Keeps `origin` until its next attempt, which the policy schedules from `now`;
    /// returns when that is and the key to [`take`](Self::take) it with, or `None` if the
    /// policy gives up (or there is none).
    pub(crate) fn wait(
        &mut self,
        mut origin: Box<ClientOrigin>,
        now: Instant,
    ) -> Option<(Instant, usize)> {
        let policy = origin.reconnect.as_ref()?;
        if policy.max_attempts.is_some_and(|max| origin.attempt >= max) {
            return None;
        }
        let at = now + policy.delay(origin.attempt);
        origin.attempt += 1;
        Some((at, self.waiting.insert(origin)))
    }

    /// The client whose backoff passed.
    pub(crate) fn take(&mut self, key: usize) -> Option<Box<ClientOrigin>> {
        self.waiting.try_remove(key)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Forgets every waiting client (shutdown).
    pub(crate) fn clear(&mut self) {
        self.waiting.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::{ClientRequest, Url};
    use crate::runtime::Reconnect;
    use std::time::Duration;

    fn origin(max_attempts: Option<u32>) -> Box<ClientOrigin> {
        let url = Url::parse("ws://127.0.0.1:1/").unwrap();
        Box::new(ClientOrigin {
            request: ClientRequest::from_url(&url),
            url,
            reconnect: Some(Reconnect {
                initial_delay: Duration::from_millis(100),
                max_delay: Duration::from_secs(1),
                max_attempts,
            }),
            attempt: 0,
            #[cfg(feature = "tls")]
            tls: None,
        })
    }

    #[test]
    fn a_waiting_client_comes_back_after_its_backoff_until_the_policy_gives_up() {
        let now = Instant::now();
        let mut dialer = Dialer::default();
        let (at, key) = dialer.wait(origin(Some(2)), now).unwrap();
        assert!(at >= now + Duration::from_millis(50) && at <= now + Duration::from_millis(100));
        let first = dialer.take(key).unwrap();
        assert_eq!(first.attempt, 1);
        let (at, key) = dialer.wait(first, now).unwrap();
        assert!(
            at >= now + Duration::from_millis(100),
            "the backoff doubles"
        );
        let second = dialer.take(key).unwrap();
        assert!(dialer.wait(second, now).is_none(), "two attempts, no more");
        assert!(dialer.is_empty());
        assert!(dialer.take(key).is_none());
    }

    #[test]
    fn without_a_policy_a_client_is_not_kept() {
        let mut dialer = Dialer::default();
        let mut once = origin(None);
        once.reconnect = None;
        assert!(dialer.wait(once, Instant::now()).is_none());
    }
}
