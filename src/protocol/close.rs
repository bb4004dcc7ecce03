//! The close frame's payload: a code and a reason, parsed and checked.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use bytes::Bytes;

use crate::close_code::CloseCode;

/// The content of a close frame the peer sent: its code and reason.
///
/// An empty close frame is reported with [`CloseCode::NO_STATUS`] and an empty reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason, valid UTF-8 (checked), at most 123 bytes.
    pub reason: String,
}

impl CloseFrame {
    /// A close frame with the given code and reason.
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Self {
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }
}

/// What a close frame's payload says, or why it is invalid.
pub(crate) fn parse_close_payload(
    payload: &Bytes,
) -> Result<CloseFrame, crate::error::ProtocolError> {
    use crate::error::ProtocolError;
    match payload.split_first_chunk::<2>() {
        None if payload.is_empty() => Ok(CloseFrame::new(CloseCode::NO_STATUS, String::new())),
        None => Err(ProtocolError::ClosePayloadTooShort),
        Some((code, reason)) => {
            let code = CloseCode(u16::from_be_bytes(*code));
            if !code.is_sendable() {
                return Err(ProtocolError::InvalidCloseCode(code.0));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidUtf8)?;
            Ok(CloseFrame::new(code, reason))
        }
    }
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
    use crate::error::ProtocolError;

    fn parse(bytes: &[u8]) -> Result<CloseFrame, ProtocolError> {
        parse_close_payload(&Bytes::copy_from_slice(bytes))
    }

    #[test]
    fn parses_payloads() {
        assert_eq!(
            parse(&[]).unwrap(),
            CloseFrame::new(CloseCode::NO_STATUS, "")
        );
        assert_eq!(
            parse(&[0x03, 0xE8, b'o', b'k']).unwrap(),
            CloseFrame::new(CloseCode::NORMAL, "ok")
        );
        assert_eq!(parse(&[0x03]), Err(ProtocolError::ClosePayloadTooShort));
        assert_eq!(
            parse(&[0x03, 0xED]),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        assert_eq!(parse(&[0x03, 0xE8, 0xFF]), Err(ProtocolError::InvalidUtf8));
    }
}
