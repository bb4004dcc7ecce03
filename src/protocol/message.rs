//! [`Message`]: a complete data message, text or binary, as plain owned data.

use bytes::Bytes;

use super::{MessageKind, Text};

/// A complete data message.
///
/// ```
/// use rfc6455::Message;
/// let message = Message::from("hello");
/// assert_eq!(message.as_text(), Some("hello"));
/// assert_eq!(message.as_bytes(), b"hello");
/// assert_eq!(Message::from(vec![1u8, 2]).as_text(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (valid UTF-8).
    Text(Text),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// The kind: text or binary.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Text(_) => MessageKind::Text,
            Message::Binary(_) => MessageKind::Binary,
        }
    }

    /// The text, if this is a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text.as_str()),
            Message::Binary(_) => None,
        }
    }

    /// The payload's bytes, whatever the kind.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }

    /// The payload as shared [`Bytes`], without copying.
    pub fn into_bytes(self) -> Bytes {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// True for an empty payload.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(Text::from(text))
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(Text::from(text))
    }
}

impl From<Text> for Message {
    fn from(text: Text) -> Self {
        Message::Text(text)
    }
}

impl From<Bytes> for Message {
    fn from(bytes: Bytes) -> Self {
        Message::Binary(bytes)
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::Binary(Bytes::from(bytes))
    }
}

impl From<&[u8]> for Message {
    fn from(bytes: &[u8]) -> Self {
        Message::Binary(Bytes::copy_from_slice(bytes))
    }
}
