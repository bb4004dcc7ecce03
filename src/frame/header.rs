//! The frame header codec of RFC 6455 section 5.2: FIN, RSV1-3, opcode, MASK, the 7/16/64-bit
//! payload length and the masking key.
//!
//! Decoding enforces the rules that need no connection state: reserved opcodes, fragmented
//! or oversized control frames, and a 64-bit length with its top bit set. The rules that
//! depend on the connection (who must mask, which RSV bits an extension claims, limits) are
//! the connection's.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::error::ProtocolError;

/// The longest a frame header can be: 2 bytes, 8 of extended length, 4 of masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload a control frame (close, ping, pong) may carry.
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame's opcode. The reserved values (3-7, 0xB-0xF) never decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// 0x0: a continuation of a fragmented message.
    Continuation,
    /// 0x1: the first frame of a text message.
    Text,
    /// 0x2: the first frame of a binary message.
    Binary,
    /// 0x8: the close control frame.
    Close,
    /// 0x9: the ping control frame.
    Ping,
    /// 0xA: the pong control frame.
    Pong,
}

impl OpCode {
    /// The opcode for the low four bits of a header's first byte.
    pub fn from_bits(bits: u8) -> Result<OpCode, ProtocolError> {
        match bits {
            0x0 => Ok(OpCode::Continuation),
            0x1 => Ok(OpCode::Text),
            0x2 => Ok(OpCode::Binary),
            0x8 => Ok(OpCode::Close),
            0x9 => Ok(OpCode::Ping),
            0xA => Ok(OpCode::Pong),
            other => Err(ProtocolError::ReservedOpcode(other)),
        }
    }

    /// The four bits this opcode is written as.
    pub fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// True for close, ping and pong.
    pub fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// A decoded or to-be-encoded frame header.
///
/// ```
/// use rfc6455::frame::{FrameHeader, OpCode};
///
/// let header = FrameHeader::new(OpCode::Text, 5);
/// let mut bytes = [0u8; 14];
/// let len = header.encode(&mut bytes);
/// assert_eq!(&bytes[..len], &[0x81, 0x05]);
/// assert_eq!(FrameHeader::decode(&bytes[..len]), Ok(Some((header, 2))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// True on the last frame of a message (and on every control frame).
    pub fin: bool,
    /// RSV1, RSV2, RSV3 as the bits `0b100`, `0b010`, `0b001`.
    pub rsv: u8,
    /// The frame's opcode.
    pub opcode: OpCode,
    /// The masking key, present on every frame a client sends.
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
}

/// RSV1, the bit permessage-deflate claims, in [`FrameHeader::rsv`].
pub const RSV1: u8 = 0b100;

impl FrameHeader {
    /// A final, unmasked header with no RSV bits.
    pub fn new(opcode: OpCode, payload_len: u64) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask: None,
            payload_len,
        }
    }

    /// Decodes a header from the start of `buf`.
    ///
    /// Returns `Ok(None)` while `buf` holds too few bytes, and `Ok(Some((header, len)))`
    /// with the number of header bytes once it is complete. An error is returned as soon
    /// as the bytes present show a violation: a reserved opcode after one byte, an
    /// oversized or fragmented control frame after two.
    pub fn decode(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        let fin = first & 0x80 != 0;
        let rsv = (first >> 4) & 0b111;
        let opcode = OpCode::from_bits(first & 0x0F)?;
        let Some(&second) = buf.get(1) else {
            return Ok(None);
        };
        let masked = second & 0x80 != 0;
        let short_len = second & 0x7F;
        if opcode.is_control() {
            if !fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if usize::from(short_len) > MAX_CONTROL_PAYLOAD {
                return Err(ProtocolError::ControlFrameTooLong(u64::from(short_len)));
            }
        }
        let rest = buf.get(2..).unwrap_or_default();
        let (payload_len, len_bytes) = match short_len {
            126 => match rest.first_chunk::<2>() {
                Some(bytes) => (u64::from(u16::from_be_bytes(*bytes)), 2),
                None => return Ok(None),
            },
            127 => match rest.first_chunk::<8>() {
                Some(bytes) => {
                    let len = u64::from_be_bytes(*bytes);
                    if len >> 63 != 0 {
                        return Err(ProtocolError::LengthMsbSet);
                    }
                    (len, 8)
                }
                None => return Ok(None),
            },
            len => (u64::from(len), 0),
        };
        let after_len = rest.get(len_bytes..).unwrap_or_default();
        let mask = if masked {
            match after_len.first_chunk::<4>() {
                Some(key) => Some(*key),
                None => return Ok(None),
            }
        } else {
            None
        };
        let header_len = 2 + len_bytes + if masked { 4 } else { 0 };
        Ok(Some((
            FrameHeader {
                fin,
                rsv,
                opcode,
                mask,
                payload_len,
            },
            header_len,
        )))
    }

    /// How many bytes [`encode`](Self::encode) writes for this header.
    pub fn encoded_len(&self) -> usize {
        let len_bytes = match self.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        2 + len_bytes + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Writes the header with the shortest length encoding and returns its length.
    ///
    /// A `payload_len` of 2^63 or more cannot be represented; it is written with its top
    /// bit cleared, which no caller in this crate produces (lengths come from slices).
    pub fn encode(&self, dst: &mut [u8; MAX_HEADER_LEN]) -> usize {
        dst[0] = (u8::from(self.fin) << 7) | ((self.rsv & 0b111) << 4) | self.opcode.bits();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut len = 2;
        match self.payload_len {
            short @ 0..=125 => dst[1] = mask_bit | short as u8,
            medium @ 126..=0xFFFF => {
                dst[1] = mask_bit | 126;
                dst[2..4].copy_from_slice(&(medium as u16).to_be_bytes());
                len = 4;
            }
            long => {
                dst[1] = mask_bit | 127;
                dst[2..10].copy_from_slice(&(long & (u64::MAX >> 1)).to_be_bytes());
                len = 10;
            }
        }
        if let Some(key) = self.mask {
            // `len` is 2, 4 or 10, so the key always fits in the 14 bytes.
            if let Some(slot) = dst.get_mut(len..len + 4) {
                slot.copy_from_slice(&key);
            }
            len += 4;
        }
        len
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
    use proptest::prelude::*;

    fn encode(header: &FrameHeader) -> Vec<u8> {
        let mut buf = [0u8; MAX_HEADER_LEN];
        let len = header.encode(&mut buf);
        assert_eq!(len, header.encoded_len());
        buf[..len].to_vec()
    }

    #[test]
    fn decodes_rfc_examples() {
        // RFC 6455 section 5.7: a single-frame unmasked text message "Hello".
        let unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let (header, len) = FrameHeader::decode(&unmasked).unwrap().unwrap();
        assert_eq!(len, 2);
        assert_eq!(header, FrameHeader::new(OpCode::Text, 5));
        // The masked version of the same message.
        let masked = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let (header, len) = FrameHeader::decode(&masked).unwrap().unwrap();
        assert_eq!(len, 6);
        assert_eq!(header.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        // 256 bytes binary message in a single unmasked frame: 16-bit length.
        let (header, len) = FrameHeader::decode(&[0x82, 0x7E, 0x01, 0x00])
            .unwrap()
            .unwrap();
        assert_eq!((header.payload_len, len), (256, 4));
        // 64 KiB: 64-bit length.
        let bytes = [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0];
        let (header, len) = FrameHeader::decode(&bytes).unwrap().unwrap();
        assert_eq!((header.payload_len, len), (65536, 10));
    }

    #[test]
    fn incomplete_headers_ask_for_more_at_every_split() {
        let header = FrameHeader {
            fin: false,
            rsv: 0,
            opcode: OpCode::Binary,
            mask: Some([1, 2, 3, 4]),
            payload_len: 1 << 40,
        };
        let bytes = encode(&header);
        assert_eq!(bytes.len(), MAX_HEADER_LEN);
        for cut in 0..bytes.len() {
            assert_eq!(FrameHeader::decode(&bytes[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(FrameHeader::decode(&bytes), Ok(Some((header, 14))));
    }

    #[test]
    fn rejects_reserved_opcodes_after_one_byte() {
        for bits in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert_eq!(
                FrameHeader::decode(&[0x80 | bits]),
                Err(ProtocolError::ReservedOpcode(bits))
            );
        }
    }

    #[test]
    fn rejects_fragmented_and_long_control_frames() {
        assert_eq!(
            FrameHeader::decode(&[0x09, 0x00]),
            Err(ProtocolError::FragmentedControlFrame)
        );
        assert_eq!(
            FrameHeader::decode(&[0x88, 0x7E]),
            Err(ProtocolError::ControlFrameTooLong(126))
        );
        assert_eq!(
            FrameHeader::decode(&[0x8A, 0x7F]),
            Err(ProtocolError::ControlFrameTooLong(127))
        );
        assert!(FrameHeader::decode(&[0x89, 0x7D]).unwrap().is_some());
    }

    #[test]
    fn rejects_length_with_top_bit_set() {
        let mut bytes = vec![0x82, 0x7F];
        bytes.extend_from_slice(&(1u64 << 63).to_be_bytes());
        assert_eq!(
            FrameHeader::decode(&bytes),
            Err(ProtocolError::LengthMsbSet)
        );
        let mut bytes = vec![0x82, 0x7F];
        bytes.extend_from_slice(&(u64::MAX >> 1).to_be_bytes());
        let (header, _) = FrameHeader::decode(&bytes).unwrap().unwrap();
        assert_eq!(header.payload_len, (1 << 63) - 1);
    }

    #[test]
    fn accepts_non_minimal_lengths() {
        // 5 bytes announced with the 16-bit and the 64-bit encodings.
        let (h16, n16) = FrameHeader::decode(&[0x82, 0x7E, 0, 5]).unwrap().unwrap();
        let (h64, n64) = FrameHeader::decode(&[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 5])
            .unwrap()
            .unwrap();
        assert_eq!((h16.payload_len, n16, h64.payload_len, n64), (5, 4, 5, 10));
    }

    #[test]
    fn encodes_length_boundaries_minimally() {
        for (len, header_len) in [
            (0u64, 2usize),
            (125, 2),
            (126, 4),
            (65535, 4),
            (65536, 10),
            (u64::MAX >> 1, 10),
        ] {
            assert_eq!(
                encode(&FrameHeader::new(OpCode::Binary, len)).len(),
                header_len
            );
        }
    }

    fn any_opcode() -> impl Strategy<Value = OpCode> {
        prop_oneof![
            Just(OpCode::Continuation),
            Just(OpCode::Text),
            Just(OpCode::Binary),
            Just(OpCode::Close),
            Just(OpCode::Ping),
            Just(OpCode::Pong),
        ]
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(
            opcode in any_opcode(),
            fin in any::<bool>(),
            rsv in 0u8..8,
            mask in proptest::option::of(any::<[u8; 4]>()),
            len in prop_oneof![0u64..=125, 126u64..=65535, 65536u64..(1 << 63)],
        ) {
            let (fin, len) = if opcode.is_control() { (true, len % 126) } else { (fin, len) };
            let header = FrameHeader { fin, rsv, opcode, mask, payload_len: len };
            let bytes = encode(&header);
            prop_assert_eq!(FrameHeader::decode(&bytes), Ok(Some((header, bytes.len()))));
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..20)) {
            let _ = FrameHeader::decode(&bytes);
        }
    }
}
