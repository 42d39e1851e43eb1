//! The echo example's command line: `echo [ADDR [IDLE_SECS]]`. Every argument is
//! checked; a bad one is an error message, never a panic.

use std::net::SocketAddr;
use std::time::Duration;

/// What the command line asked for.
pub struct Args {
    /// Where to listen.
    pub addr: SocketAddr,
    /// How long a connection may send nothing.
    pub idle: Duration,
}

/// The longest idle timeout accepted: a day (anything longer is a typo). Whole
/// seconds: parsing (and printing) an `f64` links core's float code, ~40 KB of the
/// static binary and ten more resident pages (docs/FOOTPRINT.md).
const MAX_IDLE_SECS: u64 = 86_400;

/// Parses `args` (without the program name).
///
/// # Errors
/// A message naming the bad argument and what was expected.
pub fn parse(
    mut args: impl Iterator<Item = String>,
    default_idle: Duration,
) -> Result<Args, String> {
    let addr = match args.next() {
        None => SocketAddr::from(([127, 0, 0, 1], 7878)),
        Some(text) => text
            .parse()
            .map_err(|err| format!("bad address {text:?}: {err} (expected e.g. 127.0.0.1:7878)"))?,
    };
    let idle = match args.next() {
        None => default_idle,
        Some(text) => match text.parse::<u64>() {
            Ok(secs @ 1..=MAX_IDLE_SECS) => Duration::from_secs(secs),
            _ => {
                return Err(format!(
                    "bad idle timeout {text:?}: expected whole seconds, 1 to {MAX_IDLE_SECS}"
                ));
            }
        },
    };
    if let Some(extra) = args.next() {
        return Err(format!("unexpected argument {extra:?}"));
    }
    Ok(Args { addr, idle })
}
