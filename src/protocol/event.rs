//! [`Event`]: what a [`Connection`](super::Connection) reports, as plain data.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use bytes::Bytes;

use super::{CloseFrame, Message};

/// One thing that happened on a connection, in the order the peer's bytes said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete message: text (validated UTF-8) or binary.
    Message(Message),
    /// A ping. The pong that answers it is already queued.
    Ping(Bytes),
    /// A pong (an answer to our ping, or unsolicited).
    Pong(Bytes),
    /// The peer's close frame. If we had not sent ours, the reply echoing the peer's code is
    /// already queued; once the output is written the transport can be closed.
    Close(CloseFrame),
}

/// A text message's payload: [`Bytes`] known to hold valid UTF-8.
///
/// ```
/// use rfc6455::Text;
/// let text = Text::from("hello");
/// assert_eq!(text.as_str(), "hello");
/// assert_eq!(&*text, "hello");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text(Bytes);

impl Text {
    /// Wraps `bytes` if they are valid UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Text, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Text(bytes))
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        // Every constructor checked the bytes, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The underlying bytes, shared without copying.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// The text's length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the empty text.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The underlying bytes, without copying.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Wraps bytes the connection has already validated.
    pub(crate) fn from_validated(bytes: Bytes) -> Text {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Text(bytes)
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text(Bytes::from(text))
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
