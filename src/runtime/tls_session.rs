//! [`TlsSession`]: a connection's TLS session (feature `tls`) on rustls' unbuffered API,
//! driven over a non-blocking socket so that an idle connection keeps no buffer at all.
//!
//! rustls' buffered `Connection` keeps a 4 KiB read buffer per session once it has read
//! (and queues of plaintext and records). Here the loop thread's scratch buffers do that
//! work: ciphertext is received into the thread's buffer and decrypted there, plaintext is
//! copied straight into the caller's read buffer, and records are encrypted into the
//! thread's buffer and sent from it. A connection keeps only what is in flight: the start
//! of a record that has not all arrived, records TCP would not take, plaintext its reader
//! had no room for, and what it wrote before the handshake finished. Each of those is an
//! empty `Vec` (no allocation) once it is through.

use std::cell::RefCell;
use std::io::{ErrorKind, IoSlice, Read, Write};

use mio::net::TcpStream;
use rustls::client::UnbufferedClientConnection;
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncryptError, InsufficientSizeError, UnbufferedStatus,
    WriteTraffic,
};

use crate::read_size::{MAX_READ, MIN_READ};

/// The most plaintext a TLS session takes in one write, and so the most encrypted output
/// it holds while TCP has no room (rustls' own default for its buffered API).
pub(crate) const TLS_BUFFER_LIMIT: usize = 64 * 1024;

/// The largest TLS record: 16 KiB of plaintext, 256 bytes of expansion, a 5-byte header.
const MAX_RECORD: usize = 16 * 1024 + 256 + 5;

/// What the loop thread lends every TLS session it drives, one at a time.
struct Scratch {
    /// Ciphertext received: a partial record kept from before, then what TCP gave.
    received: Vec<u8>,
    /// Plaintext gathered from a vectored write, encrypted as one.
    plaintext: Vec<u8>,
    /// Records encrypted, on their way to TCP.
    encrypted: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
        received: vec![0; MAX_READ + MAX_RECORD],
        plaintext: vec![0; TLS_BUFFER_LIMIT],
        encrypted: vec![0; TLS_BUFFER_LIMIT + MAX_RECORD],
    });
}

/// The rustls side of a session: a server's or a client's.
enum Session {
    Server(UnbufferedServerConnection),
    Client(UnbufferedClientConnection),
}

/// A TLS session and what it has in flight.
pub(crate) struct TlsSession {
    session: Session,
    /// The start of a record that has not all arrived, exactly as received (rustls may
    /// have joined handshake fragments in it).
    incoming: Vec<u8>,
    /// Records TCP has not taken yet.
    outgoing: Vec<u8>,
    /// Plaintext decrypted and not yet handed out, and how much of it was.
    plaintext: Vec<u8>,
    plaintext_taken: usize,
    /// Plaintext written before the handshake finished: encrypted when it does.
    early_writes: Vec<u8>,
    /// The handshake is done: application data may be sent.
    established: bool,
    /// The peer sent close_notify: nothing more will be read.
    peer_closed: bool,
}

impl std::fmt::Debug for TlsSession {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TlsSession")
            .field("server", &matches!(self.session, Session::Server(_)))
            .field("incoming", &self.incoming.len())
            .field("outgoing", &self.outgoing.len())
            .field("plaintext", &(self.plaintext.len() - self.plaintext_taken))
            .field("early_writes", &self.early_writes.len())
            .field("established", &self.established)
            .field("peer_closed", &self.peer_closed)
            .finish()
    }
}

/// Where decrypted application data goes: the caller's buffer, and what does not fit
/// there, the session's own.
struct PlaintextSink<'a> {
    buffer: &'a mut [u8],
    filled: usize,
    overflow: &'a mut Vec<u8>,
}

impl PlaintextSink<'_> {
    fn take(&mut self, payload: &[u8]) {
        let room = self.buffer.len() - self.filled;
        let (now, later) = payload.split_at(payload.len().min(room));
        self.buffer[self.filled..self.filled + now.len()].copy_from_slice(now);
        self.filled += now.len();
        self.overflow.extend_from_slice(later);
    }
}

/// Where records go: the end of a buffer, which grows when a record needs more room.
struct RecordSink<'a> {
    buffer: &'a mut Vec<u8>,
    used: usize,
}

impl RecordSink<'_> {
    /// Runs `write` on the free room until it is big enough for what it writes.
    fn write(
        &mut self,
        mut write: impl FnMut(&mut [u8]) -> Result<usize, Option<InsufficientSizeError>>,
    ) -> Result<(), rustls::Error> {
        loop {
            match write(&mut self.buffer[self.used..]) {
                Ok(written) => {
                    self.used += written;
                    return Ok(());
                }
                Err(Some(InsufficientSizeError { required_size })) => {
                    self.buffer.resize(self.used + required_size, 0);
                }
                Err(None) => return Err(rustls::Error::EncryptError),
            }
        }
    }
}

/// What the session is asked to do once it can send application data.
#[derive(Clone, Copy)]
enum OnceEstablished<'a> {
    /// Nothing beyond what it wrote before the handshake finished.
    Nothing,
    /// Encrypt this.
    Encrypt(&'a [u8]),
    /// Encrypt a close_notify.
    CloseNotify,
}

/// How far one round of the session's state machine went.
enum Progress {
    /// There is more to do: ask again.
    Again,
    /// It needs more records from the peer (or can send application data, and did what it
    /// was asked).
    Waiting,
}

/// Everything a round writes to, besides the session.
struct Sinks<'a, 'p, 'r> {
    plaintext: &'a mut PlaintextSink<'p>,
    records: &'a mut RecordSink<'r>,
    early_writes: &'a mut Vec<u8>,
    established: &'a mut bool,
    peer_closed: &'a mut bool,
    asked: OnceEstablished<'a>,
    /// The request in `asked` was carried out.
    done: bool,
    /// The session failed: only its alert goes out, no application data.
    failed: bool,
}

impl Sinks<'_, '_, '_> {
    /// Handles one state of the session.
    fn handle<Data>(
        &mut self,
        state: ConnectionState<'_, '_, Data>,
    ) -> Result<Progress, rustls::Error> {
        match state {
            ConnectionState::ReadTraffic(mut traffic) => {
                while let Some(record) = traffic.next_record() {
                    self.plaintext.take(record?.payload);
                }
                Ok(Progress::Again)
            }
            ConnectionState::EncodeTlsData(mut encode) => {
                self.records.write(|room| {
                    encode.encode(room).map_err(|error| match error {
                        EncodeError::InsufficientSize(size) => Some(size),
                        EncodeError::AlreadyEncoded => None,
                    })
                })?;
                Ok(Progress::Again)
            }
            // The records are in `records`, sent in order after this round.
            ConnectionState::TransmitTlsData(transmit) => {
                transmit.done();
                Ok(Progress::Again)
            }
            ConnectionState::WriteTraffic(_) if self.failed => Ok(Progress::Waiting),
            ConnectionState::WriteTraffic(mut traffic) => {
                *self.established = true;
                if !self.early_writes.is_empty() {
                    let early = std::mem::take(self.early_writes);
                    encrypt(&mut traffic, &early, self.records)?;
                }
                if !self.done {
                    self.done = true;
                    match self.asked {
                        OnceEstablished::Nothing => {}
                        OnceEstablished::Encrypt(plaintext) => {
                            encrypt(&mut traffic, plaintext, self.records)?;
                        }
                        OnceEstablished::CloseNotify => self
                            .records
                            .write(|room| traffic.queue_close_notify(room).map_err(insufficient))?,
                    }
                }
                Ok(Progress::Waiting)
            }
            ConnectionState::PeerClosed => {
                *self.peer_closed = true;
                Ok(Progress::Again)
            }
            ConnectionState::Closed => {
                *self.peer_closed = true;
                Ok(Progress::Waiting)
            }
            ConnectionState::BlockedHandshake => Ok(Progress::Waiting),
            // Early data is off in the crate's configurations; a state rustls adds later
            // is not one this driver knows how to serve.
            _ => Err(rustls::Error::General(
                "unexpected TLS session state".into(),
            )),
        }
    }
}

fn insufficient(error: EncryptError) -> Option<InsufficientSizeError> {
    match error {
        EncryptError::InsufficientSize(size) => Some(size),
        EncryptError::EncryptExhausted => None,
    }
}

/// Encrypts `plaintext` into `records`.
fn encrypt<Data>(
    traffic: &mut WriteTraffic<'_, Data>,
    plaintext: &[u8],
    records: &mut RecordSink<'_>,
) -> Result<(), rustls::Error> {
    records.write(|room| traffic.encrypt(plaintext, room).map_err(insufficient))
}

impl Session {
    /// rustls has records queued to give.
    fn wants_write(&self) -> bool {
        match self {
            Session::Server(session) => session.wants_write(),
            Session::Client(session) => session.wants_write(),
        }
    }

    /// One round: processes `incoming` until the session reaches a state, and handles it.
    /// Returns how many bytes of `incoming` are done with.
    fn round(
        &mut self,
        incoming: &mut [u8],
        sinks: &mut Sinks<'_, '_, '_>,
    ) -> (usize, Result<Progress, rustls::Error>) {
        fn handled<Data>(
            status: UnbufferedStatus<'_, '_, Data>,
            sinks: &mut Sinks<'_, '_, '_>,
        ) -> (usize, Result<Progress, rustls::Error>) {
            let UnbufferedStatus { discard, state } = status;
            (discard, state.and_then(|state| sinks.handle(state)))
        }
        match self {
            Session::Server(session) => handled(session.process_tls_records(incoming), sinks),
            Session::Client(session) => handled(session.process_tls_records(incoming), sinks),
        }
    }
}

impl TlsSession {
    pub(crate) fn server(session: UnbufferedServerConnection) -> TlsSession {
        TlsSession::new(Session::Server(session))
    }

    pub(crate) fn client(session: UnbufferedClientConnection) -> TlsSession {
        TlsSession::new(Session::Client(session))
    }

    fn new(session: Session) -> TlsSession {
        TlsSession {
            session,
            incoming: Vec::new(),
            outgoing: Vec::new(),
            plaintext: Vec::new(),
            plaintext_taken: 0,
            early_writes: Vec::new(),
            established: false,
            peer_closed: false,
        }
    }

    /// Runs the session over `incoming` until it waits for the peer: plaintext goes to
    /// `plaintext`, records to `records`, and `asked` is done once application data may
    /// be sent. Returns how much of `incoming` is done with, and whether `asked` was done.
    fn run(
        &mut self,
        incoming: &mut [u8],
        plaintext: &mut PlaintextSink<'_>,
        records: &mut RecordSink<'_>,
        asked: OnceEstablished<'_>,
    ) -> (usize, Result<bool, rustls::Error>) {
        let mut sinks = Sinks {
            plaintext,
            records,
            early_writes: &mut self.early_writes,
            established: &mut self.established,
            peer_closed: &mut self.peer_closed,
            asked,
            done: false,
            failed: false,
        };
        let mut consumed = 0;
        loop {
            let (discard, progress) = self.session.round(&mut incoming[consumed..], &mut sinks);
            consumed += discard;
            match progress {
                Ok(Progress::Again) => {}
                Ok(Progress::Waiting) => return (consumed, Ok(sinks.done)),
                Err(error) => {
                    // rustls queued the alert that tells the peer why: encode it (the
                    // rounds after an error give the records, then the same error).
                    sinks.failed = true;
                    // A round gives queued records before it processes any more, so
                    // rounds while some are queued never meet the error again. The same
                    // bytes go back in: rustls may still refer to them.
                    while self.session.wants_write() {
                        let (discard, progress) =
                            self.session.round(&mut incoming[consumed..], &mut sinks);
                        consumed += discard;
                        if progress.is_err() {
                            break;
                        }
                    }
                    return (consumed, Err(error));
                }
            }
        }
    }

    /// Hands out decrypted bytes, reading and processing records from `tcp` until
    /// `buffer` is full or TCP has nothing more: a short read means TCP said `WouldBlock`
    /// (or ended), as for a plain socket, which the edge-triggered loop relies on. Only
    /// ever copies into `buffer`.
    pub(crate) fn read(
        &mut self,
        tcp: &mut TcpStream,
        buffer: &mut [u8],
    ) -> std::io::Result<usize> {
        let mut filled = self.hand_out(buffer);
        SCRATCH.with(|scratch| {
            let scratch = &mut *scratch.borrow_mut();
            loop {
                if filled == buffer.len() || self.peer_closed {
                    return Ok(filled);
                }
                let kept = self.incoming.len();
                if scratch.received.len() < kept + MIN_READ {
                    // A handshake message joined from many records (rustls bounds it).
                    scratch.received.resize(kept + MAX_READ, 0);
                }
                // Ciphertext is longer than its plaintext: ask for the room at least, and
                // keep what does not fit for the next read.
                let want = (buffer.len() - filled)
                    .max(MIN_READ)
                    .min(scratch.received.len() - kept);
                let received = match tcp.read(&mut scratch.received[kept..kept + want]) {
                    // The end of the stream: TCP's FIN without a close_notify (the
                    // WebSocket's own close handshake says whether it ended cleanly).
                    Ok(0) => return Ok(filled),
                    Ok(n) => n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock && filled > 0 => return Ok(filled),
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                scratch.received[..kept].copy_from_slice(&self.incoming);
                let incoming = &mut scratch.received[..kept + received];
                let mut overflow = std::mem::take(&mut self.plaintext);
                let mut plaintext = PlaintextSink {
                    buffer: &mut buffer[filled..],
                    filled: 0,
                    overflow: &mut overflow,
                };
                let mut outgoing = std::mem::take(&mut self.outgoing);
                let used = outgoing.len();
                let mut records = RecordSink {
                    buffer: &mut outgoing,
                    used,
                };
                let (consumed, result) = self.run(
                    incoming,
                    &mut plaintext,
                    &mut records,
                    OnceEstablished::Nothing,
                );
                filled += plaintext.filled;
                let used = records.used;
                outgoing.truncate(used);
                self.outgoing = outgoing;
                self.plaintext = overflow;
                keep(&mut self.incoming, &incoming[consumed..]);
                // Handshake flights and the like go out now; what TCP will not take yet
                // goes when it is writable (the loop flushes every writable connection).
                let sent = self.send_records(tcp);
                result.map_err(failed)?;
                sent?;
            }
        })
    }

    /// Copies plaintext kept from before into `buffer`.
    fn hand_out(&mut self, buffer: &mut [u8]) -> usize {
        let kept = &self.plaintext[self.plaintext_taken..];
        let n = kept.len().min(buffer.len());
        buffer[..n].copy_from_slice(&kept[..n]);
        self.plaintext_taken += n;
        if self.plaintext_taken == self.plaintext.len() {
            self.plaintext = Vec::new();
            self.plaintext_taken = 0;
        }
        n
    }

    /// Encrypts what of `slices` the session takes (up to [`TLS_BUFFER_LIMIT`]), after it
    /// has sent what it held. Before the handshake is done, it keeps the plaintext and
    /// encrypts it when it is.
    pub(crate) fn write(
        &mut self,
        tcp: &mut TcpStream,
        slices: &[IoSlice<'_>],
    ) -> std::io::Result<usize> {
        if !self.send_records(tcp)? {
            return Err(ErrorKind::WouldBlock.into());
        }
        if slices.iter().all(|slice| slice.is_empty()) {
            return Ok(0);
        }
        if !self.established {
            // A client's first round sends its ClientHello.
            self.send_own(tcp, OnceEstablished::Nothing)?;
            if !self.established {
                let room = TLS_BUFFER_LIMIT - self.early_writes.len();
                if room == 0 {
                    return Err(ErrorKind::WouldBlock.into());
                }
                return Ok(gather(slices, room, |part| {
                    self.early_writes.extend_from_slice(part)
                }));
            }
        }
        SCRATCH.with(|scratch| {
            let scratch = &mut *scratch.borrow_mut();
            let Scratch {
                plaintext,
                encrypted,
                ..
            } = scratch;
            let taken = match slices.iter().find(|slice| !slice.is_empty()) {
                Some(only) if only.len() >= slices.iter().map(|s| s.len()).sum::<usize>() => {
                    let n = only.len().min(TLS_BUFFER_LIMIT);
                    self.encrypt_and_send(tcp, &only[..n], encrypted)?;
                    n
                }
                _ => {
                    let mut gathered = 0;
                    let n = gather(slices, TLS_BUFFER_LIMIT, |part| {
                        plaintext[gathered..gathered + part.len()].copy_from_slice(part);
                        gathered += part.len();
                    });
                    self.encrypt_and_send(tcp, &plaintext[..n], encrypted)?;
                    n
                }
            };
            Ok(taken)
        })
    }

    /// Encrypts `plaintext` into `encrypted` and sends it; what TCP does not take, the
    /// session keeps.
    fn encrypt_and_send(
        &mut self,
        tcp: &mut TcpStream,
        plaintext: &[u8],
        encrypted: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        let mut records = RecordSink {
            buffer: encrypted,
            used: 0,
        };
        if !self.run_on_kept(&mut records, OnceEstablished::Encrypt(plaintext))? {
            return Err(std::io::Error::new(
                ErrorKind::InvalidData,
                "the TLS session can no longer send",
            ));
        }
        let used = records.used;
        let sent = send(tcp, &records.buffer[..used])?;
        self.outgoing.extend_from_slice(&records.buffer[sent..used]);
        Ok(())
    }

    /// Runs the session with nothing new from the peer (its first flight, a close_notify)
    /// and sends what it gives.
    fn send_own(&mut self, tcp: &mut TcpStream, asked: OnceEstablished<'_>) -> std::io::Result<()> {
        let mut outgoing = std::mem::take(&mut self.outgoing);
        let used = outgoing.len();
        let mut records = RecordSink {
            buffer: &mut outgoing,
            used,
        };
        let result = self.run_on_kept(&mut records, asked);
        let used = records.used;
        outgoing.truncate(used);
        self.outgoing = outgoing;
        result?;
        self.send_records(tcp).map(drop)
    }

    /// Runs the session over what it kept of the peer's records (nothing new arrived),
    /// records going to `records`; whether `asked` was done.
    fn run_on_kept(
        &mut self,
        records: &mut RecordSink<'_>,
        asked: OnceEstablished<'_>,
    ) -> std::io::Result<bool> {
        let mut overflow = std::mem::take(&mut self.plaintext);
        let mut sink = PlaintextSink {
            buffer: &mut [],
            filled: 0,
            overflow: &mut overflow,
        };
        let mut incoming = std::mem::take(&mut self.incoming);
        let (consumed, result) = self.run(&mut incoming, &mut sink, records, asked);
        self.plaintext = overflow;
        incoming.drain(..consumed);
        self.incoming = incoming;
        result.map_err(failed)
    }

    /// Queues a close_notify (once the handshake is done) and sends what it can.
    pub(crate) fn close_notify(&mut self, tcp: &mut TcpStream) {
        let _ = self.send_own(tcp, OnceEstablished::CloseNotify);
    }

    /// Writes the records the session holds to `tcp` until it holds none (true) or TCP
    /// would block (false).
    pub(crate) fn send_records(&mut self, tcp: &mut TcpStream) -> std::io::Result<bool> {
        if self.outgoing.is_empty() {
            return Ok(true);
        }
        let sent = send(tcp, &self.outgoing)?;
        if sent == self.outgoing.len() {
            self.outgoing = Vec::new();
            return Ok(true);
        }
        self.outgoing.drain(..sent);
        Ok(false)
    }
}

/// A session that failed, as the I/O error the runtime sees (the rustls error inside, so
/// that a refused certificate can be told apart).
fn failed(error: rustls::Error) -> std::io::Error {
    std::io::Error::new(ErrorKind::InvalidData, error)
}

/// Writes `records` to `tcp` until all are sent or TCP would block; returns how many
/// bytes went.
fn send(tcp: &mut TcpStream, records: &[u8]) -> std::io::Result<usize> {
    let mut sent = 0;
    while sent < records.len() {
        match tcp.write(&records[sent..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// Hands `take` the first `limit` bytes of `slices`, part by part; returns how many.
fn gather(slices: &[IoSlice<'_>], limit: usize, mut take: impl FnMut(&[u8])) -> usize {
    let mut taken = 0;
    for slice in slices {
        let part = &slice[..slice.len().min(limit - taken)];
        take(part);
        taken += part.len();
        if taken == limit {
            break;
        }
    }
    taken
}

/// Keeps `rest` (the start of a record) in `incoming`, or frees it when there is none.
fn keep(incoming: &mut Vec<u8>, rest: &[u8]) {
    if rest.is_empty() {
        *incoming = Vec::new();
    } else {
        incoming.clear();
        incoming.extend_from_slice(rest);
    }
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream as StdTcpStream};
    use std::sync::Arc;

    use super::*;
    use crate::tls::{TlsAcceptor, TlsConnector};

    /// A self-signed identity for `localhost`: the acceptor and a connector trusting it.
    fn identity() -> (TlsAcceptor, TlsConnector) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let certificate = params.self_signed(&key).unwrap();
        let pem = certificate.pem();
        let acceptor =
            TlsAcceptor::from_pem(pem.as_bytes(), key.serialize_pem().as_bytes()).unwrap();
        (acceptor, TlsConnector::with_ca_pem(pem.as_bytes()).unwrap())
    }

    /// A connected pair: our non-blocking end and a blocking std end.
    fn sockets() -> (TcpStream, StdTcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = StdTcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        peer.set_nodelay(true).unwrap();
        (TcpStream::from_std(ours), peer)
    }

    /// Waits until `bytes` bytes are readable on `tcp`.
    fn wait_for(tcp: &TcpStream, bytes: usize) {
        let mut peek = vec![0u8; bytes];
        while tcp.peek(&mut peek).map_or(true, |n| n < bytes) {
            std::thread::yield_now();
        }
    }

    /// Reads what `session` gives from `tcp` into `out` until it would block.
    fn read_all(session: &mut TlsSession, tcp: &mut TcpStream, room: usize, out: &mut Vec<u8>) {
        let mut buffer = vec![0u8; room];
        loop {
            match session.read(tcp, &mut buffer) {
                Ok(0) => return,
                Ok(n) => out.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// Everything the rustls client `client` wants to send.
    fn client_records(client: &mut rustls::ClientConnection) -> Vec<u8> {
        let mut wire = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut wire).unwrap();
        }
        wire
    }

    /// Hands the next bytes that arrive on `peer` to `client`.
    fn client_receive(client: &mut rustls::ClientConnection, peer: &mut StdTcpStream) {
        let mut chunk = [0u8; 4096];
        let n = peer.read(&mut chunk).unwrap();
        let mut rest = &chunk[..n];
        while !rest.is_empty() {
            client.read_tls(&mut rest).unwrap();
            client.process_new_packets().unwrap();
        }
    }

    /// Our server session and a rustls client, connected over real sockets.
    struct Pair {
        tcp: TcpStream,
        peer: StdTcpStream,
        server: TlsSession,
        client: rustls::ClientConnection,
    }

    impl Pair {
        fn new() -> Pair {
            let (acceptor, connector) = identity();
            let (tcp, peer) = sockets();
            let name = "localhost".try_into().unwrap();
            Pair {
                tcp,
                peer,
                server: TlsSession::server(acceptor.unbuffered_session().unwrap()),
                client: rustls::ClientConnection::new(Arc::clone(connector.config()), name)
                    .unwrap(),
            }
        }

        /// The client sends `message` (after the handshake, which it does first), each of
        /// its flights in pieces of `piece` bytes, the server reading each piece into a
        /// buffer of `room` bytes; returns the plaintext the server read.
        fn send_message(&mut self, message: &[u8], piece: usize, room: usize) -> Vec<u8> {
            self.client.writer().write_all(message).unwrap();
            let mut received = Vec::new();
            loop {
                let handshaking = self.client.is_handshaking();
                for piece in client_records(&mut self.client).chunks(piece) {
                    self.peer.write_all(piece).unwrap();
                    wait_for(&self.tcp, piece.len());
                    read_all(&mut self.server, &mut self.tcp, room, &mut received);
                }
                if !handshaking {
                    return received;
                }
                if self.client.is_handshaking() {
                    client_receive(&mut self.client, &mut self.peer);
                }
            }
        }
    }

    #[test]
    fn records_split_at_every_byte_are_put_together() {
        let mut pair = Pair::new();
        // The handshake and then a message, each of the client's flights one byte at a
        // time: every record is cut at every position on its way in.
        let received = pair.send_message(b"a WebSocket frame, split", 1, 4096);
        assert_eq!(received, b"a WebSocket frame, split");
        let server = &mut pair.server;
        assert!(server.incoming.is_empty() && server.incoming.capacity() == 0);
        // And back: what the server writes, the client reads.
        let reply = [IoSlice::new(b"and its "), IoSlice::new(b"echo")];
        assert_eq!(server.write(&mut pair.tcp, &reply).unwrap(), 12);
        client_receive(&mut pair.client, &mut pair.peer);
        let mut echo = [0u8; 32];
        assert_eq!(pair.client.reader().read(&mut echo).unwrap(), 12);
        assert_eq!(&echo[..12], b"and its echo");
        // Nothing stays allocated in the session once the traffic is through.
        let server = &pair.server;
        assert_eq!(server.outgoing.capacity() + server.plaintext.capacity(), 0);
        assert_eq!(server.early_writes.capacity(), 0);
    }

    #[test]
    fn plaintext_a_small_reader_has_no_room_for_waits_for_its_next_read() {
        let mut pair = Pair::new();
        let message: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        // Reads of 7 bytes: each record's plaintext is handed out 7 bytes at a time.
        let received = pair.send_message(&message, usize::MAX, 7);
        assert_eq!(received, message);
        assert_eq!(pair.server.plaintext.capacity(), 0);
    }

    #[test]
    fn a_client_writes_before_its_handshake_and_the_bytes_go_once_it_is_done() {
        let (acceptor, connector) = identity();
        let (mut tcp, peer) = sockets();
        let mut client = TlsSession::client(connector.unbuffered_session("localhost").unwrap());
        let mut server = rustls::ServerConnection::new(Arc::clone(acceptor.config())).unwrap();
        let mut peer = peer;
        // The first write sends the ClientHello and keeps the request for later.
        assert_eq!(
            client
                .write(&mut tcp, &[IoSlice::new(b"GET / HTTP/1.1")])
                .unwrap(),
            14
        );
        assert!(!client.established);
        let mut request = Vec::new();
        while request.is_empty() {
            let mut chunk = [0u8; 8192];
            let n = peer.read(&mut chunk).unwrap();
            let mut rest = &chunk[..n];
            while !rest.is_empty() {
                server.read_tls(&mut rest).unwrap();
                let state = server.process_new_packets().unwrap();
                let mut plaintext = vec![0; state.plaintext_bytes_to_read()];
                server.reader().read_exact(&mut plaintext).unwrap();
                request.extend(plaintext);
            }
            let mut wire = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut wire).unwrap();
            }
            if !wire.is_empty() {
                peer.write_all(&wire).unwrap();
                wait_for(&tcp, wire.len());
                let mut nothing = Vec::new();
                read_all(&mut client, &mut tcp, 4096, &mut nothing);
                assert!(nothing.is_empty());
            }
        }
        assert_eq!(request, b"GET / HTTP/1.1");
        assert!(client.established);
        assert_eq!(client.early_writes.capacity(), 0);
    }
}
