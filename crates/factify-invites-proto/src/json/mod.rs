//! The canonical proto3 JSON mapping of the contract's messages, written by
//! hand straight to and from the prost types.
//!
//! Why by hand: the contract has fifteen small messages and two enums, and
//! the general route (serde_json into a `prost_reflect::DynamicMessage`,
//! re-encoded to binary, decoded again by prost) cost three times the
//! binary protocol per page. Generated serde implementations (`pbjson`)
//! would need their own `Timestamp` type in place of `prost_types`', and
//! refuse or zero an enum name they do not know, where this crate must keep
//! it (see [`EnumNames`]). Every rule of the mapping is here: fields in
//! lowerCamelCase (the proto names are accepted too), default values left
//! out on write and `null` read as the default, enums by name (numbers
//! accepted), `Timestamp` as RFC 3339 with 0, 3, 6 or 9 fractional digits
//! in UTC, `int32` as a number (a string or an integral float accepted),
//! unknown fields skipped in responses and refused in requests. A test
//! checks the output against `prost-reflect`'s rendering of the same
//! descriptors.

mod read;
mod requests;
mod responses;
mod timestamp;
mod write;

#[cfg(test)]
mod tests;

use serde::Deserialize;

use crate::enum_names::EnumNames;

/// A message the Connect transport can carry as canonical JSON.
pub trait JsonMessage: Sized {
    /// Appends the message's JSON to `out`.
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String>;

    /// Reads the message; an enum name this version does not know gets a
    /// stand-in number from `names` (a response), or is an error (a
    /// request, which the server reads strictly).
    fn read_json(bytes: &[u8], names: &mut EnumNames) -> Result<Self, String>;
}

/// Reads one JSON document of type `T`, with nothing after it.
fn parse<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    let mut json = serde_json::Deserializer::from_str(utf8(bytes)?);
    let value = T::deserialize(&mut json).map_err(|err| format!("invalid JSON: {err}"))?;
    json.end().map_err(|err| format!("invalid JSON: {err}"))?;
    Ok(value)
}

/// The body as text: JSON is UTF-8. Checked once for the whole body, which
/// is faster than serde_json checking each string as it reads it.
fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|err| format!("invalid JSON: not UTF-8: {err}"))
}
