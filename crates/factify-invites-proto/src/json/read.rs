//! The values that are not plain JSON types, as read: an enum by name or
//! number (kept as a stand-in in a response, refused in a request when
//! unknown) and an `int32` that may come as a string or a float.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate as proto;
use crate::enum_names::EnumNames;

/// An enum as JSON carries it: a name or a number.
#[derive(Debug)]
pub(super) enum EnumValue {
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
pub(super) fn response_enum(
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
pub(super) fn request_enum(
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

pub(super) fn known_status(name: &str) -> Option<i32> {
    proto::OrganizationInviteStatus::from_str_name(name).map(|status| status as i32)
}

pub(super) fn known_user_type(name: &str) -> Option<i32> {
    proto::UserType::from_str_name(name).map(|user_type| user_type as i32)
}

/// An `int32` as the mapping allows it: a number, an integral float, or
/// either as a string.
#[derive(Debug, Clone, Copy)]
pub(super) struct Int32(pub(super) i32);

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
