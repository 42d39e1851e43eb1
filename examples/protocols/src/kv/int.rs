//! Integers as Redis reads them.

/// An `i64` as Redis's `string2ll` accepts it: an optional `-`, then digits with no
/// leading zero (`0` alone excepted, `-0` refused), nothing else, in range. Stricter
/// than `str::parse`, which takes `+1` and `007`: `INCR` on `"007"` must fail as in
/// Redis.
pub(super) fn parse_i64(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, bytes),
    };
    match digits {
        [b'0'] if !negative => return Some(0),
        [] | [b'0', ..] => return None,
        _ => {}
    }
    let mut n: i64 = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        let digit = i64::from(digit - b'0');
        // Accumulates negatively so that i64::MIN, whose magnitude i64 lacks, parses.
        n = n.checked_mul(10)?.checked_sub(digit)?;
    }
    if negative { Some(n) } else { n.checked_neg() }
}

#[cfg(test)]
mod tests {
    use super::parse_i64;

    #[test]
    fn parses_as_redis_does() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"42"), Some(42));
        assert_eq!(parse_i64(b"-42"), Some(-42));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for refused in [
            &b""[..],
            b"-",
            b"-0",
            b"007",
            b"+1",
            b" 1",
            b"1 ",
            b"1.5",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999999",
        ] {
            assert_eq!(
                parse_i64(refused),
                None,
                "{:?}",
                core::str::from_utf8(refused)
            );
        }
    }
}
