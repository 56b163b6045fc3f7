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

use std::fmt;
use std::io::Write as _;

use chrono::DateTime;
use serde::de::{self, DeserializeSeed, Deserializer, Visitor};
use serde::Deserialize;

use crate as proto;
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

// ---- writing ----

/// Writes one JSON object, field by field, leaving default values out.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Object<'a> {
    fn begin(out: &'a mut Vec<u8>) -> Object<'a> {
        out.push(b'{');
        Object { out, empty: true }
    }

    fn end(self) {
        self.out.push(b'}');
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// A proto3 `string`: left out when empty.
    fn string(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            self.key(key);
            write_str(self.out, value);
        }
    }

    /// A proto3 `optional string`: written when set, even if empty.
    fn optional(&mut self, key: &str, value: Option<&String>) {
        if let Some(value) = value {
            self.key(key);
            write_str(self.out, value);
        }
    }

    fn int32(&mut self, key: &str, value: i32) {
        if value != 0 {
            self.key(key);
            let _ = write!(self.out, "{value}");
        }
    }

    fn bool(&mut self, key: &str, value: bool) {
        if value {
            self.key(key);
            self.out.extend_from_slice(b"true");
        }
    }

    /// An enum: its name when this version knows it, else its number.
    fn enumeration(&mut self, key: &str, value: i32, name: fn(i32) -> Option<&'static str>) {
        if value != 0 {
            self.key(key);
            write_enum(self.out, value, name);
        }
    }

    fn timestamp(
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

    fn message<M: WriteFields>(&mut self, key: &str, value: Option<&M>) -> Result<(), String> {
        if let Some(value) = value {
            self.key(key);
            write_message(self.out, value)?;
        }
        Ok(())
    }
}

/// A message's fields, written into its object.
trait WriteFields {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String>;
}

fn write_message<M: WriteFields>(out: &mut Vec<u8>, message: &M) -> Result<(), String> {
    let mut object = Object::begin(out);
    message.fields(&mut object)?;
    object.end();
    Ok(())
}

fn write_enum(out: &mut Vec<u8>, value: i32, name: fn(i32) -> Option<&'static str>) {
    match name(value) {
        Some(name) => write_str(out, name),
        None => {
            let _ = write!(out, "{value}");
        }
    }
}

/// A JSON string, escaped as serde_json does (quote, backslash and the
/// control characters; everything else as UTF-8).
fn write_str(out: &mut Vec<u8>, value: &str) {
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

/// `0001-01-01T00:00:00Z`, the earliest `Timestamp` the mapping allows.
const MIN_SECONDS: i64 = -62_135_596_800;
/// `9999-12-31T23:59:59Z`, the latest.
const MAX_SECONDS: i64 = 253_402_300_799;

/// A `Timestamp` as RFC 3339 in UTC, with 0, 3, 6 or 9 fractional digits.
fn write_timestamp(out: &mut Vec<u8>, value: &prost_types::Timestamp) -> Result<(), String> {
    let nanos = u32::try_from(value.nanos)
        .ok()
        .filter(|nanos| *nanos < 1_000_000_000);
    let at = nanos
        .filter(|_| (MIN_SECONDS..=MAX_SECONDS).contains(&value.seconds))
        .and_then(|nanos| DateTime::from_timestamp(value.seconds, nanos))
        .ok_or_else(|| {
            format!(
                "timestamp {}s {}ns is outside 0001-01-01 to 9999-12-31",
                value.seconds, value.nanos
            )
        })?;
    let (date, time) = (at.date_naive(), at.time());
    use chrono::{Datelike, Timelike};
    let _ = write!(
        out,
        "\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        date.year(),
        date.month(),
        date.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    let nanos = value.nanos;
    let _ = if nanos == 0 {
        Ok(())
    } else if nanos % 1_000_000 == 0 {
        write!(out, ".{:03}", nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        write!(out, ".{:06}", nanos / 1_000)
    } else {
        write!(out, ".{nanos:09}")
    };
    out.extend_from_slice(b"Z\"");
    Ok(())
}

fn status_name(value: i32) -> Option<&'static str> {
    proto::OrganizationInviteStatus::try_from(value)
        .ok()
        .map(|status| status.as_str_name())
}

fn user_type_name(value: i32) -> Option<&'static str> {
    proto::UserType::try_from(value)
        .ok()
        .map(|user_type| user_type.as_str_name())
}

// ---- reading: the values that are not plain JSON types ----

/// An enum as JSON carries it: a name or a number.
#[derive(Debug)]
enum EnumValue {
    Number(i32),
    Name(String),
}

impl<'de> Deserialize<'de> for EnumValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EnumVisitor;
        impl Visitor<'_> for EnumVisitor {
            type Value = EnumValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an enum name or number")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<EnumValue, E> {
                Ok(EnumValue::Name(value.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<EnumValue, E> {
                i32::try_from(value)
                    .map(EnumValue::Number)
                    .map_err(|_| E::custom(format!("enum number {value} is out of range")))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<EnumValue, E> {
                i32::try_from(value)
                    .map(EnumValue::Number)
                    .map_err(|_| E::custom(format!("enum number {value} is out of range")))
            }
        }
        deserializer.deserialize_any(EnumVisitor)
    }
}

/// An enum of a response: a name this version does not know, or a number
/// in the reserved range, gets a stand-in from `names`.
fn response_enum(
    value: Option<EnumValue>,
    known: fn(&str) -> Option<i32>,
    names: &mut EnumNames,
) -> Result<i32, String> {
    match value {
        None => Ok(0),
        Some(EnumValue::Number(number)) => names.number(number),
        Some(EnumValue::Name(name)) => match known(&name) {
            Some(number) => Ok(number),
            None => names.stand_in_for_name(&name),
        },
    }
}

/// An enum of a request: a name this version does not know is an error.
fn request_enum(
    value: EnumValue,
    field: &str,
    known: fn(&str) -> Option<i32>,
) -> Result<i32, String> {
    match value {
        EnumValue::Number(number) => Ok(number),
        EnumValue::Name(name) => {
            known(&name).ok_or_else(|| format!("{field}: unknown enum value {name:?}"))
        }
    }
}

fn known_status(name: &str) -> Option<i32> {
    proto::OrganizationInviteStatus::from_str_name(name).map(|status| status as i32)
}

fn known_user_type(name: &str) -> Option<i32> {
    proto::UserType::from_str_name(name).map(|user_type| user_type as i32)
}

/// An `int32` as the mapping allows it: a number, an integral float, or
/// either as a string.
#[derive(Debug, Clone, Copy)]
struct Int32(i32);

impl<'de> Deserialize<'de> for Int32 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Int32Visitor;
        impl Visitor<'_> for Int32Visitor {
            type Value = Int32;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 32-bit integer")
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Int32, E> {
                i32::try_from(value)
                    .map(Int32)
                    .map_err(|_| E::custom(format!("{value} is out of the int32 range")))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Int32, E> {
                i32::try_from(value)
                    .map(Int32)
                    .map_err(|_| E::custom(format!("{value} is out of the int32 range")))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Int32, E> {
                if value.fract() == 0.0
                    && value >= f64::from(i32::MIN)
                    && value <= f64::from(i32::MAX)
                {
                    // Checked integral and in range just above.
                    #[allow(clippy::cast_possible_truncation)]
                    Ok(Int32(value as i32))
                } else {
                    Err(E::custom(format!("{value} is not a 32-bit integer")))
                }
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Int32, E> {
                if let Ok(number) = value.parse::<i64>() {
                    return self.visit_i64(number);
                }
                match value.parse::<f64>() {
                    Ok(number) if number.is_finite() => self.visit_f64(number),
                    _ => Err(E::custom(format!("{value:?} is not a 32-bit integer"))),
                }
            }
        }
        deserializer.deserialize_any(Int32Visitor)
    }
}

/// An RFC 3339 `Timestamp`, read (any offset; kept in UTC).
fn read_timestamp(
    value: Option<String>,
    field: &str,
) -> Result<Option<prost_types::Timestamp>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    if let Some(timestamp) = canonical_timestamp(value.as_bytes()) {
        return Ok(Some(timestamp));
    }
    let invalid = || format!("{field}: {value:?} is not an RFC 3339 timestamp in 0001 to 9999");
    let at = DateTime::parse_from_rfc3339(&value).map_err(|_| invalid())?;
    let seconds = at.timestamp();
    let nanos = at.timestamp_subsec_nanos();
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) || nanos >= 1_000_000_000 {
        return Err(invalid());
    }
    Ok(Some(prost_types::Timestamp {
        seconds,
        nanos: i32::try_from(nanos).map_err(|_| invalid())?,
    }))
}

/// The form every canonical writer uses, `YYYY-MM-DDTHH:MM:SS[.f]Z` with
/// 1 to 9 fractional digits, read without chrono's general parser (a page
/// holds two or three per invitation); `None` for anything else, which
/// then goes through chrono (offsets, lower-case letters) or is refused.
fn canonical_timestamp(text: &[u8]) -> Option<prost_types::Timestamp> {
    fn digits(text: &[u8]) -> Option<u32> {
        text.iter().try_fold(0u32, |value, &byte| {
            byte.is_ascii_digit()
                .then(|| value * 10 + u32::from(byte - b'0'))
        })
    }
    if text.len() < 20 || text.last() != Some(&b'Z') {
        return None;
    }
    if text[4] != b'-'
        || text[7] != b'-'
        || text[10] != b'T'
        || text[13] != b':'
        || text[16] != b':'
    {
        return None;
    }
    let year = digits(&text[0..4])?;
    let month = digits(&text[5..7])?;
    let day = digits(&text[8..10])?;
    let hour = digits(&text[11..13])?;
    let minute = digits(&text[14..16])?;
    let second = digits(&text[17..19])?;
    let nanos = match &text[19..text.len() - 1] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            digits(fraction)? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year == 0 || day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
    // `days_from_civil`).
    let (year, month, day) = (i64::from(year), i64::from(month), i64::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(prost_types::Timestamp {
        seconds,
        nanos: i32::try_from(nanos).ok()?,
    })
}

// ---- the messages ----

/// `User`, as read from a response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserJson {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "type")]
    user_type: Option<EnumValue>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, alias = "given_name")]
    given_name: Option<String>,
    #[serde(default, alias = "family_name")]
    family_name: Option<String>,
    #[serde(default, alias = "profile_image_url")]
    profile_image_url: Option<String>,
}

impl UserJson {
    fn into_proto(self, names: &mut EnumNames) -> Result<proto::User, String> {
        Ok(proto::User {
            id: self.id.unwrap_or_default(),
            r#type: response_enum(self.user_type, known_user_type, names)?,
            name: self.name.unwrap_or_default(),
            email: self.email.unwrap_or_default(),
            given_name: self.given_name,
            family_name: self.family_name,
            profile_image_url: self.profile_image_url,
        })
    }
}

impl WriteFields for proto::User {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.string("id", &self.id);
        object.enumeration("type", self.r#type, user_type_name);
        object.string("name", &self.name);
        object.string("email", &self.email);
        object.optional("givenName", self.given_name.as_ref());
        object.optional("familyName", self.family_name.as_ref());
        object.optional("profileImageUrl", self.profile_image_url.as_ref());
        Ok(())
    }
}

/// `OrganizationInvite`, as read from a response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InviteJson {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, alias = "organization_id")]
    organization_id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    status: Option<EnumValue>,
    #[serde(default)]
    sender: Option<UserJson>,
    #[serde(default, alias = "created_at")]
    created_at: Option<String>,
    #[serde(default, alias = "expires_at")]
    expires_at: Option<String>,
    #[serde(default, alias = "accepted_at")]
    accepted_at: Option<String>,
    #[serde(default, alias = "accepted_by")]
    accepted_by: Option<UserJson>,
    #[serde(default)]
    message: Option<String>,
}

impl InviteJson {
    fn into_proto(self, names: &mut EnumNames) -> Result<proto::OrganizationInvite, String> {
        Ok(proto::OrganizationInvite {
            id: self.id.unwrap_or_default(),
            organization_id: self.organization_id.unwrap_or_default(),
            email: self.email.unwrap_or_default(),
            status: response_enum(self.status, known_status, names)?,
            sender: self.sender.map(|user| user.into_proto(names)).transpose()?,
            created_at: read_timestamp(self.created_at, "createdAt")?,
            expires_at: read_timestamp(self.expires_at, "expiresAt")?,
            accepted_at: read_timestamp(self.accepted_at, "acceptedAt")?,
            accepted_by: self
                .accepted_by
                .map(|user| user.into_proto(names))
                .transpose()?,
            message: self.message,
        })
    }
}

impl WriteFields for proto::OrganizationInvite {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.string("id", &self.id);
        object.string("organizationId", &self.organization_id);
        object.string("email", &self.email);
        object.enumeration("status", self.status, status_name);
        object.message("sender", self.sender.as_ref())?;
        object.timestamp("createdAt", self.created_at.as_ref())?;
        object.timestamp("expiresAt", self.expires_at.as_ref())?;
        object.timestamp("acceptedAt", self.accepted_at.as_ref())?;
        object.message("acceptedBy", self.accepted_by.as_ref())?;
        object.optional("message", self.message.as_ref());
        Ok(())
    }
}

/// `Organization`, as read from a response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrganizationJson {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, alias = "created_at")]
    created_at: Option<String>,
    #[serde(default, alias = "logo_image_url")]
    logo_image_url: Option<String>,
}

impl WriteFields for proto::Organization {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.string("id", &self.id);
        object.string("name", &self.name);
        object.timestamp("createdAt", self.created_at.as_ref())?;
        object.optional("logoImageUrl", self.logo_image_url.as_ref());
        Ok(())
    }
}

/// `Pagination`, as read from a response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaginationJson {
    #[serde(default, alias = "has_more")]
    has_more: Option<bool>,
    #[serde(default, alias = "next_page_token")]
    next_page_token: Option<String>,
    #[serde(default, alias = "prev_page_token")]
    prev_page_token: Option<String>,
}

impl WriteFields for proto::Pagination {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.bool("hasMore", self.has_more);
        object.string("nextPageToken", &self.next_page_token);
        object.string("prevPageToken", &self.prev_page_token);
        Ok(())
    }
}

/// The responses that carry one invitation.
#[derive(Deserialize)]
struct InviteResponseJson {
    #[serde(default)]
    invite: Option<InviteJson>,
}

macro_rules! invite_response {
    ($($message:ident),*) => {$(
        impl WriteFields for proto::$message {
            fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
                object.message("invite", self.invite.as_ref())
            }
        }

        impl JsonMessage for proto::$message {
            fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
                write_message(out, self)
            }

            fn read_json(bytes: &[u8], names: &mut EnumNames) -> Result<Self, String> {
                let json: InviteResponseJson = parse(bytes)?;
                Ok(proto::$message {
                    invite: json.invite.map(|invite| invite.into_proto(names)).transpose()?,
                })
            }
        }
    )*};
}

invite_response!(
    CreateOrganizationInviteResponse,
    ResendOrganizationInviteResponse,
    RevokeOrganizationInviteResponse
);

impl WriteFields for proto::ListOrganizationInvitesResponse {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        if !self.items.is_empty() {
            object.key("items");
            object.out.push(b'[');
            for (i, item) in self.items.iter().enumerate() {
                if i > 0 {
                    object.out.push(b',');
                }
                write_message(object.out, item)?;
            }
            object.out.push(b']');
        }
        object.message("pagination", self.pagination.as_ref())
    }
}

impl JsonMessage for proto::ListOrganizationInvitesResponse {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        write_message(out, self)
    }

    fn read_json(bytes: &[u8], names: &mut EnumNames) -> Result<Self, String> {
        let mut json = serde_json::Deserializer::from_str(utf8(bytes)?);
        let response = ListResponseSeed(names)
            .deserialize(&mut json)
            .map_err(|err| format!("invalid JSON: {err}"))?;
        json.end().map_err(|err| format!("invalid JSON: {err}"))?;
        Ok(response)
    }
}

/// Reads a list response, converting each invitation to its prost type as
/// it is read: no vector of JSON shapes in between.
struct ListResponseSeed<'n>(&'n mut EnumNames);

impl<'de> DeserializeSeed<'de> for ListResponseSeed<'_> {
    type Value = proto::ListOrganizationInvitesResponse;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListResponseSeed<'_> {
    type Value = proto::ListOrganizationInvitesResponse;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ListOrganizationInvitesResponse object")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let names = self.0;
        let mut response = proto::ListOrganizationInvitesResponse::default();
        let (mut items_seen, mut pagination_seen) = (false, false);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "items" if items_seen => return Err(de::Error::duplicate_field("items")),
                "items" => {
                    items_seen = true;
                    response.items = map.next_value_seed(ItemsSeed(&mut *names))?;
                }
                "pagination" if pagination_seen => {
                    return Err(de::Error::duplicate_field("pagination"))
                }
                "pagination" => {
                    pagination_seen = true;
                    let pagination: Option<PaginationJson> = map.next_value()?;
                    response.pagination = pagination.map(|pagination| proto::Pagination {
                        has_more: pagination.has_more.unwrap_or_default(),
                        next_page_token: pagination.next_page_token.unwrap_or_default(),
                        prev_page_token: pagination.prev_page_token.unwrap_or_default(),
                    });
                }
                // A newer server's field: skipped.
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(response)
    }
}

/// The `items` of a list response (`null` is none).
struct ItemsSeed<'n>(&'n mut EnumNames);

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = Vec<proto::OrganizationInvite>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = Vec<proto::OrganizationInvite>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of OrganizationInvite")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<InviteJson>()? {
            items.push(item.into_proto(self.0).map_err(de::Error::custom)?);
        }
        Ok(items)
    }
}

/// `AcceptOrganizationInviteResponse`, as read.
#[derive(Deserialize)]
struct AcceptResponseJson {
    #[serde(default)]
    organization: Option<OrganizationJson>,
}

impl WriteFields for proto::AcceptOrganizationInviteResponse {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.message("organization", self.organization.as_ref())
    }
}

impl JsonMessage for proto::AcceptOrganizationInviteResponse {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        write_message(out, self)
    }

    fn read_json(bytes: &[u8], _names: &mut EnumNames) -> Result<Self, String> {
        let json: AcceptResponseJson = parse(bytes)?;
        let organization = match json.organization {
            None => None,
            Some(organization) => Some(proto::Organization {
                id: organization.id.unwrap_or_default(),
                name: organization.name.unwrap_or_default(),
                created_at: read_timestamp(organization.created_at, "createdAt")?,
                logo_image_url: organization.logo_image_url,
            }),
        };
        Ok(proto::AcceptOrganizationInviteResponse { organization })
    }
}

// ---- the requests (read by the reference server, strictly) ----

/// `CreateOrganizationInviteRequest`, as read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRequestJson {
    #[serde(default, alias = "organization_id")]
    organization_id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default, alias = "idempotency_key")]
    idempotency_key: Option<String>,
}

impl JsonMessage for proto::CreateOrganizationInviteRequest {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        let mut object = Object::begin(out);
        object.string("organizationId", &self.organization_id);
        object.string("email", &self.email);
        object.optional("message", self.message.as_ref());
        object.optional("idempotencyKey", self.idempotency_key.as_ref());
        object.end();
        Ok(())
    }

    fn read_json(bytes: &[u8], _names: &mut EnumNames) -> Result<Self, String> {
        let json: CreateRequestJson = parse(bytes)?;
        Ok(proto::CreateOrganizationInviteRequest {
            organization_id: json.organization_id.unwrap_or_default(),
            email: json.email.unwrap_or_default(),
            message: json.message,
            idempotency_key: json.idempotency_key,
        })
    }
}

/// `StringFilter`, as read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StringFilterJson {
    #[serde(default)]
    contains: Option<String>,
    #[serde(default)]
    exact: Option<String>,
}

impl WriteFields for proto::StringFilter {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.string("contains", &self.contains);
        object.string("exact", &self.exact);
        Ok(())
    }
}

/// `TimeRange`, as read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeRangeJson {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    before: Option<String>,
}

impl WriteFields for proto::TimeRange {
    fn fields(&self, object: &mut Object<'_>) -> Result<(), String> {
        object.timestamp("after", self.after.as_ref())?;
        object.timestamp("before", self.before.as_ref())
    }
}

/// `ListOrganizationInvitesRequest`, as read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListRequestJson {
    #[serde(default, alias = "organization_id")]
    organization_id: Option<String>,
    #[serde(default)]
    status: Option<Vec<EnumValue>>,
    #[serde(default, alias = "page_token")]
    page_token: Option<String>,
    #[serde(default, alias = "page_size")]
    page_size: Option<Int32>,
    #[serde(default)]
    email: Option<StringFilterJson>,
    #[serde(default, alias = "sender_id")]
    sender_id: Option<String>,
    #[serde(default)]
    created: Option<TimeRangeJson>,
}

impl JsonMessage for proto::ListOrganizationInvitesRequest {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        let mut object = Object::begin(out);
        object.string("organizationId", &self.organization_id);
        if !self.status.is_empty() {
            object.key("status");
            object.out.push(b'[');
            for (i, status) in self.status.iter().enumerate() {
                if i > 0 {
                    object.out.push(b',');
                }
                write_enum(object.out, *status, status_name);
            }
            object.out.push(b']');
        }
        object.string("pageToken", &self.page_token);
        object.int32("pageSize", self.page_size);
        object.message("email", self.email.as_ref())?;
        object.optional("senderId", self.sender_id.as_ref());
        object.message("created", self.created.as_ref())?;
        object.end();
        Ok(())
    }

    fn read_json(bytes: &[u8], _names: &mut EnumNames) -> Result<Self, String> {
        let json: ListRequestJson = parse(bytes)?;
        Ok(proto::ListOrganizationInvitesRequest {
            organization_id: json.organization_id.unwrap_or_default(),
            status: json
                .status
                .unwrap_or_default()
                .into_iter()
                .map(|status| request_enum(status, "status", known_status))
                .collect::<Result<_, _>>()?,
            page_token: json.page_token.unwrap_or_default(),
            page_size: json.page_size.map_or(0, |size| size.0),
            email: json.email.map(|email| proto::StringFilter {
                contains: email.contains.unwrap_or_default(),
                exact: email.exact.unwrap_or_default(),
            }),
            sender_id: json.sender_id,
            created: match json.created {
                None => None,
                Some(created) => Some(proto::TimeRange {
                    after: read_timestamp(created.after, "created.after")?,
                    before: read_timestamp(created.before, "created.before")?,
                }),
            },
        })
    }
}

/// The requests that name an invitation of an organization.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InviteRequestJson {
    #[serde(default, alias = "organization_id")]
    organization_id: Option<String>,
    #[serde(default, alias = "invite_id")]
    invite_id: Option<String>,
}

macro_rules! invite_request {
    ($($message:ident),*) => {$(
        impl JsonMessage for proto::$message {
            fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
                let mut object = Object::begin(out);
                object.string("organizationId", &self.organization_id);
                object.string("inviteId", &self.invite_id);
                object.end();
                Ok(())
            }

            fn read_json(bytes: &[u8], _names: &mut EnumNames) -> Result<Self, String> {
                let json: InviteRequestJson = parse(bytes)?;
                Ok(proto::$message {
                    organization_id: json.organization_id.unwrap_or_default(),
                    invite_id: json.invite_id.unwrap_or_default(),
                })
            }
        }
    )*};
}

invite_request!(
    ResendOrganizationInviteRequest,
    RevokeOrganizationInviteRequest
);

/// `AcceptOrganizationInviteRequest`, as read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AcceptRequestJson {
    #[serde(default, alias = "organization_id")]
    organization_id: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

impl JsonMessage for proto::AcceptOrganizationInviteRequest {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        let mut object = Object::begin(out);
        object.string("organizationId", &self.organization_id);
        object.string("token", &self.token);
        object.end();
        Ok(())
    }

    fn read_json(bytes: &[u8], _names: &mut EnumNames) -> Result<Self, String> {
        let json: AcceptRequestJson = parse(bytes)?;
        Ok(proto::AcceptOrganizationInviteRequest {
            organization_id: json.organization_id.unwrap_or_default(),
            token: json.token.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use prost::Message;

    /// The same message rendered by `prost-reflect` from the descriptors
    /// (the route this codec replaced), as a JSON value.
    fn reflect_json<M: Message>(message: &M, name: &str) -> serde_json::Value {
        let pool = prost_reflect::DescriptorPool::decode(
            &include_bytes!(concat!(env!("OUT_DIR"), "/factify_descriptor_set.bin"))[..],
        )
        .unwrap();
        let descriptor = pool
            .get_message_by_name(&format!("factify.api.v1beta.{name}"))
            .unwrap();
        let dynamic =
            prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
                .unwrap();
        serde_json::to_value(&dynamic).unwrap()
    }

    fn ours<M: JsonMessage>(message: &M) -> Vec<u8> {
        let mut out = Vec::new();
        message.write_json(&mut out).unwrap();
        out
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[a-z0-9_]{1,12}",
            any::<String>(),
            Just("quote\" back\\ nl\n tab\t nul\u{0} del\u{7f} é ✓ \u{2028}".to_owned()),
        ]
    }

    fn timestamp() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
        let nanos = prop_oneof![
            Just(0),
            (0..1000i32).prop_map(|ms| ms * 1_000_000),
            (0..1_000_000i32).prop_map(|us| us * 1_000),
            0..1_000_000_000i32,
        ];
        proptest::option::of(
            (MIN_SECONDS..=MAX_SECONDS, nanos)
                .prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
        )
    }

    fn enum_number() -> impl Strategy<Value = i32> {
        prop_oneof![0..6i32, Just(-3), Just(1_000), Just(i32::MAX)]
    }

    fn user() -> impl Strategy<Value = proto::User> {
        (
            text(),
            enum_number(),
            text(),
            text(),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(text()),
        )
            .prop_map(
                |(id, r#type, name, email, given, family, image)| proto::User {
                    id,
                    r#type,
                    name,
                    email,
                    given_name: given,
                    family_name: family,
                    profile_image_url: image,
                },
            )
    }

    fn invite() -> impl Strategy<Value = proto::OrganizationInvite> {
        (
            (text(), text(), text(), enum_number()),
            (proptest::option::of(user()), proptest::option::of(user())),
            (timestamp(), timestamp(), timestamp()),
            proptest::option::of(text()),
        )
            .prop_map(
                |(
                    (id, org, email, status),
                    (sender, by),
                    (created, expires, accepted),
                    message,
                )| {
                    proto::OrganizationInvite {
                        id,
                        organization_id: org,
                        email,
                        status,
                        sender,
                        created_at: created,
                        expires_at: expires,
                        accepted_at: accepted,
                        accepted_by: by,
                        message,
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Same JSON as prost-reflect, and both renderings read back to the
        /// same message.
        #[test]
        fn pages_match_the_descriptor_driven_mapping(
            items in proptest::collection::vec(invite(), 0..4),
            has_more in any::<bool>(),
            next in text(),
        ) {
            let page = proto::ListOrganizationInvitesResponse {
                items,
                pagination: Some(proto::Pagination { has_more, next_page_token: next, prev_page_token: String::new() }),
            };
            let json = ours(&page);
            let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
            prop_assert_eq!(&value, &reflect_json(&page, "ListOrganizationInvitesResponse"));
            let mut names = EnumNames::default();
            prop_assert_eq!(&proto::ListOrganizationInvitesResponse::read_json(&json, &mut names).unwrap(), &page);
            let theirs = serde_json::to_vec(&reflect_json(&page, "ListOrganizationInvitesResponse")).unwrap();
            prop_assert_eq!(&proto::ListOrganizationInvitesResponse::read_json(&theirs, &mut names).unwrap(), &page);
        }

        #[test]
        fn requests_match_the_descriptor_driven_mapping(
            org in text(),
            statuses in proptest::collection::vec(0..5i32, 0..3),
            token in text(),
            page_size in any::<i32>(),
            contains in text(),
            sender in proptest::option::of(text()),
            (after, before) in (timestamp(), timestamp()),
        ) {
            let request = proto::ListOrganizationInvitesRequest {
                organization_id: org,
                status: statuses,
                page_token: token,
                page_size,
                email: Some(proto::StringFilter { contains, exact: String::new() }),
                sender_id: sender,
                created: Some(proto::TimeRange { after, before }),
            };
            let json = ours(&request);
            let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
            prop_assert_eq!(&value, &reflect_json(&request, "ListOrganizationInvitesRequest"));
            let mut names = EnumNames::default();
            prop_assert_eq!(&proto::ListOrganizationInvitesRequest::read_json(&json, &mut names).unwrap(), &request);
        }
    }

    #[test]
    fn the_other_messages_match_the_descriptor_driven_mapping() {
        let create = proto::CreateOrganizationInviteRequest {
            organization_id: "org_1".into(),
            email: "a@b.c".into(),
            message: Some(String::new()),
            idempotency_key: Some("k".into()),
        };
        let accept = proto::AcceptOrganizationInviteResponse {
            organization: Some(proto::Organization {
                id: "org_1".into(),
                name: "Acme".into(),
                created_at: Some(prost_types::Timestamp {
                    seconds: -62_135_596_800,
                    nanos: 1,
                }),
                logo_image_url: Some("https://x".into()),
            }),
        };
        let value = |json: Vec<u8>| serde_json::from_slice::<serde_json::Value>(&json).unwrap();
        assert_eq!(
            value(ours(&create)),
            reflect_json(&create, "CreateOrganizationInviteRequest")
        );
        assert_eq!(
            value(ours(&accept)),
            reflect_json(&accept, "AcceptOrganizationInviteResponse")
        );
        let mut names = EnumNames::default();
        assert_eq!(
            proto::AcceptOrganizationInviteResponse::read_json(&ours(&accept), &mut names).unwrap(),
            accept
        );
    }

    #[test]
    fn proto_field_names_offsets_nulls_and_numbers_as_strings_are_read() {
        let json =
            br#"{"organization_id": "org_1", "status": ["ORGANIZATION_INVITE_STATUS_PENDING", 3],
            "page_size": "25", "pageToken": null,
            "created": {"after": "2025-06-15T17:06:40.5+02:00"}}"#;
        let request =
            proto::ListOrganizationInvitesRequest::read_json(json, &mut EnumNames::default())
                .unwrap();
        assert_eq!(request.organization_id, "org_1");
        assert_eq!(request.status, vec![1, 3]);
        assert_eq!(request.page_size, 25);
        let after = request.created.unwrap().after.unwrap();
        assert_eq!((after.seconds, after.nanos), (1_750_000_000, 500_000_000));
        for bad in [
            &br#"{"status": ["ORGANIZATION_INVITE_STATUS_ON_HOLD"]}"#[..],
            br#"{"pageSize": 1.5}"#,
            br#"{"pageSize": "4294967296"}"#,
            br#"{"created": {"after": "yesterday"}}"#,
        ] {
            assert!(
                proto::ListOrganizationInvitesRequest::read_json(bad, &mut EnumNames::default())
                    .is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    proptest! {
        /// The fast reader of the canonical form agrees with chrono's.
        #[test]
        fn canonical_timestamps_read_as_chrono_reads_them(
            seconds in MIN_SECONDS..=MAX_SECONDS,
            nanos in prop_oneof![Just(0u32), 0..1_000_000_000u32],
            digits in 1..=9usize,
        ) {
            let at = DateTime::from_timestamp(seconds, nanos).unwrap();
            let whole = at.format("%Y-%m-%dT%H:%M:%S").to_string();
            let fraction = format!("{nanos:09}");
            for text in [format!("{whole}Z"), format!("{whole}.{}Z", &fraction[..digits])] {
                let chrono = DateTime::parse_from_rfc3339(&text).unwrap();
                let ours = canonical_timestamp(text.as_bytes()).unwrap();
                prop_assert_eq!(
                    (ours.seconds, ours.nanos as u32),
                    (chrono.timestamp(), chrono.timestamp_subsec_nanos()),
                    "{}", text
                );
            }
        }
    }

    #[test]
    fn non_canonical_timestamps_go_to_chrono_or_are_refused() {
        for text in [
            "2025-02-29T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "0000-01-01T00:00:00Z",
            "2025-01-01T00:00:00.Z",
            "2025-01-01T00:00:00.1234567890Z",
            "2025-01-01t00:00:00z",
            "2025-01-01T00:00:00+01:00",
        ] {
            assert!(canonical_timestamp(text.as_bytes()).is_none(), "{text}");
        }
        let offset = read_timestamp(Some("2025-01-01T01:00:00+01:00".into()), "x")
            .unwrap()
            .unwrap();
        assert_eq!(offset.seconds, 1_735_689_600);
        assert!(read_timestamp(Some("2025-02-29T00:00:00Z".into()), "x").is_err());
    }

    #[test]
    fn out_of_range_timestamps_are_errors_on_write() {
        let invite = proto::OrganizationInvite {
            created_at: Some(prost_types::Timestamp {
                seconds: MAX_SECONDS + 1,
                nanos: 0,
            }),
            ..Default::default()
        };
        let mut out = Vec::new();
        assert!(WriteFields::fields(&invite, &mut Object::begin(&mut out)).is_err());
    }
}
