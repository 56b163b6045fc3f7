//! `--clock-offset` and `--start-time`: where the emulator's clock starts.

use chrono::{DateTime, TimeDelta, Utc};

/// A `--clock-offset`: an optional sign, whole number and unit.
pub(super) fn parse_offset(text: &str) -> Result<TimeDelta, String> {
    let invalid = || format!("{text:?} is not a duration such as 8d, -36h, 90m, 1w or 30s");
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let split = rest.len().checked_sub(1).ok_or_else(invalid)?;
    let (digits, unit) = (
        rest.get(..split).ok_or_else(invalid)?,
        rest.get(split..).ok_or_else(invalid)?,
    );
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let amount: i64 = digits.parse().map_err(|_| invalid())?;
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(invalid()),
    };
    let seconds = amount.checked_mul(seconds_per_unit).ok_or_else(invalid)?;
    let offset = TimeDelta::try_seconds(seconds).ok_or_else(invalid)?;
    let offset = if negative { -offset } else { offset };
    match Utc::now().checked_add_signed(offset) {
        Some(start) if clock_range_holds(start) => Ok(offset),
        _ => Err(format!(
            "{text:?} moves the clock outside 1970 to 9999 (what IDs and JSON timestamps hold)"
        )),
    }
}

pub(super) fn parse_start_time(text: &str) -> Result<DateTime<Utc>, String> {
    let time = DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|err| {
            format!("{text:?} is not an RFC 3339 time such as 2030-01-01T00:00:00Z: {err}")
        })?;
    if clock_range_holds(time) {
        Ok(time)
    } else {
        Err(format!(
            "{text:?} is before 1970 (IDs hold milliseconds since 1970)"
        ))
    }
}

/// Whether the emulator's clock may show `time`: from 1970 (IDs) to the
/// end of 9999 (protobuf's JSON timestamps).
fn clock_range_holds(time: DateTime<Utc>) -> bool {
    (0..=253_402_300_799).contains(&time.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_offsets_parse_with_sign_and_unit() {
        assert_eq!(parse_offset("8d"), Ok(TimeDelta::days(8)));
        assert_eq!(parse_offset("-36h"), Ok(TimeDelta::hours(-36)));
        assert_eq!(parse_offset("+90m"), Ok(TimeDelta::minutes(90)));
        assert_eq!(parse_offset("1w"), Ok(TimeDelta::weeks(1)));
        assert_eq!(parse_offset("30s"), Ok(TimeDelta::seconds(30)));
        for bad in [
            "",
            "d",
            "8",
            "8x",
            "1.5d",
            "--1d",
            "99999999999999999999d",
            "9223372036854775807w",
            "-100000w",
            "1000000w",
        ] {
            assert!(parse_offset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn start_times_before_1970_are_refused() {
        assert!(parse_start_time("2030-01-01T00:00:00Z").is_ok());
        assert!(parse_start_time("1969-12-31T23:59:59Z").is_err());
        assert!(parse_start_time("tomorrow").is_err());
    }
}
