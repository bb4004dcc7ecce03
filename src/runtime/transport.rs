//! [`Transport`]: a connection's socket, plain TCP or TLS over it (feature `tls`), read and
//! written the same way by the rest of the runtime: non-blocking, `WouldBlock` when the
//! socket has nothing or no room, `Ok(0)` at the end of the stream.
//!
//! TLS runs inside the loop: a read takes what TCP has into the session, processes its
//! records (the handshake included) and writes at once what the session wants to send
//! (handshake flights, alerts, key updates); a write encrypts into the session and sends
//! it. The session holds at most one write's worth of records ([`TLS_BUFFER_LIMIT`]) that
//! TCP would not take; a write that finds it still holding some says `WouldBlock`, so the
//! connection's own write queue, with its bound and backpressure, stays where output
//! waits.

#[cfg(feature = "tls")]
use std::io::ErrorKind;
use std::io::{IoSlice, Read, Write};
use std::net::Shutdown;

use mio::net::TcpStream;

use super::io::WriteOnlyRead;

/// The most plaintext a TLS session takes in one write, and so the most encrypted output
/// it holds while TCP has no room (rustls' own default).
#[cfg(feature = "tls")]
const TLS_BUFFER_LIMIT: usize = 64 * 1024;

/// A connection's socket and, over TLS, its session.
#[derive(Debug)]
pub(crate) struct Transport {
    tcp: TcpStream,
    #[cfg(feature = "tls")]
    tls: Option<Box<TlsSession>>,
}

/// A TLS session and what the transport keeps of it.
#[cfg(feature = "tls")]
#[derive(Debug)]
struct TlsSession {
    session: rustls::Connection,
    /// Plaintext the session has decrypted and not yet handed out.
    plaintext: usize,
}

impl Transport {
    pub(crate) fn plain(tcp: TcpStream) -> Transport {
        Transport {
            tcp,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// TLS over `tcp`, with a fresh session (server or client).
    #[cfg(feature = "tls")]
    pub(crate) fn tls(tcp: TcpStream, session: impl Into<rustls::Connection>) -> Transport {
        let mut session = session.into();
        session.set_buffer_limit(Some(TLS_BUFFER_LIMIT));
        let tls = TlsSession {
            session,
            plaintext: 0,
        };
        Transport {
            tcp,
            tls: Some(Box::new(tls)),
        }
    }

    pub(crate) fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    pub(crate) fn tcp_mut(&mut self) -> &mut TcpStream {
        &mut self.tcp
    }

    /// Sends what the TLS session holds; true when nothing is left (always, over plain
    /// TCP).
    pub(crate) fn flush_tls(&mut self) -> std::io::Result<bool> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            return tls.send_records(&mut self.tcp);
        }
        Ok(true)
    }

    /// Ends our direction: over TLS a close_notify first (written if TCP takes it), then
    /// TCP's FIN.
    pub(crate) fn shutdown_write(&mut self) {
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            tls.session.send_close_notify();
            let _ = tls.send_records(&mut self.tcp);
        }
        let _ = self.tcp.shutdown(Shutdown::Write);
    }

    /// Reads and throws away what the peer sends, as raw TCP bytes (a finished
    /// connection's last bytes need no decrypting).
    pub(crate) fn read_raw(&mut self, scratch: &mut [u8]) -> std::io::Result<usize> {
        self.tcp.read(scratch)
    }
}

impl Read for Transport {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            return tls.read(&mut self.tcp, buffer);
        }
        self.tcp.read(buffer)
    }
}

impl Write for Transport {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            return tls.write(&mut self.tcp, &[IoSlice::new(bytes)]);
        }
        self.tcp.write(bytes)
    }

    fn write_vectored(&mut self, slices: &[IoSlice<'_>]) -> std::io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            return tls.write(&mut self.tcp, slices);
        }
        self.tcp.write_vectored(slices)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// SAFETY: over plain TCP a read is mio's `TcpStream::read`, one recv(2) that only writes
// into the buffer. Over TLS, `TlsSession::read` zeroes the part of the buffer it lets the
// session fill (so the session is only ever handed initialized bytes) before the session
// copies plaintext into it.
#[allow(unsafe_code)]
unsafe impl WriteOnlyRead for Transport {}

#[cfg(feature = "tls")]
impl TlsSession {
    /// Hands out decrypted bytes, reading and processing records from `tcp` until
    /// `buffer` is full or TCP has nothing more: a short read means TCP said `WouldBlock`
    /// (or ended), as for a plain socket, which the edge-triggered loop relies on.
    fn read(&mut self, tcp: &mut TcpStream, buffer: &mut [u8]) -> std::io::Result<usize> {
        let mut filled = 0;
        loop {
            if self.plaintext > 0 {
                let room = buffer.get_mut(filled..).unwrap_or_default();
                let take = room.len().min(self.plaintext);
                let target = room.get_mut(..take).unwrap_or_default();
                target.fill(0);
                let n = self.session.reader().read(target)?;
                self.plaintext -= n;
                filled += n;
            }
            if filled == buffer.len() {
                return Ok(filled);
            }
            match self.session.read_tls(tcp) {
                // The end of the stream: a close_notify, or TCP's FIN without one (the
                // WebSocket's own close handshake says whether it ended cleanly).
                Ok(0) => return Ok(filled),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock && filled > 0 => return Ok(filled),
                Err(e) => return Err(e),
            }
            let state = match self.session.process_new_packets() {
                Ok(state) => state,
                Err(error) => {
                    // The session queued the alert that tells the peer why: send it.
                    let _ = self.send_records(tcp);
                    return Err(std::io::Error::new(ErrorKind::InvalidData, error));
                }
            };
            self.plaintext = state.plaintext_bytes_to_read();
            // Handshake flights and the like go out now; what TCP will not take yet goes
            // when it is writable (the loop flushes every writable connection). After the
            // peer's close_notify, `read_tls` says the end (`Ok(0)`) on the next pass.
            self.send_records(tcp)?;
        }
    }

    /// Encrypts what of `slices` the session takes, after it has sent what it held.
    fn write(&mut self, tcp: &mut TcpStream, slices: &[IoSlice<'_>]) -> std::io::Result<usize> {
        if !self.send_records(tcp)? {
            return Err(ErrorKind::WouldBlock.into());
        }
        let taken = self.session.writer().write_vectored(slices)?;
        if taken == 0 && slices.iter().any(|slice| !slice.is_empty()) {
            // Still in the handshake with its plaintext buffer full: wait for it.
            return Err(ErrorKind::WouldBlock.into());
        }
        self.send_records(tcp)?;
        Ok(taken)
    }

    /// Writes the session's records to `tcp` until it holds none (true) or TCP would
    /// block (false).
    fn send_records(&mut self, tcp: &mut TcpStream) -> std::io::Result<bool> {
        while self.session.wants_write() {
            match self.session.write_tls(tcp) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// How a listener's connections are secured: plain TCP, or TLS with an acceptor.
#[derive(Debug, Clone, Default)]
pub(crate) struct Security {
    #[cfg(feature = "tls")]
    pub(crate) acceptor: Option<crate::tls::TlsAcceptor>,
}

impl Security {
    /// TLS with `acceptor`.
    #[cfg(feature = "tls")]
    pub(crate) fn tls(acceptor: crate::tls::TlsAcceptor) -> Security {
        Security {
            acceptor: Some(acceptor),
        }
    }

    /// The transport of a connection accepted under this security.
    pub(crate) fn accepted(&self, tcp: TcpStream) -> Result<Transport, crate::error::Error> {
        #[cfg(feature = "tls")]
        if let Some(acceptor) = &self.acceptor {
            return Ok(Transport::tls(tcp, acceptor.session()?));
        }
        Ok(Transport::plain(tcp))
    }
}
