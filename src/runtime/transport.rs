//! [`Transport`]: a connection's socket, plain TCP or TLS over it (feature `tls`), read and
//! written the same way by the rest of the runtime: non-blocking, `WouldBlock` when the
//! socket has nothing or no room, `Ok(0)` at the end of the stream.
//!
//! TLS runs inside the loop ([`TlsSession`]): a read takes what TCP has, processes its
//! records (the handshake included) and writes at once what the session wants to send
//! (handshake flights, alerts, key updates); a write encrypts and sends. The session holds
//! at most one write's worth of records that TCP would not take; a write that finds it
//! still holding some says `WouldBlock`, so the connection's own write queue, with its
//! bound and backpressure, stays where output waits.

use std::io::{IoSlice, Read, Write};
use std::net::Shutdown;

use mio::net::TcpStream;

use super::io::WriteOnlyRead;
#[cfg(feature = "tls")]
use super::tls_session::TlsSession;

/// A connection's socket and, over TLS, its session.
#[derive(Debug)]
pub(crate) struct Transport {
    tcp: TcpStream,
    #[cfg(feature = "tls")]
    tls: Option<Box<TlsSession>>,
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
    pub(crate) fn tls(tcp: TcpStream, session: TlsSession) -> Transport {
        Transport {
            tcp,
            tls: Some(Box::new(session)),
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
            tls.close_notify(&mut self.tcp);
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
// into the buffer. Over TLS, `TlsSession::read` only copies decrypted bytes into it (the
// session decrypts in the thread's own, initialized scratch buffer).
#[allow(unsafe_code)]
unsafe impl WriteOnlyRead for Transport {}

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
            return Ok(Transport::tls(
                tcp,
                TlsSession::server(acceptor.unbuffered_session()?),
            ));
        }
        Ok(Transport::plain(tcp))
    }
}
