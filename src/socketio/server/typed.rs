//! The typed API: event arguments as Rust types through serde ([`to_data`], [`from_data`]),
//! beside the raw one that takes and gives `Vec<Data>`. A typed handler or emit sees the
//! whole argument list as one value: a tuple (`(String, u32)`, or `(Chat,)` for one
//! argument) or anything else serde reads from and writes to a sequence. Binary arguments
//! are serde's bytes (`bytes::Bytes`, `serde_bytes` fields): attachments on the wire.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::socketio::server::namespace::BroadcastOperator;
use crate::socketio::server::socket::{AckSender, EmitError, Socket};
use crate::socketio::{Data, DataError, from_data, to_data};

/// The argument list `args` serializes to: it must be a sequence (a tuple, an array).
fn arguments(args: &(impl Serialize + ?Sized)) -> Result<Vec<Data>, EmitError> {
    match to_data(args)? {
        Data::Array(args) => Ok(args),
        _ => Err(EmitError::Arguments(DataError::Message(
            "the arguments must serialize to a sequence: a tuple, an array".to_owned(),
        ))),
    }
}

impl Socket {
    /// Calls `handler` for each event `event`, its arguments read as a `T` from the list of
    /// arguments (`(String,)` for one string; an `Err` says what did not fit, so that bad
    /// input is seen, not dropped), with the [`AckSender`] if the client asked for an
    /// answer. Shares [`on`](Self::on)'s table: one handler per name, raw or typed.
    ///
    /// ```no_run
    /// use rfc6455::socketio::{SocketIoConfig, SocketIoServer};
    ///
    /// #[derive(serde::Deserialize, serde::Serialize)]
    /// struct Chat { room: String, text: String }
    ///
    /// let io = SocketIoServer::new(SocketIoConfig::default())?;
    /// io.of("/").on_connection(|socket| {
    ///     socket.on_typed("chat", |socket, args: Result<(Chat,), _>, ack| {
    ///         let Ok((chat,)) = args else { return };
    ///         let _ = socket.to(chat.room.clone()).emit_typed("chat", &(&chat,));
    ///         if let Some(ack) = ack {
    ///             let _ = ack.send_typed(&("delivered", chat.text.len()));
    ///         }
    ///     });
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_typed<T: DeserializeOwned>(
        &self,
        event: impl Into<String>,
        handler: impl Fn(&Socket, Result<T, DataError>, Option<AckSender>) + Send + Sync + 'static,
    ) {
        self.on(event, move |socket, args, ack| {
            handler(socket, from_data(Data::Array(args)), ack);
        });
    }

    /// Emits `event` with the arguments `args` serializes to (a tuple or an array).
    pub fn emit_typed(
        &self,
        event: &str,
        args: &(impl Serialize + ?Sized),
    ) -> Result<(), EmitError> {
        self.emit(event, arguments(args)?)
    }
}

impl AckSender {
    /// Sends the ACK with the arguments `args` serializes to (a tuple or an array).
    pub fn send_typed(self, args: &(impl Serialize + ?Sized)) -> Result<(), EmitError> {
        self.send(arguments(args)?)
    }
}

impl BroadcastOperator {
    /// Emits `event` with the arguments `args` serializes to (a tuple or an array) to every
    /// socket reached, encoded once ([`emit`](Self::emit)).
    pub fn emit_typed(
        &self,
        event: &str,
        args: &(impl Serialize + ?Sized),
    ) -> Result<(), EmitError> {
        self.emit(event, arguments(args)?)
    }
}
