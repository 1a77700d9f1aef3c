//! Parsers for single parameter values. Each names the parameter in its
//! error and never panics, whatever the input.

use std::net::IpAddr;

use bgpsentry_core::model::{Asn, Timestamp};
use ipnet::IpNet;

use super::error::{ApiError, echo};

/// A non-empty value without surrounding whitespace (a stray space, or a
/// `+` that URL-decodes to one, is a malformed value, not a detail).
pub fn non_empty<'a>(name: &str, v: &'a str) -> Result<&'a str, ApiError> {
    let t = v.trim();
    if t.is_empty() {
        Err(ApiError::param(name, format!("{name}: value is empty")))
    } else if t.len() != v.len() {
        Err(ApiError::param(
            name,
            format!("{name}: {:?} has leading or trailing whitespace", echo(v)),
        ))
    } else {
        Ok(t)
    }
}

/// An integer in `min..=max`.
pub fn int(name: &str, v: &str, min: i64, max: i64) -> Result<i64, ApiError> {
    let t = non_empty(name, v)?;
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::param(
            name,
            format!("{name}: expected an integer, got {:?}", echo(t)),
        ));
    }
    let n: i64 = t.parse().map_err(|_| {
        ApiError::param(
            name,
            format!("{name}: {:?} is out of range {min}..={max}", echo(t)),
        )
    })?;
    if n < min || n > max {
        return Err(ApiError::param(
            name,
            format!("{name}: {n} is out of range {min}..={max}"),
        ));
    }
    Ok(n)
}

/// An ASN: `13335`, `AS13335` or asdot `1.10`; digits only, no sign and
/// no leading zeros (`+13335` and `013335` are not AS numbers).
pub fn asn(name: &str, v: &str) -> Result<u32, ApiError> {
    let t = non_empty(name, v)?;
    let bad = || {
        ApiError::param(
            name,
            format!(
                "{name}: expected an AS number (0..=4294967295), got {:?}",
                echo(t)
            ),
        )
    };
    let digits = t
        .get(..2)
        .filter(|p| p.eq_ignore_ascii_case("as"))
        .map_or(t, |_| &t[2..]);
    let canonical = |g: &str| {
        !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()) && (g == "0" || !g.starts_with('0'))
    };
    if !digits.split('.').all(canonical) || digits.split('.').count() > 2 {
        return Err(bad());
    }
    t.parse::<Asn>().map(|a| a.0).map_err(|_| bad())
}

/// An alpha-2 country code, returned in upper case.
pub fn country(name: &str, v: &str) -> Result<String, ApiError> {
    let t = non_empty(name, v)?;
    if t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(t.to_ascii_uppercase())
    } else {
        Err(ApiError::param(
            name,
            format!(
                "{name}: expected a two-letter country code, got {:?}",
                echo(t)
            ),
        ))
    }
}

/// A prefix in canonical form: host bits must be clear.
pub fn prefix(name: &str, v: &str) -> Result<IpNet, ApiError> {
    let t = non_empty(name, v)?;
    match t.parse::<IpNet>() {
        Ok(net) if net == net.trunc() => Ok(net),
        Ok(net) => Err(ApiError::param(
            name,
            format!(
                "{name}: {:?} has host bits set; did you mean {}?",
                echo(t),
                net.trunc()
            ),
        )),
        Err(_) => match t.parse::<IpAddr>() {
            Ok(ip) => Err(ApiError::param(
                name,
                format!(
                    "{name}: {:?} is an address, not a prefix; did you mean {}?",
                    echo(t),
                    IpNet::from(ip)
                ),
            )),
            Err(_) => Err(ApiError::param(
                name,
                format!(
                    "{name}: expected an IPv4 or IPv6 prefix such as 1.1.1.0/24, got {:?}",
                    echo(t)
                ),
            )),
        },
    }
}

/// A boolean: `true` or `false`, any case.
pub fn boolean(name: &str, v: &str) -> Result<bool, ApiError> {
    Ok(choice(name, v, &["false", "true"])? == 1)
}

/// A case-insensitive choice among `allowed`; returns the index.
pub fn choice(name: &str, v: &str, allowed: &[&str]) -> Result<usize, ApiError> {
    let t = non_empty(name, v)?;
    allowed
        .iter()
        .position(|a| a.eq_ignore_ascii_case(t))
        .ok_or_else(|| {
            ApiError::param(
                name,
                format!("{name}: {:?} is not one of {}", echo(t), allowed.join(", ")),
            )
        })
}

/// A date or date-time (ISO 8601 / RFC 3339, UTC unless an offset is
/// given). Returns the first and the last microsecond it denotes at its own
/// precision, so that an inclusive end bound covers all of it:
/// `2024-01-01` is the whole day, `…T10:00` the whole minute, `…T10:00:05`
/// the whole second, `…T10:00:05.952` the whole millisecond.
pub fn date(name: &str, v: &str) -> Result<(i64, i64), ApiError> {
    let t = non_empty(name, v)?;
    let bad = || {
        ApiError::param(
            name,
            format!(
                "{name}: expected an ISO 8601 date or date-time such as 2024-01-31 or 2024-01-31T12:00:00Z, got {:?}",
                echo(t)
            ),
        )
    };
    // ISO 8601's calendar form: a four-digit year (no sign: `-0001-01-01`
    // and `+2024-01-01` are rejected), two-digit month and day.
    let b = t.as_bytes();
    let calendar = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit);
    if t.len() > 40 || !calendar {
        return Err(bad());
    }
    let ts = Timestamp::parse(t).ok_or_else(bad)?;
    let unit = precision_micros(t);
    let last = ts.0.checked_add(unit - 1).ok_or_else(bad)?;
    Ok((ts.0, last))
}

fn precision_micros(s: &str) -> i64 {
    let Some(pos) = s.find(['T', 't', ' ']) else {
        return 86_400_000_000;
    };
    let time = &s[pos + 1..];
    // Drop a zone suffix: Z, +hh:mm or -hh:mm.
    let time = time.trim_end_matches(['Z', 'z']);
    let time = match time.find(['+', '-']) {
        Some(i) => &time[..i],
        None => time,
    };
    match time.split_once('.') {
        Some((_, frac)) => {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count().min(6) as u32;
            10i64.pow(6 - n)
        }
        None if time.matches(':').count() >= 2 => 1_000_000,
        None => 60_000_000,
    }
}

/// A `dateRange` such as `1d`, `7d`, `12w`, `24h` or `7dControl`: the
/// window ending now, or for `…Control` Radar's comparison window: the same
/// length, shifted back by the window's length rounded up to whole weeks
/// (so it keeps the weekday alignment and never overlaps the current
/// window): `3dcontrol` is days -10..-7, `7dcontrol` -14..-7, `10dcontrol`
/// -24..-14, `28dcontrol` -56..-28. Returns inclusive microsecond bounds.
pub fn date_range(name: &str, v: &str, now: Timestamp) -> Result<(i64, i64), ApiError> {
    let t = non_empty(name, v)?;
    let bad = || {
        ApiError::param(
            name,
            format!(
                "{name}: expected a number and a unit (h, d, w), optionally followed by Control, e.g. 7d or 12wControl; got {:?}",
                echo(t)
            ),
        )
    };
    let (body, control) = match t.len().checked_sub(7).filter(|i| t.is_char_boundary(*i)) {
        Some(i) if t[i..].eq_ignore_ascii_case("control") => (&t[..i], true),
        _ => (t, false),
    };
    let unit = body.chars().last().ok_or_else(bad)?;
    let digits = &body[..body.len() - unit.len_utf8()];
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = digits.parse().map_err(|_| bad())?;
    let hours = match unit.to_ascii_lowercase() {
        'h' => n,
        'd' => n * 24,
        'w' => n * 24 * 7,
        _ => return Err(bad()),
    };
    if n == 0 || hours > 24 * 3660 {
        return Err(ApiError::param(
            name,
            format!("{name}: {t:?} must be between 1h and 10 years"),
        ));
    }
    let len = hours * 3_600_000_000;
    let end = if control {
        now.0 - control_shift(len)
    } else {
        now.0
    };
    Ok((end - len, end))
}

/// How far back a `…control` window ends: the window's length rounded up
/// to whole weeks.
pub fn control_shift(len_micros: i64) -> i64 {
    const WEEK: i64 = 7 * 86_400_000_000;
    (len_micros + WEEK - 1) / WEEK * WEEK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(int("page", "3", 1, 10).ok(), Some(3));
        assert!(int("page", "99999999999999999999999", 1, 10).is_err());
        assert!(int("page", "1e3", 1, 10).is_err());
        assert!(int("page", "-", 1, 10).is_err());
        assert_eq!(asn("a", "AS13335").ok(), Some(13335));
        assert!(asn("a", "1 OR 1=1").is_err());
        assert!(prefix("p", "1.1.1.1/24").is_err());
        assert!(prefix("p", "1.1.1.1").is_err());
        assert!(prefix("p", "1.1.1.0/33").is_err());
        assert_eq!(choice("f", "json", &["JSON", "CSV"]).ok(), Some(0));
        let (a, b) = date("d", "2024-01-01").expect("date");
        assert_eq!(b - a, 86_400_000_000 - 1);
        let (a, b) = date("d", "2024-01-01T10:00:00.952Z").expect("date");
        assert_eq!(b - a, 999);
        let (a, b) = date("d", "2024-01-01T10:00:00+02:00").expect("date");
        assert_eq!(b - a, 999_999);
        let now = Timestamp::from_secs(10 * 86_400);
        assert_eq!(
            date_range("r", "1d", now).ok(),
            Some((9 * 86_400_000_000, 10 * 86_400_000_000))
        );
        // Control windows: shifted back by the length rounded up to weeks.
        let now = Timestamp::from_secs(100 * 86_400);
        let day = 86_400_000_000i64;
        for (v, from, to) in [
            ("1dControl", 8, 7),
            ("24hcontrol", 8, 7),
            ("3dcontrol", 10, 7),
            ("7dcontrol", 14, 7),
            ("8dControl", 22, 14),
            ("10dcontrol", 24, 14),
            ("14dControl", 28, 14),
            ("28dcontrol", 56, 28),
            ("1wcontrol", 14, 7),
            ("12wControl", 168, 84),
        ] {
            let (a, b) = date_range("r", v, now).expect(v);
            assert_eq!((a, b), (now.0 - from * day, now.0 - to * day), "{v}");
        }
        // 7 days and an hour round up to two weeks.
        let hour = 3_600_000_000i64;
        assert_eq!(
            date_range("r", "169hcontrol", now).ok(),
            Some((now.0 - 14 * day - 169 * hour, now.0 - 14 * day))
        );
        assert!(date_range("r", "0d", now).is_err());
        assert!(date_range("r", "1y", now).is_err());
        assert!(date_range("r", "Control", now).is_err());
        assert!(date_range("r", "é", now).is_err());
    }
}
