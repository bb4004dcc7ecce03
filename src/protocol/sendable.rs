//! [`Sendable`]: everything `send` takes, in one verb: text (`&str`, `String`, [`Text`]),
//! binary (`&[u8]`, `Vec<u8>`, [`Bytes`]), a [`Message`], or an [`EncodedMessage`] (a
//! server frame encoded once for many connections).
//!
//! Borrowed payloads are copied straight into the connection's output, next to their frame
//! header (no allocation of their own); owned ones ([`Bytes`], [`Message`], `Vec<u8>`) are
//! queued by reference when they are large, so an echo or a broadcast copies nothing.

use bytes::Bytes;

use super::{Connection, EncodedMessage, Message, MessageKind, Text};
use crate::config::Config;
use crate::error::Error;

/// A message `send` can take: `&str`, `String` and [`Text`] send text; `&[u8]`,
/// `&[u8; N]`, `Vec<u8>` and [`Bytes`] send binary; a [`Message`] sends its kind; an
/// [`EncodedMessage`] sends its frame as it is (server connections only).
///
/// ```
/// use bytes::Bytes;
/// use rfc6455::{Config, Connection, Message, Role};
///
/// let mut server = Connection::new(Role::Server, &Config::default());
/// server.send("text").unwrap();
/// server.send(&[1u8, 2, 3]).unwrap();
/// server.send(Bytes::from_static(b"shared")).unwrap();
/// server.send(Message::from("also text")).unwrap();
/// assert_eq!(server.buffered_amount(), 6 + 5 + 8 + 11);
/// ```
///
/// The trait is sealed: the crate implements it for exactly these types.
pub trait Sendable: sealed::Payload {}

pub(crate) mod sealed {
    use super::*;

    /// How each kind of payload is queued on one connection, or framed once for many.
    pub trait Payload {
        /// Queues the message on `connection`.
        fn queue_on(self, connection: &mut Connection) -> Result<(), Error>;
        /// Frames the message once, for connections that negotiated what `config` says.
        fn encode(self, config: &Config) -> EncodedMessage;
    }
}

impl<T: sealed::Payload> Sendable for T {}

/// Borrowed payloads: copied into the output.
macro_rules! borrowed {
    ($kind:ident, $as_bytes:expr, $($type:ty),+) => {$(
        impl sealed::Payload for $type {
            fn queue_on(self, connection: &mut Connection) -> Result<(), Error> {
                connection.send_copied(MessageKind::$kind, $as_bytes(self))
            }
            fn encode(self, config: &Config) -> EncodedMessage {
                EncodedMessage::new(MessageKind::$kind, $as_bytes(self), config)
            }
        }
    )+};
}

borrowed!(Text, str::as_bytes, &str, &String);
borrowed!(Binary, std::convert::identity, &[u8]);
borrowed!(Binary, Vec::as_slice, &Vec<u8>);

impl<const N: usize> sealed::Payload for &[u8; N] {
    fn queue_on(self, connection: &mut Connection) -> Result<(), Error> {
        connection.send_copied(MessageKind::Binary, self)
    }
    fn encode(self, config: &Config) -> EncodedMessage {
        EncodedMessage::new(MessageKind::Binary, self, config)
    }
}

/// Owned payloads: shared, not copied, when they are large.
macro_rules! owned {
    ($($type:ty),+) => {$(
        impl sealed::Payload for $type {
            fn queue_on(self, connection: &mut Connection) -> Result<(), Error> {
                let message = Message::from(self);
                connection.send_shared(message.kind(), message.into_bytes())
            }
            fn encode(self, config: &Config) -> EncodedMessage {
                let message = Message::from(self);
                EncodedMessage::new(message.kind(), message.as_bytes(), config)
            }
        }
    )+};
}

owned!(String, Text, Vec<u8>, Bytes, Message);

impl sealed::Payload for &Message {
    fn queue_on(self, connection: &mut Connection) -> Result<(), Error> {
        self.clone().queue_on(connection)
    }
    fn encode(self, config: &Config) -> EncodedMessage {
        EncodedMessage::new(self.kind(), self.as_bytes(), config)
    }
}

impl sealed::Payload for &EncodedMessage {
    fn queue_on(self, connection: &mut Connection) -> Result<(), Error> {
        connection.send_encoded(self)
    }
    fn encode(self, _config: &Config) -> EncodedMessage {
        self.clone()
    }
}

impl sealed::Payload for EncodedMessage {
    fn queue_on(self, connection: &mut Connection) -> Result<(), Error> {
        connection.send_encoded(&self)
    }
    fn encode(self, _config: &Config) -> EncodedMessage {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::Payload;
    use super::*;
    use crate::Role;

    fn output(connection: &Connection) -> Vec<u8> {
        let mut slices = [std::io::IoSlice::new(&[]); 8];
        let count = connection.output_slices(&mut slices);
        slices[..count]
            .iter()
            .flat_map(|s| s.iter().copied())
            .collect()
    }

    type SendCase = Box<dyn Fn(&mut Connection) -> Result<(), Error>>;

    #[test]
    #[allow(
        clippy::needless_borrows_for_generic_args,
        reason = "the borrowed forms are what this test covers"
    )]
    fn every_payload_type_sends_its_kind_with_the_same_bytes() {
        let config = Config::default();
        let text = [0x81, 2, b'h', b'i'];
        let binary = [0x82, 2, b'h', b'i'];
        let cases: Vec<(SendCase, &[u8])> = vec![
            (Box::new(|c| c.send("hi")), &text),
            (Box::new(|c| c.send(&String::from("hi"))), &text),
            (Box::new(|c| c.send(String::from("hi"))), &text),
            (Box::new(|c| c.send(Text::from("hi"))), &text),
            (Box::new(|c| c.send(Message::from("hi"))), &text),
            (Box::new(|c| c.send(&Message::from("hi"))), &text),
            (Box::new(|c| c.send(&b"hi"[..])), &binary),
            (Box::new(|c| c.send(b"hi")), &binary),
            (Box::new(|c| c.send(&b"hi".to_vec())), &binary),
            (Box::new(|c| c.send(b"hi".to_vec())), &binary),
            (Box::new(|c| c.send(Bytes::from_static(b"hi"))), &binary),
            (Box::new(|c| c.send(EncodedMessage::text("hi"))), &text),
            (
                Box::new(|c| c.send(&EncodedMessage::binary(b"hi"))),
                &binary,
            ),
        ];
        for (index, (send, expected)) in cases.iter().enumerate() {
            let mut server = Connection::new(Role::Server, &config);
            send(&mut server).unwrap();
            assert_eq!(output(&server), *expected, "case {index}");
        }
    }

    #[test]
    fn encode_frames_each_payload_type_once() {
        let config = Config {
            #[cfg(feature = "deflate")]
            deflate: None,
            ..Config::default()
        };
        assert_eq!(&"hi".encode(&config).frame()[..], &[0x81, 2, b'h', b'i']);
        assert_eq!(&b"hi".encode(&config).frame()[..], &[0x82, 2, b'h', b'i']);
        let once = EncodedMessage::text("hi");
        assert_eq!(
            (&once).encode(&config).frame().as_ptr(),
            once.frame().as_ptr()
        );
    }
}
