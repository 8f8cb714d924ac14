//! Dates and times as BIRD 1.x prints them by default, in UTC (calico-node
//! runs in UTC; there is no time zone database here): `%F %T` for the
//! status lines, and for protocols and routes `%T` within 20 hours and `%F`
//! after that.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The age at which `since` columns switch from the time to the date.
pub(crate) const SINCE_TIME_LIMIT: Duration = Duration::from_secs(20 * 3600);

/// Seconds since the epoch, negative before it.
fn epoch_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            // Round toward minus infinity so that 0.5 s before the epoch is
            // 23:59:59 of the day before.
            let s = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() > 0 { -s - 1 } else { -s }
        }
    }
}

/// The civil date of a day number (days since 1970-01-01), proleptic
/// Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = if m <= 2 { y + 1 } else { y };
    (y, m as u32, d as u32)
}

/// The day number of a civil date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 }; // [0, 11]
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
    second: i64,
}

fn civil(t: SystemTime) -> Civil {
    let s = epoch_secs(t);
    let (year, month, day) = civil_from_days(s.div_euclid(86_400));
    let sod = s.rem_euclid(86_400);
    Civil {
        year,
        month,
        day,
        hour: sod / 3600,
        minute: sod / 60 % 60,
        second: sod % 60,
    }
}

/// `%F`: `2021-09-19`.
pub(crate) fn date(t: SystemTime) -> String {
    let c = civil(t);
    format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)
}

/// `%T`: `20:48:43`.
pub(crate) fn time_of_day(t: SystemTime) -> String {
    let c = civil(t);
    format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second)
}

/// `%F %T`: `2021-09-19 20:48:43`, BIRD's format for `show status`.
pub(crate) fn datetime(t: SystemTime) -> String {
    format!("{} {}", date(t), time_of_day(t))
}

/// BIRD's format for the `since` of protocols and routes: the time within
/// 20 hours of `now`, the date after that.
pub(crate) fn since(t: SystemTime, now: SystemTime) -> String {
    let age = now.duration_since(t).unwrap_or(Duration::ZERO);
    if age < SINCE_TIME_LIMIT {
        time_of_day(t)
    } else {
        date(t)
    }
}

/// Parses `%F %T` (UTC) back, as the health check reads `Last reboot on`.
pub(crate) fn parse_datetime(s: &str) -> Option<SystemTime> {
    let (d, t) = s.trim().split_once(' ')?;
    let mut dp = d.splitn(3, '-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: u32 = dp.next()?.parse().ok()?;
    let day: u32 = dp.next()?.parse().ok()?;
    let mut tp = t.splitn(3, ':');
    let hh: u64 = tp.next()?.parse().ok()?;
    let mm: u64 = tp.next()?.parse().ok()?;
    // BIRD 2 prints milliseconds: `23:49:34.116`.
    let ss: f64 = tp.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 {
        return None;
    }
    if !(0.0..61.0).contains(&ss) {
        return None;
    }
    let days = days_from_civil(y, m, day);
    let secs = u64::try_from(days).ok()? * 86_400 + hh * 3600 + mm * 60;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_secs_f64(ss))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn formats() {
        // 2021-09-19 20:48:43 UTC.
        let t = at(1_632_084_523);
        assert_eq!(datetime(t), "2021-09-19 20:48:43");
        assert_eq!(date(t), "2021-09-19");
        assert_eq!(time_of_day(t), "20:48:43");
        assert_eq!(datetime(UNIX_EPOCH), "1970-01-01 00:00:00");
        // A leap day.
        assert_eq!(date(at(951_782_400)), "2000-02-29");
        assert_eq!(
            datetime(UNIX_EPOCH - Duration::from_millis(500)),
            "1969-12-31 23:59:59"
        );
    }

    #[test]
    fn since_switches_at_20_hours() {
        let t = at(1_632_084_523);
        assert_eq!(since(t, t + Duration::from_secs(3600)), "20:48:43");
        assert_eq!(
            since(t, t + SINCE_TIME_LIMIT - Duration::from_secs(1)),
            "20:48:43"
        );
        assert_eq!(since(t, t + SINCE_TIME_LIMIT), "2021-09-19");
        // A clock that went back: the time.
        assert_eq!(since(t, t - Duration::from_secs(5)), "20:48:43");
    }

    #[test]
    fn parses_back() {
        let t = at(1_632_084_523);
        assert_eq!(parse_datetime(&datetime(t)), Some(t));
        assert_eq!(
            parse_datetime("2026-12-01 23:49:34.116"),
            Some(at(1_796_168_974) + Duration::from_millis(116))
        );
        assert_eq!(parse_datetime("2021-13-01 00:00:00"), None);
        assert_eq!(parse_datetime("yesterday"), None);
        for days in [
            -800_000i64,
            -1,
            0,
            1,
            59,
            60,
            365,
            10_957,
            20_000,
            2_932_896,
        ] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
