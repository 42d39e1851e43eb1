//! The command line of `examples/http`: `[ADDR] [--loops N]`, parsed without a panic
//! whatever it holds.

use std::fmt;
use std::net::SocketAddr;

/// The address served when none is given.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
pub struct Args {
    /// Where to listen (port 0: the kernel picks one, and the first line says which).
    pub addr: SocketAddr,
    /// How many loops (threads), each with its own listener on `addr` (`SO_REUSEPORT`).
    pub loops: usize,
}

/// What the command line did.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Serve.
    Run(Args),
    /// `-h` or `--help`: print [`USAGE`] and exit 0.
    Help,
}

/// The usage line, printed for `--help` and after a bad argument.
pub const USAGE: &str = "usage: http [ADDR] [--loops N]   (default 127.0.0.1:8080, 1 loop)";

/// A bad command line: the message to print before exiting with status 2.
#[derive(Debug, PartialEq, Eq)]
pub struct BadArgs(String);

impl fmt::Display for BadArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses the arguments after the program's name; `max_loops` is the most loops the
/// program has room for.
pub fn parse(args: impl IntoIterator<Item = String>, max_loops: usize) -> Result<Parsed, BadArgs> {
    let mut addr = None;
    let mut loops = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--loops" => Some(args.next().ok_or_else(|| bad("--loops needs a number"))?),
            _ => arg.strip_prefix("--loops=").map(str::to_owned),
        };
        if let Some(value) = value {
            if loops.is_some() {
                return Err(bad("--loops given twice"));
            }
            loops = Some(parse_loops(&value, max_loops)?);
        } else if arg.starts_with('-') {
            return Err(bad(format!("unknown option {arg:?}")));
        } else if addr.is_some() {
            return Err(bad(format!(
                "unexpected argument {arg:?}: one address only"
            )));
        } else {
            addr = Some(arg.parse::<SocketAddr>().map_err(|err| {
                bad(format!(
                    "bad address {arg:?}: {err} (expected e.g. {DEFAULT_ADDR})"
                ))
            })?);
        }
    }
    let addr = match addr {
        Some(addr) => addr,
        // Cannot fail: a constant that parses.
        None => DEFAULT_ADDR
            .parse()
            .map_err(|_| bad("bad default address"))?,
    };
    Ok(Parsed::Run(Args {
        addr,
        loops: loops.unwrap_or(1),
    }))
}

fn parse_loops(value: &str, max_loops: usize) -> Result<usize, BadArgs> {
    match value.parse::<usize>() {
        Ok(n) if (1..=max_loops).contains(&n) => Ok(n),
        _ => Err(bad(format!(
            "--loops {value:?}: expected a whole number from 1 to {max_loops}"
        ))),
    }
}

fn bad(message: impl Into<String>) -> BadArgs {
    BadArgs(message.into())
}
