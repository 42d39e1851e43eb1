//! One command off the front of the input: a RESP2 array of bulk strings
//! (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or an inline command (`GET k\r\n`), as Redis
//! reads them (`processMultibulkBuffer`, `processInlineBuffer` in its networking.c).

use heapless::Vec;

/// Arguments a command may have, its name included; a command with more is parsed and
/// answered with an error.
pub const MAX_ARGS: usize = 64;

/// Longest count line (`*N`, `$N`) before its CRLF: 20 digits and a sign fit.
const MAX_COUNT_LINE: usize = 32;

/// A command's arguments, slices of the input: filled by [`parse`] (1 KiB: the caller
/// keeps one on its stack rather than have it move through a return value).
#[derive(Debug, Default)]
pub(super) struct Args<'a> {
    /// The first [`MAX_ARGS`].
    pub list: Vec<&'a [u8], MAX_ARGS>,
    /// How many the command had.
    pub count: usize,
}

/// What the bytes at the start of the input are.
#[derive(Debug)]
pub(super) enum Frame {
    /// Not a whole command yet.
    Incomplete,
    /// Nothing to answer (an empty line, `*0`, `*-1`) of this many bytes: Redis skips
    /// these silently.
    Empty(usize),
    /// A command of `len` bytes, its arguments in the [`Args`] given to [`parse`].
    Command { len: usize },
    /// Input Redis would refuse: answer the error, then close.
    Error(ProtocolError),
}

/// Input that cannot be parsed: after the error reply the connection closes, since
/// where the next command starts is unknown.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum ProtocolError {
    /// `*` followed by no valid count.
    InvalidMultibulkLength,
    /// A bulk string's `$N` with no valid length, or a length that could never fit in
    /// the input buffer.
    InvalidBulkLength,
    /// An array element that does not start with `$`: the byte found.
    ExpectedDollar(u8),
    /// A count line with no CRLF within 32 bytes (`*...`).
    TooBigMbulkCount,
    /// A bulk length line with no CRLF within 32 bytes (`$...`).
    TooBigBulkCount,
    /// An inline command with no newline within the input buffer.
    TooBigInline,
    /// A command larger than the input buffer.
    TooBigCommand,
    /// A bulk string not followed by CRLF.
    MissingCrlf,
    /// An inline argument with an opening quote and no closing one, or a closing quote
    /// followed by something else than a space.
    UnbalancedQuotes,
    /// An inline argument in double quotes with a backslash escape, which this server
    /// does not decode.
    EscapeInQuotes,
}

impl ProtocolError {
    /// The message, after `-ERR Protocol error: ` (Redis's own where it has one).
    pub(super) fn message(self) -> (&'static [u8], Option<u8>) {
        match self {
            ProtocolError::InvalidMultibulkLength => (b"invalid multibulk length", None),
            ProtocolError::InvalidBulkLength => (b"invalid bulk length", None),
            ProtocolError::ExpectedDollar(found) => (b"expected '$', got '", Some(found)),
            ProtocolError::TooBigMbulkCount => (b"too big mbulk count string", None),
            ProtocolError::TooBigBulkCount => (b"too big bulk count string", None),
            ProtocolError::TooBigInline => (b"too big inline request", None),
            ProtocolError::TooBigCommand => {
                (b"command larger than this server's input buffer", None)
            }
            ProtocolError::MissingCrlf => (b"expected CRLF after a bulk string", None),
            ProtocolError::UnbalancedQuotes => (b"unbalanced quotes in request", None),
            ProtocolError::EscapeInQuotes => (
                b"escapes in quoted inline arguments are not supported",
                None,
            ),
        }
    }
}

/// Parses the command at the start of `input`; `limit` is the input buffer's size: a
/// command that could not fit is an error, not [`Frame::Incomplete`] for ever. Only the
/// first `limit` bytes are looked at, so a command over the limit is refused however
/// the input was split into reads (whole in one read, it would fit a larger buffer).
pub(super) fn parse<'a>(input: &'a [u8], limit: usize, args: &mut Args<'a>) -> Frame {
    let input = &input[..input.len().min(limit)];
    args.list.clear();
    args.count = 0;
    let frame = match input.first() {
        None => Frame::Incomplete,
        Some(b'*') => multibulk(input, limit, args),
        Some(_) => inline(input, args),
    };
    match frame {
        Frame::Incomplete if input.len() >= limit => Frame::Error(match input[0] {
            b'*' => ProtocolError::TooBigCommand,
            _ => ProtocolError::TooBigInline,
        }),
        frame => frame,
    }
}

/// The line at `input[at..]` up to its CRLF, and where the next one starts; `Ok(None)`
/// while incomplete.
fn count_line(
    input: &[u8],
    at: usize,
    too_big: ProtocolError,
    invalid: ProtocolError,
) -> Result<Option<(i64, usize)>, ProtocolError> {
    let rest = &input[at..];
    let Some(cr) = rest.iter().take(MAX_COUNT_LINE).position(|&b| b == b'\r') else {
        return if rest.len() >= MAX_COUNT_LINE {
            Err(too_big)
        } else {
            Ok(None)
        };
    };
    match rest.get(cr + 1) {
        None => Ok(None),
        Some(b'\n') => {
            let n = super::int::parse_i64(&rest[..cr]).ok_or(invalid)?;
            Ok(Some((n, at + cr + 2)))
        }
        Some(_) => Err(invalid),
    }
}

fn multibulk<'a>(input: &'a [u8], limit: usize, args: &mut Args<'a>) -> Frame {
    let mut at = 1;
    let count = match count_line(
        input,
        at,
        ProtocolError::TooBigMbulkCount,
        ProtocolError::InvalidMultibulkLength,
    ) {
        Err(e) => return Frame::Error(e),
        Ok(None) => return Frame::Incomplete,
        Ok(Some((count, next))) => {
            at = next;
            count
        }
    };
    if count <= 0 {
        return Frame::Empty(at);
    }
    // Each element takes at least 6 bytes (`$0\r\n\r\n`).
    if count > i64::try_from(limit / 6).unwrap_or(i64::MAX) {
        return Frame::Error(ProtocolError::InvalidMultibulkLength);
    }
    args.count = count as usize;
    for _ in 0..count {
        match input.get(at) {
            None => return Frame::Incomplete,
            Some(b'$') => {}
            Some(&other) => return Frame::Error(ProtocolError::ExpectedDollar(other)),
        }
        let len = match count_line(
            input,
            at + 1,
            ProtocolError::TooBigBulkCount,
            ProtocolError::InvalidBulkLength,
        ) {
            Err(e) => return Frame::Error(e),
            Ok(None) => return Frame::Incomplete,
            Ok(Some((len, next))) => {
                at = next;
                len
            }
        };
        let Ok(len) = usize::try_from(len) else {
            return Frame::Error(ProtocolError::InvalidBulkLength);
        };
        let end = at.saturating_add(len);
        if end.saturating_add(2) > limit {
            return Frame::Error(ProtocolError::InvalidBulkLength);
        }
        match input.get(end..end + 2) {
            None => return Frame::Incomplete,
            Some(b"\r\n") => {}
            Some(_) => return Frame::Error(ProtocolError::MissingCrlf),
        }
        // Past MAX_ARGS the rest is parsed (to skip it) but not kept.
        let _ = args.list.push(&input[at..end]);
        at = end + 2;
    }
    Frame::Command { len: at }
}

/// Splits a line on spaces and tabs (Redis's `sdssplitargs` splits on any `isspace`):
/// an argument is a run of other bytes, or one in double or single quotes (without
/// escapes: an argument here is a slice of the input, never a decoded copy).
fn inline<'a>(input: &'a [u8], args: &mut Args<'a>) -> Frame {
    let Some(newline) = input.iter().position(|&b| b == b'\n') else {
        return Frame::Incomplete;
    };
    let len = newline + 1;
    let line = &input[..newline];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut rest = line;
    loop {
        while let [b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c', tail @ ..] = rest {
            rest = tail;
        }
        let Some(&first) = rest.first() else { break };
        let (arg, tail) = if first == b'"' || first == b'\'' {
            let Some(close) = rest[1..].iter().position(|&b| b == first) else {
                return Frame::Error(ProtocolError::UnbalancedQuotes);
            };
            let arg = &rest[1..1 + close];
            // In double quotes Redis decodes `\n`, `\x41`, ...; in single quotes `\'`.
            let escaped = match first {
                b'"' => arg.contains(&b'\\'),
                _ => arg.ends_with(b"\\"),
            };
            if escaped {
                return Frame::Error(ProtocolError::EscapeInQuotes);
            }
            let tail = &rest[close + 2..];
            // Redis: "closing quote must be followed by a space or nothing at all".
            if !matches!(
                tail.first(),
                None | Some(b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')
            ) {
                return Frame::Error(ProtocolError::UnbalancedQuotes);
            }
            (arg, tail)
        } else {
            let end = rest
                .iter()
                .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c'))
                .unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        args.count += 1;
        let _ = args.list.push(arg);
        rest = tail;
    }
    if args.count == 0 {
        Frame::Empty(len)
    } else {
        Frame::Command { len }
    }
}
