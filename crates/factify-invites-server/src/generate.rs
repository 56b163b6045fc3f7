//! Fresh identifiers and secrets: ULID-based IDs (`org_`, `user_`, `svc_`,
//! `inv_`, `req_`), API keys and invitation tokens.
//!
//! A ULID here is 48 bits of milliseconds since the Unix epoch (from the
//! server's clock) and 80 random bits, written as 26 lowercase Crockford
//! base32 characters, so IDs match the SPEC pattern
//! `^<prefix>_[0-9a-hjkmnp-tv-z]{26}$`. Randomness comes from `fastrand`,
//! which is fine for a test server and not meant to be unguessable.

use chrono::{DateTime, Utc};

use crate::ids::IdError;

/// Lowercase Crockford base32: no `i`, `l`, `o`, `u`.
const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters of invitation tokens: URL-safe base64's alphabet.
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// The length of an invitation token (256 bits of URL-safe base64, rounded).
const TOKEN_LEN: usize = 43;
/// The number of random characters after `ffy_` in an API key.
const API_KEY_RANDOM_LEN: usize = 32;

/// A lowercase ULID for the instant `now`.
pub(crate) fn ulid(now: DateTime<Utc>) -> String {
    const MAX_MILLIS: i64 = (1 << 48) - 1;
    let millis = now.timestamp_millis().clamp(0, MAX_MILLIS) as u128;
    let random = fastrand::u128(..) & ((1u128 << 80) - 1);
    let value = (millis << 80) | random;
    // 26 characters of 5 bits hold 130 bits: the first one carries 3.
    (0..26)
        .rev()
        .map(|position| {
            let digit = ((value >> (position * 5)) & 0x1f) as usize;
            char::from(CROCKFORD.get(digit).copied().unwrap_or(b'0'))
        })
        .collect()
}

/// `prefix`, an underscore and a fresh ULID, such as `req_01h...`.
pub(crate) fn id(prefix: &str, now: DateTime<Utc>) -> String {
    format!("{prefix}_{}", ulid(now))
}

/// A fresh typed ID. The generator always produces the shape the typed IDs
/// check (a unit test proves it); the loop only exists so that a parse error
/// can never become a panic.
pub(crate) fn typed_id<T>(
    prefix: &str,
    now: DateTime<Utc>,
    parse: impl Fn(&str) -> Result<T, IdError>,
) -> T {
    loop {
        if let Ok(id) = parse(&id(prefix, now)) {
            return id;
        }
    }
}

/// A fresh API key: `ffy_` and 32 random ASCII letters and digits.
pub(crate) fn api_key() -> String {
    let mut key = String::from("ffy_");
    key.extend((0..API_KEY_RANDOM_LEN).map(|_| fastrand::alphanumeric()));
    key
}

/// A fresh invitation token: 43 URL-safe characters.
pub(crate) fn invite_token() -> String {
    (0..TOKEN_LEN)
        .map(|_| {
            let index = fastrand::usize(..URL_SAFE.len());
            char::from(URL_SAFE.get(index).copied().unwrap_or(b'A'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{InviteId, OrganizationId, UserId};
    use chrono::TimeZone;

    #[test]
    fn ids_match_the_spec_pattern_and_sort_by_time() {
        let early = Utc.with_ymd_and_hms(2023, 6, 1, 0, 0, 0).unwrap();
        let late = early + chrono::TimeDelta::milliseconds(1);
        for _ in 0..200 {
            let a = id("inv", early);
            let b = id("inv", late);
            assert!(InviteId::parse(&a).is_ok(), "{a}");
            assert!(a < b, "{a} !< {b}");
            assert!(OrganizationId::parse(&id("org", early)).is_ok());
            assert!(UserId::parse(&id("svc", early)).is_ok());
        }
        // The well-known example: 2016-07-30T23:54:10.259Z is 01arz3ndek.
        let known = Utc.timestamp_millis_opt(1_469_922_850_259).unwrap();
        assert!(ulid(known).starts_with("01arz3ndek"), "{}", ulid(known));
        // Out-of-range clocks clamp instead of panicking.
        assert_eq!(ulid(DateTime::<Utc>::MIN_UTC).len(), 26);
        assert!(ulid(DateTime::<Utc>::MAX_UTC).starts_with("7zzzzzzzzz"));
    }

    #[test]
    fn keys_and_tokens_have_their_shapes() {
        let key = api_key();
        assert!(key.starts_with("ffy_") && key.len() == 36, "{key}");
        assert!(key[4..].chars().all(|c| c.is_ascii_alphanumeric()));
        let token = invite_token();
        assert_eq!(token.len(), 43);
        assert!(token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(invite_token(), token);
    }
}
