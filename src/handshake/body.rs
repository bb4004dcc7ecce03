//! [`BodyDecoder`]: an HTTP/1.1 request body, decoded incrementally and bounded. The
//! request's head says how the body is framed (RFC 9112 section 6.3): by
//! `Content-Length`, by the chunked transfer coding (section 7.1), or not at all (no body).
//! Heads that could be read two ways (both headers, several lengths: request smuggling)
//! are refused, and so is any body longer than the limit, before it is read.
//!
//! ```
//! use rfc6455::Config;
//! use rfc6455::handshake::{BodyDecoder, Incoming, ServerHandshake};
//!
//! let mut handshake = ServerHandshake::new(&Config::default());
//! let head = b"POST /poll HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
//! let Some(Incoming::Http(request)) = handshake.receive(head)? else { unreachable!() };
//! let mut decoder = BodyDecoder::new(&request, 1 << 20)?;
//! let mut body = Vec::new();
//! let decoded = decoder.decode(b"5\r\nhello\r\n0\r\n\r\nGET /next", &mut body)?;
//! assert_eq!((body.as_slice(), decoded.done, decoded.consumed), (&b"hello"[..], true, 15));
//! # Ok::<(), rfc6455::Error>(())
//! ```

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::server::HttpRequest;
use crate::error::HandshakeError;

/// The longest chunk-size line (size, extensions, CRLF) and the most trailer bytes taken.
const MAX_CHUNK_LINE: usize = 4096;
const MAX_TRAILERS: usize = 8192;

/// What one [`BodyDecoder::decode`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyProgress {
    /// Input bytes taken; what follows the body (a pipelined request) is left.
    pub consumed: usize,
    /// The body is complete.
    pub done: bool,
}

/// An HTTP/1.1 request body being decoded: feed it what arrives after the head, in pieces
/// of any size; it appends the body's bytes and says when the body is complete.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    framing: Framing,
    /// The most body bytes accepted.
    limit: usize,
    /// Chunk bytes announced so far (a `Content-Length` is checked against the limit
    /// before any byte comes).
    decoded: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `Content-Length`: this many bytes still to come.
    Length(usize),
    Chunked(Chunk),
    Done,
}

/// Where the chunked decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// In the chunk-size line: the size so far, whether a digit came, whether an
    /// extension started (its bytes are skipped), and the line's length so far.
    Size {
        size: usize,
        digits: bool,
        extension: bool,
        line: usize,
    },
    /// The chunk-size line's CR came; its LF must follow.
    SizeLf { size: usize },
    /// Chunk data: this many bytes still to come.
    Data(usize),
    /// The CRLF after a chunk's data: expecting the CR (true) or the LF (false).
    DataEnd { cr: bool },
    /// After the last chunk: trailer lines, skipped. `line`: bytes of the current line,
    /// `cr`: its CR came, `total`: trailer bytes so far.
    Trailer { line: usize, cr: bool, total: usize },
}

impl BodyDecoder {
    /// The decoder for `request`'s body, of at most `limit` bytes. Refused (with the
    /// status [`HandshakeError::http_status`] gives): a `Content-Length` that is not one
    /// decimal number (400), several of them, or one next to `Transfer-Encoding` (400); a
    /// transfer coding other than `chunked` (501), or chunked over HTTP/1.0 (400); a
    /// declared length over `limit` (413).
    pub fn new(request: &HttpRequest, limit: usize) -> Result<BodyDecoder, HandshakeError> {
        let head = request.head();
        let mut lengths = head.header_values("content-length");
        let length = lengths.next();
        if lengths.next().is_some() {
            return Err(HandshakeError::InvalidBodyLength);
        }
        let mut codings = head.header_values("transfer-encoding");
        let coding = codings.next();
        let framing = match (length, coding) {
            (Some(_), Some(_)) => return Err(HandshakeError::InvalidBodyLength),
            (None, Some(coding)) => {
                let chunked = coding.trim_ascii().eq_ignore_ascii_case(b"chunked");
                if !chunked || codings.next().is_some() {
                    return Err(HandshakeError::UnsupportedTransferCoding);
                }
                if request.minor_version() == 0 {
                    return Err(HandshakeError::InvalidBodyLength);
                }
                Framing::Chunked(Chunk::Size {
                    size: 0,
                    digits: false,
                    extension: false,
                    line: 0,
                })
            }
            (Some(length), None) => {
                let length = parse_length(length)?;
                if length > limit {
                    return Err(HandshakeError::BodyTooLarge { limit });
                }
                if length == 0 {
                    Framing::Done
                } else {
                    Framing::Length(length)
                }
            }
            (None, None) => Framing::Done,
        };
        Ok(BodyDecoder {
            framing,
            limit,
            decoded: 0,
        })
    }

    /// The body is complete (at once for a request without one).
    pub fn is_done(&self) -> bool {
        self.framing == Framing::Done
    }

    /// Decodes what of `input` belongs to the body, appending its bytes to `body`. Bad
    /// chunked framing is [`HandshakeError::MalformedChunk`] (400); a chunked body growing
    /// past the limit is [`HandshakeError::BodyTooLarge`] (413), found before its bytes
    /// are kept.
    pub fn decode(
        &mut self,
        input: &[u8],
        body: &mut Vec<u8>,
    ) -> Result<BodyProgress, HandshakeError> {
        let mut at = 0;
        while let Some(rest) = input.get(at..).filter(|rest| !rest.is_empty()) {
            match self.framing {
                Framing::Done => break,
                Framing::Length(remaining) => {
                    let (taken, left) = take_data(rest, remaining, body);
                    at += taken;
                    self.framing = match left {
                        0 => Framing::Done,
                        left => Framing::Length(left),
                    };
                }
                Framing::Chunked(Chunk::Data(remaining)) => {
                    let (taken, left) = take_data(rest, remaining, body);
                    at += taken;
                    self.framing = Framing::Chunked(match left {
                        0 => Chunk::DataEnd { cr: true },
                        left => Chunk::Data(left),
                    });
                }
                Framing::Chunked(chunk) => {
                    let byte = rest.first().copied().unwrap_or_default();
                    at += 1;
                    self.framing = self.chunk_byte(chunk, byte)?;
                }
            }
        }
        Ok(BodyProgress {
            consumed: at,
            done: self.is_done(),
        })
    }

    /// One byte of the chunked framing outside chunk data.
    fn chunk_byte(&mut self, chunk: Chunk, byte: u8) -> Result<Framing, HandshakeError> {
        let next = match chunk {
            Chunk::Size {
                size,
                digits,
                extension,
                line,
            } => {
                if line >= MAX_CHUNK_LINE {
                    return Err(HandshakeError::MalformedChunk);
                }
                let line = line + 1;
                match byte {
                    b'\r' if digits => Chunk::SizeLf { size },
                    _ if extension => {
                        if byte < 0x20 && byte != b'\t' {
                            return Err(HandshakeError::MalformedChunk);
                        }
                        Chunk::Size {
                            size,
                            digits,
                            extension,
                            line,
                        }
                    }
                    b';' | b' ' | b'\t' if digits => Chunk::Size {
                        size,
                        digits,
                        extension: true,
                        line,
                    },
                    _ => {
                        let digit = hex_digit(byte).ok_or(HandshakeError::MalformedChunk)?;
                        let size = size
                            .checked_mul(16)
                            .and_then(|size| size.checked_add(digit))
                            .ok_or(HandshakeError::BodyTooLarge { limit: self.limit })?;
                        Chunk::Size {
                            size,
                            digits: true,
                            extension,
                            line,
                        }
                    }
                }
            }
            Chunk::SizeLf { size } => {
                if byte != b'\n' {
                    return Err(HandshakeError::MalformedChunk);
                }
                if size == 0 {
                    Chunk::Trailer {
                        line: 0,
                        cr: false,
                        total: 0,
                    }
                } else {
                    let total = self.decoded.checked_add(size);
                    if total.is_none_or(|total| total > self.limit) {
                        return Err(HandshakeError::BodyTooLarge { limit: self.limit });
                    }
                    self.decoded += size;
                    Chunk::Data(size)
                }
            }
            Chunk::DataEnd { cr: true } if byte == b'\r' => Chunk::DataEnd { cr: false },
            Chunk::DataEnd { cr: false } if byte == b'\n' => Chunk::Size {
                size: 0,
                digits: false,
                extension: false,
                line: 0,
            },
            Chunk::DataEnd { .. } => return Err(HandshakeError::MalformedChunk),
            Chunk::Trailer { line, cr, total } => {
                if total >= MAX_TRAILERS {
                    return Err(HandshakeError::HeadTooLarge {
                        limit: MAX_TRAILERS,
                    });
                }
                let total = total + 1;
                match (byte, cr) {
                    // An empty line ends the trailers, and the body.
                    (b'\n', true) if line == 0 => return Ok(Framing::Done),
                    (b'\n', true) => Chunk::Trailer {
                        line: 0,
                        cr: false,
                        total,
                    },
                    (b'\r', false) => Chunk::Trailer {
                        line,
                        cr: true,
                        total,
                    },
                    (_, true) => return Err(HandshakeError::BareCarriageReturn),
                    (b'\n', false) => return Err(HandshakeError::MalformedChunk),
                    _ => Chunk::Trailer {
                        line: line + 1,
                        cr: false,
                        total,
                    },
                }
            }
            Chunk::Data(_) => chunk,
        };
        Ok(Framing::Chunked(next))
    }
}

/// Appends what of `rest` belongs to data with `remaining` bytes still to come; returns
/// how many bytes it took and how many are still to come.
fn take_data(rest: &[u8], remaining: usize, body: &mut Vec<u8>) -> (usize, usize) {
    let take = remaining.min(rest.len());
    body.extend_from_slice(rest.get(..take).unwrap_or_default());
    (take, remaining - take)
}

/// A `Content-Length` value: one or more decimal digits, nothing else (no sign, no list).
fn parse_length(value: &[u8]) -> Result<usize, HandshakeError> {
    let digits = value.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(HandshakeError::InvalidBodyLength);
    }
    digits.iter().try_fold(0usize, |length, digit| {
        length
            .checked_mul(10)
            .and_then(|length| length.checked_add(usize::from(digit - b'0')))
            .ok_or(HandshakeError::InvalidBodyLength)
    })
}

fn hex_digit(byte: u8) -> Option<usize> {
    char::from(byte)
        .to_digit(16)
        .and_then(|digit| usize::try_from(digit).ok())
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
    use crate::config::Config;
    use crate::handshake::{Incoming, ServerHandshake};

    fn request(head: &str) -> HttpRequest {
        let mut handshake = ServerHandshake::new(&Config::default());
        match handshake.receive(head.as_bytes()) {
            Ok(Some(Incoming::Http(request))) => request,
            other => panic!("{other:?}"),
        }
    }

    fn decoder(headers: &str) -> Result<BodyDecoder, HandshakeError> {
        let head = format!("POST / HTTP/1.1\r\nHost: t\r\n{headers}\r\n");
        BodyDecoder::new(&request(&head), 1024)
    }

    /// Decodes `input` split at `split` (and the rest at once), returning the body, what
    /// was consumed and whether it is done.
    fn decode_split(
        mut decoder: BodyDecoder,
        input: &[u8],
        split: usize,
    ) -> Result<(Vec<u8>, usize, bool), HandshakeError> {
        let mut body = Vec::new();
        let (first, second) = input.split_at(split);
        let one = decoder.decode(first, &mut body)?;
        if one.done {
            return Ok((body, one.consumed, true));
        }
        assert_eq!(
            one.consumed,
            first.len(),
            "a piece not taken whole before the end"
        );
        let two = decoder.decode(second, &mut body)?;
        Ok((body, one.consumed + two.consumed, two.done))
    }

    #[test]
    fn content_length_bodies_decode_the_same_at_every_split_and_leave_what_follows() {
        let input = b"hello worldGET /next HTTP/1.1\r\n";
        for split in 0..=input.len() {
            let decoder = decoder("Content-Length: 11\r\n").unwrap();
            let (body, consumed, done) = decode_split(decoder, input, split).unwrap();
            assert_eq!(
                (body.as_slice(), consumed, done),
                (&b"hello world"[..], 11, true)
            );
        }
        // One byte at a time.
        let mut decoder = decoder("Content-Length: 11\r\n").unwrap();
        let mut body = Vec::new();
        for byte in &input[..11] {
            decoder
                .decode(std::slice::from_ref(byte), &mut body)
                .unwrap();
        }
        assert!(decoder.is_done() && body == b"hello world");
    }

    #[test]
    fn chunked_bodies_decode_the_same_at_every_split() {
        let input =
            b"5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
        let expected = b"hello 0123456789";
        for split in 0..=input.len() {
            let decoder = decoder("Transfer-Encoding: chunked\r\n").unwrap();
            let (body, consumed, done) = decode_split(decoder, input, split).unwrap();
            assert_eq!(
                (body.as_slice(), consumed, done),
                (&expected[..], input.len() - 4, true),
                "split at {split}"
            );
        }
        let mut decoder = decoder("Transfer-Encoding: chunked\r\n").unwrap();
        let mut body = Vec::new();
        let mut consumed = 0;
        for byte in input {
            consumed += decoder
                .decode(std::slice::from_ref(byte), &mut body)
                .unwrap()
                .consumed;
        }
        assert_eq!(
            (body.as_slice(), consumed),
            (&expected[..], input.len() - 4)
        );
    }

    #[test]
    fn requests_without_a_body_and_empty_bodies_are_done_at_once() {
        for headers in ["", "Content-Length: 0\r\n"] {
            let mut decoder = decoder(headers).unwrap();
            assert!(decoder.is_done());
            let decoded = decoder.decode(b"GET / HTTP/1.1", &mut Vec::new()).unwrap();
            assert_eq!(
                decoded,
                BodyProgress {
                    consumed: 0,
                    done: true
                }
            );
        }
        let (body, consumed, done) = decode_split(
            decoder("Transfer-Encoding: chunked\r\n").unwrap(),
            b"0\r\n\r\n",
            2,
        )
        .unwrap();
        assert!(body.is_empty() && consumed == 5 && done);
    }

    #[test]
    fn heads_that_frame_a_body_two_ways_are_refused() {
        let cases = [
            ("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400),
            ("Content-Length: 5\r\nContent-Length: 5\r\n", 400),
            ("Content-Length: 5, 5\r\n", 400),
            ("Content-Length: +5\r\n", 400),
            ("Content-Length: 0x5\r\n", 400),
            ("Content-Length:\r\n", 400),
            ("Content-Length: 99999999999999999999999\r\n", 400),
            ("Transfer-Encoding: gzip, chunked\r\n", 501),
            ("Transfer-Encoding: gzip\r\n", 501),
            (
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                501,
            ),
        ];
        for (headers, status) in cases {
            let error = decoder(headers).unwrap_err();
            assert_eq!(error.http_status(), status, "{headers:?}: {error}");
        }
        let http10 = request("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(
            BodyDecoder::new(&http10, 10).unwrap_err(),
            HandshakeError::InvalidBodyLength
        );
    }

    #[test]
    fn bodies_over_the_limit_are_refused_before_their_bytes_are_kept() {
        assert_eq!(
            decoder("Content-Length: 1025\r\n").unwrap_err(),
            HandshakeError::BodyTooLarge { limit: 1024 }
        );
        decoder("Content-Length: 1024\r\n").unwrap();
        // Chunked: refused at the size line of the chunk that crosses the limit.
        let mut decoder = decoder("Transfer-Encoding: chunked\r\n").unwrap();
        let mut body = Vec::new();
        let first = format!("200\r\n{}\r\n", "a".repeat(0x200));
        decoder.decode(first.as_bytes(), &mut body).unwrap();
        let error = decoder.decode(b"201\r\n", &mut body).unwrap_err();
        assert_eq!(error, HandshakeError::BodyTooLarge { limit: 1024 });
        assert_eq!(error.http_status(), 413);
        assert_eq!(body.len(), 0x200);
        // A size that overflows is too large, not a panic.
        let mut huge = super::BodyDecoder::new(
            &request("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            usize::MAX,
        )
        .unwrap();
        let overflow = "f".repeat(40);
        assert!(matches!(
            huge.decode(overflow.as_bytes(), &mut Vec::new()),
            Err(HandshakeError::BodyTooLarge { .. })
        ));
    }

    #[test]
    fn malformed_chunked_framing_is_a_400() {
        let cases: [&[u8]; 8] = [
            b"\r\n",           // no size
            b"g\r\n",          // not hex
            b"5\rx",           // CR without LF
            b"5\r\nhelloX",    // no CRLF after the data
            b"5\r\nhello\r\r", // CR CR
            b"0\r\nX: y\n",    // a bare LF in the trailers
            b";ext\r\n",       // an extension without a size
            b"5;\x01\r\n",     // a control byte in an extension
        ];
        for input in cases {
            let mut decoder = decoder("Transfer-Encoding: chunked\r\n").unwrap();
            let error = decoder.decode(input, &mut Vec::new()).unwrap_err();
            assert_eq!(error.http_status(), 400, "{input:?}: {error}");
        }
        // Chunk-size lines and trailers are bounded.
        let mut decoder = decoder("Transfer-Encoding: chunked\r\n").unwrap();
        let long = format!("1;{}", "x".repeat(MAX_CHUNK_LINE));
        let error = decoder
            .decode(long.as_bytes(), &mut Vec::new())
            .unwrap_err();
        assert_eq!(error, HandshakeError::MalformedChunk);
        let mut decoder = self::decoder("Transfer-Encoding: chunked\r\n").unwrap();
        let trailers = format!("0\r\n{}", "X: y\r\n".repeat(MAX_TRAILERS / 6 + 1));
        let error = decoder
            .decode(trailers.as_bytes(), &mut Vec::new())
            .unwrap_err();
        assert_eq!(error.http_status(), 431);
    }
}
