//! serde for [`Data`]: [`to_data`] (a serde `Serializer` whose output is `Data`),
//! [`from_data`] (`Data` as a serde `Deserializer`), `Serialize` and `Deserialize` for
//! `Data` itself (so a `Data` can sit inside a typed struct), and [`DataError`].
//!
//! The mapping is serde_json's `to_value` / `from_value`, one for one: this file mirrors
//! serde_json's value serializer and deserializer (its `value/ser.rs` and `value/de.rs`),
//! so enums, options, unit structs, newtypes, non-string map keys and non-finite floats come
//! out as they do there. The one difference is serde's bytes: `serialize_bytes` gives
//! [`Data::Binary`] (where serde_json writes an array of numbers), and `Data::Binary` is
//! handed to visitors as bytes (`visit_byte_buf`), or as a sequence of `u8` to a sequence
//! (a `Vec<u8>` or `[u8; N]` field).

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::fmt::{self, Display};

use bytes::Bytes;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, Expected, IntoDeserializer, MapAccess,
    SeqAccess, Unexpected, VariantAccess, Visitor,
};
use serde::ser::{self, Impossible, SerializeMap as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer, forward_to_deserialize_any};
use serde_json::Number;

use super::Data;

/// Why a value did not fit into [`Data`] ([`to_data`]) or a [`Data`] did not fit the type
/// asked for ([`from_data`]).
///
/// The messages are serde_json's for the same failures (`to_value` / `from_value`), except
/// the map-key ones, which also say what the key was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A message from a `Serialize` or `Deserialize` implementation (serde's `custom`).
    #[error("{0}")]
    Message(String),
    /// The data has another type than the one asked for, e.g. a string where a number was
    /// expected.
    #[error("invalid type: {found}, expected {expected}")]
    InvalidType {
        /// What the data was (e.g. ``string "x"``, `byte array`).
        found: String,
        /// What the type asked for.
        expected: String,
    },
    /// The data has the right type but a value the type refuses, e.g. 300 for a `u8`.
    #[error("invalid value: {found}, expected {expected}")]
    InvalidValue {
        /// What the data was.
        found: String,
        /// What the type asked for.
        expected: String,
    },
    /// A sequence or map has a length the type refuses (a tuple of the wrong size).
    #[error("invalid length {len}, expected {expected}")]
    InvalidLength {
        /// The length the data has.
        len: usize,
        /// What the type asked for.
        expected: String,
    },
    /// An object lacks a field the struct requires.
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// A map key serialized as something an object key cannot be: keys must be strings,
    /// integers, bools, chars, finite floats or unit variants (serde_json's rule).
    #[error("key must be a string, a number, a bool or a unit variant, not {0}")]
    KeyMustBeAString(&'static str),
    /// A float map key was NaN or infinite: it has no string form.
    #[error("float key must be finite, not {0}")]
    FloatKeyMustBeFinite(String),
    /// A 128-bit integer outside the `i64` and `u64` ranges: no JSON number holds it.
    #[error("number out of range: {0} is beyond i64 and u64")]
    NumberOutOfRange(String),
    /// An object key was read as a number (e.g. into a `BTreeMap<u32, _>`) but is not one.
    #[error("invalid value: expected key to be a number in quotes, found {0:?}")]
    ExpectedNumericKey(String),
}

impl ser::Error for DataError {
    fn custom<T: Display>(message: T) -> DataError {
        DataError::Message(message.to_string())
    }
}

impl de::Error for DataError {
    fn custom<T: Display>(message: T) -> DataError {
        DataError::Message(message.to_string())
    }

    fn invalid_type(found: Unexpected<'_>, expected: &dyn Expected) -> DataError {
        DataError::InvalidType {
            found: describe(found),
            expected: expected.to_string(),
        }
    }

    fn invalid_value(found: Unexpected<'_>, expected: &dyn Expected) -> DataError {
        DataError::InvalidValue {
            found: describe(found),
            expected: expected.to_string(),
        }
    }

    fn invalid_length(len: usize, expected: &dyn Expected) -> DataError {
        DataError::InvalidLength {
            len,
            expected: expected.to_string(),
        }
    }

    fn missing_field(field: &'static str) -> DataError {
        DataError::MissingField(field)
    }
}

/// What a value was, in serde_json's words: `null` for unit, floats in JSON's shortest form.
fn describe(found: Unexpected<'_>) -> String {
    match found {
        Unexpected::Unit => "null".to_owned(),
        Unexpected::Float(value) => match Number::from_f64(value) {
            Some(number) => format!("floating point `{number}`"),
            None => format!("floating point `{value}`"),
        },
        other => other.to_string(),
    }
}

/// Serializes `value` into [`Data`], as `serde_json::to_value` does into a JSON value,
/// except that serde's bytes (a `serialize_bytes` call: `bytes::Bytes`, `serde_bytes`
/// fields) become [`Data::Binary`] leaves.
///
/// ```
/// use bytes::Bytes;
/// use rfc6455::socketio::{Data, to_data};
/// use serde_json::json;
///
/// // Without bytes, the same as serde_json::to_value.
/// let point = std::collections::BTreeMap::from([("x", 1), ("y", -2)]);
/// assert_eq!(to_data(&point)?, Data::from(json!({"x": 1, "y": -2})));
///
/// // Bytes stay binary, at any depth: an attachment on the wire.
/// let file = ("photo.png", Bytes::from_static(&[0x89, b'P', b'N', b'G']));
/// assert_eq!(
///     to_data(&file)?,
///     Data::Array(vec![Data::from("photo.png"), Data::Binary(file.1.clone())]),
/// );
/// # Ok::<(), rfc6455::socketio::DataError>(())
/// ```
pub fn to_data<T: Serialize + ?Sized>(value: &T) -> Result<Data, DataError> {
    value.serialize(DataSerializer)
}

/// Deserializes a `T` from [`Data`], as `serde_json::from_value` does from a JSON value;
/// a [`Data::Binary`] is read as bytes (`bytes::Bytes`, `serde_bytes` fields) or as a
/// sequence of `u8` (`Vec<u8>`, `[u8; N]`), and refused where a string is expected.
///
/// Inside the types serde reads through its own buffer (internally tagged and untagged
/// enums, `#[serde(flatten)]`), a binary leaf reaches `Bytes` and `serde_bytes` fields but
/// not a `Vec<u8>`: that buffer does not hand bytes to a sequence.
///
/// ```
/// use bytes::Bytes;
/// use rfc6455::socketio::{Data, DataError, from_data};
/// use serde_json::json;
///
/// let (name, size): (String, u32) = from_data(Data::from(json!(["photo.png", 4])))?;
/// assert_eq!((name.as_str(), size), ("photo.png", 4));
///
/// // A binary argument fits a byte vector...
/// let binary = Data::Binary(Bytes::from_static(&[1, 2, 3]));
/// assert_eq!(from_data::<Vec<u8>>(binary.clone())?, [1, 2, 3]);
/// // ...but not a string.
/// let error = from_data::<String>(binary).unwrap_err();
/// assert_eq!(error.to_string(), "invalid type: byte array, expected a string");
/// # Ok::<(), DataError>(())
/// ```
pub fn from_data<T: DeserializeOwned>(data: Data) -> Result<T, DataError> {
    T::deserialize(data)
}

// ---------------------------------------------------------------------------------------
// Data as a Serialize and a Deserialize.

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Data::Null => serializer.serialize_unit(),
            Data::Bool(value) => serializer.serialize_bool(*value),
            Data::Number(number) => serialize_number(number, serializer),
            Data::String(string) => serializer.serialize_str(string),
            Data::Binary(bytes) => serializer.serialize_bytes(bytes),
            Data::Array(items) => serializer.collect_seq(items),
            Data::Object(map) => serializer.collect_map(map),
        }
    }
}

/// A number as the primitive it holds (what `Number`'s own `Serialize` does without
/// serde_json's `arbitrary_precision`, whose private token no other serializer knows).
fn serialize_number<S: Serializer>(number: &Number, serializer: S) -> Result<S::Ok, S::Error> {
    if let Some(value) = number.as_u64() {
        serializer.serialize_u64(value)
    } else if let Some(value) = number.as_i64() {
        serializer.serialize_i64(value)
    } else if let Some(value) = number.as_f64() {
        serializer.serialize_f64(value)
    } else {
        Err(ser::Error::custom(format_args!(
            "number {number} has no f64 form"
        )))
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Data, D::Error> {
        deserializer.deserialize_any(DataVisitor)
    }
}

/// Builds a [`Data`] from whatever a deserializer has: serde_json's `Value` visitor, plus
/// bytes as [`Data::Binary`].
struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any valid JSON value or bytes")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Data, E> {
        Ok(Data::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Data, E> {
        Ok(Data::Number(value.into()))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Data, E> {
        Number::from_i128(value)
            .map(Data::Number)
            .ok_or_else(|| E::custom("JSON number out of range"))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Data, E> {
        Ok(Data::Number(value.into()))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Data, E> {
        Number::from_u128(value)
            .map(Data::Number)
            .ok_or_else(|| E::custom("JSON number out of range"))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Data, E> {
        Ok(Number::from_f64(value).map_or(Data::Null, Data::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Data, E> {
        Ok(Data::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Data, E> {
        Ok(Data::String(value))
    }

    fn visit_bytes<E>(self, value: &[u8]) -> Result<Data, E> {
        Ok(Data::Binary(Bytes::copy_from_slice(value)))
    }

    fn visit_byte_buf<E>(self, value: Vec<u8>) -> Result<Data, E> {
        Ok(Data::Binary(Bytes::from(value)))
    }

    fn visit_none<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Data, D::Error> {
        Data::deserialize(deserializer)
    }

    fn visit_unit<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Data::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut object = BTreeMap::new();
        while let Some((key, value)) = map.next_entry::<String, Data>()? {
            object.insert(key, value);
        }
        Ok(Data::Object(object))
    }
}

// ---------------------------------------------------------------------------------------
// The serializer: any Serialize into Data (serde_json's value::Serializer, bytes kept).

/// The `Serializer` behind [`to_data`].
struct DataSerializer;

impl Serializer for DataSerializer {
    type Ok = Data;
    type Error = DataError;

    type SerializeSeq = SerializeArray;
    type SerializeTuple = SerializeArray;
    type SerializeTupleStruct = SerializeArray;
    type SerializeTupleVariant = SerializeTupleVariant;
    type SerializeMap = SerializeObject;
    type SerializeStruct = SerializeObject;
    type SerializeStructVariant = SerializeStructVariant;

    fn serialize_bool(self, value: bool) -> Result<Data, DataError> {
        Ok(Data::Bool(value))
    }

    fn serialize_i8(self, value: i8) -> Result<Data, DataError> {
        self.serialize_i64(i64::from(value))
    }

    fn serialize_i16(self, value: i16) -> Result<Data, DataError> {
        self.serialize_i64(i64::from(value))
    }

    fn serialize_i32(self, value: i32) -> Result<Data, DataError> {
        self.serialize_i64(i64::from(value))
    }

    fn serialize_i64(self, value: i64) -> Result<Data, DataError> {
        Ok(Data::Number(value.into()))
    }

    fn serialize_i128(self, value: i128) -> Result<Data, DataError> {
        Number::from_i128(value)
            .map(Data::Number)
            .ok_or_else(|| DataError::NumberOutOfRange(value.to_string()))
    }

    fn serialize_u8(self, value: u8) -> Result<Data, DataError> {
        self.serialize_u64(u64::from(value))
    }

    fn serialize_u16(self, value: u16) -> Result<Data, DataError> {
        self.serialize_u64(u64::from(value))
    }

    fn serialize_u32(self, value: u32) -> Result<Data, DataError> {
        self.serialize_u64(u64::from(value))
    }

    fn serialize_u64(self, value: u64) -> Result<Data, DataError> {
        Ok(Data::Number(value.into()))
    }

    fn serialize_u128(self, value: u128) -> Result<Data, DataError> {
        Number::from_u128(value)
            .map(Data::Number)
            .ok_or_else(|| DataError::NumberOutOfRange(value.to_string()))
    }

    fn serialize_f32(self, value: f32) -> Result<Data, DataError> {
        // serde_json's own f32 conversion (its `from_f32` is private): NaN and the
        // infinities are null.
        Ok(Data::from(serde_json::Value::from(value)))
    }

    fn serialize_f64(self, value: f64) -> Result<Data, DataError> {
        Ok(Number::from_f64(value).map_or(Data::Null, Data::Number))
    }

    fn serialize_char(self, value: char) -> Result<Data, DataError> {
        Ok(Data::String(value.to_string()))
    }

    fn serialize_str(self, value: &str) -> Result<Data, DataError> {
        Ok(Data::String(value.to_owned()))
    }

    fn serialize_bytes(self, value: &[u8]) -> Result<Data, DataError> {
        Ok(Data::Binary(Bytes::copy_from_slice(value)))
    }

    fn serialize_none(self) -> Result<Data, DataError> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Data, DataError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Data, DataError> {
        Ok(Data::Null)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Data, DataError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
    ) -> Result<Data, DataError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Data, DataError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Data, DataError> {
        Ok(single_entry_object(variant, to_data(value)?))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SerializeArray, DataError> {
        Ok(SerializeArray {
            items: Vec::with_capacity(len.unwrap_or(0)),
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<SerializeArray, DataError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SerializeArray, DataError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SerializeTupleVariant, DataError> {
        Ok(SerializeTupleVariant {
            variant,
            items: Vec::with_capacity(len),
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<SerializeObject, DataError> {
        Ok(SerializeObject {
            object: BTreeMap::new(),
            next_key: None,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SerializeObject, DataError> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<SerializeStructVariant, DataError> {
        Ok(SerializeStructVariant {
            variant,
            object: BTreeMap::new(),
        })
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<Data, DataError> {
        Ok(Data::String(value.to_string()))
    }
}

/// `{variant: value}`: how a newtype, tuple or struct variant is represented.
fn single_entry_object(variant: &str, value: Data) -> Data {
    Data::Object(BTreeMap::from([(variant.to_owned(), value)]))
}

/// A sequence, tuple or tuple struct being serialized: a [`Data::Array`].
struct SerializeArray {
    items: Vec<Data>,
}

impl ser::SerializeSeq for SerializeArray {
    type Ok = Data;
    type Error = DataError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DataError> {
        self.items.push(to_data(value)?);
        Ok(())
    }

    fn end(self) -> Result<Data, DataError> {
        Ok(Data::Array(self.items))
    }
}

impl ser::SerializeTuple for SerializeArray {
    type Ok = Data;
    type Error = DataError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DataError> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<Data, DataError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SerializeArray {
    type Ok = Data;
    type Error = DataError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DataError> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<Data, DataError> {
        ser::SerializeSeq::end(self)
    }
}

/// A tuple variant being serialized: `{variant: [fields...]}`.
struct SerializeTupleVariant {
    variant: &'static str,
    items: Vec<Data>,
}

impl ser::SerializeTupleVariant for SerializeTupleVariant {
    type Ok = Data;
    type Error = DataError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DataError> {
        self.items.push(to_data(value)?);
        Ok(())
    }

    fn end(self) -> Result<Data, DataError> {
        Ok(single_entry_object(self.variant, Data::Array(self.items)))
    }
}

/// A map or struct being serialized: a [`Data::Object`], keys made strings by
/// [`MapKeySerializer`].
struct SerializeObject {
    object: BTreeMap<String, Data>,
    /// The key given by `serialize_key`, waiting for its `serialize_value`.
    next_key: Option<String>,
}

impl ser::SerializeMap for SerializeObject {
    type Ok = Data;
    type Error = DataError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), DataError> {
        self.next_key = Some(key.serialize(MapKeySerializer)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DataError> {
        // serde_json panics here; a faulty Serialize impl is an error, not a crash.
        let key = self.next_key.take().ok_or_else(|| {
            DataError::Message("serialize_value called before serialize_key".to_owned())
        })?;
        self.object.insert(key, to_data(value)?);
        Ok(())
    }

    fn end(self) -> Result<Data, DataError> {
        Ok(Data::Object(self.object))
    }
}

impl ser::SerializeStruct for SerializeObject {
    type Ok = Data;
    type Error = DataError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), DataError> {
        self.serialize_entry(key, value)
    }

    fn end(self) -> Result<Data, DataError> {
        ser::SerializeMap::end(self)
    }
}

/// A struct variant being serialized: `{variant: {fields...}}`.
struct SerializeStructVariant {
    variant: &'static str,
    object: BTreeMap<String, Data>,
}

impl ser::SerializeStructVariant for SerializeStructVariant {
    type Ok = Data;
    type Error = DataError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), DataError> {
        self.object.insert(key.to_owned(), to_data(value)?);
        Ok(())
    }

    fn end(self) -> Result<Data, DataError> {
        Ok(single_entry_object(self.variant, Data::Object(self.object)))
    }
}

/// Turns a map key into the object key serde_json would give it: strings and chars as
/// they are, integers, bools and finite floats as their JSON text, unit variants as their
/// name, newtype structs as their content; anything else is [`DataError::KeyMustBeAString`].
struct MapKeySerializer;

impl MapKeySerializer {
    /// A float key: its JSON text (serde_json's shortest round-trip form), if finite.
    fn float_key<F: Serialize + Display>(value: F, is_finite: bool) -> Result<String, DataError> {
        if !is_finite {
            return Err(DataError::FloatKeyMustBeFinite(value.to_string()));
        }
        serde_json::to_string(&value).map_err(ser::Error::custom)
    }
}

impl Serializer for MapKeySerializer {
    type Ok = String;
    type Error = DataError;

    type SerializeSeq = Impossible<String, DataError>;
    type SerializeTuple = Impossible<String, DataError>;
    type SerializeTupleStruct = Impossible<String, DataError>;
    type SerializeTupleVariant = Impossible<String, DataError>;
    type SerializeMap = Impossible<String, DataError>;
    type SerializeStruct = Impossible<String, DataError>;
    type SerializeStructVariant = Impossible<String, DataError>;

    fn serialize_bool(self, value: bool) -> Result<String, DataError> {
        Ok(value.to_string())
    }

    fn serialize_i8(self, value: i8) -> Result<String, DataError> {
        Ok(value.to_string())
    }

    fn serialize_i16(self, value: i16) -> Result<String, DataError> {
        Ok(value.to_string())
    }

    fn serialize_i32(self, value: i32) -> Result<String, DataError> {
        Ok(value.to_string())
    }

    fn serialize_i64(self, value: i64) -> Result<String, DataError> {
        Ok(value.to_string())
    }

    fn serialize_i128(self, value: i128) -> Result<String, DataError> {
        Ok(value.to_string())
    }

    fn serialize_u8(self, value: u8) -> Result<String, DataError> {
        Ok(value.to_string())
    }

    fn serialize_u16(self, value: u16) -> Result<String, DataError> {
        Ok(value.to_string())
    }

    fn serialize_u32(self, value: u32) -> Result<String, DataError> {
        Ok(value.to_string())
    }

    fn serialize_u64(self, value: u64) -> Result<String, DataError> {
        Ok(value.to_string())
    }

    fn serialize_u128(self, value: u128) -> Result<String, DataError> {
        Ok(value.to_string())
    }

    fn serialize_f32(self, value: f32) -> Result<String, DataError> {
        MapKeySerializer::float_key(value, value.is_finite())
    }

    fn serialize_f64(self, value: f64) -> Result<String, DataError> {
        MapKeySerializer::float_key(value, value.is_finite())
    }

    fn serialize_char(self, value: char) -> Result<String, DataError> {
        Ok(value.to_string())
    }

    fn serialize_str(self, value: &str) -> Result<String, DataError> {
        Ok(value.to_owned())
    }

    fn serialize_bytes(self, _value: &[u8]) -> Result<String, DataError> {
        Err(DataError::KeyMustBeAString("bytes"))
    }

    fn serialize_none(self) -> Result<String, DataError> {
        Err(DataError::KeyMustBeAString("an option"))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, DataError> {
        Err(DataError::KeyMustBeAString("an option"))
    }

    fn serialize_unit(self) -> Result<String, DataError> {
        Err(DataError::KeyMustBeAString("unit"))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, DataError> {
        Err(DataError::KeyMustBeAString("a unit struct"))
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
    ) -> Result<String, DataError> {
        Ok(variant.to_owned())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, DataError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, DataError> {
        Err(DataError::KeyMustBeAString("a newtype variant"))
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, DataError> {
        Err(DataError::KeyMustBeAString("a sequence"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, DataError> {
        Err(DataError::KeyMustBeAString("a tuple"))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, DataError> {
        Err(DataError::KeyMustBeAString("a tuple struct"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, DataError> {
        Err(DataError::KeyMustBeAString("a tuple variant"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, DataError> {
        Err(DataError::KeyMustBeAString("a map"))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, DataError> {
        Err(DataError::KeyMustBeAString("a struct"))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, DataError> {
        Err(DataError::KeyMustBeAString("a struct variant"))
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<String, DataError> {
        Ok(value.to_string())
    }
}

// ---------------------------------------------------------------------------------------
// The deserializer: Data into any Deserialize (serde_json's Value deserializer, bytes kept).

impl Data {
    /// What this is, for an invalid-type error.
    fn unexpected(&self) -> Unexpected<'_> {
        match self {
            Data::Null => Unexpected::Unit,
            Data::Bool(value) => Unexpected::Bool(*value),
            Data::Number(number) => unexpected_number(number),
            Data::String(string) => Unexpected::Str(string),
            Data::Binary(bytes) => Unexpected::Bytes(bytes),
            Data::Array(_) => Unexpected::Seq,
            Data::Object(_) => Unexpected::Map,
        }
    }

    /// The error for a visitor that wanted something else than this.
    fn invalid_type(&self, expected: &dyn Expected) -> DataError {
        de::Error::invalid_type(self.unexpected(), expected)
    }
}

/// What a number is, for an invalid-type error.
fn unexpected_number(number: &Number) -> Unexpected<'static> {
    if let Some(value) = number.as_u64() {
        Unexpected::Unsigned(value)
    } else if let Some(value) = number.as_i64() {
        Unexpected::Signed(value)
    } else if let Some(value) = number.as_f64() {
        Unexpected::Float(value)
    } else {
        Unexpected::Other("number")
    }
}

/// Hands a number to a visitor as the primitive it holds (what `Number`'s deserializer
/// does, with this module's error type).
fn visit_number<'de, V: Visitor<'de>>(number: &Number, visitor: V) -> Result<V::Value, DataError> {
    if let Some(value) = number.as_u64() {
        visitor.visit_u64(value)
    } else if let Some(value) = number.as_i64() {
        visitor.visit_i64(value)
    } else if let Some(value) = number.as_f64() {
        visitor.visit_f64(value)
    } else {
        Err(de::Error::invalid_value(
            Unexpected::Other("number"),
            &"a number of f64 range",
        ))
    }
}

/// Hands an array to a visitor as a sequence; elements it leaves unread are an error.
fn visit_array<'de, V: Visitor<'de>>(items: Vec<Data>, visitor: V) -> Result<V::Value, DataError> {
    let len = items.len();
    let mut access = ArrayAccess {
        items: items.into_iter(),
    };
    let value = visitor.visit_seq(&mut access)?;
    if access.items.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in array"))
    }
}

/// Hands binary data to a visitor as a sequence of `u8` (a `Vec<u8>` or `[u8; N]`).
fn visit_binary_as_seq<'de, V: Visitor<'de>>(
    bytes: Bytes,
    visitor: V,
) -> Result<V::Value, DataError> {
    let len = bytes.len();
    let mut access = BinaryAccess {
        bytes: bytes.into_iter(),
    };
    let value = visitor.visit_seq(&mut access)?;
    if access.bytes.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in array"))
    }
}

/// Hands an object to a visitor as a map; entries it leaves unread are an error.
fn visit_object<'de, V: Visitor<'de>>(
    object: BTreeMap<String, Data>,
    visitor: V,
) -> Result<V::Value, DataError> {
    let len = object.len();
    let mut access = ObjectAccess {
        entries: object.into_iter(),
        value: None,
    };
    let value = visitor.visit_map(&mut access)?;
    if access.entries.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in map"))
    }
}

/// Binary as bytes; a string's UTF-8 and an array (of numbers) as serde_json gives them.
fn visit_byte_buf<'de, V: Visitor<'de>>(data: Data, visitor: V) -> Result<V::Value, DataError> {
    match data {
        Data::Binary(bytes) => visitor.visit_byte_buf(Vec::from(bytes)),
        Data::String(string) => visitor.visit_string(string),
        Data::Array(items) => visit_array(items, visitor),
        other => Err(other.invalid_type(&visitor)),
    }
}

/// A deserializing method that accepts only a number.
macro_rules! deserialize_number {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
                match self {
                    Data::Number(number) => visit_number(&number, visitor),
                    other => Err(other.invalid_type(&visitor)),
                }
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Data {
    type Error = DataError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self {
            Data::Null => visitor.visit_unit(),
            Data::Bool(value) => visitor.visit_bool(value),
            Data::Number(number) => visit_number(&number, visitor),
            Data::String(string) => visitor.visit_string(string),
            Data::Binary(bytes) => visitor.visit_byte_buf(Vec::from(bytes)),
            Data::Array(items) => visit_array(items, visitor),
            Data::Object(object) => visit_object(object, visitor),
        }
    }

    deserialize_number! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self {
            Data::Bool(value) => visitor.visit_bool(value),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self {
            Data::String(string) => visitor.visit_string(string),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        visit_byte_buf(self, visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        visit_byte_buf(self, visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self {
            Data::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self {
            Data::Null => visitor.visit_unit(),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DataError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DataError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self {
            Data::Array(items) => visit_array(items, visitor),
            Data::Binary(bytes) => visit_binary_as_seq(bytes, visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DataError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DataError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self {
            Data::Object(object) => visit_object(object, visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DataError> {
        match self {
            Data::Array(items) => visit_array(items, visitor),
            Data::Object(object) => visit_object(object, visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DataError> {
        let (variant, value) = match self {
            Data::String(variant) => (variant, None),
            Data::Object(object) => {
                // An enum with content is an object with a single key: the variant.
                let mut entries = object.into_iter();
                match (entries.next(), entries.next()) {
                    (Some((variant, value)), None) => (variant, Some(value)),
                    _ => {
                        return Err(de::Error::invalid_value(
                            Unexpected::Map,
                            &"map with a single key",
                        ));
                    }
                }
            }
            other => {
                return Err(de::Error::invalid_type(
                    other.unexpected(),
                    &"string or map",
                ));
            }
        };
        visitor.visit_enum(EnumDeserializer { variant, value })
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        drop(self);
        visitor.visit_unit()
    }
}

impl<'de> IntoDeserializer<'de, DataError> for Data {
    type Deserializer = Data;

    fn into_deserializer(self) -> Data {
        self
    }
}

/// The elements of an array, handed out one by one.
struct ArrayAccess {
    items: std::vec::IntoIter<Data>,
}

impl<'de> SeqAccess<'de> for ArrayAccess {
    type Error = DataError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DataError> {
        self.items
            .next()
            .map(|item| seed.deserialize(item))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The bytes of a binary leaf, handed out as `u8` elements.
struct BinaryAccess {
    bytes: bytes::buf::IntoIter<Bytes>,
}

impl<'de> SeqAccess<'de> for BinaryAccess {
    type Error = DataError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DataError> {
        self.bytes
            .next()
            .map(|byte| seed.deserialize(IntoDeserializer::<DataError>::into_deserializer(byte)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.bytes.len())
    }
}

/// The entries of an object, handed out key then value.
struct ObjectAccess {
    entries: btree_map::IntoIter<String, Data>,
    /// The value of the key just handed out.
    value: Option<Data>,
}

impl<'de> MapAccess<'de> for ObjectAccess {
    type Error = DataError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DataError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(MapKeyDeserializer { key }).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DataError> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enum's variant name and, unless it is a unit variant written as a string, its
/// content.
struct EnumDeserializer {
    variant: String,
    value: Option<Data>,
}

impl<'de> EnumAccess<'de> for EnumDeserializer {
    type Error = DataError;
    type Variant = VariantDeserializer;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantDeserializer), DataError> {
        let variant = seed.deserialize(IntoDeserializer::<DataError>::into_deserializer(
            self.variant,
        ))?;
        Ok((variant, VariantDeserializer { value: self.value }))
    }
}

/// An enum variant's content, read as the variant's kind asks.
struct VariantDeserializer {
    value: Option<Data>,
}

impl<'de> VariantAccess<'de> for VariantDeserializer {
    type Error = DataError;

    fn unit_variant(self) -> Result<(), DataError> {
        match self.value {
            Some(value) => <()>::deserialize(value),
            None => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DataError> {
        match self.value {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DataError> {
        match self.value {
            Some(Data::Array(items)) if items.is_empty() => visitor.visit_unit(),
            Some(Data::Array(items)) => visit_array(items, visitor),
            Some(other) => Err(de::Error::invalid_type(
                other.unexpected(),
                &"tuple variant",
            )),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DataError> {
        match self.value {
            Some(Data::Object(object)) => visit_object(object, visitor),
            Some(other) => Err(de::Error::invalid_type(
                other.unexpected(),
                &"struct variant",
            )),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

/// An object key: a string, or read as a number or a bool when the key type is one (a
/// `BTreeMap<u32, _>`), as serde_json reads keys.
struct MapKeyDeserializer {
    key: String,
}

impl MapKeyDeserializer {
    /// The key as a JSON number: it must be one whole (no sign but `-`, no spaces).
    fn number(&self) -> Result<Number, DataError> {
        let starts_as_number = self
            .key
            .as_bytes()
            .first()
            .is_some_and(|byte| byte.is_ascii_digit() || *byte == b'-');
        let ends_as_number = self.key.as_bytes().last().is_some_and(u8::is_ascii_digit);
        if !(starts_as_number && ends_as_number) {
            return Err(DataError::ExpectedNumericKey(self.key.clone()));
        }
        serde_json::from_str(&self.key).map_err(|_| DataError::ExpectedNumericKey(self.key.clone()))
    }
}

/// A key-reading method for a number type.
macro_rules! deserialize_numeric_key {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
                visit_number(&self.number()?, visitor)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for MapKeyDeserializer {
    type Error = DataError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        visitor.visit_string(self.key)
    }

    deserialize_numeric_key! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f64
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        let number = self.number()?;
        // Parsed straight to f32, as serde_json does: no rounding through f64 first.
        match self.key.parse::<f32>() {
            Ok(value) if number.is_f64() => visitor.visit_f32(value),
            _ => visit_number(&number, visitor),
        }
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        let number = self.number()?;
        // The whole i128 range: past i64 and u64 the JSON number is only a float.
        match self.key.parse::<i128>() {
            Ok(value) => visitor.visit_i128(value),
            Err(_) => visit_number(&number, visitor),
        }
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        let number = self.number()?;
        match self.key.parse::<u128>() {
            Ok(value) => visitor.visit_u128(value),
            Err(_) => visit_number(&number, visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        match self.key.as_str() {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            other => Err(de::Error::invalid_type(Unexpected::Str(other), &visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DataError> {
        // A key is never null.
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DataError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DataError> {
        IntoDeserializer::<DataError>::into_deserializer(self.key)
            .deserialize_enum(name, variants, visitor)
    }

    forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct
        map struct identifier ignored_any
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
    use serde_json::{Value, json};
    use std::collections::HashMap;

    /// `#[serde(with = "serde_bytes")]` in a few lines: the field is serde's bytes
    /// (`serialize_bytes` out, `visit_bytes` / `visit_byte_buf` in).
    mod as_bytes {
        use serde::de::{Deserializer, Error, Visitor};
        use serde::ser::Serializer;
        use std::fmt;

        pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(bytes)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<u8>, D::Error> {
            struct BytesOnly;
            impl Visitor<'_> for BytesOnly {
                type Value = Vec<u8>;
                fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                    formatter.write_str("bytes")
                }
                fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
                    Ok(bytes.to_vec())
                }
                fn visit_byte_buf<E: Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
                    Ok(bytes)
                }
            }
            deserializer.deserialize_byte_buf(BytesOnly)
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Unit;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Meters(u32);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Pair(i16, String);

    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    enum Color {
        Red,
        Green,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Empty,
        Circle(f64),
        Segment(i32, i32),
        Rect { width: u16, height: u16 },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type")]
    enum Tagged {
        Ping,
        Move { x: i8, y: i8 },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "t", content = "c")]
    enum Adjacent {
        Text(String),
        Flag(bool),
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    enum Untagged {
        Number(i64),
        Words(Vec<String>),
    }

    /// Every kind of field serde has, without binary.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Everything {
        unit: (),
        flag: bool,
        tiny: i8,
        u64_max: u64,
        i64_min: i64,
        i64_max: i64,
        u128_small: u128,
        i128_negative: i128,
        float: f64,
        single: f32,
        text: String,
        letter: char,
        nothing: Option<u32>,
        something: Option<String>,
        nested_some: Option<Option<u8>>,
        matrix: Vec<Vec<u16>>,
        by_name: BTreeMap<String, Vec<i32>>,
        by_number: BTreeMap<u32, bool>,
        by_negative: BTreeMap<i64, String>,
        by_bool: BTreeMap<bool, u8>,
        by_char: BTreeMap<char, u8>,
        by_color: BTreeMap<Color, u8>,
        tuple: (u8, String, bool),
        unit_struct: Unit,
        newtype: Meters,
        tuple_struct: Pair,
        shapes: Vec<Shape>,
        tagged: Vec<Tagged>,
        adjacent: Vec<Adjacent>,
        untagged: Vec<Untagged>,
        json: Value,
        numbers_as_seq: Vec<u8>,
    }

    fn everything() -> Everything {
        Everything {
            unit: (),
            flag: true,
            tiny: i8::MIN,
            u64_max: u64::MAX,
            i64_min: i64::MIN,
            i64_max: i64::MAX,
            u128_small: u128::from(u64::MAX),
            i128_negative: i128::from(i64::MIN),
            float: -1.5e300,
            single: 0.1,
            text: "quote \" nul \u{0} é €".to_owned(),
            letter: 'ß',
            nothing: None,
            something: Some("x".to_owned()),
            nested_some: Some(Some(7)),
            matrix: vec![vec![], vec![1, 2], vec![u16::MAX]],
            by_name: BTreeMap::from([("a".to_owned(), vec![-1]), ("b".to_owned(), vec![])]),
            by_number: BTreeMap::from([(0, true), (u32::MAX, false)]),
            by_negative: BTreeMap::from([(i64::MIN, "min".to_owned()), (-1, "-1".to_owned())]),
            by_bool: BTreeMap::from([(true, 1), (false, 0)]),
            by_char: BTreeMap::from([('x', 1)]),
            by_color: BTreeMap::from([(Color::Red, 1), (Color::Green, 2)]),
            tuple: (255, "t".to_owned(), false),
            unit_struct: Unit,
            newtype: Meters(42),
            tuple_struct: Pair(-3, "p".to_owned()),
            shapes: vec![
                Shape::Empty,
                Shape::Circle(0.5),
                Shape::Segment(-1, 1),
                Shape::Rect {
                    width: 3,
                    height: 4,
                },
            ],
            tagged: vec![Tagged::Ping, Tagged::Move { x: -1, y: 1 }],
            adjacent: vec![Adjacent::Text("a".to_owned()), Adjacent::Flag(true)],
            untagged: vec![Untagged::Number(-9), Untagged::Words(vec!["w".to_owned()])],
            json: json!({"free": [1, "two", null, {"three": 3.25}]}),
            numbers_as_seq: vec![0, 1, 255],
        }
    }

    /// With bytes in it, at several depths.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Upload {
        name: String,
        content: Bytes,
        #[serde(with = "as_bytes")]
        thumbnail: Vec<u8>,
        chunks: Vec<Bytes>,
        optional: Option<Bytes>,
        by_name: BTreeMap<String, Bytes>,
        raw: Data,
        kind: Payload,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Payload {
        Inline(Bytes),
        Parts { head: Bytes, tail: Option<Bytes> },
    }

    fn binary(bytes: &'static [u8]) -> Data {
        Data::Binary(Bytes::from_static(bytes))
    }

    fn object<const N: usize>(entries: [(&str, Data); N]) -> Data {
        Data::Object(
            entries
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect(),
        )
    }

    /// `to_data` gives what serde_json's `to_value` gives, and `from_data` reads back what
    /// `from_value` reads (compared through `Value`, for types without `PartialEq`).
    fn assert_like_serde_json<T: Serialize + DeserializeOwned + fmt::Debug>(value: &T) {
        let json = serde_json::to_value(value).unwrap();
        let data = to_data(value).unwrap();
        assert_eq!(data, Data::from(json.clone()), "{value:?}");
        let from_json: T = serde_json::from_value(json).unwrap();
        let from_data: T = from_data(data).unwrap();
        assert_eq!(format!("{from_data:?}"), format!("{from_json:?}"));
    }

    #[test]
    fn every_serde_shape_maps_as_serde_json_maps_it() {
        assert_like_serde_json(&everything());
        // Representations spelled out: unit variants are strings, the others one-key objects.
        let shapes = to_data(&everything().shapes).unwrap();
        assert_eq!(
            shapes,
            Data::from(json!([
                "Empty",
                {"Circle": 0.5},
                {"Segment": [-1, 1]},
                {"Rect": {"width": 3, "height": 4}},
            ]))
        );
        assert_eq!(
            to_data(&everything().by_number).unwrap(),
            Data::from(json!({"0": true, "4294967295": false}))
        );
        assert_eq!(to_data(&Unit).unwrap(), Data::Null);
        assert_eq!(to_data(&Meters(1)).unwrap(), Data::from(json!(1)));
        assert_eq!(to_data(&None::<u8>).unwrap(), Data::Null);
    }

    #[test]
    fn derived_types_round_trip() {
        let value = everything();
        assert_eq!(
            from_data::<Everything>(to_data(&value).unwrap()).unwrap(),
            value
        );
        for shape in everything().shapes {
            assert_eq!(from_data::<Shape>(to_data(&shape).unwrap()).unwrap(), shape);
        }
    }

    #[test]
    fn a_table_of_values_matches_serde_json() {
        assert_like_serde_json(&0u8);
        assert_like_serde_json(&i64::MIN);
        assert_like_serde_json(&u64::MAX);
        assert_like_serde_json(&i128::from(i64::MIN));
        assert_like_serde_json(&u128::from(u64::MAX));
        assert_like_serde_json(&f64::MAX);
        assert_like_serde_json(&f64::MIN_POSITIVE);
        assert_like_serde_json(&-0.0f64);
        assert_like_serde_json(&1.0e-7f32);
        assert_like_serde_json(&f32::MAX);
        assert_like_serde_json(&String::new());
        assert_like_serde_json(&'\u{10FFFF}');
        assert_like_serde_json(&());
        assert_like_serde_json(&Some(()));
        assert_like_serde_json(&vec![Some(1), None]);
        assert_like_serde_json(&(1, "a".to_owned(), [true, false]));
        assert_like_serde_json(&[[0u8; 2]; 3]);
        assert_like_serde_json(&BTreeMap::from([(-1i8, 'a'), (2, 'b')]));
        assert_like_serde_json(&BTreeMap::from([(Color::Green, Meters(3))]));
        assert_like_serde_json(&std::time::Duration::from_millis(1500));
        assert_like_serde_json(&std::net::Ipv4Addr::LOCALHOST);
        assert_like_serde_json(&json!({"deep": [[[{"x": [null]}]]]}));
        // Non-finite floats are null, as in serde_json.
        for float in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(to_data(&float).unwrap(), Data::Null);
            assert_eq!(serde_json::to_value(float).unwrap(), Value::Null);
        }
        assert_eq!(to_data(&f32::NAN).unwrap(), Data::Null);
        // A float map key is its JSON text, an f32 in its own shortest form.
        let keys = FloatKeys(vec![(1.5, 1), (-0.25, 2), (1e300, 3), (5e-324, 4)]);
        assert_eq!(
            to_data(&keys).unwrap(),
            Data::from(serde_json::to_value(&keys).unwrap())
        );
        let keys = FloatKeys(vec![(0.1f32, 1), (f32::MAX, 2)]);
        assert_eq!(
            to_data(&keys).unwrap(),
            Data::from(json!({"0.1": 1, "3.4028235e+38": 2}))
        );
        assert_eq!(
            to_data(&keys).unwrap(),
            Data::from(serde_json::to_value(&keys).unwrap())
        );
    }

    /// A map with float keys (no float is `Ord`, so no `BTreeMap` holds them).
    struct FloatKeys<F>(Vec<(F, u8)>);

    impl<F: Serialize> Serialize for FloatKeys<F> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().map(|(key, value)| (key, value)))
        }
    }

    /// A JSON value of any shape (numbers of every kind, strings with escapes, depth 4).
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".*".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(".*", inner, 0..8)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_value_maps_as_serde_json_and_back(value in any_json()) {
            prop_assert_eq!(to_data(&value).unwrap(), Data::from(value.clone()));
            prop_assert_eq!(from_data::<Value>(Data::from(value.clone())).unwrap(), value.clone());
            // Data's own Serialize and Deserialize agree with Value's.
            let data = Data::from(value.clone());
            prop_assert_eq!(serde_json::to_value(&data).unwrap(), value.clone());
            prop_assert_eq!(serde_json::from_value::<Data>(value.clone()).unwrap(), data.clone());
            prop_assert_eq!(from_data::<Data>(data.clone()).unwrap(), data.clone());
            prop_assert_eq!(to_data(&data).unwrap(), data);
        }

        #[test]
        fn any_primitives_map_as_serde_json(
            value in any::<(u64, i64, f64, f32, String, Option<i32>, Vec<u8>, (bool, char))>(),
            keys in prop::collection::hash_map(any::<i32>(), any::<u16>(), 0..8),
            floats in prop::collection::vec(any::<f64>(), 0..8),
        ) {
            prop_assert_eq!(to_data(&value).unwrap(), Data::from(serde_json::to_value(&value).unwrap()));
            prop_assert_eq!(to_data(&keys).unwrap(), Data::from(serde_json::to_value(&keys).unwrap()));
            prop_assert_eq!(to_data(&floats).unwrap(), Data::from(serde_json::to_value(&floats).unwrap()));
            let back: HashMap<i32, u16> = from_data(to_data(&keys).unwrap()).unwrap();
            prop_assert_eq!(back, keys);
        }
    }

    #[test]
    fn bytes_are_binary_and_come_back() {
        let upload = Upload {
            name: "photo.png".to_owned(),
            content: Bytes::from_static(b"\x89PNG"),
            thumbnail: vec![1, 2, 3],
            chunks: vec![Bytes::from_static(b"a"), Bytes::new()],
            optional: Some(Bytes::from_static(b"o")),
            by_name: BTreeMap::from([("k".to_owned(), Bytes::from_static(b"v"))]),
            raw: Data::Array(vec![binary(b"raw"), Data::from("text")]),
            kind: Payload::Parts {
                head: Bytes::from_static(b"h"),
                tail: None,
            },
        };
        let data = to_data(&upload).unwrap();
        assert_eq!(
            data,
            object([
                ("name", Data::from("photo.png")),
                ("content", binary(b"\x89PNG")),
                ("thumbnail", binary(&[1, 2, 3])),
                ("chunks", Data::Array(vec![binary(b"a"), binary(b"")])),
                ("optional", binary(b"o")),
                ("by_name", object([("k", binary(b"v"))])),
                ("raw", Data::Array(vec![binary(b"raw"), Data::from("text")])),
                (
                    "kind",
                    object([(
                        "Parts",
                        object([("head", binary(b"h")), ("tail", Data::Null)])
                    )])
                ),
            ])
        );
        assert_eq!(data.binary_count(), 8);
        assert_eq!(from_data::<Upload>(data).unwrap(), upload);
        let inline = Payload::Inline(Bytes::from_static(b"i"));
        let data = to_data(&inline).unwrap();
        assert_eq!(data, object([("Inline", binary(b"i"))]));
        assert_eq!(from_data::<Payload>(data).unwrap(), inline);
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type")]
    enum TaggedFile {
        File { content: Bytes },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Flattened {
        name: String,
        #[serde(flatten)]
        rest: BTreeMap<String, Data>,
    }

    #[test]
    fn binary_survives_serdes_buffered_representations() {
        // Internally tagged enums and flatten buffer the input (deserialize_any): a
        // Binary is buffered as bytes and still reaches a Bytes field.
        let file = TaggedFile::File {
            content: Bytes::from_static(b"c"),
        };
        let data = to_data(&file).unwrap();
        assert_eq!(
            data,
            object([("type", Data::from("File")), ("content", binary(b"c"))])
        );
        assert_eq!(from_data::<TaggedFile>(data).unwrap(), file);
        let flattened = Flattened {
            name: "n".to_owned(),
            rest: BTreeMap::from([("blob".to_owned(), binary(b"b"))]),
        };
        let data = to_data(&flattened).unwrap();
        assert_eq!(
            data,
            object([("blob", binary(b"b")), ("name", Data::from("n"))])
        );
        assert_eq!(from_data::<Flattened>(data).unwrap(), flattened);
        // But serde's buffer gives no bytes to a sequence (documented on from_data).
        #[derive(Debug, Deserialize)]
        #[serde(tag = "type")]
        enum TaggedVec {
            File {
                #[allow(dead_code)]
                content: Vec<u8>,
            },
        }
        let data = object([("type", Data::from("File")), ("content", binary(b"c"))]);
        assert_eq!(
            from_data::<TaggedVec>(data).unwrap_err().to_string(),
            "invalid type: byte array, expected a sequence"
        );
    }

    #[test]
    fn binary_fits_byte_sequences_and_bytes_fit_json_arrays() {
        // A Vec<u8> or [u8; N] reads a binary leaf as its bytes.
        assert_eq!(from_data::<Vec<u8>>(binary(&[0, 255])).unwrap(), [0, 255]);
        assert_eq!(from_data::<[u8; 3]>(binary(&[1, 2, 3])).unwrap(), [1, 2, 3]);
        assert_eq!(from_data::<(u8, u8)>(binary(&[1, 2])).unwrap(), (1, 2));
        assert_eq!(
            from_data::<Vec<u8>>(Data::from(json!([4, 5]))).unwrap(),
            [4, 5]
        );
        // Bytes read the shapes serde_json gives them, as well as binary.
        assert_eq!(
            from_data::<Bytes>(Data::from(json!([4, 5]))).unwrap(),
            Bytes::from_static(&[4, 5])
        );
        assert_eq!(
            from_data::<Bytes>(Data::from("hi")).unwrap(),
            Bytes::from_static(b"hi")
        );
        // Data inside a typed value stays Data, binary included.
        let args: (String, Data) =
            from_data(Data::Array(vec![Data::from("e"), binary(b"x")])).unwrap();
        assert_eq!(args, ("e".to_owned(), binary(b"x")));
        assert_eq!(
            to_data(&args).unwrap(),
            Data::Array(vec![Data::from("e"), binary(b"x")])
        );
        // Through serde_json (no binary there), a binary leaf is an array of numbers.
        assert_eq!(
            serde_json::to_value(binary(&[1, 2])).unwrap(),
            json!([1, 2])
        );
    }

    fn error<T: DeserializeOwned + fmt::Debug>(data: Data) -> DataError {
        from_data::<T>(data).unwrap_err()
    }

    #[test]
    fn wrong_types_say_what_did_not_fit() {
        assert_eq!(
            error::<String>(binary(b"ab")),
            DataError::InvalidType {
                found: "byte array".to_owned(),
                expected: "a string".to_owned()
            }
        );
        assert_eq!(
            error::<char>(binary(b"a")).to_string(),
            "invalid type: byte array, expected a character"
        );
        assert_eq!(
            error::<BTreeMap<String, u8>>(binary(b"a")).to_string(),
            "invalid type: byte array, expected a map"
        );
        assert_eq!(
            error::<u8>(binary(b"a")).to_string(),
            "invalid type: byte array, expected u8"
        );
        assert_eq!(
            error::<[u8; 2]>(binary(&[1, 2, 3])).to_string(),
            "invalid length 3, expected fewer elements in array"
        );
        assert_eq!(
            error::<Vec<i8>>(binary(&[1, 200])).to_string(),
            "invalid value: integer `200`, expected i8"
        );
        assert_eq!(
            error::<Shape>(binary(b"a")).to_string(),
            "invalid type: byte array, expected string or map"
        );
        assert_eq!(
            error::<Upload>(object([("name", Data::from("n"))])),
            DataError::MissingField("content")
        );
        assert_eq!(
            error::<BTreeMap<u32, u8>>(object([("x1", Data::from(json!(1)))])).to_string(),
            "invalid value: expected key to be a number in quotes, found \"x1\""
        );
        // (serde_json adds a position in the key, "at line 1 column 3".)
        assert_eq!(
            error::<BTreeMap<u8, u8>>(object([("256", Data::Null)])).to_string(),
            "invalid value: integer `256`, expected u8"
        );
        for key in [" 1", "1 ", "+1", "1.", "", "0x1", "01", "1e"] {
            assert_eq!(
                error::<BTreeMap<i32, u8>>(object([(key, Data::Null)])),
                DataError::ExpectedNumericKey(key.to_owned()),
                "{key:?}"
            );
        }
        assert_eq!(
            from_data::<BTreeMap<i128, u8>>(object([(
                "-170141183460469231731687303715884105728",
                Data::from(json!(1))
            )]))
            .unwrap(),
            BTreeMap::from([(i128::MIN, 1)])
        );
        // An f32 key is parsed as an f32, not rounded through an f64: just above the midpoint
        // of 1 and the next f32, which as an f64 is the midpoint itself (then rounded to 1).
        let above_midpoint = "1.000000059604644776257986737988403547205962240695953369140625";
        let keys: BTreeMap<F32Key, u8> =
            from_data(object([(above_midpoint, Data::from(json!(1)))])).unwrap();
        assert_eq!(
            keys.into_keys().collect::<Vec<_>>(),
            [F32Key(f32::from_bits(1.0f32.to_bits() + 1))]
        );
        assert_eq!(above_midpoint.parse::<f64>().unwrap() as f32, 1.0);
    }

    /// An f32 that can be a `BTreeMap` key (ordered by its bits).
    #[derive(Debug, Deserialize)]
    struct F32Key(f32);

    impl PartialEq for F32Key {
        fn eq(&self, other: &F32Key) -> bool {
            self.0.to_bits() == other.0.to_bits()
        }
    }

    impl Eq for F32Key {}

    impl PartialOrd for F32Key {
        fn partial_cmp(&self, other: &F32Key) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }

    impl Ord for F32Key {
        fn cmp(&self, other: &F32Key) -> std::cmp::Ordering {
            self.0.to_bits().cmp(&other.0.to_bits())
        }
    }

    #[test]
    fn binary_free_errors_read_as_serde_json_errors() {
        fn same<T: DeserializeOwned + fmt::Debug>(value: Value) {
            let json = serde_json::from_value::<T>(value.clone()).unwrap_err();
            let data = from_data::<T>(Data::from(value.clone())).unwrap_err();
            assert_eq!(data.to_string(), json.to_string(), "{value}");
        }
        same::<u8>(json!("x"));
        same::<u8>(json!(300));
        same::<u8>(json!(-1));
        same::<i64>(json!(1.5));
        same::<u64>(json!(u64::MAX).as_f64().map(Value::from).unwrap());
        same::<bool>(json!(null));
        same::<String>(json!(1));
        same::<char>(json!("ab"));
        same::<()>(json!(0));
        same::<Unit>(json!([]));
        same::<(u8, u8)>(json!([1]));
        same::<(u8, u8)>(json!([1, 2, 3]));
        same::<Vec<u8>>(json!({}));
        same::<Shape>(json!(1));
        same::<Shape>(json!("Triangle"));
        same::<Shape>(json!({"Circle": 1.0, "Empty": null}));
        same::<Shape>(json!({}));
        same::<Shape>(json!("Circle"));
        same::<Shape>(json!({"Segment": 1}));
        same::<Shape>(json!({"Rect": [1]}));
        same::<Shape>(json!({"Empty": 1}));
        same::<Tagged>(json!({"type": "Jump"}));
        same::<Untagged>(json!(true));
        same::<Everything>(json!({}));
        same::<Pair>(json!({"0": 1}));
        same::<BTreeMap<bool, u8>>(json!({"yes": 1}));
        same::<BTreeMap<Color, u8>>(json!({"Blue": 1}));
    }

    #[test]
    fn keys_that_are_not_strings_numbers_or_bools_are_refused() {
        assert_eq!(
            to_data(&BTreeMap::from([(vec![1], 1)])),
            Err(DataError::KeyMustBeAString("a sequence"))
        );
        assert_eq!(
            to_data(&BTreeMap::from([(Bytes::from_static(b"k"), 1)]))
                .unwrap_err()
                .to_string(),
            "key must be a string, a number, a bool or a unit variant, not bytes"
        );
        assert_eq!(
            to_data(&BTreeMap::from([((), 1)])),
            Err(DataError::KeyMustBeAString("unit"))
        );
        assert_eq!(
            to_data(&BTreeMap::from([(Some(1), 1)])),
            Err(DataError::KeyMustBeAString("an option"))
        );
        for (bad, text) in [(f64::NAN, "NaN"), (f64::NEG_INFINITY, "-inf")] {
            let keys = FloatKeys(vec![(1.0, 1), (bad, 2)]);
            assert_eq!(
                to_data(&keys),
                Err(DataError::FloatKeyMustBeFinite(text.to_owned()))
            );
            assert!(serde_json::to_value(&keys).is_err());
        }
        assert_eq!(
            to_data(&FloatKeys(vec![(f32::INFINITY, 1)]))
                .unwrap_err()
                .to_string(),
            "float key must be finite, not inf"
        );
        // serde_json refuses the same keys.
        assert!(serde_json::to_value(BTreeMap::from([(vec![1], 1)])).is_err());
        assert!(serde_json::to_value(BTreeMap::from([(Some(1), 1)])).is_err());
        assert_eq!(
            to_data(&1i128.checked_shl(100).unwrap())
                .unwrap_err()
                .to_string(),
            "number out of range: 1267650600228229401496703205376 is beyond i64 and u64"
        );
        assert!(serde_json::to_value(1i128 << 100).is_err());
        assert_eq!(
            to_data(&u128::MAX),
            Err(DataError::NumberOutOfRange(u128::MAX.to_string()))
        );
    }
}
