//! MessagePack, the subset the Socket.IO Redis adapter puts on the wire: nil, booleans,
//! integers, floats, strings, binary, arrays and maps ([`MsgpackValue`]), encoded
//! ([`encode_msgpack`]) and decoded from one whole message ([`decode_msgpack`]).
//!
//! A pub/sub message arrives whole, so the decoder is not resumable; it is bounded instead:
//! nesting stops at [`MSGPACK_MAX_DEPTH`], and every length is checked against the bytes
//! that are left before anything is allocated, so a hostile length costs nothing. Every
//! refusal is a precise [`MsgpackError`] with the offset where it was found. Extension
//! types (the timestamps of JavaScript `Date`s, say) are refused: the adapter's peers send
//! none for ordinary event arguments.
//!
//! ```
//! use bytes::Bytes;
//! use rfc6455::redis::{MsgpackValue, decode_msgpack, encode_msgpack};
//!
//! let value = MsgpackValue::Array(vec![MsgpackValue::from("hi"), MsgpackValue::Int(-1)]);
//! let mut bytes = Vec::new();
//! encode_msgpack(&value, &mut bytes)?;
//! assert_eq!(bytes, [0x92, 0xa2, b'h', b'i', 0xff]);
//! assert_eq!(decode_msgpack(Bytes::from(bytes))?, value);
//! # Ok::<(), rfc6455::redis::MsgpackError>(())
//! ```

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use bytes::Bytes;

/// How deep arrays and maps may nest in a decoded message (as deep as serde_json's
/// default recursion limit, which bounds the same arguments when they come as JSON).
pub const MSGPACK_MAX_DEPTH: usize = 128;

/// One MessagePack value of the subset this crate speaks.
#[derive(Debug, Clone, PartialEq)]
pub enum MsgpackValue {
    /// `nil` (JavaScript's `null` and `undefined`).
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits an `i64` (every integer the wire carries, but the largest
    /// unsigned ones).
    Int(i64),
    /// An unsigned integer above `i64::MAX`.
    UInt(u64),
    /// A float (32-bit ones are widened when decoded; this side encodes 64 bits).
    Float(f64),
    /// A UTF-8 string.
    Str(String),
    /// Binary data (a Node `Buffer`).
    Bin(Bytes),
    /// An array.
    Array(Vec<MsgpackValue>),
    /// A map, its pairs in wire order.
    Map(Vec<(MsgpackValue, MsgpackValue)>),
}

impl MsgpackValue {
    /// The string, if this is a [`MsgpackValue::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MsgpackValue::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The elements, if this is a [`MsgpackValue::Array`].
    pub fn as_array(&self) -> Option<&[MsgpackValue]> {
        match self {
            MsgpackValue::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The value of the first pair whose key is the string `key`, if this is a map.
    pub fn get(&self, key: &str) -> Option<&MsgpackValue> {
        match self {
            MsgpackValue::Map(pairs) => pairs
                .iter()
                .find(|(name, _)| name.as_str() == Some(key))
                .map(|(_, value)| value),
            _ => None,
        }
    }
}

impl From<&str> for MsgpackValue {
    fn from(text: &str) -> Self {
        MsgpackValue::Str(text.to_owned())
    }
}

impl From<String> for MsgpackValue {
    fn from(text: String) -> Self {
        MsgpackValue::Str(text)
    }
}

/// Why bytes are not one MessagePack value of the subset, or a value cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MsgpackError {
    /// The input ends inside a value (or a length says more bytes follow than there are).
    #[error("msgpack: truncated at byte {offset}")]
    Truncated {
        /// Where the value that does not fit starts.
        offset: usize,
    },
    /// A whole value was read and bytes are left after it.
    #[error("msgpack: {left} bytes after the value, at byte {offset}")]
    TrailingBytes {
        /// Where they start.
        offset: usize,
        /// How many.
        left: usize,
    },
    /// Arrays and maps nest deeper than [`MSGPACK_MAX_DEPTH`].
    #[error("msgpack: nested deeper than {MSGPACK_MAX_DEPTH} at byte {offset}")]
    TooDeep {
        /// Where the array or map one level too deep starts.
        offset: usize,
    },
    /// A type this subset does not speak: an extension type, or `0xc1` (never used).
    #[error("msgpack: unsupported type byte {byte:#04x} at byte {offset}")]
    Unsupported {
        /// The type byte.
        byte: u8,
        /// Where it is.
        offset: usize,
    },
    /// A string that is not UTF-8.
    #[error("msgpack: a string that is not UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Where the string starts.
        offset: usize,
    },
    /// (Encoding) a string, binary, array or map of 2^32 items or bytes or more.
    #[error("msgpack: a value too long to encode (2^32 or more)")]
    TooLong,
}

/// Appends `value`, in its shortest encoding, to `out`. The only error: something of 2^32
/// bytes or items or more ([`MsgpackError::TooLong`]); `out` then holds a part of it.
pub fn encode_msgpack(value: &MsgpackValue, out: &mut Vec<u8>) -> Result<(), MsgpackError> {
    match value {
        MsgpackValue::Nil => out.push(0xc0),
        MsgpackValue::Bool(false) => out.push(0xc2),
        MsgpackValue::Bool(true) => out.push(0xc3),
        MsgpackValue::Int(number) => encode_int(*number, out),
        MsgpackValue::UInt(number) => match i64::try_from(*number) {
            Ok(number) => encode_int(number, out),
            Err(_) => {
                out.push(0xcf);
                out.extend_from_slice(&number.to_be_bytes());
            }
        },
        MsgpackValue::Float(number) => {
            out.push(0xcb);
            out.extend_from_slice(&number.to_be_bytes());
        }
        MsgpackValue::Str(text) => {
            let length = length(text.len())?;
            match length {
                0..32 => out.push(0xa0 | length as u8),
                32..256 => out.extend_from_slice(&[0xd9, length as u8]),
                256..65536 => {
                    out.push(0xda);
                    out.extend_from_slice(&(length as u16).to_be_bytes());
                }
                _ => {
                    out.push(0xdb);
                    out.extend_from_slice(&length.to_be_bytes());
                }
            }
            out.extend_from_slice(text.as_bytes());
        }
        MsgpackValue::Bin(bytes) => {
            let length = length(bytes.len())?;
            match length {
                0..256 => out.extend_from_slice(&[0xc4, length as u8]),
                256..65536 => {
                    out.push(0xc5);
                    out.extend_from_slice(&(length as u16).to_be_bytes());
                }
                _ => {
                    out.push(0xc6);
                    out.extend_from_slice(&length.to_be_bytes());
                }
            }
            out.extend_from_slice(bytes);
        }
        MsgpackValue::Array(items) => {
            encode_count(length(items.len())?, [0x90, 0xdc, 0xdd], out);
            for item in items {
                encode_msgpack(item, out)?;
            }
        }
        MsgpackValue::Map(pairs) => {
            encode_count(length(pairs.len())?, [0x80, 0xde, 0xdf], out);
            for (key, value) in pairs {
                encode_msgpack(key, out)?;
                encode_msgpack(value, out)?;
            }
        }
    }
    Ok(())
}

fn length(length: usize) -> Result<u32, MsgpackError> {
    u32::try_from(length).map_err(|_| MsgpackError::TooLong)
}

/// An array's or a map's header: its fix form (up to 15), 16 or 32 bits.
fn encode_count(count: u32, [fix, sixteen, thirty_two]: [u8; 3], out: &mut Vec<u8>) {
    match count {
        0..16 => out.push(fix | count as u8),
        16..65536 => {
            out.push(sixteen);
            out.extend_from_slice(&(count as u16).to_be_bytes());
        }
        _ => {
            out.push(thirty_two);
            out.extend_from_slice(&count.to_be_bytes());
        }
    }
}

fn encode_int(number: i64, out: &mut Vec<u8>) {
    match number {
        0..128 => out.push(number as u8),
        -32..0 => out.push(number as i8 as u8),
        128..256 => out.extend_from_slice(&[0xcc, number as u8]),
        256..65536 => {
            out.push(0xcd);
            out.extend_from_slice(&(number as u16).to_be_bytes());
        }
        65536..=0xffff_ffff => {
            out.push(0xce);
            out.extend_from_slice(&(number as u32).to_be_bytes());
        }
        -128..-32 => out.extend_from_slice(&[0xd0, number as i8 as u8]),
        -32768..-128 => {
            out.push(0xd1);
            out.extend_from_slice(&(number as i16).to_be_bytes());
        }
        -2_147_483_648..-32768 => {
            out.push(0xd2);
            out.extend_from_slice(&(number as i32).to_be_bytes());
        }
        _ => {
            out.push(0xd3);
            out.extend_from_slice(&number.to_be_bytes());
        }
    }
}

/// The one value that `input` holds, all of it.
pub fn decode_msgpack(input: Bytes) -> Result<MsgpackValue, MsgpackError> {
    let mut reader = Reader { input, offset: 0 };
    let value = reader.value(0)?;
    let left = reader.input.len() - reader.offset;
    match left {
        0 => Ok(value),
        _ => Err(MsgpackError::TrailingBytes {
            offset: reader.offset,
            left,
        }),
    }
}

/// A cursor over one message.
struct Reader {
    input: Bytes,
    /// Bytes read so far; never past the input's end.
    offset: usize,
}

impl Reader {
    /// The next `count` bytes, or `Truncated` (at `start`, the value's first byte).
    fn take(&mut self, count: usize, start: usize) -> Result<Bytes, MsgpackError> {
        let end = self
            .offset
            .checked_add(count)
            .filter(|end| *end <= self.input.len())
            .ok_or(MsgpackError::Truncated { offset: start })?;
        let bytes = self.input.slice(self.offset..end);
        self.offset = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self, start: usize) -> Result<[u8; N], MsgpackError> {
        let bytes = self.take(N, start)?;
        let mut array = [0u8; N];
        array.copy_from_slice(&bytes);
        Ok(array)
    }

    /// A big-endian length of `width` bytes (1, 2 or 4).
    fn length(&mut self, width: usize, start: usize) -> Result<usize, MsgpackError> {
        let length = match width {
            1 => u32::from(u8::from_be_bytes(self.array(start)?)),
            2 => u32::from(u16::from_be_bytes(self.array(start)?)),
            _ => u32::from_be_bytes(self.array(start)?),
        };
        usize::try_from(length).map_err(|_| MsgpackError::Truncated { offset: start })
    }

    fn value(&mut self, depth: usize) -> Result<MsgpackValue, MsgpackError> {
        let start = self.offset;
        let [byte] = self.array::<1>(start)?;
        Ok(match byte {
            0x00..=0x7f => MsgpackValue::Int(i64::from(byte)),
            0x80..=0x8f => self.map(usize::from(byte & 0x0f), depth, start)?,
            0x90..=0x9f => self.items(usize::from(byte & 0x0f), depth, start)?,
            0xa0..=0xbf => self.string(usize::from(byte & 0x1f), start)?,
            0xc0 => MsgpackValue::Nil,
            0xc2 => MsgpackValue::Bool(false),
            0xc3 => MsgpackValue::Bool(true),
            0xc4..=0xc6 => {
                let length = self.length(1 << (byte - 0xc4), start)?;
                MsgpackValue::Bin(self.take(length, start)?)
            }
            0xca => MsgpackValue::Float(f64::from(f32::from_be_bytes(self.array(start)?))),
            0xcb => MsgpackValue::Float(f64::from_be_bytes(self.array(start)?)),
            0xcc => MsgpackValue::Int(i64::from(u8::from_be_bytes(self.array(start)?))),
            0xcd => MsgpackValue::Int(i64::from(u16::from_be_bytes(self.array(start)?))),
            0xce => MsgpackValue::Int(i64::from(u32::from_be_bytes(self.array(start)?))),
            0xcf => {
                let number = u64::from_be_bytes(self.array(start)?);
                match i64::try_from(number) {
                    Ok(number) => MsgpackValue::Int(number),
                    Err(_) => MsgpackValue::UInt(number),
                }
            }
            0xd0 => MsgpackValue::Int(i64::from(i8::from_be_bytes(self.array(start)?))),
            0xd1 => MsgpackValue::Int(i64::from(i16::from_be_bytes(self.array(start)?))),
            0xd2 => MsgpackValue::Int(i64::from(i32::from_be_bytes(self.array(start)?))),
            0xd3 => MsgpackValue::Int(i64::from_be_bytes(self.array(start)?)),
            0xd9..=0xdb => {
                let length = self.length(1 << (byte - 0xd9), start)?;
                self.string(length, start)?
            }
            0xdc | 0xdd => {
                let count = self.length(2 << (byte - 0xdc), start)?;
                self.items(count, depth, start)?
            }
            0xde | 0xdf => {
                let count = self.length(2 << (byte - 0xde), start)?;
                self.map(count, depth, start)?
            }
            0xe0..=0xff => MsgpackValue::Int(i64::from(byte as i8)),
            // 0xc1 (never used), 0xc7..=0xc9 and 0xd4..=0xd8 (extension types).
            _ => {
                return Err(MsgpackError::Unsupported {
                    byte,
                    offset: start,
                });
            }
        })
    }

    fn string(&mut self, length: usize, start: usize) -> Result<MsgpackValue, MsgpackError> {
        let bytes = self.take(length, start)?;
        let text =
            std::str::from_utf8(&bytes).map_err(|_| MsgpackError::InvalidUtf8 { offset: start })?;
        Ok(MsgpackValue::Str(text.to_owned()))
    }

    /// Room for `count` values of at least a byte each, checked before any allocation.
    fn check_room(&self, count: usize, start: usize) -> Result<(), MsgpackError> {
        match count <= self.input.len() - self.offset {
            true => Ok(()),
            false => Err(MsgpackError::Truncated { offset: start }),
        }
    }

    fn items(
        &mut self,
        count: usize,
        depth: usize,
        start: usize,
    ) -> Result<MsgpackValue, MsgpackError> {
        if depth >= MSGPACK_MAX_DEPTH {
            return Err(MsgpackError::TooDeep { offset: start });
        }
        self.check_room(count, start)?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(self.value(depth + 1)?);
        }
        Ok(MsgpackValue::Array(items))
    }

    fn map(
        &mut self,
        count: usize,
        depth: usize,
        start: usize,
    ) -> Result<MsgpackValue, MsgpackError> {
        if depth >= MSGPACK_MAX_DEPTH {
            return Err(MsgpackError::TooDeep { offset: start });
        }
        self.check_room(count.saturating_mul(2), start)?;
        let mut pairs = Vec::with_capacity(count);
        for _ in 0..count {
            let key = self.value(depth + 1)?;
            let value = self.value(depth + 1)?;
            pairs.push((key, value));
        }
        Ok(MsgpackValue::Map(pairs))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use MsgpackValue::*;

    fn encoded(value: &MsgpackValue) -> Vec<u8> {
        let mut out = Vec::new();
        encode_msgpack(value, &mut out).unwrap();
        out
    }

    fn decoded(bytes: &[u8]) -> Result<MsgpackValue, MsgpackError> {
        decode_msgpack(Bytes::copy_from_slice(bytes))
    }

    /// Every value of the subset, at each width's edges.
    fn samples() -> Vec<MsgpackValue> {
        let mut values = vec![Nil, Bool(false), Bool(true), Float(1.5), Float(-0.0)];
        for number in [
            0,
            127,
            128,
            255,
            256,
            65535,
            65536,
            0xffff_ffff,
            0x1_0000_0000,
            i64::MAX,
            -1,
            -32,
            -33,
            -128,
            -129,
            -32768,
            -32769,
            i64::from(i32::MIN),
            i64::from(i32::MIN) - 1,
            i64::MIN,
        ] {
            values.push(Int(number));
        }
        values.push(UInt(u64::MAX));
        for length in [0, 31, 32, 255, 256, 65535, 65536] {
            values.push(Str("é".repeat(length / 2) + &"x".repeat(length % 2)));
            values.push(Bin(Bytes::from(vec![7u8; length])));
        }
        for count in [0, 15, 16, 65535, 65536] {
            values.push(Array(vec![Nil; count]));
            values.push(Map(vec![(Int(1), Nil); count]));
        }
        values
    }

    #[test]
    fn every_sample_round_trips() {
        for value in samples() {
            assert_eq!(decoded(&encoded(&value)), Ok(value.clone()), "{value:?}");
        }
    }

    #[test]
    fn encodings_are_the_shortest_and_match_the_reference() {
        // As notepack.io (the adapter's codec) writes them.
        assert_eq!(encoded(&Int(5)), [0x05]);
        assert_eq!(encoded(&Int(-5)), [0xfb]);
        assert_eq!(encoded(&Int(200)), [0xcc, 200]);
        assert_eq!(encoded(&Int(-200)), [0xd1, 0xff, 0x38]);
        assert_eq!(encoded(&UInt(7)), [0x07]);
        assert_eq!(encoded(&Str("a".into())), [0xa1, b'a']);
        assert_eq!(encoded(&Str("a".repeat(40))).len(), 42);
        assert_eq!(encoded(&Bin(Bytes::from_static(&[1]))), [0xc4, 1, 1]);
        assert_eq!(
            encoded(&Map(vec![(Str("k".into()), Bool(true))])),
            [0x81, 0xa1, b'k', 0xc3]
        );
        // Widths this side never writes, but reads.
        assert_eq!(decoded(&[0xca, 0x3f, 0xc0, 0, 0]), Ok(Float(1.5)));
        assert_eq!(decoded(&[0xcf, 0, 0, 0, 0, 0, 0, 0, 9]), Ok(Int(9)));
        assert_eq!(decoded(&[0xd9, 1, b'z']), Ok(Str("z".into())));
        assert_eq!(decoded(&[0xdc, 0, 1, 0xc0]), Ok(Array(vec![Nil])));
        assert_eq!(decoded(&[0xdf, 0, 0, 0, 0]), Ok(Map(vec![])));
    }

    #[test]
    fn every_truncation_is_refused() {
        let message = Array(vec![
            Str("emitter".into()),
            Map(vec![
                (Str("type".into()), Int(2)),
                (
                    Str("data".into()),
                    Array(vec![
                        Str("hello".into()),
                        Bin(Bytes::from_static(&[0, 255])),
                        Float(0.25),
                        Int(-70000),
                        Str("x".repeat(300)),
                    ]),
                ),
            ]),
            Map(vec![]),
        ]);
        let bytes = encoded(&message);
        for cut in 0..bytes.len() {
            assert!(
                matches!(decoded(&bytes[..cut]), Err(MsgpackError::Truncated { .. })),
                "cut at {cut}"
            );
        }
        assert_eq!(decoded(&bytes), Ok(message));
    }

    #[test]
    fn hostile_input_is_refused_precisely() {
        // Lengths far past the input, for every sized type.
        for header in [
            &[0xc6, 0xff, 0xff, 0xff, 0xff][..],
            &[0xdb, 0xff, 0xff, 0xff, 0xff],
            &[0xdd, 0xff, 0xff, 0xff, 0xff],
            &[0xdf, 0xff, 0xff, 0xff, 0xff],
            &[0x9f],
            &[0x8f, 0xc0],
        ] {
            assert_eq!(
                decoded(header),
                Err(MsgpackError::Truncated { offset: 0 }),
                "{header:?}"
            );
        }
        assert_eq!(
            decoded(&[0x91, 0xa2, 0xff, 0xfe]),
            Err(MsgpackError::InvalidUtf8 { offset: 1 })
        );
        for byte in [0xc1, 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8] {
            assert_eq!(
                decoded(&[0x91, byte, 0, 0]),
                Err(MsgpackError::Unsupported { byte, offset: 1 })
            );
        }
        assert_eq!(
            decoded(&[0xc0, 0xc0]),
            Err(MsgpackError::TrailingBytes { offset: 1, left: 1 })
        );
        assert_eq!(decoded(&[]), Err(MsgpackError::Truncated { offset: 0 }));
        // Nesting: up to the bound decodes, one more does not, and a million does not
        // overflow the stack.
        let nested = |depth: usize| {
            let mut bytes = vec![0x91; depth];
            bytes.push(0xc0);
            bytes
        };
        assert!(decoded(&nested(MSGPACK_MAX_DEPTH)).is_ok());
        assert_eq!(
            decoded(&nested(MSGPACK_MAX_DEPTH + 1)),
            Err(MsgpackError::TooDeep {
                offset: MSGPACK_MAX_DEPTH
            })
        );
        assert!(matches!(
            decoded(&vec![0x81; 1 << 20]),
            Err(MsgpackError::TooDeep { .. })
        ));
    }

    #[test]
    fn every_byte_value_in_every_position_decodes_or_is_refused() {
        // Never a panic: one-, two- and three-byte inputs over the interesting first bytes.
        for first in 0..=255u8 {
            let _ = decoded(&[first]);
            for second in [0x00, 0x01, 0x7f, 0x80, 0xc0, 0xff] {
                let _ = decoded(&[first, second]);
                let _ = decoded(&[first, second, 0xff]);
            }
        }
    }
}
