//! Every status, the connection rules, pipelining, and partial input down to one byte
//! per read.

use std::format;
use std::string::String;
use std::vec::Vec;

use statio_core::buf::{Buf, LinearBuf, MutBuf};

use super::{Http, Limits};
use crate::driver::{Transcript, drive};
use crate::{Next, Served};

/// RFC 9110's example date.
const NOW: u64 = 784_111_777;
const DATE: &str = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";

fn http(limits: Limits) -> Http {
    let mut http = Http::new(limits);
    http.set_time(NOW);
    http
}

/// One call with all of `input` and a large output buffer.
fn serve(input: &[u8]) -> (Served, String) {
    serve_with(Limits::DEFAULT, input)
}

fn serve_with(limits: Limits, input: &[u8]) -> (Served, String) {
    let mut out: LinearBuf<16384> = LinearBuf::new();
    let served = http(limits).serve(input, &mut out);
    (served, String::from_utf8_lossy(out.filled()).into_owned())
}

/// The whole response: status line, the three headers every response has, `extra`
/// header lines, and the body.
fn response(status: &str, length: usize, content_type: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\n{DATE}Content-Length: {length}\r\nContent-Type: {content_type}\r\n{extra}\r\n{body}"
    )
}

const TEXT: &str = "text/plain; charset=utf-8";

fn hello() -> String {
    hello_with("")
}

/// The response to `GET /` with `extra` header lines.
fn hello_with(extra: &str) -> String {
    response("200 OK", 14, TEXT, extra, "Hello, world!\n")
}

/// An error response, which closes.
fn refused(status: &str, reason: &str) -> String {
    let body = format!("{reason}\n");
    response(status, body.len(), TEXT, "Connection: close\r\n", &body)
}

fn bad_request() -> String {
    refused("400 Bad Request", "Bad Request")
}

fn drive_all(input: &[u8], chunk: usize) -> Transcript {
    let http = http(Limits::DEFAULT);
    drive::<8192>(input, chunk, Limits::DEFAULT.request(), |input, out| {
        http.serve(input, out)
    })
}

#[test]
fn get_is_200_with_every_header() {
    let (served, out) = serve(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(out, hello());
    assert_eq!(served, Served::new(27, Next::NeedInput));
}

#[test]
fn head_has_the_headers_of_get_and_no_body() {
    let (served, out) = serve(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(out, response("200 OK", 14, TEXT, "", ""));
    assert_eq!(served.next, Next::NeedInput);
}

#[test]
fn post_echo_returns_the_body() {
    let (served, out) = serve(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!(
        out,
        response("200 OK", 5, "application/octet-stream", "", "hello")
    );
    assert_eq!(served.next, Next::NeedInput);
    // No Content-Length: no body (RFC 9112 6.3, item 7).
    let (_, out) = serve(b"POST /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        out,
        response("200 OK", 0, "application/octet-stream", "", "")
    );
}

#[test]
fn the_query_is_ignored_and_absolute_form_is_accepted() {
    let (_, out) = serve(b"GET /?a=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(out, hello());
    let (_, out) = serve(b"GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
    assert_eq!(out, hello());
    let (_, out) =
        serve(b"POST HTTPS://x/echo?q HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz");
    assert!(out.ends_with("\r\n\r\nz"), "{out}");
}

#[test]
fn an_unknown_path_is_404_and_head_gets_no_body() {
    let (served, out) = serve(b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(out, response("404 Not Found", 10, TEXT, "", "Not Found\n"));
    assert_eq!(served.next, Next::NeedInput); // a 404 keeps the connection
    let (_, out) = serve(b"HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(out, response("404 Not Found", 10, TEXT, "", ""));
}

#[test]
fn a_method_the_route_does_not_take_is_405_with_allow() {
    let not_allowed = |allow: &str| {
        response(
            "405 Method Not Allowed",
            19,
            TEXT,
            &format!("Allow: {allow}\r\n"),
            "Method Not Allowed\n",
        )
    };
    for request in [
        &b"POST / HTTP/1.1\r\nHost: a\r\n\r\n"[..],
        b"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"get / HTTP/1.1\r\nHost: a\r\n\r\n", // methods are case-sensitive
    ] {
        let (served, out) = serve(request);
        assert_eq!(out, not_allowed("GET, HEAD"));
        assert_eq!(served.next, Next::NeedInput);
    }
    let (_, out) = serve(b"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(out, not_allowed("POST"));
}

#[test]
fn http11_keeps_the_connection_unless_told_to_close() {
    let (served, out) = serve(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert_eq!(out, hello_with("Connection: close\r\n"));
    assert_eq!(served.next, Next::Close);
    // A token in a list, in any case.
    let (served, _) = serve(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade,  CLOSE \r\n\r\n");
    assert_eq!(served.next, Next::Close);
    let (served, _) = serve(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(served.next, Next::NeedInput);
}

#[test]
fn http10_keeps_the_connection_only_with_keep_alive() {
    let (served, out) = serve(b"GET / HTTP/1.0\r\n\r\n"); // no Host needed in 1.0
    assert_eq!(out, hello_with("Connection: close\r\n"));
    assert_eq!(served.next, Next::Close);
    let (served, out) = serve(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    assert_eq!(out, hello_with("Connection: keep-alive\r\n"));
    assert_eq!(served.next, Next::NeedInput);
    let (served, _) = serve(b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
    assert_eq!(served.next, Next::Close);
}

#[test]
fn pipelined_requests_are_answered_in_order_into_one_buffer() {
    let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcHEAD /x HTTP/1.1\r\nHost: a\r\n\r\nGET / HT";
    let (served, out) = serve(input);
    let expected = [
        hello(),
        response("200 OK", 3, "application/octet-stream", "", "abc"),
        response("404 Not Found", 10, TEXT, "", ""),
    ]
    .concat();
    assert_eq!(out, expected);
    assert_eq!(served.next, Next::NeedInput);
    assert_eq!(&input[served.consumed..], b"GET / HT");
}

#[test]
fn requests_after_a_close_are_not_answered() {
    let input =
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let (served, out) = serve(input);
    assert_eq!(out.matches("HTTP/1.1").count(), 1);
    assert_eq!(served.next, Next::Close);
}

#[test]
fn leading_empty_lines_are_ignored() {
    // RFC 9112 2.2: "SHOULD ignore at least one empty line (CRLF) received prior to the
    // request-line".
    let (served, out) = serve(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(out, hello());
    assert_eq!(served.consumed, 31);
}

/// Every request kind in one stream: fed whole, in three pieces, and byte by byte, the
/// output is the same, and a Close stops it in the same place.
#[test]
fn partial_input_down_to_one_byte_gives_the_same_output() {
    let mut input = Vec::new();
    for part in [
        &b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..],
        b"\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
        b"GET /missing?x HTTP/1.1\r\nHost: a\r\n\r\n",
        b"PUT /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi",
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", // after the close: never answered
    ] {
        input.extend_from_slice(part);
    }
    let whole = drive_all(&input, input.len());
    assert!(whole.closed);
    assert_eq!(whole.kept, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"); // ignored, not consumed
    assert_eq!(
        String::from_utf8_lossy(&whole.output)
            .matches("HTTP/1.1 ")
            .count(),
        7
    );
    for chunk in [1, 2, 3, 7, 50] {
        let pieces = drive_all(&input, chunk);
        assert_eq!(pieces.output, whole.output, "in pieces of {chunk}");
        assert!(pieces.closed);
    }
}

#[test]
fn a_response_that_does_not_fit_waits_for_the_output_to_drain() {
    let http = http(Limits::DEFAULT);
    let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let one = hello().len();
    // Room for one response and a half.
    let mut out: LinearBuf<200> = LinearBuf::new();
    assert!(one < 200 && 2 * one > 200);
    let served = http.serve(input, &mut out);
    assert_eq!(served, Served::new(27, Next::OutputFull));
    assert_eq!(out.filled(), hello().as_bytes());
    // Sent: the second now fits.
    out.clear();
    let served = http.serve(&input[27..], &mut out);
    assert_eq!(served, Served::new(27, Next::NeedInput));
    assert_eq!(out.filled(), hello().as_bytes());
    // The same through the driver, with a buffer that takes one response at a time.
    let transcript = drive::<160>(&input.repeat(5), 1000, 4080, |i, o| http.serve(i, o));
    assert_eq!(
        String::from_utf8_lossy(&transcript.output),
        hello().repeat(10)
    );
}

#[test]
fn a_response_larger_than_an_empty_output_buffer_is_500() {
    let http = http(Limits::DEFAULT);
    let mut out: LinearBuf<256> = LinearBuf::new();
    let body = [b'x'; 200];
    let mut input = b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 200\r\n\r\n".to_vec();
    input.extend_from_slice(&body);
    let served = http.serve(&input, &mut out);
    assert_eq!(served.next, Next::Close);
    let text = String::from_utf8_lossy(out.filled()).into_owned();
    assert_eq!(
        text,
        refused("500 Internal Server Error", "Internal Server Error")
    );
    // Not even the 500 fits: closed with nothing.
    let mut tiny: LinearBuf<16> = LinearBuf::new();
    let served = http.serve(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &mut tiny);
    assert_eq!(served.next, Next::Close);
    assert!(!tiny.has_remaining());
}

#[test]
fn malformed_requests_are_400_then_close() {
    for request in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost a\r\n\r\n",        // no colon
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",      // space before the colon
        b"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", // obs-fold
        b"GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n",     // NUL in a name
        b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",      // two spaces
        b"GET / HTTP/1.2\r\nHost: a\r\n\r\n",       // no such version
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",        // HTTP/2 prior knowledge
        b"GET / HTTP/1.1\r\n\r\n",                  // no Host in 1.1
        b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", // two Hosts
        b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
    ] {
        let (served, out) = serve(request);
        assert_eq!(out, bad_request(), "{:?}", String::from_utf8_lossy(request));
        assert_eq!(served.next, Next::Close);
    }
}

#[test]
fn a_content_length_that_is_not_one_number_is_400() {
    for value in ["5, 5", "+5", "-1", "", "0x5", "5 5", "abc"] {
        let request =
            format!("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: {value}\r\n\r\nhello");
        let (served, out) = serve(request.as_bytes());
        assert_eq!(out, bad_request(), "Content-Length: {value:?}");
        assert_eq!(served.next, Next::Close);
    }
    // Twice, even with the same value (RFC 9110 8.6 allows refusing it).
    let (_, out) = serve(
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(out, bad_request());
    // Surrounding white space is not part of the value; leading zeros are digits.
    let (_, out) = serve(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: \t005 \r\n\r\nhello");
    assert!(
        out.starts_with("HTTP/1.1 200 OK") && out.ends_with("hello"),
        "{out}"
    );
}

#[test]
fn transfer_encoding_is_501_or_400_and_close() {
    let with = |headers: &str, version: &str| {
        serve(format!("POST /echo HTTP/{version}\r\nHost: a\r\n{headers}\r\n").as_bytes())
    };
    let not_implemented = refused("501 Not Implemented", "Not Implemented");
    for (headers, version, expected) in [
        ("Transfer-Encoding: chunked\r\n", "1.1", &not_implemented),
        (
            "Transfer-Encoding: gzip, Chunked\r\n",
            "1.1",
            &not_implemented,
        ),
        (
            "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
            "1.1",
            &not_implemented,
        ),
        // Smuggling: both lengths.
        (
            "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
            "1.1",
            &bad_request(),
        ),
        (
            "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
            "1.1",
            &bad_request(),
        ),
        // Chunked not last: the length cannot be known.
        (
            "Transfer-Encoding: chunked, gzip\r\n",
            "1.1",
            &bad_request(),
        ),
        ("Transfer-Encoding: gzip\r\n", "1.1", &bad_request()),
        // Faulty framing in HTTP/1.0.
        ("Transfer-Encoding: chunked\r\n", "1.0", &bad_request()),
    ] {
        let (served, out) = with(headers, version);
        assert_eq!(&out, expected, "{headers:?} in HTTP/{version}");
        assert_eq!(served.next, Next::Close);
    }
}

#[test]
fn a_body_over_the_limit_is_413_at_once() {
    let limits = Limits {
        head: 512,
        body: 10,
    };
    // Only the head has arrived: refused before the body is sent.
    let (served, out) = serve_with(
        limits,
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n",
    );
    assert_eq!(out, refused("413 Content Too Large", "Content Too Large"));
    assert_eq!(served.next, Next::Close);
    let (served, _) = serve_with(
        limits,
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789",
    );
    assert_eq!(served.next, Next::NeedInput);
    // More digits than a usize holds.
    let (_, out) =
        serve(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n");
    assert_eq!(out, refused("413 Content Too Large", "Content Too Large"));
}

#[test]
fn a_head_over_its_limit_is_431_and_a_long_request_line_414() {
    let limits = Limits { head: 64, body: 0 };
    let too_large = refused(
        "431 Request Header Fields Too Large",
        "Request Header Fields Too Large",
    );
    let long_header = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n", "y".repeat(64));
    // Complete but over the limit, and incomplete at the limit: the same answer.
    for input in [long_header.as_bytes(), &long_header.as_bytes()[..64]] {
        let (served, out) = serve_with(limits, input);
        assert_eq!(out, too_large);
        assert_eq!(served.next, Next::Close);
    }
    let (_, out) = serve_with(limits, &long_header.as_bytes()[..63]);
    assert_eq!(out, "", "still under the limit: wait");
    let long_line = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "y".repeat(64));
    let (served, out) = serve_with(limits, long_line.as_bytes());
    assert_eq!(out, refused("414 URI Too Long", "URI Too Long"));
    assert_eq!(served.next, Next::Close);
    // More header lines than MAX_HEADERS.
    let many = format!(
        "GET / HTTP/1.1\r\nHost: a\r\n{}\r\n",
        "X: y\r\n".repeat(super::MAX_HEADERS)
    );
    let (served, out) = serve(many.as_bytes());
    assert_eq!(out, too_large);
    assert_eq!(served.next, Next::Close);
    // A request line over the limit with a malformed header after it: 414 whether it
    // came in one read or in pieces (whole, the bad header once won: a 400).
    let input = format!("{}GET / HTTP/1.1\r\nX: \x7f\r\n\r\n", "a".repeat(70));
    let (served, out) = serve_with(limits, input.as_bytes());
    assert_eq!(out, refused("414 URI Too Long", "URI Too Long"));
    assert_eq!(served.next, Next::Close);
}

#[test]
fn expect_100_continue_is_answered_once_before_the_body() {
    let head =
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n";
    let (served, out) = serve(head);
    assert_eq!(out, "HTTP/1.1 100 Continue\r\n\r\n");
    assert_eq!(served, Served::new(0, Next::NeedInput));
    // With part of the body, no second 100.
    let mut partial = head.to_vec();
    partial.push(b'h');
    let (_, out) = serve(&partial);
    assert_eq!(out, "");
    // Byte by byte: one 100, then the response.
    let mut input = head.to_vec();
    input.extend_from_slice(b"hi");
    let transcript = drive_all(&input, 1);
    let text = String::from_utf8(transcript.output).unwrap();
    assert_eq!(
        text,
        format!(
            "HTTP/1.1 100 Continue\r\n\r\n{}",
            response("200 OK", 2, "application/octet-stream", "", "hi")
        )
    );
    // HTTP/1.0 must ignore it (RFC 9110 10.1.1); over the limit is 413 at once.
    let (_, out) =
        serve(b"POST /echo HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(out, "");
    let (_, out) = serve_with(
        Limits { head: 512, body: 1 },
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
    );
    assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
}

#[test]
fn need_input_keeps_less_than_a_request_for_every_prefix() {
    let limits = Limits { head: 96, body: 16 };
    let http = http(limits);
    let requests = [
        format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n", "y".repeat(90)),
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 16\r\n\r\n0123456789abcdef".into(),
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n".into(),
        format!("GET /{} HTTP/1.1\r\n", "z".repeat(200)),
    ];
    for request in &requests {
        let bytes = request.as_bytes();
        for end in 0..=bytes.len() {
            let mut out: LinearBuf<1024> = LinearBuf::new();
            let served = http.serve(&bytes[..end], &mut out);
            if served.next == Next::NeedInput {
                assert!(
                    end - served.consumed < limits.request(),
                    "{request:?} at {end}"
                );
            }
        }
    }
}

#[test]
fn the_date_follows_set_time() {
    let mut http = http(Limits::DEFAULT);
    let mut out: LinearBuf<512> = LinearBuf::new();
    http.set_time(NOW + 1);
    http.serve(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &mut out);
    let text = String::from_utf8(out.filled().to_vec()).unwrap();
    assert!(
        text.contains("Date: Sun, 06 Nov 1994 08:49:38 GMT\r\n"),
        "{text}"
    );
}

#[test]
fn new_responses_go_after_those_not_yet_sent() {
    let http = http(Limits::DEFAULT);
    let mut out: LinearBuf<512> = LinearBuf::new();
    out.try_write_all(b"earlier").unwrap();
    http.serve(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &mut out);
    assert_eq!(out.filled(), [b"earlier", hello().as_bytes()].concat());
}
