//! [`HttpDate`]: the `Date` header's value, formatted once per second.

/// A time in IMF-fixdate, the form RFC 9110 (5.6.7) requires of a `Date` header:
/// `Sun, 06 Nov 1994 08:49:37 GMT`, always 29 bytes.
///
/// Written by hand: `httpdate` and `time` format through `std`'s `SystemTime` or an
/// allocated `String`; this needs neither and is `const`.
///
/// ```
/// use statio_protocols::http::HttpDate;
///
/// assert_eq!(HttpDate::from_unix_secs(784_111_777).as_bytes(), b"Sun, 06 Nov 1994 08:49:37 GMT");
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HttpDate {
    bytes: [u8; 29],
    secs: u64,
}

/// 9999-12-31T23:59:59Z: the last second a four-digit year can show.
const LAST: u64 = 253_402_300_799;

impl HttpDate {
    /// The date `secs` seconds after 1970-01-01T00:00:00Z; a time after the year 9999
    /// shows as its last second.
    pub const fn from_unix_secs(secs: u64) -> Self {
        let secs = if secs > LAST { LAST } else { secs };
        let days = secs / 86_400;
        let in_day = secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        // 1970-01-01 was a Thursday (index 4, counting from Sunday).
        let weekday = WEEKDAYS[((days + 4) % 7) as usize];
        let month_name = MONTHS[(month - 1) as usize];
        let mut bytes = *b"Thu, 01 Jan 1970 00:00:00 GMT";
        bytes[0] = weekday[0];
        bytes[1] = weekday[1];
        bytes[2] = weekday[2];
        two_digits(&mut bytes, 5, day);
        bytes[8] = month_name[0];
        bytes[9] = month_name[1];
        bytes[10] = month_name[2];
        two_digits(&mut bytes, 12, year / 100);
        two_digits(&mut bytes, 14, year % 100);
        two_digits(&mut bytes, 17, in_day / 3600);
        two_digits(&mut bytes, 20, in_day / 60 % 60);
        two_digits(&mut bytes, 23, in_day % 60);
        HttpDate { bytes, secs }
    }

    /// The 29 bytes of the header value.
    pub const fn as_bytes(&self) -> &[u8; 29] {
        &self.bytes
    }

    /// The Unix time it shows, in seconds.
    pub const fn unix_secs(&self) -> u64 {
        self.secs
    }
}

const WEEKDAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

const fn two_digits(bytes: &mut [u8; 29], at: usize, value: u64) {
    bytes[at] = b'0' + (value / 10) as u8;
    bytes[at + 1] = b'0' + (value % 10) as u8;
}

/// Year, month (1-12) and day (1-31) of the day `days` after 1970-01-01: Howard
/// Hinnant's `civil_from_days` ("chrono-Compatible Low-Level Date Algorithms"), for
/// days on or after the epoch.
const fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::HttpDate;

    fn date(secs: u64) -> [u8; 29] {
        *HttpDate::from_unix_secs(secs).as_bytes()
    }

    #[test]
    fn formats_imf_fixdate() {
        assert_eq!(&date(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&date(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT"); // RFC 9110's example
        assert_eq!(&date(951_782_400), b"Tue, 29 Feb 2000 00:00:00 GMT"); // a leap day
        assert_eq!(&date(1_709_251_199), b"Thu, 29 Feb 2024 23:59:59 GMT");
        assert_eq!(&date(4_102_444_800), b"Fri, 01 Jan 2100 00:00:00 GMT"); // not a leap year
        assert_eq!(&date(4_107_542_400), b"Mon, 01 Mar 2100 00:00:00 GMT");
    }

    #[test]
    fn clamps_after_the_year_9999() {
        assert_eq!(&date(super::LAST), b"Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(&date(u64::MAX), b"Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(HttpDate::from_unix_secs(u64::MAX).unix_secs(), super::LAST);
    }
}
