//! The names of enum values a JSON response carries that this version of
//! the contract does not know, and the stand-in numbers that hold their
//! place in a prost message until the client's domain types read them.
//!
//! Here rather than in the client because the JSON codec ([`crate::json`])
//! makes the stand-ins and the client resolves them: both sides of the
//! table live in one place.

/// An enum value the contract of this version has no name for, as it came:
/// a number, or (over JSON) a name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Unknown {
    /// A number (protobuf, or a number in JSON).
    Number(i32),
    /// A name (JSON, where enums travel by name).
    Name(Box<str>),
}

/// The enum names of one JSON response that this version does not know.
///
/// A prost message holds an enum as an `i32`, and a name this version has
/// no number for has nowhere to go; the JSON reader gives each such name a
/// stand-in number from the reserved range at the bottom of `i32`, and the
/// conversion to domain types looks it up here. A JSON *number* in that
/// range goes through the table too, so a stand-in is never mistaken for a
/// number the server sent. A protobuf response has an empty table, and its
/// numbers are read as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnumNames {
    entries: Vec<Unknown>,
}

/// The first stand-in number; entry `k` of a table is `RESERVED_BASE + k`.
const RESERVED_BASE: i32 = i32::MIN;
/// The most stand-ins one response may need; far more than its enums
/// (a page holds at most 100 invitations of 3 enums each).
const MAX_STAND_INS: usize = 1 << 16;

impl EnumNames {
    /// The stand-in for `name`, an enum name this version does not know.
    pub fn stand_in_for_name(&mut self, name: &str) -> Result<i32, String> {
        self.push(Unknown::Name(name.into()))
    }

    /// The value to store for the number `value` read from JSON: itself,
    /// or a stand-in when it falls in the reserved range.
    pub fn number(&mut self, value: i32) -> Result<i32, String> {
        if is_reserved(value) {
            self.push(Unknown::Number(value))
        } else {
            Ok(value)
        }
    }

    fn push(&mut self, entry: Unknown) -> Result<i32, String> {
        if self.entries.len() >= MAX_STAND_INS {
            return Err(format!(
                "more than {MAX_STAND_INS} enum values this version does not know"
            ));
        }
        let index = i32::try_from(self.entries.len()).map_err(|err| err.to_string())?;
        self.entries.push(entry);
        Ok(RESERVED_BASE + index)
    }

    /// What a stored value stands for: a name of this table, or a number.
    pub fn resolve(&self, value: i32) -> std::result::Result<i32, &Unknown> {
        if is_reserved(value) {
            let index = usize::try_from(value - RESERVED_BASE).unwrap_or(usize::MAX);
            if let Some(entry) = self.entries.get(index) {
                return match entry {
                    Unknown::Number(number) => Ok(*number),
                    name => Err(name),
                };
            }
        }
        Ok(value)
    }
}

fn is_reserved(value: i32) -> bool {
    (RESERVED_BASE..RESERVED_BASE + MAX_STAND_INS as i32).contains(&value)
}
