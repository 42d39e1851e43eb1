//! One request head: parsed with `httparse`, its framing checked (RFC 9112 6), reduced
//! to what a response depends on.

use super::Limits;
use super::response::Status;

/// Header lines a head may have; more is answered 431. Browsers send about 15.
pub const MAX_HEADERS: usize = 32;

/// The methods the routes tell apart; any other is [`Method::Other`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Method {
    Get,
    Head,
    Post,
    Other,
}

/// A complete head that passed every check: what the response depends on.
#[derive(Debug)]
pub(super) struct Head<'a> {
    pub method: Method,
    /// The path of the request target, without its query; `b"*"` or the like for
    /// targets that name no path.
    pub path: &'a [u8],
    /// Bytes of the head, through its empty line.
    pub head_len: usize,
    /// Bytes of the body (`Content-Length`, 0 without one).
    pub body_len: usize,
    /// Whether the connection stays open after the response (RFC 9112 9.3).
    pub keep_alive: bool,
    /// HTTP/1.0 (`false`: HTTP/1.1).
    pub http10: bool,
    /// `Expect: 100-continue` in an HTTP/1.1 request (ignored in HTTP/1.0: RFC 9110
    /// 10.1.1).
    pub expect_continue: bool,
}

/// What the bytes at the start of the input are.
#[derive(Debug)]
pub(super) enum Parsed<'a> {
    /// The head is not complete yet, and may still fit its limit.
    Partial,
    /// A head to answer; its body may be incomplete.
    Complete(Head<'a>),
    /// A request to refuse with `status`, then close: its framing cannot be trusted or
    /// it is over a limit. `head` when the method was HEAD (the response has no body).
    Refused { status: Status, head: bool },
}

/// Parses the head at the start of `input` and checks it against `limits`. Only the
/// first `limits.head` bytes are parsed, so a head over the limit is refused the same
/// way however the input was split into reads (whole, its other faults could show first).
pub(super) fn parse<'a>(input: &'a [u8], limits: &Limits) -> Parsed<'a> {
    let input = &input[..input.len().min(limits.head)];
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(input) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if input.len() >= limits.head => {
            return refused(too_large(input, limits), &request);
        }
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => {
            return refused(Status::HeaderFieldsTooLarge, &request);
        }
        Err(_) => return refused(Status::BadRequest, &request),
    };
    let (Some(method), Some(target), Some(version)) =
        (request.method, request.path, request.version)
    else {
        // A complete parse fills all three.
        return refused(Status::BadRequest, &request);
    };
    let http10 = version == 0;
    let framing = match Framing::of(request.headers) {
        Ok(framing) => framing,
        Err(status) => return refused(status, &request),
    };
    // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing; with Content-Length
    // too it is a smuggling attempt (6.3, item 3: "MAY reject ... as invalid"); a
    // coding other than chunked last leaves the length unknown (6.3, item 4: "MUST
    // respond with 400 ... and then close"). Chunked itself is not implemented: 501
    // (6.1: "SHOULD respond with 501").
    if framing.transfer_encoding {
        let status = if http10 || framing.content_length.is_some() || !framing.chunked_last {
            Status::BadRequest
        } else {
            Status::NotImplemented
        };
        return refused(status, &request);
    }
    // RFC 9112 3.2: "MUST respond with a 400 ... to any HTTP/1.1 request message that
    // lacks a Host header field and to any request message that contains more than one".
    if framing.hosts > 1 || (!http10 && framing.hosts == 0) {
        return refused(Status::BadRequest, &request);
    }
    let body_len = match framing.content_length {
        None => 0,
        Some(Length::Valid(n)) if n <= limits.body => n,
        Some(_) => return refused(Status::ContentTooLarge, &request),
    };
    let keep_alive = if http10 {
        framing.keep_alive && !framing.close
    } else {
        !framing.close
    };
    Parsed::Complete(Head {
        method: method_of(method),
        path: path_of(target.as_bytes()),
        head_len,
        body_len,
        keep_alive,
        http10,
        expect_continue: framing.expect_continue && !http10,
    })
}

/// The status for a head over its limit: 414 when the request line alone is (RFC 9112
/// 3: "MUST respond with a 414"), else 431 (RFC 9110 15.5.20: the header fields are).
fn too_large(input: &[u8], limits: &Limits) -> Status {
    let within = &input[..input.len().min(limits.head)];
    if within.contains(&b'\n') {
        Status::HeaderFieldsTooLarge
    } else {
        Status::UriTooLong
    }
}

fn refused<'a>(status: Status, request: &httparse::Request<'_, '_>) -> Parsed<'a> {
    Parsed::Refused {
        status,
        head: request.method == Some("HEAD"),
    }
}

fn method_of(method: &str) -> Method {
    // Methods are case-sensitive (RFC 9110 9.1).
    match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        _ => Method::Other,
    }
}

/// The path of a request target: origin-form (`/a?b`) or absolute-form
/// (`http://host/a?b`, which a server "MUST accept", RFC 9112 3.2.2), without the query.
fn path_of(target: &[u8]) -> &[u8] {
    let mut path = target;
    for scheme in [&b"http://"[..], b"https://"] {
        if target.len() >= scheme.len() && target[..scheme.len()].eq_ignore_ascii_case(scheme) {
            let after = &target[scheme.len()..];
            path = match after.iter().position(|&b| b == b'/') {
                Some(slash) => &after[slash..],
                None => b"/",
            };
        }
    }
    match path.iter().position(|&b| b == b'?') {
        Some(query) => &path[..query],
        None => path,
    }
}

/// A `Content-Length` value (RFC 9110 8.6: `1*DIGIT`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Length {
    Valid(usize),
    /// Digits only, but more than a `usize` holds: over any body limit.
    TooLarge,
}

/// What the header fields say about framing and persistence.
#[derive(Default)]
struct Framing {
    content_length: Option<Length>,
    transfer_encoding: bool,
    /// Whether the last coding of the last `Transfer-Encoding` line is `chunked`.
    chunked_last: bool,
    hosts: usize,
    close: bool,
    keep_alive: bool,
    expect_continue: bool,
}

impl Framing {
    /// Reads the header fields; a `Content-Length` that is not one valid number is a
    /// 400 (RFC 9112 6.3, item 5: "MUST respond with a 400 ... and then close").
    /// Duplicates are refused even when equal, which RFC 9110 8.6 allows.
    fn of(headers: &[httparse::Header<'_>]) -> Result<Framing, Status> {
        let mut framing = Framing::default();
        for header in headers {
            let name = header.name.as_bytes();
            let value = trim(header.value);
            if name.eq_ignore_ascii_case(b"content-length") {
                if framing.content_length.is_some() {
                    return Err(Status::BadRequest);
                }
                framing.content_length = Some(content_length(value).ok_or(Status::BadRequest)?);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                framing.transfer_encoding = true;
                let last = value.rsplit(|&b| b == b',').next().unwrap_or_default();
                framing.chunked_last = trim(last).eq_ignore_ascii_case(b"chunked");
            } else if name.eq_ignore_ascii_case(b"host") {
                framing.hosts += 1;
            } else if name.eq_ignore_ascii_case(b"connection") {
                for option in value.split(|&b| b == b',').map(trim) {
                    framing.close |= option.eq_ignore_ascii_case(b"close");
                    framing.keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
                }
            } else if name.eq_ignore_ascii_case(b"expect") {
                framing.expect_continue |= value.eq_ignore_ascii_case(b"100-continue");
            }
        }
        Ok(framing)
    }
}

/// `1*DIGIT`, or `None`; no sign, no space inside, not empty.
fn content_length(value: &[u8]) -> Option<Length> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: usize = 0;
    for &digit in value {
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(usize::from(digit - b'0')))
        {
            Some(n) => n,
            None => return Some(Length::TooLarge),
        };
    }
    Some(Length::Valid(n))
}

/// Without the optional white space (RFC 9110 5.6.3: space and tab) around a value.
fn trim(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}
