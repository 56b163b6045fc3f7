//! The writer: one JSON object field by field, leaving default values
//! out, and the strings and enums inside it.

use std::io::Write as _;

use crate as proto;

use super::timestamp::write_timestamp;

/// Writes one JSON object, field by field, leaving default values out.
pub(super) struct Object<'a> {
    pub(super) out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Object<'a> {
    pub(super) fn begin(out: &'a mut Vec<u8>) -> Object<'a> {
        out.push(b'{');
        Object { out, empty: true }
    }

    pub(super) fn end(self) {
        self.out.push(b'}');
    }

    pub(super) fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// A proto3 `string`: left out when empty.
    pub(super) fn string(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            self.key(key);
            write_str(self.out, value);
        }
    }

    /// A proto3 `optional string`: written when set, even if empty.
    pub(super) fn optional(&mut self, key: &str, value: Option<&String>) {
        if let Some(value) = value {
            self.key(key);
            write_str(self.out, value);
        }
    }

    pub(super) fn int32(&mut self, key: &str, value: i32) {
        if value != 0 {
            self.key(key);
            let _ = write!(self.out, "{value}");
        }
    }

    pub(super) fn bool(&mut self, key: &str, value: bool) {
        if value {
            self.key(key);
            self.out.extend_from_slice(b"true");
        }
    }

    /// An enum: its name when this version knows it, else its number.
    pub(super) fn enumeration(
        &mut self,
        key: &str,
        value: i32,
        name: fn(i32) -> Option<&'static str>,
    ) {
        if value != 0 {
            self.key(key);
            write_enum(self.out, value, name);
        }
    }

    pub(super) fn timestamp(
        &mut self,
        key: &str,
        value: Option<&prost_types::Timestamp>,
    ) -> Result<(), String> {
        if let Some(value) = value {
            self.key(key);
            write_timestamp(self.out, value).map_err(|err| format!("{key}: {err}"))?;
        }
        Ok(())
    }

    pub(super) fn message<M: WriteFields>(
        &mut self,
        key: &str,
        value: Option<&M>,
    ) -> Result<(), String> {
        if let Some(value) = value {
            self.key(key);
            write_message(self.out, value)?;
        }
        Ok(())
    }
}

/// A message's fields, written into its object.
pub(super) trait WriteFields {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String>;
}

pub(super) fn write_message<M: WriteFields>(out: &mut Vec<u8>, message: &M) -> Result<(), String> {
    let mut object = Object::begin(out);
    message.fields(&mut object)?;
    object.end();
    Ok(())
}

pub(super) fn write_enum(out: &mut Vec<u8>, value: i32, name: fn(i32) -> Option<&'static str>) {
    match name(value) {
        Some(name) => write_str(out, name),
        None => {
            let _ = write!(out, "{value}");
        }
    }
}

/// A JSON string, escaped as serde_json does (quote, backslash and the
/// control characters; everything else as UTF-8).
pub(super) fn write_str(out: &mut Vec<u8>, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(value.len() + 2);
    out.push(b'"');
    let bytes = value.as_bytes();
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

pub(super) fn status_name(value: i32) -> Option<&'static str> {
    proto::OrganizationInviteStatus::try_from(value)
        .ok()
        .map(|status| status.as_str_name())
}

pub(super) fn user_type_name(value: i32) -> Option<&'static str> {
    proto::UserType::try_from(value)
        .ok()
        .map(|user_type| user_type.as_str_name())
}
