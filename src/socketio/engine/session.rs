//! One Engine.IO session, sans-IO: its outgoing queue, which transport carries it (a
//! long-polling `GET` held or not, or a WebSocket), the upgrade in progress, the heartbeat
//! and the close. Requests and frames are handed in with the time (`now`), and what the
//! session decided comes out of [`Session::poll_output`]: answers to `GET`s, packets and
//! closes for WebSockets, messages and the close for the application. Its timers run on
//! the time handed to [`Session::handle_timeout`]; [`Session::poll_timeout`] says when.
//!
//! It is generic over what a held `GET` is (`R`, an `HttpReply` in the server) and what
//! names a WebSocket (`W`, a socket id and its handle), so that the tests below drive it
//! with plain numbers on a fake clock.
//!
//! The behaviour is the reference server's (socketio/engine.io, `socket.ts` and
//! `transports/polling.ts`): the server pings every `ping_interval` and closes with
//! `ping timeout` when no pong (nor any other packet) came within `ping_timeout`; a second
//! `GET` while one is held is refused with 400 and closes the session (`transport error`),
//! the held one getting the close packet `1`; a client's `1` ends the session (`transport
//! close`), a held `GET` getting `6`; a malformed payload or frame closes it with `parse
//! error`; a WebSocket probe (`2probe`) is answered `3probe` and ends any held `GET` with a
//! noop `6`, and the client's `5` moves the session to the WebSocket.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::Message;
use crate::socketio::{
    EngineError, EnginePacket, EnginePacketType, PayloadDecoder, PayloadLimits, encode_payload,
};

/// Why an Engine.IO session closed: the reference server's reasons, with its strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// `transport close`: the client closed (a close packet `1`, or its WebSocket closed).
    TransportClose,
    /// `ping timeout`: no pong (nor any other packet) within `ping_timeout` of a ping.
    PingTimeout,
    /// `transport error`: the transport failed (a second `GET` at once, a long-poll
    /// cancelled, a WebSocket error, a ping from the client, a binary `POST`).
    TransportError,
    /// `forced close`: the server closed the session ([`close`](super::EngineConnection::close)).
    ForcedClose,
    /// `parse error`: the client sent a packet or payload that does not decode.
    ParseError,
}

impl CloseReason {
    /// The reference server's string for the reason (`"ping timeout"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::TransportError => "transport error",
            CloseReason::ForcedClose => "forced close",
            CloseReason::ParseError => "parse error",
        }
    }
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a message could not be sent to an Engine.IO connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineSendError {
    /// The session is closing or closed.
    #[error("the Engine.IO session is closed")]
    Closed,
    /// The session's outgoing queue (long-polling, or an upgrade in progress) holds
    /// [`max_queued_bytes`](super::EngineConfig::max_queued_bytes) already: the client is
    /// not polling. The message is not queued; the session goes on.
    #[error("the Engine.IO session's queue is full ({limit} bytes)")]
    QueueFull {
        /// The bound.
        limit: usize,
    },
    /// A text message holds the record separator `0x1E`, which would split it in two in a
    /// long-polling payload (the protocol assumes data never holds it).
    #[error("the record separator 0x1e in a text message")]
    RecordSeparatorInText,
    /// The runtime refused the frame (its command queue is full, or the loop is gone).
    #[error("the WebSocket refused the message: {0}")]
    WebSocket(String),
}

/// Which transport carries a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineTransport {
    /// HTTP long-polling: `GET` to receive, `POST` to send.
    Polling,
    /// One WebSocket.
    WebSocket,
}

impl EngineTransport {
    /// The name in the `transport` query parameter: `"polling"` or `"websocket"`.
    pub fn name(self) -> &'static str {
        match self {
            EngineTransport::Polling => "polling",
            EngineTransport::WebSocket => "websocket",
        }
    }
}

/// The reference server's error codes (its `Server.errors`), in the JSON of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    UnknownTransport = 0,
    UnknownSid = 1,
    BadHandshakeMethod = 2,
    BadRequest = 3,
    Forbidden = 4,
    UnsupportedProtocolVersion = 5,
}

impl ErrorCode {
    /// The reference's message for the code.
    pub(crate) fn message(self) -> &'static str {
        match self {
            ErrorCode::UnknownTransport => "Transport unknown",
            ErrorCode::UnknownSid => "Session ID unknown",
            ErrorCode::BadHandshakeMethod => "Bad handshake method",
            ErrorCode::BadRequest => "Bad request",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }
}

/// The answer to a long-polling `GET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PollAnswer {
    /// 200 with these packets as a payload.
    Payload(Vec<u8>),
    /// 400 with an empty body: a second `GET` while one was held.
    Overlap,
    /// The reference's error response for the code (400 and its JSON).
    Refused(ErrorCode),
}

/// The answer to a long-polling `POST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PostAnswer {
    /// 200 `ok`.
    Ok,
    /// The reference's error response for the code (400 and its JSON).
    Refused(ErrorCode),
    /// 413: the body is longer than `max_http_buffer_size` (the session goes on).
    TooLarge,
}

/// What a session decided, for its driver to carry out, in order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Output<R, W> {
    /// Answer this `GET`.
    Answer(R, PollAnswer),
    /// Send this packet on this WebSocket.
    Send(W, EnginePacket),
    /// Send these packets on this WebSocket, in one piece; with `only_if_idle`, only if
    /// nothing waits in its write queue then, else none.
    SendAll {
        ws: W,
        packets: Vec<EnginePacket>,
        only_if_idle: bool,
    },
    /// Close this WebSocket.
    CloseWebSocket(W),
    /// A message for the application.
    Message(Message),
    /// The session is over, for this reason; nothing follows.
    Closed(CloseReason),
}

/// The bounds and timers of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) ping_interval: Duration,
    pub(crate) ping_timeout: Duration,
    pub(crate) upgrade_timeout: Duration,
    /// How long a server close waits for a `GET` to carry its close packet (the
    /// reference's 30 s `closeTimeout`).
    pub(crate) close_timeout: Duration,
    pub(crate) max_queued_bytes: usize,
    pub(crate) payload: PayloadLimits,
}

/// The transport that carries the session now.
enum Active<R, W> {
    Polling { held: Option<R> },
    WebSocket(W),
}

/// A WebSocket opened to upgrade the session to.
struct Probe<W> {
    ws: W,
    probed: bool,
    deadline: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    /// The server closed it; a long-polling session waits (until `deadline`) for a `GET`
    /// to carry the close packet.
    Closing {
        deadline: Option<Instant>,
    },
    Closed,
}

/// What one packet costs in the queue beyond its encoded bytes: its slot.
const PACKET_OVERHEAD: usize = std::mem::size_of::<EnginePacket>();

/// One Engine.IO session (see the module docs).
pub(crate) struct Session<R, W> {
    limits: Limits,
    phase: Phase,
    active: Active<R, W>,
    probe: Option<Probe<W>>,
    queue: VecDeque<EnginePacket>,
    queued_bytes: usize,
    next_ping: Option<Instant>,
    pong_deadline: Option<Instant>,
    last_packet: Instant,
    outputs: VecDeque<Output<R, W>>,
}

impl<R, W: Clone + PartialEq> Session<R, W> {
    /// A new session on `transport` (a WebSocket: `Some(ws)`), its open packet (the
    /// handshake JSON `open`) queued first; the first ping is due `ping_interval` later.
    pub(crate) fn new(open: String, ws: Option<W>, limits: Limits, now: Instant) -> Self {
        let active = match ws {
            Some(ws) => Active::WebSocket(ws),
            None => Active::Polling { held: None },
        };
        let mut session = Session {
            limits,
            phase: Phase::Open,
            active,
            probe: None,
            queue: VecDeque::new(),
            queued_bytes: 0,
            next_ping: Some(now + limits.ping_interval),
            pong_deadline: None,
            last_packet: now,
            outputs: VecDeque::new(),
        };
        session.push_control(EnginePacket::text(EnginePacketType::Open, open));
        session
    }

    /// The transport carrying the session.
    pub(crate) fn transport(&self) -> EngineTransport {
        match self.active {
            Active::Polling { .. } => EngineTransport::Polling,
            Active::WebSocket(_) => EngineTransport::WebSocket,
        }
    }

    /// Open: neither closing nor closed.
    pub(crate) fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// What the session decided, oldest first.
    pub(crate) fn poll_output(&mut self) -> Option<Output<R, W>> {
        self.outputs.pop_front()
    }

    /// The next moment [`handle_timeout`](Self::handle_timeout) has something to do.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let probe = self.probe.as_ref().map(|probe| probe.deadline);
        let timers = match self.phase {
            Phase::Open => [self.next_ping, self.pong_deadline, probe],
            Phase::Closing { deadline } => [deadline, probe, None],
            Phase::Closed => return None,
        };
        timers.into_iter().flatten().min()
    }

    /// Runs the timers that are due: the ping, the ping timeout, the upgrade timeout, the
    /// wait of a server close.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if let Some(probe) = self.probe.take_if(|probe| probe.deadline <= now) {
            // The client did not complete the upgrade: the probe goes, the session stays.
            self.outputs.push_back(Output::CloseWebSocket(probe.ws));
        }
        match self.phase {
            Phase::Open => {
                if self.next_ping.is_some_and(|at| at <= now) {
                    self.next_ping = None;
                    self.pong_deadline = Some(now + self.limits.ping_timeout);
                    self.push_control(EnginePacket::text(EnginePacketType::Ping, ""));
                }
                if let Some(at) = self.pong_deadline
                    && at <= now
                {
                    // Any packet since counts as a sign of life, as in the reference.
                    let heard = self.last_packet + self.limits.ping_timeout;
                    if heard > now {
                        self.pong_deadline = Some(heard);
                    } else {
                        self.close_with(CloseReason::PingTimeout);
                    }
                }
            }
            Phase::Closing { deadline: Some(at) } if at <= now => {
                self.close_with(CloseReason::ForcedClose)
            }
            Phase::Closing { .. } | Phase::Closed => {}
        }
    }

    // ----- long-polling ---------------------------------------------------------------

    /// A long-polling `GET`: answered at once if packets wait, held otherwise.
    pub(crate) fn on_get(&mut self, reply: R) {
        let held = match (&mut self.active, self.phase) {
            (_, Phase::Closed) => {
                return self.answer(reply, PollAnswer::Refused(ErrorCode::UnknownSid));
            }
            (Active::WebSocket(_), _) => {
                return self.answer(reply, PollAnswer::Refused(ErrorCode::BadRequest));
            }
            (Active::Polling { held }, _) => held,
        };
        if held.is_some() {
            // Two GETs at once: the new one is refused, the session closes and the held
            // one gets the close packet.
            self.answer(reply, PollAnswer::Overlap);
            return self.close_with(CloseReason::TransportError);
        }
        *held = Some(reply);
        self.flush_polling();
        if self.probe.as_ref().is_some_and(|probe| probe.probed) {
            // Upgrading: the client only polls to end this transport.
            self.answer_held(noop_payload());
        }
    }

    /// The client gave up on a long-poll before its answer (it closed the connection): the
    /// reference's "poll connection closed prematurely" ends the session.
    pub(crate) fn on_poll_cancelled(&mut self) {
        if matches!(self.active, Active::Polling { .. }) {
            self.close_with(CloseReason::TransportError);
        }
    }

    /// A long-polling `POST` with its whole body; `binary`: its `Content-Type` is
    /// `application/octet-stream`, which v4 never sends.
    pub(crate) fn on_post(&mut self, body: &[u8], binary: bool, now: Instant) -> PostAnswer {
        if self.phase == Phase::Closed {
            return PostAnswer::Refused(ErrorCode::UnknownSid);
        }
        if !matches!(self.active, Active::Polling { .. }) {
            return PostAnswer::Refused(ErrorCode::BadRequest);
        }
        if binary {
            self.close_with(CloseReason::TransportError);
            return PostAnswer::Refused(ErrorCode::BadRequest);
        }
        if body.len() > self.limits.payload.max_payload_bytes {
            return PostAnswer::TooLarge;
        }
        let mut decoder = PayloadDecoder::new(self.limits.payload);
        let mut packets = Vec::new();
        let decoded = decoder
            .decode(body, &mut packets)
            .and_then(|()| decoder.finish(&mut packets));
        for packet in packets {
            if packet.packet_type() != EnginePacketType::Close {
                self.on_packet(packet, now);
            } else if self.phase != Phase::Closed {
                // The client ends the session; a held GET ends with a noop.
                self.answer_held(noop_payload());
                self.close_with(CloseReason::TransportClose);
            }
        }
        match decoded {
            Ok(()) => PostAnswer::Ok,
            Err(_) => {
                self.close_with(CloseReason::ParseError);
                PostAnswer::Refused(ErrorCode::BadRequest)
            }
        }
    }

    /// Answers the held `GET` with every queued packet, if one is held and packets wait;
    /// a closing session adds its close packet and is over.
    fn flush_polling(&mut self) {
        let Active::Polling { held } = &mut self.active else {
            return;
        };
        if held.is_none() {
            return;
        }
        let closing = matches!(self.phase, Phase::Closing { .. });
        if self.queue.is_empty() && !closing {
            return;
        }
        let mut packets: Vec<EnginePacket> = self.queue.drain(..).collect();
        self.queued_bytes = 0;
        if closing {
            packets.push(EnginePacket::text(EnginePacketType::Close, ""));
        }
        let mut payload = Vec::new();
        // Texts with a separator were refused when they were sent.
        let _ = encode_payload(&packets, &mut payload);
        self.answer_held(payload);
        if closing {
            self.close_with(CloseReason::ForcedClose);
        }
    }

    fn answer_held(&mut self, payload: Vec<u8>) {
        if let Active::Polling { held } = &mut self.active
            && let Some(reply) = held.take()
        {
            self.answer(reply, PollAnswer::Payload(payload));
        }
    }

    fn answer(&mut self, reply: R, answer: PollAnswer) {
        self.outputs.push_back(Output::Answer(reply, answer));
    }

    // ----- WebSocket ------------------------------------------------------------------

    /// A WebSocket asks to take over the session (`transport=websocket&sid=...`): refused
    /// if the session is over, carried by a WebSocket already, or upgrading already.
    pub(crate) fn begin_upgrade(&mut self, ws: W, now: Instant) -> Result<(), ErrorCode> {
        if self.phase == Phase::Closed {
            return Err(ErrorCode::UnknownSid);
        }
        if self.probe.is_some() || matches!(self.active, Active::WebSocket(_)) {
            return Err(ErrorCode::BadRequest);
        }
        self.probe = Some(Probe {
            ws,
            probed: false,
            deadline: now + self.limits.upgrade_timeout,
        });
        Ok(())
    }

    /// A message from one of the session's WebSockets (the one carrying it, or the probe).
    pub(crate) fn on_ws_message(&mut self, ws: &W, message: Message, now: Instant) {
        let decoded = EnginePacket::decode_websocket(message);
        if self.probe.as_ref().is_some_and(|probe| probe.ws == *ws) {
            return self.on_probe_packet(decoded);
        }
        if !matches!(&self.active, Active::WebSocket(active) if active == ws) {
            return;
        }
        match decoded {
            Err(_) => self.close_with(CloseReason::ParseError),
            Ok(packet) if packet.packet_type() == EnginePacketType::Close => {
                self.close_with(CloseReason::TransportClose);
            }
            Ok(packet) => self.on_packet(packet, now),
        }
    }

    /// The upgrade dance on the probe: `2probe` → `3probe` (and a noop to end a held
    /// `GET`), then `5` moves the session; anything else ends the probe.
    fn on_probe_packet(&mut self, decoded: Result<EnginePacket, EngineError>) {
        let Some(probe) = self.probe.as_mut() else {
            return;
        };
        match decoded {
            Ok(EnginePacket::Text {
                packet_type: EnginePacketType::Ping,
                data,
            }) if data == "probe" => {
                probe.probed = true;
                let pong = EnginePacket::text(EnginePacketType::Pong, "probe");
                self.outputs.push_back(Output::Send(probe.ws.clone(), pong));
                self.answer_held(noop_payload());
            }
            Ok(packet)
                if packet.packet_type() == EnginePacketType::Upgrade
                    && self.phase != Phase::Closed =>
            {
                let ws = probe.ws.clone();
                self.probe = None;
                self.answer_held(noop_payload());
                self.active = Active::WebSocket(ws.clone());
                self.queued_bytes = 0;
                for packet in std::mem::take(&mut self.queue) {
                    self.outputs.push_back(Output::Send(ws.clone(), packet));
                }
                if matches!(self.phase, Phase::Closing { .. }) {
                    self.close_with(CloseReason::ForcedClose);
                }
            }
            _ => {
                let ws = probe.ws.clone();
                self.probe = None;
                self.outputs.push_back(Output::CloseWebSocket(ws));
            }
        }
    }

    /// One of the session's WebSockets closed (`error`: it failed).
    pub(crate) fn on_ws_closed(&mut self, ws: &W, error: bool) {
        if self.probe.as_ref().is_some_and(|probe| probe.ws == *ws) {
            self.probe = None;
            return;
        }
        if matches!(&self.active, Active::WebSocket(active) if active == ws)
            && self.phase != Phase::Closed
        {
            let reason = if error {
                CloseReason::TransportError
            } else {
                CloseReason::TransportClose
            };
            // It is closed already: nothing to close.
            self.end(reason, false);
        }
    }

    // ----- packets, sends, close ------------------------------------------------------

    /// A packet from the transport carrying the session.
    fn on_packet(&mut self, packet: EnginePacket, now: Instant) {
        if self.phase != Phase::Open {
            return;
        }
        self.last_packet = now;
        match packet {
            EnginePacket::Binary(bytes) => {
                self.outputs
                    .push_back(Output::Message(Message::Binary(bytes)));
            }
            EnginePacket::Text { packet_type, data } => match packet_type {
                EnginePacketType::Message => {
                    self.outputs.push_back(Output::Message(Message::Text(data)));
                }
                EnginePacketType::Pong => {
                    self.pong_deadline = None;
                    self.next_ping = Some(now + self.limits.ping_interval);
                }
                // In v4 the server pings, never the client.
                EnginePacketType::Ping => self.close_with(CloseReason::TransportError),
                EnginePacketType::Close => self.close_with(CloseReason::TransportClose),
                EnginePacketType::Open | EnginePacketType::Upgrade | EnginePacketType::Noop => {}
            },
        }
    }

    /// Sends a message: over the WebSocket at once, or queued for the next `GET`.
    pub(crate) fn send(&mut self, message: Message) -> Result<(), EngineSendError> {
        if self.phase != Phase::Open {
            return Err(EngineSendError::Closed);
        }
        let packet = message_packet(message)?;
        if let Active::WebSocket(ws) = &self.active {
            self.outputs.push_back(Output::Send(ws.clone(), packet));
            return Ok(());
        }
        let cost = queue_cost(&packet);
        self.enqueue([packet], cost)
    }

    /// Sends messages in one piece: over WebSocket as one output ([`Output::SendAll`], so
    /// that no other thread's packet comes between), over long-polling queued together
    /// (all or none within the queue's bound). With `only_if_idle`, only if the transport
    /// can take them now (the reference's volatile packets, dropped unless
    /// `transport.writable`): over long-polling, if a `GET` is held; over WebSocket, if the
    /// socket's write queue is empty when its loop takes them. A drop is no error.
    pub(crate) fn send_all(
        &mut self,
        messages: Vec<Message>,
        only_if_idle: bool,
    ) -> Result<(), EngineSendError> {
        if self.phase != Phase::Open {
            return Err(EngineSendError::Closed);
        }
        let packets = messages
            .into_iter()
            .map(message_packet)
            .collect::<Result<Vec<_>, _>>()?;
        match &self.active {
            Active::WebSocket(ws) => {
                let ws = ws.clone();
                self.outputs.push_back(Output::SendAll {
                    ws,
                    packets,
                    only_if_idle,
                });
                Ok(())
            }
            Active::Polling { held: None } if only_if_idle => Ok(()),
            Active::Polling { .. } => {
                let cost = packets.iter().map(queue_cost).sum();
                self.enqueue(packets, cost)
            }
        }
    }

    /// The WebSocket carrying the session, while it is open on one: a broadcast sends its
    /// frames there directly, framed once for all its recipients.
    pub(crate) fn websocket(&self) -> Option<&W> {
        match (&self.active, self.phase) {
            (Active::WebSocket(ws), Phase::Open) => Some(ws),
            _ => None,
        }
    }

    /// Queues packets costing `cost` for long-polling, all or none within the queue's
    /// bound, and answers the held `GET` if there is one.
    fn enqueue(
        &mut self,
        packets: impl IntoIterator<Item = EnginePacket>,
        cost: usize,
    ) -> Result<(), EngineSendError> {
        if self.queued_bytes + cost > self.limits.max_queued_bytes {
            return Err(EngineSendError::QueueFull {
                limit: self.limits.max_queued_bytes,
            });
        }
        self.queued_bytes += cost;
        self.queue.extend(packets);
        self.flush_polling();
        Ok(())
    }

    /// A packet of the session itself (open, ping): sent like a message, but never refused
    /// by the queue's bound (there is at most one of each at a time).
    fn push_control(&mut self, packet: EnginePacket) {
        if let Active::WebSocket(ws) = &self.active {
            self.outputs.push_back(Output::Send(ws.clone(), packet));
            return;
        }
        self.queued_bytes += queue_cost(&packet);
        self.queue.push_back(packet);
        self.flush_polling();
    }

    /// The server closes the session: over WebSocket at once; over long-polling with the
    /// next `GET` (the held one if there is one), which carries what is queued and the
    /// close packet, or after `close_timeout` without one.
    pub(crate) fn close(&mut self, now: Instant) {
        if self.phase != Phase::Open {
            return;
        }
        self.phase = Phase::Closing { deadline: None };
        match &self.active {
            Active::WebSocket(_) => self.close_with(CloseReason::ForcedClose),
            Active::Polling { held: Some(_) } => self.flush_polling(),
            Active::Polling { held: None } => {
                self.phase = Phase::Closing {
                    deadline: Some(now + self.limits.close_timeout),
                };
            }
        }
    }

    /// Ends the session: a held `GET` gets the close packet, the WebSockets are closed, the
    /// queue is dropped, and the application hears why.
    fn close_with(&mut self, reason: CloseReason) {
        self.end(reason, true);
    }

    /// [`close_with`](Self::close_with), closing the WebSocket carrying the session or not
    /// (it closed by itself). The session keeps its transport's name.
    fn end(&mut self, reason: CloseReason, close_websocket: bool) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Closed;
        match &mut self.active {
            Active::Polling { held } => {
                if let Some(reply) = held.take() {
                    self.answer(reply, PollAnswer::Payload(b"1".to_vec()));
                }
            }
            Active::WebSocket(ws) if close_websocket => {
                self.outputs.push_back(Output::CloseWebSocket(ws.clone()));
            }
            Active::WebSocket(_) => {}
        }
        if let Some(probe) = self.probe.take() {
            self.outputs.push_back(Output::CloseWebSocket(probe.ws));
        }
        self.queue.clear();
        self.queued_bytes = 0;
        self.next_ping = None;
        self.pong_deadline = None;
        self.outputs.push_back(Output::Closed(reason));
    }
}

fn noop_payload() -> Vec<u8> {
    vec![EnginePacketType::Noop.digit()]
}

/// What a packet costs against `max_queued_bytes`: its bytes in a payload, a separator,
/// and its slot in the queue.
/// The message packet carrying `message` (a text may not hold the payload separator).
fn message_packet(message: Message) -> Result<EnginePacket, EngineSendError> {
    match message {
        Message::Text(text) if text.as_bytes().contains(&0x1E) => {
            Err(EngineSendError::RecordSeparatorInText)
        }
        Message::Text(text) => Ok(EnginePacket::Text {
            packet_type: EnginePacketType::Message,
            data: text,
        }),
        Message::Binary(bytes) => Ok(EnginePacket::Binary(bytes)),
    }
}

fn queue_cost(packet: &EnginePacket) -> usize {
    let encoded = match packet {
        EnginePacket::Text { data, .. } => 1 + data.len(),
        EnginePacket::Binary(bytes) => 1 + bytes.len().div_ceil(3) * 4,
    };
    encoded + 1 + PACKET_OVERHEAD
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests {
    use super::*;

    type Out = Output<u32, u8>;

    const WS: u8 = 7;
    const PROBE: u8 = 8;

    fn limits() -> Limits {
        Limits {
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            upgrade_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(30),
            max_queued_bytes: 1000,
            payload: PayloadLimits::default(),
        }
    }

    /// A fake clock: the start, and `secs` after it.
    struct Clock(Instant);

    impl Clock {
        fn at(&self, secs: u64) -> Instant {
            self.0 + Duration::from_secs(secs)
        }
        fn at_ms(&self, ms: u64) -> Instant {
            self.0 + Duration::from_millis(ms)
        }
    }

    fn outputs(session: &mut Session<u32, u8>) -> Vec<Out> {
        std::iter::from_fn(|| session.poll_output()).collect()
    }

    fn payload(bytes: &[u8]) -> PollAnswer {
        PollAnswer::Payload(bytes.to_vec())
    }

    fn text(packet_type: EnginePacketType, data: &str) -> EnginePacket {
        EnginePacket::text(packet_type, data)
    }

    /// A long-polling session whose handshake GET (reply 0) took the open packet.
    fn polling() -> (Session<u32, u8>, Clock) {
        let clock = Clock(Instant::now());
        let mut session = Session::new("{open}".into(), None, limits(), clock.at(0));
        session.on_get(0);
        assert_eq!(outputs(&mut session), [Out::Answer(0, payload(b"0{open}"))]);
        (session, clock)
    }

    /// A WebSocket session whose open packet went out.
    fn websocket() -> (Session<u32, u8>, Clock) {
        let clock = Clock(Instant::now());
        let mut session = Session::new("{open}".into(), Some(WS), limits(), clock.at(0));
        assert_eq!(
            outputs(&mut session),
            [Out::Send(WS, text(EnginePacketType::Open, "{open}"))]
        );
        (session, clock)
    }

    #[test]
    fn a_held_get_is_answered_when_a_message_is_queued_with_everything_queued() {
        let (mut session, _clock) = polling();
        session.on_get(1);
        assert!(outputs(&mut session).is_empty(), "held");
        session.send(Message::from("hello")).unwrap();
        assert_eq!(outputs(&mut session), [Out::Answer(1, payload(b"4hello"))]);
        // Without a GET, messages wait, and the next GET takes them all in one payload.
        session.send(Message::from("a")).unwrap();
        session.send(Message::from(vec![1u8, 2, 3, 4])).unwrap();
        session.on_get(2);
        assert_eq!(
            outputs(&mut session),
            [Out::Answer(2, payload(b"4a\x1ebAQIDBA=="))]
        );
    }

    #[test]
    fn a_volatile_send_goes_only_where_the_transport_can_take_it_all_or_none() {
        let (mut session, _clock) = polling();
        // No GET held: dropped, nothing queued for the next one.
        session
            .send_all(vec![Message::from("stale")], true)
            .unwrap();
        assert!(outputs(&mut session).is_empty());
        session.on_get(1);
        assert!(
            outputs(&mut session).is_empty(),
            "the GET waits: nothing was queued"
        );
        // A GET held: the packet and its attachment go together.
        let parts = vec![Message::from("fresh"), Message::from(vec![1u8, 2])];
        session.send_all(parts, true).unwrap();
        assert_eq!(
            outputs(&mut session),
            [Out::Answer(1, payload(b"4fresh\x1ebAQI="))]
        );
        // A text with the separator refuses the whole send, as `send` does.
        let bad = vec![Message::from("a"), Message::from("b\x1ec")];
        assert_eq!(
            session.send_all(bad, true),
            Err(EngineSendError::RecordSeparatorInText)
        );
        // Over WebSocket the loop decides, for all the parts at once.
        let (mut session, _clock) = websocket();
        session.send_all(vec![Message::from("x")], true).unwrap();
        let packets = vec![text(EnginePacketType::Message, "x")];
        let only_if_idle = true;
        let sent = Out::SendAll {
            ws: WS,
            packets,
            only_if_idle,
        };
        assert_eq!(outputs(&mut session), [sent]);
        assert_eq!(session.websocket(), Some(&WS));
        session.close(Instant::now());
        assert_eq!(
            session.send_all(vec![Message::from("late")], true),
            Err(EngineSendError::Closed)
        );
        assert_eq!(session.websocket(), None);
    }

    #[test]
    fn a_post_delivers_its_messages_in_order_and_answers_ok() {
        let (mut session, clock) = polling();
        assert_eq!(
            session.on_post(b"4hello\x1ebAQIDBA==\x1e4world", false, clock.at(1)),
            PostAnswer::Ok
        );
        assert_eq!(
            outputs(&mut session),
            [
                Out::Message(Message::from("hello")),
                Out::Message(Message::from(vec![1u8, 2, 3, 4])),
                Out::Message(Message::from("world")),
            ]
        );
    }

    #[test]
    fn a_second_get_while_one_is_held_is_refused_and_closes_the_session() {
        let (mut session, _clock) = polling();
        session.on_get(1);
        session.on_get(2);
        assert_eq!(
            outputs(&mut session),
            [
                Out::Answer(2, PollAnswer::Overlap),
                Out::Answer(1, payload(b"1")),
                Out::Closed(CloseReason::TransportError),
            ]
        );
        session.on_get(3);
        assert_eq!(
            outputs(&mut session),
            [Out::Answer(3, PollAnswer::Refused(ErrorCode::UnknownSid))]
        );
        assert_eq!(
            session.send(Message::from("late")),
            Err(EngineSendError::Closed)
        );
        assert!(!session.is_open());
    }

    #[test]
    fn a_cancelled_long_poll_is_a_transport_error() {
        let (mut session, _clock) = polling();
        session.on_get(1);
        session.on_poll_cancelled();
        assert_eq!(
            outputs(&mut session),
            [
                Out::Answer(1, payload(b"1")),
                Out::Closed(CloseReason::TransportError),
            ]
        );
    }

    #[test]
    fn a_malformed_payload_delivers_what_came_before_and_closes_with_parse_error() {
        let (mut session, clock) = polling();
        session.on_get(1);
        assert_eq!(
            session.on_post(b"4ok\x1eabc\x1e4never", false, clock.at(1)),
            PostAnswer::Refused(ErrorCode::BadRequest)
        );
        assert_eq!(
            outputs(&mut session),
            [
                Out::Message(Message::from("ok")),
                Out::Answer(1, payload(b"1")),
                Out::Closed(CloseReason::ParseError),
            ]
        );
        assert_eq!(
            session.on_post(b"4x", false, clock.at(2)),
            PostAnswer::Refused(ErrorCode::UnknownSid)
        );
    }

    #[test]
    fn the_clients_close_packet_ends_the_session_and_a_held_get_with_a_noop() {
        let (mut session, clock) = polling();
        session.on_get(1);
        assert_eq!(
            session.on_post(b"4bye\x1e1\x1e4after", false, clock.at(1)),
            PostAnswer::Ok
        );
        assert_eq!(
            outputs(&mut session),
            [
                Out::Message(Message::from("bye")),
                Out::Answer(1, payload(b"6")),
                Out::Closed(CloseReason::TransportClose),
            ]
        );
    }

    #[test]
    fn a_body_over_max_payload_is_413_and_the_session_goes_on() {
        let (mut session, clock) = polling();
        let mut limits = limits();
        limits.payload.max_payload_bytes = 4;
        session.limits = limits;
        assert_eq!(
            session.on_post(b"4hello", false, clock.at(1)),
            PostAnswer::TooLarge
        );
        assert_eq!(session.on_post(b"4hey", false, clock.at(1)), PostAnswer::Ok);
        assert_eq!(outputs(&mut session), [Out::Message(Message::from("hey"))]);
    }

    #[test]
    fn a_binary_post_is_a_transport_error() {
        let (mut session, clock) = polling();
        assert_eq!(
            session.on_post(b"\x01\x02", true, clock.at(1)),
            PostAnswer::Refused(ErrorCode::BadRequest)
        );
        assert_eq!(
            outputs(&mut session),
            [Out::Closed(CloseReason::TransportError)]
        );
    }

    #[test]
    fn the_server_pings_every_interval_and_a_pong_restarts_the_interval() {
        let (mut session, clock) = polling();
        assert_eq!(session.poll_timeout(), Some(clock.at(25)));
        session.handle_timeout(clock.at(24));
        assert!(outputs(&mut session).is_empty(), "not yet");
        session.handle_timeout(clock.at(25));
        session.on_get(1);
        assert_eq!(outputs(&mut session), [Out::Answer(1, payload(b"2"))]);
        assert_eq!(
            session.poll_timeout(),
            Some(clock.at(45)),
            "the ping timeout"
        );
        assert_eq!(session.on_post(b"3", false, clock.at(26)), PostAnswer::Ok);
        assert_eq!(session.poll_timeout(), Some(clock.at(51)), "the next ping");
        session.handle_timeout(clock.at(45));
        assert!(outputs(&mut session).is_empty(), "the pong came");
        session.handle_timeout(clock.at(51));
        session.on_get(2);
        assert_eq!(outputs(&mut session), [Out::Answer(2, payload(b"2"))]);
    }

    #[test]
    fn no_pong_within_the_ping_timeout_closes_with_ping_timeout() {
        let (mut session, clock) = websocket();
        session.handle_timeout(clock.at(25));
        assert_eq!(
            outputs(&mut session),
            [Out::Send(WS, text(EnginePacketType::Ping, ""))]
        );
        session.handle_timeout(clock.at(45));
        assert_eq!(
            outputs(&mut session),
            [
                Out::CloseWebSocket(WS),
                Out::Closed(CloseReason::PingTimeout)
            ]
        );
        assert_eq!(session.poll_timeout(), None);
    }

    #[test]
    fn a_packet_after_the_ping_pushes_the_ping_timeout_back() {
        let (mut session, clock) = websocket();
        session.handle_timeout(clock.at(25));
        outputs(&mut session);
        session.on_ws_message(&WS, Message::from("4busy"), clock.at(40));
        session.handle_timeout(clock.at(45));
        assert_eq!(outputs(&mut session), [Out::Message(Message::from("busy"))]);
        assert_eq!(session.poll_timeout(), Some(clock.at(60)));
        session.handle_timeout(clock.at(60));
        assert_eq!(
            outputs(&mut session),
            [
                Out::CloseWebSocket(WS),
                Out::Closed(CloseReason::PingTimeout)
            ]
        );
    }

    #[test]
    fn a_ping_from_the_client_is_a_transport_error() {
        let (mut session, clock) = websocket();
        session.on_ws_message(&WS, Message::from("2"), clock.at(1));
        assert_eq!(
            outputs(&mut session),
            [
                Out::CloseWebSocket(WS),
                Out::Closed(CloseReason::TransportError)
            ]
        );
    }

    #[test]
    fn websocket_frames_text_binary_close_and_garbage() {
        let (mut session, clock) = websocket();
        session.on_ws_message(&WS, Message::from("4hi"), clock.at(1));
        session.on_ws_message(&WS, Message::from(vec![9u8]), clock.at(1));
        session.send(Message::from("out")).unwrap();
        session.send(Message::from(vec![1u8])).unwrap();
        assert_eq!(
            outputs(&mut session),
            [
                Out::Message(Message::from("hi")),
                Out::Message(Message::from(vec![9u8])),
                Out::Send(WS, text(EnginePacketType::Message, "out")),
                Out::Send(WS, EnginePacket::binary(vec![1u8])),
            ]
        );
        session.on_ws_message(&WS, Message::from("abc"), clock.at(2));
        assert_eq!(
            outputs(&mut session),
            [
                Out::CloseWebSocket(WS),
                Out::Closed(CloseReason::ParseError)
            ]
        );
        let (mut session, clock) = websocket();
        session.on_ws_message(&WS, Message::from("1"), clock.at(1));
        assert_eq!(
            outputs(&mut session),
            [
                Out::CloseWebSocket(WS),
                Out::Closed(CloseReason::TransportClose)
            ]
        );
    }

    #[test]
    fn the_websocket_closing_closes_the_session_once() {
        let (mut session, _clock) = websocket();
        session.on_ws_closed(&WS, false);
        assert_eq!(
            outputs(&mut session),
            [Out::Closed(CloseReason::TransportClose)]
        );
        assert_eq!(session.transport(), EngineTransport::WebSocket);
        session.on_ws_closed(&WS, true);
        assert!(outputs(&mut session).is_empty());
        let (mut session, _clock) = websocket();
        session.on_ws_closed(&WS, true);
        assert_eq!(
            outputs(&mut session),
            [Out::Closed(CloseReason::TransportError)]
        );
    }

    #[test]
    fn the_upgrade_dance_probe_noop_upgrade_then_the_queue_over_the_websocket() {
        let (mut session, clock) = polling();
        session.on_get(1);
        assert_eq!(session.begin_upgrade(PROBE, clock.at(1)), Ok(()));
        assert_eq!(
            session.begin_upgrade(9, clock.at(1)),
            Err(ErrorCode::BadRequest)
        );
        session.on_ws_message(&PROBE, Message::from("2probe"), clock.at(1));
        assert_eq!(
            outputs(&mut session),
            [
                Out::Send(PROBE, text(EnginePacketType::Pong, "probe")),
                Out::Answer(1, payload(b"6")),
            ]
        );
        // While upgrading, a GET with nothing to take gets a noop at once; a message sent
        // meanwhile waits for the new transport.
        session.on_get(2);
        assert_eq!(outputs(&mut session), [Out::Answer(2, payload(b"6"))]);
        session.send(Message::from("queued")).unwrap();
        assert!(outputs(&mut session).is_empty());
        session.on_ws_message(&PROBE, Message::from("5"), clock.at(2));
        assert_eq!(
            outputs(&mut session),
            [Out::Send(PROBE, text(EnginePacketType::Message, "queued"))]
        );
        assert_eq!(session.transport(), EngineTransport::WebSocket);
        // Now polling is refused, and a second WebSocket too.
        session.on_get(3);
        assert_eq!(
            outputs(&mut session),
            [Out::Answer(3, PollAnswer::Refused(ErrorCode::BadRequest))]
        );
        assert_eq!(
            session.begin_upgrade(9, clock.at(3)),
            Err(ErrorCode::BadRequest)
        );
        session.on_ws_message(&PROBE, Message::from("4over ws"), clock.at(3));
        assert_eq!(
            outputs(&mut session),
            [Out::Message(Message::from("over ws"))]
        );
    }

    #[test]
    fn an_upgrade_not_completed_in_time_or_with_a_wrong_packet_drops_the_probe() {
        let (mut session, clock) = polling();
        session.begin_upgrade(PROBE, clock.at(1)).unwrap();
        assert_eq!(session.poll_timeout(), Some(clock.at(11)));
        session.handle_timeout(clock.at(11));
        assert_eq!(outputs(&mut session), [Out::CloseWebSocket(PROBE)]);
        assert_eq!(session.transport(), EngineTransport::Polling);
        session.begin_upgrade(PROBE, clock.at(12)).unwrap();
        session.on_ws_message(&PROBE, Message::from("4early"), clock.at(12));
        assert_eq!(outputs(&mut session), [Out::CloseWebSocket(PROBE)]);
        // The probe closing by itself ends the upgrade too, and the session goes on.
        session.begin_upgrade(PROBE, clock.at(13)).unwrap();
        session.on_ws_closed(&PROBE, false);
        assert!(outputs(&mut session).is_empty());
        session.begin_upgrade(PROBE, clock.at(13)).unwrap();
    }

    #[test]
    fn a_server_close_over_polling_waits_for_a_get_to_carry_the_queue_and_the_close() {
        let (mut session, clock) = polling();
        session.send(Message::from("last")).unwrap();
        session.close(clock.at(1));
        assert_eq!(
            session.send(Message::from("refused")),
            Err(EngineSendError::Closed)
        );
        assert!(outputs(&mut session).is_empty());
        session.on_get(1);
        assert_eq!(
            outputs(&mut session),
            [
                Out::Answer(1, payload(b"4last\x1e1")),
                Out::Closed(CloseReason::ForcedClose),
            ]
        );
        // With a GET held, at once; with none ever coming, after the close timeout.
        let (mut session, clock) = polling();
        session.on_get(1);
        session.close(clock.at(1));
        assert_eq!(
            outputs(&mut session),
            [
                Out::Answer(1, payload(b"1")),
                Out::Closed(CloseReason::ForcedClose)
            ]
        );
        let (mut session, clock) = polling();
        session.close(clock.at(1));
        assert_eq!(session.poll_timeout(), Some(clock.at(31)));
        session.handle_timeout(clock.at(31));
        assert_eq!(
            outputs(&mut session),
            [Out::Closed(CloseReason::ForcedClose)]
        );
    }

    #[test]
    fn a_server_close_over_websocket_closes_it_at_once() {
        let (mut session, clock) = websocket();
        session.close(clock.at(1));
        assert_eq!(
            outputs(&mut session),
            [
                Out::CloseWebSocket(WS),
                Out::Closed(CloseReason::ForcedClose)
            ]
        );
    }

    #[test]
    fn the_queue_is_bounded_and_refuses_what_would_cross_it() {
        let (mut session, _clock) = polling();
        let big = "x".repeat(400);
        session.send(Message::from(big.as_str())).unwrap();
        session.send(Message::from(big.as_str())).unwrap();
        assert_eq!(
            session.send(Message::from(big.as_str())),
            Err(EngineSendError::QueueFull { limit: 1000 })
        );
        // A GET empties it, and sends are taken again.
        session.on_get(1);
        let answer = outputs(&mut session);
        assert!(matches!(&answer[..], [Out::Answer(1, PollAnswer::Payload(p))] if p.len() == 803));
        session.send(Message::from(big.as_str())).unwrap();
        // The heartbeat's ping is never refused.
        session.send(Message::from(big.as_str())).unwrap();
        session.handle_timeout(Instant::now() + Duration::from_secs(26));
        session.on_get(2);
        let answer = outputs(&mut session);
        assert!(
            matches!(&answer[..], [Out::Answer(2, PollAnswer::Payload(p))] if p.ends_with(b"\x1e2"))
        );
    }

    #[test]
    fn a_text_with_the_record_separator_is_refused() {
        let (mut session, _clock) = websocket();
        assert_eq!(
            session.send(Message::from("a\u{1e}b")),
            Err(EngineSendError::RecordSeparatorInText)
        );
    }

    #[test]
    fn milliseconds_timers_as_the_protocol_test_suite_sets_them() {
        let clock = Clock(Instant::now());
        let mut limits = limits();
        limits.ping_interval = Duration::from_millis(300);
        limits.ping_timeout = Duration::from_millis(200);
        let mut session = Session::<u32, u8>::new("{}".into(), None, limits, clock.at(0));
        session.on_get(0);
        outputs(&mut session);
        // The client never polls again: at 300 ms the ping waits in the queue, at 500 ms
        // the session is over.
        session.handle_timeout(clock.at_ms(300));
        assert_eq!(session.poll_timeout(), Some(clock.at_ms(500)));
        session.handle_timeout(clock.at_ms(500));
        assert_eq!(
            outputs(&mut session),
            [Out::Closed(CloseReason::PingTimeout)]
        );
    }
}
