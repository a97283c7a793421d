//! Canonical JSON written straight from a value's `Serialize`, without building a
//! `serde_json::Value` first: compact, every object's keys in byte order at every depth, scalars
//! exactly as `serde_json` writes them. The verifier hashes every event of the database this way
//! (`super::event::canonical_json`), and the value tree it no longer builds (a map, a string per
//! key and a node per value, for every event) was most of its allocations.
//!
//! Only what a JSON value can hold with string keys is written here; anything else (bytes, 128-bit
//! or 32-bit floating numbers, a map whose keys are not strings) is [`Unsupported`], and the
//! caller falls back to the value tree, so the bytes are the same whichever path wrote them (a
//! unit test compares the two).
//!
//! Over the house's 400 lines: serde's `Serializer` asks for every method of the data model, for
//! values and again for map keys; most are one line.

use serde::ser::{self, Serialize};
use std::borrow::Cow;
use std::ops::Range;

/// Something this writer leaves to the value tree.
#[derive(Debug)]
pub struct Unsupported(String);

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not written directly: {}", self.0)
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Unsupported(msg.to_string())
    }
}

fn unsupported<T>(what: &str) -> Result<T, Unsupported> {
    Err(Unsupported(what.to_string()))
}

/// `value` as canonical JSON, appended to `out`.
pub fn write<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), Unsupported> {
    value.serialize(Writer { out })
}

/// A scalar as `serde_json` writes it.
fn scalar<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), Unsupported> {
    serde_json::to_writer(out, value).map_err(|e| Unsupported(e.to_string()))
}

/// `{"variant":`, before a variant's content.
fn open_variant(variant: &str, out: &mut Vec<u8>) -> Result<(), Unsupported> {
    out.push(b'{');
    scalar(variant, out)?;
    out.push(b':');
    Ok(())
}

/// Methods of [`Writer`] for scalars `serde_json` writes as they are.
macro_rules! as_serde_json_writes {
    ($($method:ident($arg:ty)),* $(,)?) => {
        $(fn $method(self, v: $arg) -> Result<(), Unsupported> {
            scalar(&v, self.out)
        })*
    };
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Variant<Seq<'a>>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Variant<Object<'a>>;

    fn serialize_bool(self, v: bool) -> Result<(), Unsupported> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    as_serde_json_writes! {
        serialize_i8(i8), serialize_i16(i16), serialize_i32(i32), serialize_i64(i64),
        serialize_u8(u8), serialize_u16(u16), serialize_u32(u32), serialize_u64(u64),
        serialize_char(char)
    }
    fn serialize_f32(self, _: f32) -> Result<(), Unsupported> {
        unsupported("f32")
    }
    fn serialize_f64(self, v: f64) -> Result<(), Unsupported> {
        // As a value: a number that is not finite is null.
        if v.is_finite() {
            scalar(&v, self.out)
        } else {
            self.serialize_unit()
        }
    }
    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        scalar(v, self.out)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Unsupported> {
        unsupported("bytes")
    }
    fn serialize_none(self) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        // `{"variant":value}`: one key, nothing to sort.
        open_variant(variant, self.out)?;
        value.serialize(Writer {
            out: &mut *self.out,
        })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a>, Unsupported> {
        self.out.push(b'[');
        Ok(Seq {
            out: self.out,
            first: true,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq<'a>, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Variant<Seq<'a>>, Unsupported> {
        open_variant(variant, self.out)?;
        self.out.push(b'[');
        Ok(Variant(Seq {
            out: self.out,
            first: true,
        }))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Object<'a>, Unsupported> {
        Ok(Object::new(self.out, len.unwrap_or(0)))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Object<'a>, Unsupported> {
        Ok(Object::new(self.out, len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Object<'a>>, Unsupported> {
        open_variant(variant, self.out)?;
        Ok(Variant(Object::new(self.out, len)))
    }
    fn serialize_i128(self, _: i128) -> Result<(), Unsupported> {
        unsupported("i128")
    }
    fn serialize_u128(self, _: u128) -> Result<(), Unsupported> {
        unsupported("u128")
    }
}

/// An array being written: items in order.
pub struct Seq<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Seq<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Writer {
            out: &mut *self.out,
        })
    }

    fn close(self) {
        self.out.push(b']');
    }
}

/// The three kinds of sequence serde knows are written alike.
macro_rules! sequence {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for Seq<'_> {
            type Ok = ();
            type Error = Unsupported;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
                self.item(value)
            }
            fn end(self) -> Result<(), Unsupported> {
                self.close();
                Ok(())
            }
        }
    };
}

sequence!(SerializeSeq, serialize_element);
sequence!(SerializeTuple, serialize_element);
sequence!(SerializeTupleStruct, serialize_field);

/// An object being written: each value is written to a scratch buffer as it comes, and the
/// entries are put in key order at the end.
pub struct Object<'a> {
    out: &'a mut Vec<u8>,
    scratch: Vec<u8>,
    entries: Vec<(Cow<'static, str>, Range<usize>)>,
    key: Option<Cow<'static, str>>,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut Vec<u8>, len: usize) -> Object<'a> {
        Object {
            out,
            scratch: Vec::with_capacity(len * 16),
            entries: Vec::with_capacity(len),
            key: None,
        }
    }

    fn entry<T: Serialize + ?Sized>(
        &mut self,
        key: Cow<'static, str>,
        value: &T,
    ) -> Result<(), Unsupported> {
        let start = self.scratch.len();
        value.serialize(Writer {
            out: &mut self.scratch,
        })?;
        self.entries.push((key, start..self.scratch.len()));
        Ok(())
    }

    /// Writes the object; returns where it wrote, for what follows it.
    fn close(mut self) -> Result<&'a mut Vec<u8>, Unsupported> {
        // A value tree keeps one entry per key (the last value); a map that repeats a key is
        // left to it.
        self.entries.sort_by(|a, b| a.0.cmp(&b.0));
        if self.entries.windows(2).any(|w| w[0].0 == w[1].0) {
            return unsupported("a repeated key");
        }
        self.out.push(b'{');
        for (i, (key, range)) in self.entries.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            scalar(key.as_ref(), self.out)?;
            self.out.push(b':');
            self.out.extend_from_slice(&self.scratch[range.clone()]);
        }
        self.out.push(b'}');
        Ok(self.out)
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsupported> {
        self.key = Some(Cow::Owned(key.serialize(KeyWriter)?));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        let Some(key) = self.key.take() else {
            return unsupported("a value without a key");
        };
        self.entry(key, value)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close().map(|_| ())
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.entry(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close().map(|_| ())
    }
}

/// A variant's content inside `{"variant": ...}`.
pub struct Variant<T>(T);

impl ser::SerializeTupleVariant for Variant<Seq<'_>> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.0.item(value)
    }
    fn end(self) -> Result<(), Unsupported> {
        let out = self.0.out;
        out.extend_from_slice(b"]}");
        Ok(())
    }
}

impl ser::SerializeStructVariant for Variant<Object<'_>> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.0.entry(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.0.close()?.push(b'}');
        Ok(())
    }
}

/// Methods of [`KeyWriter`] for what is not a string.
macro_rules! not_a_key {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<String, Unsupported> {
            unsupported("a key that is not a string")
        })*
    };
}

/// A map key: only strings (and what serializes as one) are written here.
struct KeyWriter;

impl ser::Serializer for KeyWriter {
    type Ok = String;
    type Error = Unsupported;
    type SerializeSeq = ser::Impossible<String, Unsupported>;
    type SerializeTuple = ser::Impossible<String, Unsupported>;
    type SerializeTupleStruct = ser::Impossible<String, Unsupported>;
    type SerializeTupleVariant = ser::Impossible<String, Unsupported>;
    type SerializeMap = ser::Impossible<String, Unsupported>;
    type SerializeStruct = ser::Impossible<String, Unsupported>;
    type SerializeStructVariant = ser::Impossible<String, Unsupported>;

    fn serialize_str(self, v: &str) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_char(self, v: char) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, Unsupported> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, Unsupported> {
        value.serialize(self)
    }
    not_a_key! {
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
        serialize_u64(u64), serialize_f32(f32), serialize_f64(f64), serialize_bytes(&[u8]),
        serialize_none(), serialize_unit(), serialize_unit_struct(&'static str)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Unsupported> {
        unsupported("a key that is not a string")
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Unsupported> {
        unsupported("a key that is not a string")
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
        unsupported("a key that is not a string")
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unsupported> {
        unsupported("a key that is not a string")
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Unsupported> {
        unsupported("a key that is not a string")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        unsupported("a key that is not a string")
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        unsupported("a key that is not a string")
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Unsupported> {
        unsupported("a key that is not a string")
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        unsupported("a key that is not a string")
    }
}
