//! Page tokens: opaque, stateless and tamper-evident.
//!
//! A token holds a position in the list (a direction and an anchor, the
//! `(created_at, id)` key of an invitation), a fingerprint of the
//! organization and filters it was issued for, and a 64-bit check value
//! keyed by a secret drawn once per server (SipHash through
//! [`RandomState`]), all written as lowercase hex. A token that does not
//! decode, whose check value is wrong (edited, or issued by another server),
//! or whose fingerprint differs from the request's filters is refused with
//! `invalid_cursor`. This is tamper evidence for a test server, not
//! cryptography.
//!
//! Tokens hold no state on the server, so they never expire; and because a
//! position is a key rather than an offset, invitations created while a
//! client pages never shift the older pages.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};

use chrono::{DateTime, Utc};

use crate::ids::InviteId;

/// The sort key of an invitation in a list: newest first means descending.
pub(crate) type Anchor = (DateTime<Utc>, InviteId);

/// Which way from the anchor a page extends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Invitations older than the anchor (a `next_page_token`).
    Older,
    /// Invitations newer than the anchor (a `prev_page_token`).
    Newer,
}

/// A decoded page token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub(crate) direction: Direction,
    /// Whether the anchor itself belongs to the page (only for tokens of
    /// empty pages, whose neighbours start at the anchor).
    pub(crate) inclusive: bool,
    pub(crate) anchor: Anchor,
    /// The fingerprint of the organization and filters.
    pub(crate) fingerprint: u64,
}

/// Token format version, so that a later format refuses older tokens.
const VERSION: u8 = 1;
/// Bytes before the anchor's ID: version, direction, inclusive, seconds,
/// nanoseconds, fingerprint.
const HEADER_LEN: usize = 1 + 1 + 1 + 8 + 4 + 8;
/// Bytes of the check value at the end.
const CHECK_LEN: usize = 8;
/// Longer tokens are refused before decoding.
const MAX_TOKEN_CHARS: usize = 256;

/// Encodes and verifies page tokens with this server's secret key (a fresh
/// one for each `default()`).
#[derive(Debug, Default)]
pub(crate) struct CursorCodec {
    keys: RandomState,
}

impl CursorCodec {
    /// The fingerprint of a list's organization and filters.
    pub(crate) fn fingerprint(&self, filters: &impl Hash) -> u64 {
        self.keys.hash_one(("filters", filters))
    }

    fn check(&self, payload: &[u8]) -> u64 {
        self.keys.hash_one(("cursor", payload))
    }

    /// The token of `cursor`.
    pub(crate) fn encode(&self, cursor: &Cursor) -> String {
        let (time, id) = &cursor.anchor;
        let mut bytes = Vec::with_capacity(HEADER_LEN + id.as_str().len() + CHECK_LEN);
        bytes.push(VERSION);
        bytes.push(match cursor.direction {
            Direction::Older => 0,
            Direction::Newer => 1,
        });
        bytes.push(u8::from(cursor.inclusive));
        bytes.extend_from_slice(&time.timestamp().to_be_bytes());
        bytes.extend_from_slice(&time.timestamp_subsec_nanos().to_be_bytes());
        bytes.extend_from_slice(&cursor.fingerprint.to_be_bytes());
        bytes.extend_from_slice(id.as_str().as_bytes());
        let check = self.check(&bytes);
        bytes.extend_from_slice(&check.to_be_bytes());
        hex_encode(&bytes)
    }

    /// The cursor of `token`, or `None` when it is malformed or was not
    /// issued by this codec.
    pub(crate) fn decode(&self, token: &str) -> Option<Cursor> {
        if token.len() > MAX_TOKEN_CHARS {
            return None;
        }
        let bytes = hex_decode(token)?;
        let (payload, check) = bytes.split_at_checked(bytes.len().checked_sub(CHECK_LEN)?)?;
        if u64::from_be_bytes(check.try_into().ok()?) != self.check(payload) {
            return None;
        }
        let (header, id) = payload.split_at_checked(HEADER_LEN)?;
        let (&version, rest) = header.split_first()?;
        let (&direction, rest) = rest.split_first()?;
        let (&inclusive, rest) = rest.split_first()?;
        let (seconds, rest) = rest.split_at_checked(8)?;
        let (nanos, fingerprint) = rest.split_at_checked(4)?;
        if version != VERSION {
            return None;
        }
        let direction = match direction {
            0 => Direction::Older,
            1 => Direction::Newer,
            _ => return None,
        };
        let inclusive = match inclusive {
            0 => false,
            1 => true,
            _ => return None,
        };
        let time = DateTime::from_timestamp(
            i64::from_be_bytes(seconds.try_into().ok()?),
            u32::from_be_bytes(nanos.try_into().ok()?),
        )?;
        let id = InviteId::parse(std::str::from_utf8(id).ok()?).ok()?;
        Some(Cursor {
            direction,
            inclusive,
            anchor: (time, id),
            fingerprint: u64::from_be_bytes(fingerprint.try_into().ok()?),
        })
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        for nibble in [byte >> 4, byte & 0x0f] {
            text.push(char::from(
                HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    text
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => Some(nibble(*high)? << 4 | nibble(*low)?),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> Cursor {
        Cursor {
            direction: Direction::Newer,
            inclusive: false,
            anchor: (
                DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap(),
                InviteId::parse("inv_01h2xcejqtf2nbrexx3vqjhp42").unwrap(),
            ),
            fingerprint: 42,
        }
    }

    #[test]
    fn round_trips() {
        let codec = CursorCodec::default();
        let token = codec.encode(&cursor());
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
        assert_eq!(codec.decode(&token), Some(cursor()));
    }

    #[test]
    fn refuses_edited_foreign_and_garbage_tokens() {
        let codec = CursorCodec::default();
        let token = codec.encode(&cursor());
        // Flip each character in turn: every edit is caught.
        for i in 0..token.len() {
            let mut edited = token.clone().into_bytes();
            edited[i] = if edited[i] == b'0' { b'1' } else { b'0' };
            let edited = String::from_utf8(edited).unwrap();
            assert_eq!(codec.decode(&edited), None, "edit at {i}");
        }
        assert_eq!(
            CursorCodec::default().decode(&token),
            None,
            "another server's token"
        );
        for garbage in [
            "",
            "0",
            "zz",
            "abc",
            &"0".repeat(10_000),
            "é",
            &token[..token.len() - 2],
        ] {
            assert_eq!(codec.decode(garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn fingerprint_depends_on_filters() {
        let codec = CursorCodec::default();
        assert_eq!(codec.fingerprint(&("a", 1)), codec.fingerprint(&("a", 1)));
        assert_ne!(codec.fingerprint(&("a", 1)), codec.fingerprint(&("a", 2)));
    }
}
