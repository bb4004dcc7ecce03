//! [`Data`]: the payload of a Socket.IO packet in memory — JSON whose leaves may also be
//! binary — and its two conversions to and from the wire: JSON text in which each binary
//! leaf is a numbered placeholder, plus the list of binary attachments.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bytes::Bytes;
use serde_json::{Number, Value};

use super::packet::PacketError;

/// The key that marks a placeholder object, `{"_placeholder":true,"num":N}`.
const PLACEHOLDER_KEY: &str = "_placeholder";
/// The key of a placeholder's attachment number.
const PLACEHOLDER_NUM_KEY: &str = "num";

/// A Socket.IO payload: a JSON value whose leaves may also be binary.
///
/// The shape of [`serde_json::Value`] plus one variant, [`Data::Binary`], wherever a
/// binary value sits in the arguments (the top level, an array, an object, at any depth).
/// On the wire each binary leaf becomes `{"_placeholder":true,"num":N}` and its bytes travel
/// as attachment `N`; [`Packet::encode`](super::Packet::encode) and
/// [`PacketDecoder`](super::PacketDecoder) do that conversion, so a packet in memory never
/// holds a placeholder and never needs an attachment list beside it.
///
/// Objects are ordered by key (a `BTreeMap`, as `serde_json::Map` is by default), so an
/// object's attachments are numbered in key order.
///
/// ```
/// use bytes::Bytes;
/// use rfc6455::socketio::Data;
/// use serde_json::json;
///
/// let args = Data::Array(vec![Data::from("baz"), Data::from(Bytes::from_static(&[1, 2, 3, 4]))]);
/// assert!(args.has_binary());
/// assert_eq!(Data::from(json!(["foo", {"n": 1}])).into_json(), Some(json!(["foo", {"n": 1}])));
/// assert_eq!(args.into_json(), None); // binary has no JSON form
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Data {
    /// JSON `null`.
    #[default]
    Null,
    /// JSON `true` or `false`.
    Bool(bool),
    /// A JSON number.
    Number(Number),
    /// A JSON string.
    String(String),
    /// Binary data: an attachment on the wire.
    Binary(Bytes),
    /// A JSON array.
    Array(Vec<Data>),
    /// A JSON object.
    Object(BTreeMap<String, Data>),
}

impl Data {
    /// True if a [`Data::Binary`] is anywhere inside (the packet then travels as a
    /// `BINARY_EVENT` or `BINARY_ACK` with attachments).
    pub fn has_binary(&self) -> bool {
        self.binary_count() > 0
    }

    /// The string, if this is a [`Data::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Data::String(string) => Some(string),
            _ => None,
        }
    }

    /// The bytes, if this is a [`Data::Binary`].
    pub fn as_binary(&self) -> Option<&Bytes> {
        match self {
            Data::Binary(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The elements, if this is a [`Data::Array`].
    pub fn as_array(&self) -> Option<&[Data]> {
        match self {
            Data::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The plain JSON value, or `None` if a [`Data::Binary`] is anywhere inside (binary has
    /// no JSON form). With `serde_json::from_value` this reads typed arguments.
    pub fn into_json(self) -> Option<Value> {
        Some(match self {
            Data::Null => Value::Null,
            Data::Bool(value) => Value::Bool(value),
            Data::Number(number) => Value::Number(number),
            Data::String(string) => Value::String(string),
            Data::Binary(_) => return None,
            Data::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(Data::into_json)
                    .collect::<Option<_>>()?,
            ),
            Data::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(key, value)| Some((key, value.into_json()?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }

    /// How many binary leaves are inside: the attachments the packet will carry.
    pub(super) fn binary_count(&self) -> usize {
        match self {
            Data::Binary(_) => 1,
            Data::Array(items) => items.iter().map(Data::binary_count).sum(),
            Data::Object(map) => map.values().map(Data::binary_count).sum(),
            _ => 0,
        }
    }

    /// True if an object shaped like a placeholder (`"_placeholder": true`) is inside: in a
    /// packet with attachments the peer would take it for one.
    pub(super) fn has_placeholder_shape(&self) -> bool {
        match self {
            Data::Array(items) => items.iter().any(Data::has_placeholder_shape),
            Data::Object(map) => {
                is_placeholder(map) || map.values().any(Data::has_placeholder_shape)
            }
            _ => false,
        }
    }

    /// Appends the JSON text, each binary leaf written as the next placeholder and its
    /// bytes pushed on `attachments` (shared, not copied).
    pub(super) fn write_json(&self, out: &mut String, attachments: &mut Vec<Bytes>) {
        match self {
            Data::Null => out.push_str("null"),
            Data::Bool(true) => out.push_str("true"),
            Data::Bool(false) => out.push_str("false"),
            // Writing to a String cannot fail.
            Data::Number(number) => {
                let _ = write!(out, "{number}");
            }
            Data::String(string) => write_json_string(string, out),
            Data::Binary(bytes) => {
                let num = attachments.len();
                let _ = write!(
                    out,
                    "{{\"{PLACEHOLDER_KEY}\":true,\"{PLACEHOLDER_NUM_KEY}\":{num}}}"
                );
                attachments.push(bytes.clone());
            }
            Data::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write_json(out, attachments);
                }
                out.push(']');
            }
            Data::Object(map) => {
                out.push('{');
                for (index, (key, value)) in map.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write_json_string(key, out);
                    out.push(':');
                    value.write_json(out, attachments);
                }
                out.push('}');
            }
        }
    }

    /// Checks every placeholder of a packet announcing `attachments` attachments: its
    /// `num` is an integer below that count (what socket.io-parser's `reconstructPacket`
    /// requires).
    pub(super) fn check_placeholders(&self, attachments: usize) -> Result<(), PacketError> {
        match self {
            Data::Array(items) => items
                .iter()
                .try_for_each(|item| item.check_placeholders(attachments)),
            Data::Object(map) if is_placeholder(map) => {
                placeholder_index(map, attachments).map(|_| ())
            }
            Data::Object(map) => map
                .values()
                .try_for_each(|value| value.check_placeholders(attachments)),
            _ => Ok(()),
        }
    }

    /// Replaces every placeholder (checked by [`Data::check_placeholders`]) by the
    /// attachment it numbers, in place.
    pub(super) fn resolve_placeholders(&mut self, attachments: &[Bytes]) {
        match self {
            Data::Array(items) => {
                for item in items {
                    item.resolve_placeholders(attachments);
                }
            }
            Data::Object(map) if is_placeholder(map) => {
                let bytes = placeholder_index(map, attachments.len())
                    .ok()
                    .and_then(|index| attachments.get(index));
                *self = bytes.map_or(Data::Null, |bytes| Data::Binary(bytes.clone()));
            }
            Data::Object(map) => {
                for value in map.values_mut() {
                    value.resolve_placeholders(attachments);
                }
            }
            _ => {}
        }
    }
}

/// `"_placeholder": true` marks a placeholder, as in socket.io-parser (`=== true`).
fn is_placeholder(map: &BTreeMap<String, Data>) -> bool {
    map.get(PLACEHOLDER_KEY) == Some(&Data::Bool(true))
}

/// The attachment a placeholder numbers, if its `num` is an integer below `attachments`.
fn placeholder_index(
    map: &BTreeMap<String, Data>,
    attachments: usize,
) -> Result<usize, PacketError> {
    let Some(Data::Number(num)) = map.get(PLACEHOLDER_NUM_KEY) else {
        return Err(PacketError::InvalidPlaceholder);
    };
    let num = num.as_u64().ok_or(PacketError::InvalidPlaceholder)?;
    match usize::try_from(num) {
        Ok(index) if index < attachments => Ok(index),
        _ => Err(PacketError::PlaceholderOutOfRange { num, attachments }),
    }
}

/// Appends `string` as a JSON string: quotes, backslashes and control characters escaped
/// (the escapes `JSON.stringify` uses).
fn write_json_string(string: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (at, byte) in string.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            0..0x20 => "",
            _ => continue,
        };
        // `at` is an ASCII byte, so both ends are character boundaries.
        out.push_str(string.get(start..at).unwrap_or_default());
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = at + 1;
    }
    out.push_str(string.get(start..).unwrap_or_default());
    out.push('"');
}

impl From<Value> for Data {
    fn from(value: Value) -> Data {
        match value {
            Value::Null => Data::Null,
            Value::Bool(value) => Data::Bool(value),
            Value::Number(number) => Data::Number(number),
            Value::String(string) => Data::String(string),
            Value::Array(items) => Data::Array(items.into_iter().map(Data::from).collect()),
            Value::Object(map) => Data::Object(
                map.into_iter()
                    .map(|(key, value)| (key, Data::from(value)))
                    .collect(),
            ),
        }
    }
}

impl From<Bytes> for Data {
    fn from(bytes: Bytes) -> Data {
        Data::Binary(bytes)
    }
}

impl From<&str> for Data {
    fn from(string: &str) -> Data {
        Data::String(string.to_owned())
    }
}

impl From<String> for Data {
    fn from(string: String) -> Data {
        Data::String(string)
    }
}

impl From<bool> for Data {
    fn from(value: bool) -> Data {
        Data::Bool(value)
    }
}

impl From<Vec<Data>> for Data {
    fn from(items: Vec<Data>) -> Data {
        Data::Array(items)
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
    use serde_json::json;

    fn wire(data: &Data) -> (String, Vec<Bytes>) {
        let (mut out, mut attachments) = (String::new(), Vec::new());
        data.write_json(&mut out, &mut attachments);
        (out, attachments)
    }

    #[test]
    fn json_without_binary_is_written_as_serde_json_writes_it() {
        let value = json!({
            "s": "quote \" backslash \\ newline \n tab \t cr \r bs \u{8} ff \u{c} nul \u{0} us \u{1f} é €",
            "n": [0, -1, 1.5, 18446744073709551615u64, -9223372036854775808i64],
            "b": [true, false, null],
            "nested": {"empty": {}, "list": []},
        });
        let (text, attachments) = wire(&Data::from(value.clone()));
        assert!(attachments.is_empty());
        assert_eq!(text, serde_json::to_string(&value).unwrap());
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
    }

    #[test]
    fn binary_leaves_become_numbered_placeholders_in_order() {
        let one = Bytes::from_static(&[1, 2]);
        let two = Bytes::from_static(&[3, 4]);
        let data = Data::Array(vec![
            Data::from("baz"),
            Data::from(one.clone()),
            Data::Object(BTreeMap::from([(
                "file".to_owned(),
                Data::from(two.clone()),
            )])),
        ]);
        assert_eq!(data.binary_count(), 2);
        let (text, attachments) = wire(&data);
        assert_eq!(
            text,
            r#"["baz",{"_placeholder":true,"num":0},{"file":{"_placeholder":true,"num":1}}]"#
        );
        assert_eq!(attachments, [one, two]);
        // And back: the placeholders resolve to the same attachments.
        let mut decoded = Data::from(serde_json::from_str::<Value>(&text).unwrap());
        decoded.check_placeholders(2).unwrap();
        decoded.resolve_placeholders(&attachments);
        assert_eq!(decoded, data);
    }

    #[test]
    fn placeholders_must_number_an_announced_attachment() {
        let check = |value: Value, attachments| Data::from(value).check_placeholders(attachments);
        check(json!([{"_placeholder": true, "num": 0}]), 1).unwrap();
        // Not a placeholder unless `_placeholder` is exactly `true`.
        check(json!([{"_placeholder": "true", "num": 9}]), 1).unwrap();
        check(json!([{"_placeholder": 1}]), 1).unwrap();
        assert_eq!(
            check(json!([{"_placeholder": true, "num": 1}]), 1),
            Err(PacketError::PlaceholderOutOfRange {
                num: 1,
                attachments: 1
            })
        );
        for bad in [
            json!({"_placeholder": true}),
            json!({"_placeholder": true, "num": -1}),
            json!({"_placeholder": true, "num": 0.5}),
            json!({"_placeholder": true, "num": "0"}),
            json!({"a": [{"_placeholder": true, "num": null}]}),
        ] {
            assert_eq!(
                check(bad.clone(), 1),
                Err(PacketError::InvalidPlaceholder),
                "{bad}"
            );
        }
    }

    #[test]
    fn placeholder_shaped_objects_are_found_at_any_depth() {
        assert!(Data::from(json!([1, {"a": {"_placeholder": true}}])).has_placeholder_shape());
        assert!(!Data::from(json!([1, {"a": {"_placeholder": false}}])).has_placeholder_shape());
    }

    #[test]
    fn into_json_gives_the_value_back_unless_binary_is_inside() {
        let value = json!(["a", {"b": [1, null, true]}]);
        assert_eq!(Data::from(value.clone()).into_json(), Some(value));
        let nested = Data::Object(BTreeMap::from([(
            "x".to_owned(),
            Data::Array(vec![Data::Binary(Bytes::new())]),
        )]));
        assert_eq!(nested.into_json(), None);
        assert_eq!(Data::from("s").as_str(), Some("s"));
        assert_eq!(Data::from(true).as_str(), None);
        assert_eq!(
            Data::from(Bytes::from_static(b"x")).as_binary(),
            Some(&Bytes::from_static(b"x"))
        );
        assert_eq!(
            Data::from(vec![Data::Null]).as_array(),
            Some(&[Data::Null][..])
        );
    }
}
