//! Typed identifiers: [`OrganizationId`], [`InviteId`] and [`UserId`].
//!
//! Strict on the way in, tolerant on the way out:
//!
//! - **What you pass** is checked against the SPEC pattern
//!   `^<prefix>_[0-9a-hjkmnp-tv-z]{26}$` (a known prefix and a lowercase
//!   ULID) before any call is sent. Parse IDs with [`str::parse`]; the
//!   client's methods also accept plain strings through [`IntoId`] and
//!   report a malformed one as
//!   [`Error::InvalidRequest`](crate::Error::InvalidRequest) naming the field.
//! - **What a server sends** is only required to be an ID at all: non-empty,
//!   at most [`MAX_SERVER_ID_BYTES`] bytes of printable ASCII. A newer server
//!   that introduces a new kind of account (say `bot_...`) or a longer ID
//!   does not fail the calls that mention it, after it already acted on
//!   them. Such an ID can be passed back to the client as it is (as a typed
//!   ID, not re-parsed from a string).

use std::fmt;
use std::str::FromStr;

/// The length of a ULID in Crockford base32.
const ULID_LEN: usize = 26;

/// Which bytes are lowercase Crockford base32 digits (no `i`, `l`, `o`,
/// `u`): a table, so that checking an ID is one load per character (every
/// ID of every response is checked).
static CROCKFORD_LOWER: [bool; 256] = {
    let digits = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut table = [false; 256];
    let mut i = 0;
    while i < digits.len() {
        table[digits[i] as usize] = true;
        i += 1;
    }
    table
};

/// Whether `c` is a lowercase Crockford base32 digit.
fn is_crockford_lower(c: u8) -> bool {
    CROCKFORD_LOWER[usize::from(c)]
}

/// Whether `value` is `prefix`, an underscore and a lowercase ULID.
fn has_shape(value: &str, prefix: &str) -> bool {
    value
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|ulid| ulid.len() == ULID_LEN && ulid.bytes().all(is_crockford_lower))
}

/// The longest ID read from a server, in bytes: far above the SPEC's (31
/// bytes for `user_...`), low enough that a hostile server cannot make every
/// ID a megabyte.
pub const MAX_SERVER_ID_BYTES: usize = 255;

/// Why an ID a server sent cannot be used at all (the check of what a server
/// sends, looser than [`IdError`]'s pattern).
pub(crate) fn check_server_id(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        Err("required field is missing")
    } else if value.len() > MAX_SERVER_ID_BYTES {
        Err("ID is longer than 255 bytes")
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        Err("ID contains a character that is not printable ASCII")
    } else {
        Ok(())
    }
}

/// Why a string is not a valid identifier of the kind asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{kind} must be {expected} followed by 26 lowercase Crockford base32 characters, got {shown:?}"
)]
pub struct IdError {
    kind: &'static str,
    expected: &'static str,
    shown: String,
}

impl IdError {
    fn new(kind: &'static str, expected: &'static str, value: &str) -> Self {
        // Keep hostile or huge inputs from flooding error messages and logs.
        const SHOWN_CHARS: usize = 64;
        let mut shown: String = value.chars().take(SHOWN_CHARS).collect();
        if value.chars().count() > SHOWN_CHARS {
            shown.push('…');
        }
        IdError {
            kind,
            expected,
            shown,
        }
    }

    /// What kind of ID was expected, such as `"organization ID"`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

/// Conversion into a typed ID, checked: implemented for the ID type itself, a
/// reference to it, and `&str` / `String` (parsed).
///
/// It lets the client's methods take either a parsed ID or a string; a
/// malformed string becomes an [`Error::InvalidRequest`](crate::Error::InvalidRequest)
/// when the request is sent, before anything reaches the network.
pub trait IntoId<T> {
    /// Converts `self` into the ID, or says why it is not one.
    fn into_id(self) -> Result<T, IdError>;
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $expected:literal, [$($prefix:literal),+]) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Parses `value`, checking the prefix and the ULID.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                if [$($prefix),+].iter().any(|prefix| has_shape(value, prefix)) {
                    Ok($name(value.to_owned()))
                } else {
                    Err(IdError::new($kind, $expected, value))
                }
            }

            /// An ID as a server sent it, checked only by
            /// [`check_server_id`] so that a newer server's new kind of ID
            /// is read rather than refused; keeps `value`'s allocation.
            pub(crate) fn from_server(value: String) -> Result<Self, &'static str> {
                check_server_id(&value)?;
                Ok($name(value))
            }

            /// [`parse`](Self::parse) that keeps `value`'s allocation (no
            /// copy).
            pub(crate) fn parse_owned(value: String) -> Result<Self, IdError> {
                if [$($prefix),+].iter().any(|prefix| has_shape(&value, prefix)) {
                    Ok($name(value))
                } else {
                    Err(IdError::new($kind, $expected, &value))
                }
            }

            /// The ID as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The ID as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(value: &str) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(&value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl IntoId<$name> for $name {
            fn into_id(self) -> Result<$name, IdError> {
                Ok(self)
            }
        }

        impl IntoId<$name> for &$name {
            fn into_id(self) -> Result<$name, IdError> {
                Ok(self.clone())
            }
        }

        impl IntoId<$name> for &str {
            fn into_id(self) -> Result<$name, IdError> {
                $name::parse(self)
            }
        }

        impl IntoId<$name> for String {
            fn into_id(self) -> Result<$name, IdError> {
                $name::parse_owned(self)
            }
        }

        impl IntoId<$name> for &String {
            fn into_id(self) -> Result<$name, IdError> {
                $name::parse(self)
            }
        }
    };
}

id_type!(
    /// The ID of an organization: `org_` and a lowercase ULID, such as
    /// `org_01h2xcejqtf2nbrexx3vqjhp41`.
    OrganizationId,
    "organization ID",
    "`org_`",
    ["org"]
);

id_type!(
    /// The ID of an invitation: `inv_` and a lowercase ULID, such as
    /// `inv_01h2xcejqtf2nbrexx3vqjhp42`.
    InviteId,
    "invitation ID",
    "`inv_`",
    ["inv"]
);

id_type!(
    /// The ID of an account: a person (`user_...`) or a service account
    /// (`svc_...`), each followed by a lowercase ULID.
    UserId,
    "user ID",
    "`user_` or `svc_`",
    ["user", "svc"]
);

impl UserId {
    /// Whether this is a service account (`svc_...`) rather than a person.
    pub fn is_service_account(&self) -> bool {
        self.0.starts_with("svc_")
    }
}

macro_rules! prefix_accessor {
    ($($name:ident),+) => {$(
        impl $name {
            /// The part before the first underscore, such as `"org"`: for
            /// IDs read from a newer server, a prefix this version does not
            /// know (the ID is kept as sent).
            pub fn prefix(&self) -> &str {
                self.0.split_once('_').map_or(self.0.as_str(), |(prefix, _)| prefix)
            }
        }
    )+};
}
prefix_accessor!(OrganizationId, InviteId, UserId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digit_set_is_the_specs_character_class() {
        // `[0-9a-hjkmnp-tv-z]`, byte by byte.
        for c in 0..=u8::MAX {
            let expected = matches!(
                c,
                b'0'..=b'9' | b'a'..=b'h' | b'j' | b'k' | b'm' | b'n' | b'p'..=b't' | b'v'..=b'z'
            );
            assert_eq!(is_crockford_lower(c), expected, "byte {c}");
        }
    }

    #[test]
    fn accepts_the_spec_examples() {
        let value = "org_01h2xcejqtf2nbrexx3vqjhp41";
        assert_eq!(value.parse::<OrganizationId>().unwrap().as_str(), value);
        assert!(InviteId::parse("inv_01h2xcejqtf2nbrexx3vqjhp42").is_ok());
        let person = UserId::parse("user_01h2xcejqtf2nbrexx3vqjhp40").unwrap();
        let machine = UserId::parse("svc_01h2xcejqtf2nbrexx3vqjhp40").unwrap();
        assert!(!person.is_service_account());
        assert!(machine.is_service_account());
    }

    #[test]
    fn rejects_what_the_pattern_does_not_match() {
        let bad = [
            "",
            "org_",
            "org01h2xcejqtf2nbrexx3vqjhp41",
            "inv_01h2xcejqtf2nbrexx3vqjhp41",  // wrong prefix
            "org_01h2xcejqtf2nbrexx3vqjhp4",   // 25 characters
            "org_01h2xcejqtf2nbrexx3vqjhp411", // 27 characters
            "org_01H2XCEJQTF2NBREXX3VQJHP41",  // uppercase
            "org_01h2xcejqtf2nbrexx3vqjhpi1",  // `i` is not Crockford
            "org_01h2xcejqtf2nbrexx3vqjhpu1",  // nor is `u`
            " org_01h2xcejqtf2nbrexx3vqjhp41",
            "org_01h2xcejqtf2nbrexx3vqjhp4é",
        ];
        for value in bad {
            let err = OrganizationId::parse(value).unwrap_err();
            assert_eq!(err.kind(), "organization ID", "{value:?}");
        }
        assert!(UserId::parse("org_01h2xcejqtf2nbrexx3vqjhp41").is_err());
    }

    #[test]
    fn error_message_names_the_kind_and_truncates_huge_input() {
        let huge = "x".repeat(10_000);
        let message = InviteId::parse(&huge).unwrap_err().to_string();
        assert!(
            message.starts_with("invitation ID must be `inv_`"),
            "{message}"
        );
        assert!(message.len() < 300, "{}", message.len());
    }

    #[test]
    fn server_ids_are_read_tolerantly_but_bounded() {
        let bot = UserId::from_server("bot_01h2xcejqtf2nbrexx3vqjhp40".into()).unwrap();
        assert_eq!(bot.prefix(), "bot");
        assert!(!bot.is_service_account());
        // ... while the same string from the caller is refused.
        assert!(UserId::parse(bot.as_str()).is_err());
        assert!(InviteId::from_server("inv_2024-01-ABC".into()).is_ok());
        for bad in [
            String::new(),
            "x".repeat(MAX_SERVER_ID_BYTES + 1),
            "inv 1".into(),
            "inv_\u{7}".into(),
            "inv_é".into(),
        ] {
            assert!(InviteId::from_server(bad.clone()).is_err(), "{bad:?}");
        }
        assert!(InviteId::from_server("x".repeat(MAX_SERVER_ID_BYTES)).is_ok());
    }

    #[test]
    fn into_id_parses_strings_and_passes_ids_through() {
        let id: OrganizationId = "org_01h2xcejqtf2nbrexx3vqjhp41".into_id().unwrap();
        let again: OrganizationId = (&id).into_id().unwrap();
        assert_eq!(id, again);
        assert_eq!(format!("{id}"), "org_01h2xcejqtf2nbrexx3vqjhp41");
        assert_eq!(
            format!("{id:?}"),
            "OrganizationId(\"org_01h2xcejqtf2nbrexx3vqjhp41\")"
        );
        assert!(IntoId::<OrganizationId>::into_id("nope").is_err());
    }
}
