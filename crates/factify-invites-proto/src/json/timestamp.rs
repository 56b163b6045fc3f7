//! `Timestamp` both ways: RFC 3339 in UTC on write, any offset on read,
//! with a fast path for the canonical form every writer uses.

use std::io::Write as _;

use chrono::DateTime;

/// `0001-01-01T00:00:00Z`, the earliest `Timestamp` the mapping allows.
pub(super) const MIN_SECONDS: i64 = -62_135_596_800;
/// `9999-12-31T23:59:59Z`, the latest.
pub(super) const MAX_SECONDS: i64 = 253_402_300_799;

/// A `Timestamp` as RFC 3339 in UTC, with 0, 3, 6 or 9 fractional digits.
pub(super) fn write_timestamp(
    out: &mut Vec<u8>,
    value: &prost_types::Timestamp,
) -> Result<(), String> {
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

/// An RFC 3339 `Timestamp`, read (any offset; kept in UTC).
pub(super) fn read_timestamp(
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
pub(super) fn canonical_timestamp(text: &[u8]) -> Option<prost_types::Timestamp> {
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
