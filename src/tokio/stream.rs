//! [`WebSocketStream`]: the core's [`Connection`] over an `AsyncRead + AsyncWrite`, as a
//! `Stream` of messages and a `Sink` of messages. [`Inner`] does the work; the stream, and
//! each half of a split one, only lend it a task context.

use std::io::{ErrorKind, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::time::Sleep;
use bytes::BytesMut;
use futures_core::Stream;
use futures_sink::Sink;

use crate::config::Config;
use crate::error::Error;
use crate::protocol::{CloseCode, Connection, Event, Message, Role, Sendable, State};
use crate::read_size::{MIN_READ, adapt_read_size};

/// How many slices one vectored write takes at most: most writes are one slice (small
/// frames are gathered in the connection's own buffer); a longer queue takes more writes.
const MAX_SLICES: usize = 8;

/// The time on tokio's clock (which tests may pause and move), as the core takes it.
pub(crate) fn now() -> Instant {
    ::tokio::time::Instant::now().into_std()
}

/// Makes room for a read of `want` bytes at the end of `buffer`, unless half of that is
/// free already (the read then takes what is free: reserving again after every small
/// message would cost more than the read it saves); returns the room the read may fill.
#[cfg(not(rfc6455_zeroed_reads))]
fn read_room(buffer: &mut BytesMut, want: usize) -> usize {
    if buffer.capacity() - buffer.len() < want / 2 {
        buffer.reserve(want);
    }
    want.min(buffer.capacity() - buffer.len())
}

/// Reads once into the first `room` bytes of the spare capacity of `buffer` (which
/// [`read_room`] made), without zeroing them first; returns how many bytes came.
///
/// Reading in place without zeroing gave the tokio echo server 12% more messages per
/// CPU-second at 10 × 64 KiB and 11% at 1 MiB, nothing at 16 B, than the safe read into
/// zeroed buffers (`scripts/bench-zeroing.sh --tokio`; figures in docs/benchmarks.md).
#[cfg(not(rfc6455_zeroed_reads))]
#[allow(unsafe_code)]
fn poll_read_spare<S: AsyncRead + Unpin>(
    stream: &mut S,
    cx: &mut Context<'_>,
    buffer: &mut BytesMut,
    room: usize,
) -> Poll<std::io::Result<usize>> {
    let spare = buffer.spare_capacity_mut();
    let room = room.min(spare.len());
    let mut read = ReadBuf::uninit(spare.get_mut(..room).unwrap_or_default());
    ready!(Pin::new(stream).poll_read(cx, &mut read))?;
    let filled = read.filled().len();
    // SAFETY: `ReadBuf` keeps its filled part initialized: safe code can only fill it by
    // writing bytes into it (`put_slice`, `initialize_unfilled`), and the reader reports
    // those. The filled part starts at the start of the spare capacity, right after the
    // buffer's length, and is at most `room` long, so the new length is within capacity
    // and covers only bytes that were written.
    unsafe { buffer.set_len(buffer.len() + filled) };
    Poll::Ready(Ok(filled))
}

/// The connection, its transport and what the driver keeps between polls.
pub(crate) struct Inner<S> {
    stream: S,
    connection: Connection,
    /// The zeroing read's buffer (see `poll_read_in`): read into, then split off.
    #[cfg(rfc6455_zeroed_reads)]
    read_buffer: BytesMut,
    /// The size of the next read buffer.
    read_size: usize,
    /// The core's next deadline, on tokio's clock; made when the first one is due.
    timer: Option<Pin<Box<Sleep>>>,
    /// The waker the timer was last polled with: while it is the task's and the timer is
    /// not due, polling it again would only register the same waker again.
    timer_waker: Option<std::task::Waker>,
    max_write_buffer: usize,
    /// How long a client waits for the server to close the transport after the close
    /// handshake.
    close_timeout: Duration,
    /// When a client stops waiting for that.
    linger_until: Option<Instant>,
    /// The peer closed its side of the transport.
    eof: bool,
    /// The stream has ended (`None` was returned, or an error that ends it).
    finished: bool,
    /// Our side of the transport was shut down.
    shut_down: bool,
    /// Nothing was written since the transport was last flushed.
    flushed: bool,
    /// The error that failed the connection, returned once its close frame is written.
    failure: Option<Error>,
    /// Bytes came or time was handed in since the connection last had no event to give.
    news: bool,
    /// The connection's next deadline as last asked (`None`: ask again). It is asked again
    /// after the timers ran and after the caller changed the connection; the time a read
    /// stamps only moves it later, and a timer set too early fires, finds nothing due and
    /// is set again.
    deadline: Option<Option<Instant>>,
}

impl<S> std::fmt::Debug for Inner<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("connection", &self.connection)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Inner<S> {
    pub(crate) fn new(stream: S, mut connection: Connection, config: &Config) -> Self {
        // The timers start now.
        connection.handle_timeout(now());
        Inner {
            stream,
            connection,
            #[cfg(rfc6455_zeroed_reads)]
            read_buffer: BytesMut::new(),
            read_size: MIN_READ,
            timer: None,
            timer_waker: None,
            max_write_buffer: config.max_write_buffer,
            close_timeout: config.close_timeout,
            linger_until: None,
            eof: false,
            finished: false,
            shut_down: false,
            flushed: true,
            failure: None,
            // Bytes may have come with the handshake.
            news: true,
            deadline: None,
        }
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The connection, for changes the driver does not see (a ping, a close): its events
    /// and deadline are looked at again.
    pub(crate) fn connection_mut(&mut self) -> &mut Connection {
        self.news = true;
        self.deadline = None;
        &mut self.connection
    }

    /// Queues a message; sends change neither events nor deadlines.
    pub(crate) fn send(&mut self, message: impl Sendable) -> Result<(), Error> {
        self.connection.send(message)
    }

    /// Queues our close frame; its timer starts now.
    pub(crate) fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if self.connection.state() == State::Open {
            let connection = self.connection_mut();
            connection.close(code, reason)?;
            connection.handle_timeout(now());
        }
        Ok(())
    }

    pub(crate) fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The next message; control frames are answered on the way, timers run while it waits.
    pub(crate) fn poll_next_message(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        loop {
            if self.finished {
                return Poll::Ready(None);
            }
            if self.failure.is_some() {
                // The close frame that says why goes out first (a transport that fails
                // meanwhile changes nothing: the connection has failed already).
                let _ = ready!(self.poll_finish(cx));
                self.finished = true;
                return Poll::Ready(self.failure.take().map(Err));
            }
            if self.news {
                match self.connection.poll_event() {
                    // Handed out at once; what it makes the caller queue is written when no
                    // further message is ready, so pipelined messages are answered together.
                    Ok(Some(Event::Message(message))) => return Poll::Ready(Some(Ok(message))),
                    // The pong is queued: it goes out with the rest.
                    Ok(Some(Event::Ping(_) | Event::Pong(_))) => continue,
                    Ok(Some(Event::Close(_))) => {}
                    Ok(None) => self.news = false,
                    Err(error) => {
                        self.failure = Some(error);
                        continue;
                    }
                }
            }
            // Nothing more to hand out: what is queued goes out before waiting.
            if let Poll::Ready(Err(error)) = self.poll_write_out(cx) {
                self.finished = true;
                return Poll::Ready(Some(Err(error.into())));
            }
            if self.connection.is_closed() {
                // The close handshake is over: the last bytes go out, a client waits for
                // the server to close the transport, then the end.
                ready!(self.poll_finish(cx))?;
                ready!(self.poll_linger(cx));
                self.finished = true;
                return Poll::Ready(None);
            }
            if self.eof {
                self.finished = true;
                let error = std::io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "the peer closed the connection without a close frame",
                );
                return Poll::Ready(Some(Err(error.into())));
            }
            match self.poll_read_in(cx) {
                Poll::Ready(Ok(0)) => self.eof = true,
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(error)) => {
                    self.finished = true;
                    return Poll::Ready(Some(Err(error.into())));
                }
                // Nothing to read: the timers run while the task waits (a read stamps the
                // time itself, so they need no look while bytes keep coming).
                Poll::Pending => {
                    ready!(self.poll_timer(cx));
                    self.connection.handle_timeout(now());
                    self.deadline = None;
                    self.news = true;
                }
            }
        }
    }

    /// Reads once, straight into the connection's input (after the bytes of a frame in
    /// progress, with room for the rest of it, up to 256 KiB), without zeroing the room
    /// first; what came goes to the connection without a copy.
    #[cfg(not(rfc6455_zeroed_reads))]
    fn poll_read_in(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        let missing = self.connection.frame_bytes_missing();
        let want = if missing > 0 {
            missing.clamp(MIN_READ, crate::read_size::MAX_READ)
        } else {
            self.read_size
        };
        let input = self.connection.input_mut();
        let room = read_room(input, want);
        let read = poll_read_spare(&mut self.stream, cx, input, room);
        if let Poll::Ready(Ok(n)) = read
            && n > 0
        {
            if missing == 0 {
                self.read_size = adapt_read_size(room, n);
            }
            self.connection.received(n);
            self.connection.handle_timeout(now());
            self.news = true;
        }
        read
    }

    /// The same read in safe code: into a buffer zeroed when it is taken, split off and
    /// handed to the connection. Only built for `scripts/bench-zeroing.sh --tokio`, which
    /// measures what the unsafe read saves.
    #[cfg(rfc6455_zeroed_reads)]
    fn poll_read_in(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        if self.read_buffer.len() < self.read_size / 4 {
            self.read_buffer = BytesMut::zeroed(self.read_size);
        }
        let room = self.read_buffer.len();
        let mut buf = ReadBuf::new(&mut self.read_buffer);
        ready!(Pin::new(&mut self.stream).poll_read(cx, &mut buf))?;
        let n = buf.filled().len();
        self.read_size = adapt_read_size(room, n);
        if n > 0 {
            let chunk = self.read_buffer.split_to(n);
            self.connection.receive_bytes(chunk);
            self.connection.handle_timeout(now());
            self.news = true;
        }
        Poll::Ready(Ok(n))
    }

    /// After a clean close, a client reads (and drops) what comes until the server closes
    /// the transport, for at most the close timeout (RFC 6455 section 7.1.1).
    fn poll_linger(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let clean_client =
            self.connection.role() == Role::Client && self.connection.state() == State::Closed;
        if !clean_client {
            return Poll::Ready(());
        }
        let until = *self
            .linger_until
            .get_or_insert_with(|| now() + self.close_timeout);
        while !self.eof {
            match self.poll_read_in(cx) {
                Poll::Ready(Ok(0) | Err(_)) => self.eof = true,
                Poll::Ready(Ok(_)) => {}
                Poll::Pending => return self.poll_sleep_until(cx, until),
            }
        }
        Poll::Ready(())
    }

    /// Sleeps until the core's next deadline: ready when it has passed.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = *self
            .deadline
            .get_or_insert_with(|| self.connection.poll_timeout());
        match deadline {
            Some(deadline) => self.poll_sleep_until(cx, deadline),
            None => Poll::Pending,
        }
    }

    /// Sleeps until `deadline`: ready when it has passed.
    fn poll_sleep_until(&mut self, cx: &mut Context<'_>, deadline: Instant) -> Poll<()> {
        let deadline = ::tokio::time::Instant::from_std(deadline);
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(::tokio::time::sleep_until(deadline)));
        // A deadline that moved later (bytes came, so the keep-alive is due later) leaves
        // the timer as it is: it fires early, the connection finds nothing due, and the
        // timer is set again then. One reset per timeout period, not one per read.
        let reset = deadline < timer.deadline() || timer.is_elapsed();
        let registered = self
            .timer_waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()));
        if !reset && registered {
            // Armed for an earlier or equal time, with this task's waker: it wakes us.
            return Poll::Pending;
        }
        if reset {
            timer.as_mut().reset(deadline);
        }
        if !registered {
            self.timer_waker = Some(cx.waker().clone());
        }
        timer.as_mut().poll(cx)
    }

    /// Writes the pending output until it is written or the transport would block.
    pub(crate) fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.connection.buffered_amount() == 0 && self.flushed {
            return Poll::Ready(Ok(()));
        }
        while self.connection.buffered_amount() > 0 {
            self.flushed = false;
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let count = self.connection.output_slices(&mut slices);
            let slices = slices.get(..count).unwrap_or_default();
            let stream = Pin::new(&mut self.stream);
            // One slice (the common case): a plain write is cheaper than a vectored one.
            let written = match slices {
                [only] => ready!(stream.poll_write(cx, only))?,
                _ => ready!(stream.poll_write_vectored(cx, slices))?,
            };
            if written == 0 {
                return Poll::Ready(Err(ErrorKind::WriteZero.into()));
            }
            self.connection.advance_output(written);
        }
        ready!(Pin::new(&mut self.stream).poll_flush(cx))?;
        self.flushed = true;
        Poll::Ready(Ok(()))
    }

    /// Writes the rest and shuts our side down: a server (or a side that failed the
    /// connection) closes the transport first; a client waits for the server to.
    fn poll_finish(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(self.poll_write_out(cx))?;
        let shut = self.connection.role() == Role::Server
            || self.connection.state() == State::Failed
            || self.eof;
        if shut && !self.shut_down {
            ready!(Pin::new(&mut self.stream).poll_shutdown(cx))?;
            self.shut_down = true;
        }
        Poll::Ready(Ok(()))
    }

    /// Ready to take a message: below `max_write_buffer` (writing what it can first).
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.connection.buffered_amount() < self.max_write_buffer {
            return Poll::Ready(Ok(()));
        }
        ready!(self.poll_write_out(cx))?;
        Poll::Ready(Ok(()))
    }

    pub(crate) fn start_send(&mut self, message: Message) -> Result<(), Error> {
        self.send(message)
    }

    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(self.poll_write_out(cx))?;
        Poll::Ready(Ok(()))
    }

    /// Starts the close handshake if it was not, then writes the close frame and shuts
    /// down as [`poll_finish`](Self::poll_finish) says. The peer's close frame is read by
    /// the stream.
    pub(crate) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.close(CloseCode::NORMAL, "")?;
        ready!(self.poll_write_out(cx))?;
        if self.connection.is_closed() {
            return self.poll_finish(cx);
        }
        Poll::Ready(Ok(()))
    }
}

/// A WebSocket over a tokio transport: a [`Stream`] of the messages that arrive and a
/// [`Sink`] of the messages to send.
///
/// Pings are answered and the close handshake is completed on the way; the keep-alive
/// ping, the pong timeout and the close timeout of [`Config`] run on tokio's clock (so the
/// runtime needs its time driver: `enable_time` or `enable_all`). The stream ends after the
/// close handshake, and with an error when the peer breaks a rule (its close frame already
/// written), a timer runs out, or the transport fails. `poll_ready` waits while
/// [`max_write_buffer`](Config::max_write_buffer) bytes are queued.
///
/// ```no_run
/// use tokio::net::TcpListener;
///
/// # async fn serve() -> Result<(), rfc6455::Error> {
/// let listener = TcpListener::bind("127.0.0.1:9001").await?;
/// let (tcp, _) = listener.accept().await?;
/// let mut socket = rfc6455::tokio::accept(tcp).await?;
/// while let Some(message) = socket.recv().await {
///     socket.send(message?).await?; // echo
/// }
/// # Ok(())
/// # }
/// ```
pub struct WebSocketStream<S> {
    inner: Inner<S>,
}

impl<S> std::fmt::Debug for WebSocketStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// Drives `connection`, whose opening handshake is done, over `stream`: for an upgrade
    /// that hyper, axum or another HTTP server accepted (see `examples/axum_echo.rs`), or a
    /// handshake made with [`handshake`](crate::handshake) by hand. Bytes that followed the
    /// head must have been given to the connection already.
    pub fn from_connection(stream: S, connection: Connection, config: &Config) -> Self {
        WebSocketStream {
            inner: Inner::new(stream, connection, config),
        }
    }

    /// The protocol state machine (its state, whether it is compressed...).
    pub fn connection(&self) -> &Connection {
        self.inner.connection()
    }

    /// The protocol state machine, to queue frames the `Sink` does not cover (a ping, a
    /// fragment, a close with a code); they go out with the next flush.
    pub fn connection_mut(&mut self) -> &mut Connection {
        self.inner.connection_mut()
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        self.inner.get_ref()
    }

    /// Receives the next message: `None` once the connection is closed.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        std::future::poll_fn(|cx| self.inner.poll_next_message(cx)).await
    }

    /// Sends a message (text from `&str` or `String`, binary from `&[u8]`, `Vec<u8>` or
    /// `Bytes`, or a [`Message`]: see [`Sendable`]), waiting while the write queue is full
    /// and until it is written.
    pub async fn send(&mut self, message: impl Sendable) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.inner.poll_ready(cx)).await?;
        self.inner.send(message)?;
        std::future::poll_fn(|cx| self.inner.poll_flush(cx)).await
    }

    /// Queues a message without writing it (waiting only while the write queue is full):
    /// the next [`recv`](Self::recv), [`send`](Self::send) or flush writes it, with
    /// everything else queued, in one write. An echo that feeds what it receives answers a
    /// read that brought many messages with one write.
    pub async fn feed(&mut self, message: impl Sendable) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.inner.poll_ready(cx)).await?;
        self.inner.send(message)
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.inner.poll_flush(cx)).await
    }

    /// Starts the close handshake with `code` and `reason` and writes the close frame; the
    /// peer's answer ends the stream.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.inner.close(code, reason)?;
        std::future::poll_fn(|cx| self.inner.poll_flush(cx)).await
    }

    /// Splits the stream in two halves, usable from two tasks: one receives, one sends.
    pub fn split(self) -> (super::SplitSink<S>, super::SplitStream<S>) {
        super::split::split(self.inner)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().inner.poll_next_message(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.get_mut().inner.start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::tokio::io::AsyncWriteExt;

    /// The room of the buffer held old bytes: only what the socket brought may show.
    #[cfg(not(rfc6455_zeroed_reads))]
    #[test]
    fn a_read_into_spare_room_keeps_only_what_arrived() {
        let runtime = ::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = ::tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            let mut sender = ::tokio::net::TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut receiver, _) = listener.accept().await.unwrap();
            let mut buffer = BytesMut::from(&[0xAA; 4096][..]);
            buffer.truncate(2);
            sender.write_all(b"hello").await.unwrap();
            let n =
                std::future::poll_fn(|cx| poll_read_spare(&mut receiver, cx, &mut buffer, 4000))
                    .await
                    .unwrap();
            assert_eq!(&buffer[..], &b"\xAA\xAAhello"[..n + 2]);
            drop(sender);
            let mut end = 1;
            while end != 0 {
                end = std::future::poll_fn(|cx| {
                    poll_read_spare(&mut receiver, cx, &mut buffer, 4000)
                })
                .await
                .unwrap();
            }
            assert_eq!(&buffer[..], b"\xAA\xAAhello");
        });
    }
}
