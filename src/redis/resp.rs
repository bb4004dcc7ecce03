//! RESP2, the Redis serialization protocol, sans-IO: commands encoded as arrays of bulk
//! strings ([`encode_command`]), replies and pub/sub pushes decoded incrementally
//! ([`ReplyDecoder`]) and bounded ([`RespLimits`]).
//!
//! The decoder is resumable: it keeps the arrays it is filling and the bulk string it is
//! waiting for, so a reply arriving in many pieces costs one pass over its bytes, not one
//! per piece. Every refusal is a precise [`RespError`]; after one the stream cannot be
//! trusted, and the connection should be dropped.
//!
//! ```
//! use bytes::Bytes;
//! use rfc6455::redis::{Reply, ReplyDecoder, RespLimits, encode_command};
//!
//! let mut command = Vec::new();
//! encode_command(&[b"PUBLISH", b"room", b"hello"], &mut command);
//! assert_eq!(command, b"*3\r\n$7\r\nPUBLISH\r\n$4\r\nroom\r\n$5\r\nhello\r\n");
//!
//! let mut decoder = ReplyDecoder::new(RespLimits::default());
//! decoder.feed(b"*3\r\n$7\r\nmessage\r\n$4\r\nroom\r\n$5\r\nhel");
//! assert_eq!(decoder.next_reply()?, None); // not all there yet
//! decoder.feed(b"lo\r\n:1\r\n");
//! let push = decoder.next_reply()?.unwrap();
//! assert_eq!(push.as_array().unwrap()[2], Reply::Bulk(Some(Bytes::from("hello"))));
//! assert_eq!(decoder.next_reply()?, Some(Reply::Integer(1)));
//! # Ok::<(), rfc6455::redis::RespError>(())
//! ```

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use bytes::{Buf, Bytes, BytesMut};

/// One RESP2 value: a reply to a command, or a pub/sub push (an array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`: a simple string.
    Simple(Bytes),
    /// `-ERR ...`: an error reply (the command failed; the stream goes on).
    Error(Bytes),
    /// `:1`: an integer.
    Integer(i64),
    /// `$5 hello`: a bulk string, or `$-1`, the null bulk string.
    Bulk(Option<Bytes>),
    /// `*2 ...`: an array, or `*-1`, the null array.
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The elements, if this is a (non-null) array.
    pub fn as_array(&self) -> Option<&[Reply]> {
        match self {
            Reply::Array(Some(items)) => Some(items),
            _ => None,
        }
    }

    /// The bytes of a simple or (non-null) bulk string.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Reply::Simple(bytes) | Reply::Bulk(Some(bytes)) => Some(bytes),
            _ => None,
        }
    }
}

/// What a [`ReplyDecoder`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RespLimits {
    /// The most bytes one reply may take on the wire, all its elements included (a bulk
    /// string's announced length is checked against it before its bytes arrive).
    pub max_reply_bytes: usize,
    /// The deepest nesting of arrays.
    pub max_depth: usize,
    /// The longest header line (`+`, `-`, `:`, `$`, `*` lines), CRLF included.
    pub max_line: usize,
}

impl Default for RespLimits {
    /// 64 MiB per reply, arrays 8 deep, lines of 64 KiB.
    fn default() -> Self {
        RespLimits {
            max_reply_bytes: 64 << 20,
            max_depth: 8,
            max_line: 64 << 10,
        }
    }
}

/// Why a reply stream was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RespError {
    /// A value began with a byte that is no RESP2 type.
    #[error("RESP: unknown type byte 0x{0:02x}")]
    UnknownType(u8),
    /// A header line ran past [`RespLimits::max_line`] without its CRLF.
    #[error("RESP: a line longer than {0} bytes")]
    LineTooLong(usize),
    /// A line held a CR not followed by LF, or an LF without its CR.
    #[error("RESP: a line with a bare CR or LF")]
    BareLineBreak,
    /// An integer, or a length, that is not a decimal number in range.
    #[error("RESP: {0:?} is not an integer")]
    InvalidInteger(String),
    /// A bulk string or array length below -1.
    #[error("RESP: negative length {0}")]
    NegativeLength(i64),
    /// A bulk string not followed by CRLF.
    #[error("RESP: a bulk string not ended by CRLF")]
    UnterminatedBulk,
    /// Arrays nested deeper than [`RespLimits::max_depth`].
    #[error("RESP: arrays nested deeper than {0}")]
    TooDeep(usize),
    /// A reply longer than [`RespLimits::max_reply_bytes`].
    #[error("RESP: a reply longer than {0} bytes")]
    TooLarge(usize),
}

/// Appends `args` as one command: an array of bulk strings, the form every Redis command
/// takes.
pub fn encode_command(args: &[&[u8]], out: &mut Vec<u8>) {
    out.push(b'*');
    push_decimal(args.len(), out);
    for arg in args {
        out.push(b'$');
        push_decimal(arg.len(), out);
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends `n` in decimal, then CRLF.
fn push_decimal(n: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(n.to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// An array being filled: how many elements are still to come, and those that came.
#[derive(Debug)]
struct OpenArray {
    remaining: usize,
    items: Vec<Reply>,
}

/// The most elements reserved for an array before they arrive (its announced length is
/// the peer's word, not memory to give away).
const MAX_RESERVED: usize = 64;

/// Replies decoded from a stream of bytes fed in pieces of any size.
#[derive(Debug)]
pub struct ReplyDecoder {
    limits: RespLimits,
    buffer: BytesMut,
    /// The arrays being filled, outermost first.
    open: Vec<OpenArray>,
    /// A bulk string whose header was read: its length, waiting for its bytes.
    bulk: Option<usize>,
    /// Wire bytes of the reply in progress taken from the buffer so far.
    taken: usize,
    /// A refusal: the stream is over.
    failed: Option<RespError>,
}

impl ReplyDecoder {
    /// A decoder with these limits.
    pub fn new(limits: RespLimits) -> Self {
        ReplyDecoder {
            limits,
            buffer: BytesMut::new(),
            open: Vec::new(),
            bulk: None,
            taken: 0,
            failed: None,
        }
    }

    /// Adds bytes that arrived.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes fed and not yet part of a whole reply.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The next whole reply, `None` until all of it has arrived. After an error, every
    /// call returns the same error.
    pub fn next_reply(&mut self) -> Result<Option<Reply>, RespError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.decode();
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    fn decode(&mut self) -> Result<Option<Reply>, RespError> {
        loop {
            let Some(mut value) = self.next_value()? else {
                return Ok(None);
            };
            // A finished value fills the innermost open array; a full array is a value
            // for the one around it.
            loop {
                let Some(array) = self.open.last_mut() else {
                    self.taken = 0;
                    return Ok(Some(value));
                };
                array.items.push(value);
                array.remaining -= 1;
                if array.remaining > 0 {
                    break;
                }
                let Some(full) = self.open.pop() else { break };
                value = Reply::Array(Some(full.items));
            }
        }
    }

    /// The next scalar value, or a null or empty array, whole; `None` if its bytes are
    /// not all there. Opens arrays on the way.
    fn next_value(&mut self) -> Result<Option<Reply>, RespError> {
        loop {
            if let Some(length) = self.bulk {
                if self.buffer.len() < length + 2 {
                    return Ok(None);
                }
                if self.buffer.get(length..length + 2) != Some(b"\r\n") {
                    return Err(RespError::UnterminatedBulk);
                }
                let data = self.buffer.split_to(length).freeze();
                self.buffer.advance(2);
                self.bulk = None;
                return Ok(Some(Reply::Bulk(Some(data))));
            }
            let Some(line) = self.take_line()? else {
                return Ok(None);
            };
            let (kind, rest) = line.split_first().map_or((0, &[][..]), |(k, r)| (*k, r));
            match kind {
                b'+' => return Ok(Some(Reply::Simple(line.slice(1..)))),
                b'-' => return Ok(Some(Reply::Error(line.slice(1..)))),
                b':' => return Ok(Some(Reply::Integer(integer(rest)?))),
                b'$' => match length(rest)? {
                    None => return Ok(Some(Reply::Bulk(None))),
                    Some(length) => {
                        self.count(length.saturating_add(2))?;
                        self.bulk = Some(length);
                    }
                },
                b'*' => match length(rest)? {
                    None => return Ok(Some(Reply::Array(None))),
                    Some(0) => return Ok(Some(Reply::Array(Some(Vec::new())))),
                    Some(count) => {
                        if self.open.len() >= self.limits.max_depth {
                            return Err(RespError::TooDeep(self.limits.max_depth));
                        }
                        self.open.push(OpenArray {
                            remaining: count,
                            items: Vec::with_capacity(count.min(MAX_RESERVED)),
                        });
                    }
                },
                other => return Err(RespError::UnknownType(other)),
            }
        }
    }

    /// Takes one header line, without its CRLF, if it is all there.
    fn take_line(&mut self) -> Result<Option<Bytes>, RespError> {
        let limit = self.limits.max_line;
        let Some(end) = self.buffer.iter().take(limit).position(|&b| b == b'\n') else {
            if self.buffer.len() >= limit {
                return Err(RespError::LineTooLong(limit));
            }
            return Ok(None);
        };
        let line = self.buffer.get(..end).unwrap_or_default();
        let Some((b'\r', text)) = line.split_last() else {
            return Err(RespError::BareLineBreak);
        };
        if text.contains(&b'\r') {
            return Err(RespError::BareLineBreak);
        }
        self.count(end + 1)?;
        let mut line = self.buffer.split_to(end + 1);
        line.truncate(end - 1);
        Ok(Some(line.freeze()))
    }

    /// Counts `bytes` more against the reply's limit.
    fn count(&mut self, bytes: usize) -> Result<(), RespError> {
        self.taken = self.taken.saturating_add(bytes);
        if self.taken > self.limits.max_reply_bytes {
            return Err(RespError::TooLarge(self.limits.max_reply_bytes));
        }
        Ok(())
    }
}

/// A decimal `i64`: an optional minus sign and at least one digit.
fn integer(text: &[u8]) -> Result<i64, RespError> {
    let invalid = || RespError::InvalidInteger(String::from_utf8_lossy(text).into_owned());
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    std::str::from_utf8(text)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(invalid)
}

/// A bulk string's or an array's length: `None` for -1 (null).
fn length(text: &[u8]) -> Result<Option<usize>, RespError> {
    match integer(text)? {
        -1 => Ok(None),
        n if n < 0 => Err(RespError::NegativeLength(n)),
        n => usize::try_from(n)
            .map(Some)
            .map_err(|_| RespError::InvalidInteger(n.to_string())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Reply {
        Reply::Bulk(Some(Bytes::copy_from_slice(text.as_bytes())))
    }

    /// Every reply in `input` and the error that ended it, fed in pieces of `step`.
    fn decode_in_pieces(
        input: &[u8],
        limits: RespLimits,
        step: usize,
    ) -> (Vec<Reply>, Option<RespError>) {
        let mut decoder = ReplyDecoder::new(limits);
        let mut replies = Vec::new();
        for piece in input.chunks(step.max(1)) {
            decoder.feed(piece);
            loop {
                match decoder.next_reply() {
                    Ok(Some(reply)) => replies.push(reply),
                    Ok(None) => break,
                    Err(error) => return (replies, Some(error)),
                }
            }
        }
        (replies, None)
    }

    /// The replies of `input`, the same whether it comes whole, a byte at a time, or
    /// split once at any position.
    fn decode_every_way(input: &[u8], limits: RespLimits) -> (Vec<Reply>, Option<RespError>) {
        let whole = decode_in_pieces(input, limits, input.len());
        assert_eq!(decode_in_pieces(input, limits, 1), whole, "byte by byte");
        for split in 1..input.len() {
            let mut decoder = ReplyDecoder::new(limits);
            let mut replies = Vec::new();
            let mut error = None;
            for piece in [&input[..split], &input[split..]] {
                decoder.feed(piece);
                while error.is_none() {
                    match decoder.next_reply() {
                        Ok(Some(reply)) => replies.push(reply),
                        Ok(None) => break,
                        Err(e) => error = Some(e),
                    }
                }
            }
            assert_eq!((replies, error), whole, "split at {split}");
        }
        whole
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        encode_command(&[b"SUBSCRIBE", b"a", b""], &mut out);
        assert_eq!(out, b"*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$0\r\n\r\n");
        let (replies, error) = decode_every_way(&out, RespLimits::default());
        assert_eq!(error, None);
        assert_eq!(
            replies,
            [Reply::Array(Some(vec![
                bulk("SUBSCRIBE"),
                bulk("a"),
                bulk("")
            ]))]
        );
    }

    #[test]
    fn every_type_decodes_split_at_every_byte() {
        let input = b"+OK\r\n-ERR unknown command\r\n:-42\r\n:0\r\n$5\r\nhe\r\no\r\n$-1\r\n$0\r\n\r\n\
                      *-1\r\n*0\r\n*2\r\n*3\r\n$7\r\nmessage\r\n$1\r\nr\r\n$3\r\n\x00\xff\n\r\n:7\r\n\
                      *3\r\n$9\r\nsubscribe\r\n$4\r\nroom\r\n:1\r\n";
        let (replies, error) = decode_every_way(input, RespLimits::default());
        assert_eq!(error, None);
        assert_eq!(
            replies,
            [
                Reply::Simple(Bytes::from("OK")),
                Reply::Error(Bytes::from("ERR unknown command")),
                Reply::Integer(-42),
                Reply::Integer(0),
                bulk("he\r\no"),
                Reply::Bulk(None),
                bulk(""),
                Reply::Array(None),
                Reply::Array(Some(vec![])),
                Reply::Array(Some(vec![
                    Reply::Array(Some(vec![
                        bulk("message"),
                        bulk("r"),
                        Reply::Bulk(Some(Bytes::from_static(b"\x00\xff\n"))),
                    ])),
                    Reply::Integer(7),
                ])),
                Reply::Array(Some(vec![
                    bulk("subscribe"),
                    bulk("room"),
                    Reply::Integer(1)
                ])),
            ]
        );
    }

    #[test]
    fn malformed_input_gets_a_precise_error_after_the_replies_before_it() {
        let limits = RespLimits::default();
        let cases: &[(&[u8], RespError)] = &[
            (b"+OK\r\n?x\r\n", RespError::UnknownType(b'?')),
            (b"+OK\n", RespError::BareLineBreak),
            (b"+O\rK\r\n", RespError::BareLineBreak),
            (b":12a\r\n", RespError::InvalidInteger("12a".into())),
            (b":\r\n", RespError::InvalidInteger(String::new())),
            (b":+1\r\n", RespError::InvalidInteger("+1".into())),
            (
                b":9223372036854775808\r\n",
                RespError::InvalidInteger("9223372036854775808".into()),
            ),
            (b"$-2\r\n", RespError::NegativeLength(-2)),
            (b"*-5\r\n", RespError::NegativeLength(-5)),
            (b"$3\r\nabcd\r\n", RespError::UnterminatedBulk),
            (b"\r\n", RespError::UnknownType(0)),
        ];
        for (input, expected) in cases {
            let (_, error) = decode_every_way(input, limits);
            assert_eq!(
                error.as_ref(),
                Some(expected),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        // What came before the bad value is handed out first.
        let (replies, error) = decode_every_way(b":1\r\n:2\r\n!\r\n", limits);
        assert_eq!(replies, [Reply::Integer(1), Reply::Integer(2)]);
        assert_eq!(error, Some(RespError::UnknownType(b'!')));
        // And the decoder keeps saying so.
        let mut decoder = ReplyDecoder::new(limits);
        decoder.feed(b"!\r\n:1\r\n");
        assert!(decoder.next_reply().is_err());
        assert_eq!(decoder.next_reply(), Err(RespError::UnknownType(b'!')));
    }

    #[test]
    fn a_reply_of_exactly_the_limit_passes_and_one_byte_more_is_refused() {
        // `$3\r\nabc\r\n` is 9 bytes on the wire; `*1\r\n` around it 4 more.
        let reply = b"*1\r\n$3\r\nabc\r\n";
        let exact = RespLimits {
            max_reply_bytes: reply.len(),
            ..RespLimits::default()
        };
        assert_eq!(decode_every_way(reply, exact).1, None);
        let short = RespLimits {
            max_reply_bytes: reply.len() - 1,
            ..exact
        };
        assert_eq!(
            decode_every_way(reply, short).1,
            Some(RespError::TooLarge(12))
        );
        // The limit is per reply: two replies of the limit each pass.
        let two = [&reply[..], &reply[..]].concat();
        assert_eq!(decode_every_way(&two, exact).0.len(), 2);
        // A bulk string is refused on its announced length, before its bytes come.
        let mut decoder = ReplyDecoder::new(short);
        decoder.feed(b"$1000000000\r\n");
        assert_eq!(decoder.next_reply(), Err(RespError::TooLarge(12)));
    }

    #[test]
    fn nesting_up_to_the_depth_passes_and_one_deeper_is_refused() {
        let limits = RespLimits {
            max_depth: 3,
            ..RespLimits::default()
        };
        let nested = |depth: usize| [b"*1\r\n".repeat(depth), b":1\r\n".to_vec()].concat();
        let (replies, error) = decode_every_way(&nested(3), limits);
        assert_eq!((replies.len(), error), (1, None));
        assert_eq!(
            decode_every_way(&nested(4), limits).1,
            Some(RespError::TooDeep(3))
        );
    }

    #[test]
    fn a_line_of_the_longest_length_passes_and_one_byte_more_is_refused() {
        let limits = RespLimits {
            max_line: 8,
            ..RespLimits::default()
        };
        assert_eq!(decode_every_way(b"+abcde\r\n", limits).1, None);
        assert_eq!(
            decode_every_way(b"+abcdef\r\n", limits).1,
            Some(RespError::LineTooLong(8))
        );
        // Refused as soon as that many bytes came without a line's end.
        let mut decoder = ReplyDecoder::new(limits);
        decoder.feed(b"+abcdefgh");
        assert_eq!(decoder.next_reply(), Err(RespError::LineTooLong(8)));
    }

    #[test]
    fn an_array_announcing_many_elements_reserves_little() {
        let mut decoder = ReplyDecoder::new(RespLimits::default());
        decoder.feed(b"*1000000000\r\n:1\r\n");
        assert_eq!(decoder.next_reply(), Ok(None));
        assert!(decoder.open[0].items.capacity() <= MAX_RESERVED);
    }
}
