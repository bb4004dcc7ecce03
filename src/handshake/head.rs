//! An incremental, bounded HTTP/1.1 head parser (request or status line, headers, blank line).
//!
//! Bytes may arrive in chunks of any size. Each byte is looked at a bounded number of
//! times: the parser remembers where the current line starts and only scans new bytes for
//! its end, then checks the finished line once. Feeding a head one byte at a time costs the
//! same as feeding it whole (a peer library re-scanned from byte 0 on every chunk and went
//! quadratic, CVE-2023-43669). It copies only the head's own bytes, at most
//! `max_head_bytes`, and stops at the blank line: what follows belongs to the caller.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::ops::Range;

use crate::config::Config;
use crate::error::HandshakeError;
use crate::http_syntax::{is_field_value, is_token_byte};

/// Which start line the head begins with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadKind {
    Request,
    Response,
}

/// The parsed start line, as ranges into the head's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StartLine {
    Request {
        method: Range<usize>,
        target: Range<usize>,
        /// 0 for HTTP/1.0, 1 for HTTP/1.1.
        minor_version: u8,
    },
    Response {
        minor_version: u8,
        status: u16,
        reason: Range<usize>,
    },
}

/// One header field, as ranges into the head's bytes (value without surrounding spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    name: Range<usize>,
    value: Range<usize>,
}

/// A complete, syntactically valid HTTP head.
#[derive(Clone, PartialEq, Eq)]
pub struct Head {
    bytes: Vec<u8>,
    pub(crate) start: StartLine,
    fields: Vec<Field>,
}

impl Head {
    /// The raw bytes of the head, blank line included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The first value of header `name` (ASCII case-insensitive), if it is valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_bytes(name)
            .and_then(|value| std::str::from_utf8(value).ok())
    }

    /// The first value of header `name` (ASCII case-insensitive), as bytes.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|field| self.is_named(field, name))
            .map(|field| self.slice(&field.value))
    }

    /// Every value of header `name`, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |field| self.is_named(field, name))
            .map(|field| self.slice(&field.value))
    }

    /// Whether `field` is named `name` (ASCII case-insensitive; names are tokens, so bytes
    /// compare without decoding them).
    fn is_named(&self, field: &Field, name: &str) -> bool {
        self.slice(&field.name)
            .eq_ignore_ascii_case(name.as_bytes())
    }

    /// Every header field as (name, value), in order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.fields.iter().map(|field| {
            // Names were checked to be tokens: ASCII, so always UTF-8.
            let name = std::str::from_utf8(self.slice(&field.name)).unwrap_or_default();
            (name, self.slice(&field.value))
        })
    }

    pub(crate) fn slice(&self, range: &Range<usize>) -> &[u8] {
        self.bytes.get(range.clone()).unwrap_or_default()
    }

    pub(crate) fn str(&self, range: &Range<usize>) -> &str {
        // Start-line parts were checked to be visible ASCII.
        std::str::from_utf8(self.slice(range)).unwrap_or_default()
    }
}

impl std::fmt::Debug for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Head")
            .field("head", &String::from_utf8_lossy(&self.bytes))
            .finish()
    }
}

/// Limits copied from [`Config`].
#[derive(Debug, Clone, Copy)]
struct Limits {
    head_bytes: usize,
    headers: usize,
    line_bytes: usize,
}

/// Bytes reserved for a head on its first bytes, if they are fewer: a browser's upgrade
/// request is 400 to 700 bytes.
const FIRST_HEAD_ROOM: usize = 512;
/// Fields reserved on the first one: browsers send 10 to 16 headers.
const FIRST_FIELDS_ROOM: usize = 16;

/// The incremental parser.
#[derive(Debug)]
pub(crate) struct HeadParser {
    kind: HeadKind,
    limits: Limits,
    bytes: Vec<u8>,
    /// Where the line being received starts in `bytes`.
    line_start: usize,
    start: Option<StartLine>,
    fields: Vec<Field>,
    /// Bytes examined so far, counting each look at a byte (for the linear-work test).
    examined: u64,
}

impl HeadParser {
    pub(crate) fn new(kind: HeadKind, config: &Config) -> HeadParser {
        HeadParser {
            kind,
            limits: Limits {
                head_bytes: config.max_head_bytes,
                headers: config.max_headers,
                line_bytes: config.max_line_bytes,
            },
            bytes: Vec::new(),
            line_start: 0,
            start: None,
            fields: Vec::new(),
            examined: 0,
        }
    }

    /// Feeds the next bytes. Returns `Ok(Some((head, consumed)))` once the blank line ending
    /// the head is found, where `consumed` counts the bytes of `data` that belong to the head.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<Option<(Head, usize)>, HandshakeError> {
        if self.bytes.capacity() == 0 {
            // Most heads arrive in one read: take room for all of it at once (within the
            // limit), rather than growing line by line.
            self.bytes
                .reserve(data.len().min(self.limits.head_bytes).max(FIRST_HEAD_ROOM));
        }
        let mut consumed = 0;
        while let Some(rest) = data.get(consumed..).filter(|rest| !rest.is_empty()) {
            // Never look further than one byte past what the limits still allow.
            let window = rest.get(..self.room().saturating_add(1)).unwrap_or(rest);
            let newline = find_newline(window);
            let piece = match newline {
                Some(at) => window.get(..=at).unwrap_or(window),
                None => window,
            };
            self.examined += piece.len() as u64;
            self.check_room_for(piece.len())?;
            self.bytes.extend_from_slice(piece);
            consumed += piece.len();
            if newline.is_some() && self.end_line()? {
                let head = Head {
                    bytes: std::mem::take(&mut self.bytes),
                    start: self
                        .start
                        .take()
                        .ok_or(HandshakeError::MalformedRequestLine)?,
                    fields: std::mem::take(&mut self.fields),
                };
                return Ok(Some((head, consumed)));
            }
        }
        Ok(None)
    }

    /// How many byte inspections the parser has made (each byte is inspected at most twice
    /// by the parser itself: once looking for the line end, once checking the line).
    #[cfg(test)]
    pub(crate) fn bytes_examined(&self) -> u64 {
        self.examined
    }

    /// How many more bytes the current line and the head may take.
    fn room(&self) -> usize {
        let line_room = (self.limits.line_bytes).saturating_sub(self.bytes.len() - self.line_start);
        let head_room = self.limits.head_bytes.saturating_sub(self.bytes.len());
        line_room.min(head_room)
    }

    /// Refuses `more` bytes that would cross the head or line limit.
    fn check_room_for(&self, more: usize) -> Result<(), HandshakeError> {
        let line_len = self.bytes.len() - self.line_start + more;
        if line_len > self.limits.line_bytes {
            return Err(HandshakeError::LineTooLong {
                limit: self.limits.line_bytes,
                start_line: self.start.is_none(),
            });
        }
        if self.bytes.len() + more > self.limits.head_bytes {
            return Err(HandshakeError::HeadTooLarge {
                limit: self.limits.head_bytes,
            });
        }
        Ok(())
    }

    /// Parses the line just completed; returns true if it was the blank line ending the head.
    fn end_line(&mut self) -> Result<bool, HandshakeError> {
        let start = self.line_start;
        self.line_start = self.bytes.len();
        // Drop the LF, and the CR before it (a bare LF is accepted as a line end).
        let mut end = self.bytes.len() - 1;
        if end > start && self.bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        let line = start..end;
        self.examined += line.len() as u64;
        self.parse_line(line.clone()).map_err(|error| {
            // A bare CR is in no token, target, version or value, so a line holding one
            // fails to parse: look for it only then, to say so.
            if self.slice(&line).contains(&b'\r') {
                HandshakeError::BareCarriageReturn
            } else {
                error
            }
        })
    }

    /// Parses a complete line, without its line end.
    fn parse_line(&mut self, line: Range<usize>) -> Result<bool, HandshakeError> {
        if self.start.is_none() {
            if line.is_empty() {
                // RFC 9112 section 2.2: ignore empty lines before the start line.
                return Ok(false);
            }
            self.start = Some(match self.kind {
                HeadKind::Request => self.parse_request_line(line)?,
                HeadKind::Response => self.parse_status_line(line)?,
            });
            return Ok(false);
        }
        if line.is_empty() {
            return Ok(true);
        }
        let field = self.parse_field(line)?;
        if self.fields.len() == self.limits.headers {
            return Err(HandshakeError::TooManyHeaders {
                limit: self.limits.headers,
            });
        }
        if self.fields.is_empty() {
            self.fields
                .reserve(FIRST_FIELDS_ROOM.min(self.limits.headers));
        }
        self.fields.push(field);
        Ok(false)
    }

    fn slice(&self, range: &Range<usize>) -> &[u8] {
        self.bytes.get(range.clone()).unwrap_or_default()
    }

    /// `method SP request-target SP HTTP-version`
    fn parse_request_line(&self, line: Range<usize>) -> Result<StartLine, HandshakeError> {
        let malformed = || HandshakeError::MalformedRequestLine;
        let bytes = self.slice(&line);
        let first_space = bytes
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(malformed)?;
        let last_space = bytes
            .iter()
            .rposition(|&b| b == b' ')
            .ok_or_else(malformed)?;
        if first_space == 0 || last_space <= first_space + 1 {
            return Err(malformed());
        }
        let method = bytes.get(..first_space).unwrap_or_default();
        let target = bytes.get(first_space + 1..last_space).unwrap_or_default();
        let version = bytes.get(last_space + 1..).unwrap_or_default();
        if !method.iter().all(|&b| is_token_byte(b))
            || !target.iter().all(|&b| b.is_ascii_graphic())
        {
            return Err(malformed());
        }
        let minor_version = parse_version(version).map_err(|e| e.unwrap_or_else(malformed))?;
        Ok(StartLine::Request {
            method: line.start..line.start + first_space,
            target: line.start + first_space + 1..line.start + last_space,
            minor_version,
        })
    }

    /// `HTTP-version SP status-code [SP reason-phrase]`
    fn parse_status_line(&self, line: Range<usize>) -> Result<StartLine, HandshakeError> {
        let malformed = || HandshakeError::MalformedStatusLine;
        let bytes = self.slice(&line);
        let version = bytes.get(..8).ok_or_else(malformed)?;
        let minor_version = parse_version(version).map_err(|e| e.unwrap_or_else(malformed))?;
        let rest = bytes.get(8..).unwrap_or_default();
        let [b' ', d1, d2, d3, after @ ..] = rest else {
            return Err(malformed());
        };
        if !(d1.is_ascii_digit() && d2.is_ascii_digit() && d3.is_ascii_digit()) {
            return Err(malformed());
        }
        let status = u16::from(d1 - b'0') * 100 + u16::from(d2 - b'0') * 10 + u16::from(d3 - b'0');
        let reason = match after {
            [] => line.end..line.end,
            [b' ', reason @ ..] => {
                if !is_field_value(reason) {
                    return Err(malformed());
                }
                line.start + 13..line.end
            }
            _ => return Err(malformed()),
        };
        Ok(StartLine::Response {
            minor_version,
            status,
            reason,
        })
    }

    /// `field-name ":" OWS field-value OWS`
    fn parse_field(&self, line: Range<usize>) -> Result<Field, HandshakeError> {
        let bytes = self.slice(&line);
        if matches!(bytes.first(), Some(b' ' | b'\t')) {
            return Err(HandshakeError::ObsoleteLineFolding);
        }
        let colon = bytes
            .iter()
            .position(|&b| b == b':')
            .ok_or(HandshakeError::MalformedHeader)?;
        let name = bytes.get(..colon).unwrap_or_default();
        if name.is_empty() || !name.iter().all(|&b| is_token_byte(b)) {
            return Err(HandshakeError::MalformedHeader);
        }
        let value = bytes.get(colon + 1..).unwrap_or_default();
        if !is_field_value(value) {
            return Err(HandshakeError::InvalidHeaderValue);
        }
        let leading = value
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let trailing = value
            .iter()
            .rev()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count()
            .min(value.len() - leading);
        let value_start = line.start + colon + 1 + leading;
        Ok(Field {
            name: line.start..line.start + colon,
            value: value_start..line.end - trailing,
        })
    }
}

/// Where the first `\n` of `bytes` is. Looks at eight bytes at a time, then at the bytes of
/// the word that holds it (header lines are mostly tens of bytes long).
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const LF: u64 = u64::from_ne_bytes([b'\n'; 8]);
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut words = bytes.chunks_exact(8);
    let mut skipped = 0;
    for word in &mut words {
        let word = u64::from_ne_bytes(<[u8; 8]>::try_from(word).unwrap_or_default());
        // Some byte of `word ^ LF` is zero, that is some byte is '\n', exactly when this
        // is non-zero.
        let zeroed = word ^ LF;
        if zeroed.wrapping_sub(ONES) & !zeroed & HIGHS != 0 {
            break;
        }
        skipped += 8;
    }
    let rest = bytes.get(skipped..).unwrap_or_default();
    rest.iter()
        .position(|&byte| byte == b'\n')
        .map(|at| skipped + at)
}

/// `HTTP/1.0` → 0, `HTTP/1.1` → 1; `Err(Some(_))` for another well-formed version,
/// `Err(None)` for something that is not a version at all.
fn parse_version(version: &[u8]) -> Result<u8, Option<HandshakeError>> {
    match version {
        b"HTTP/1.1" => Ok(1),
        b"HTTP/1.0" => Ok(0),
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Err(Some(HandshakeError::UnsupportedHttpVersion))
        }
        _ => Err(None),
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests;
