//! What the server peers in `benches/examples` share: their one argument, the address
//! to listen on, and the wall clock for HTTP's `Date`.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// The address in the first argument, or `default`.
///
/// # Panics
/// When the argument is not an address: a peer is started by hand or by a script.
pub fn listen_addr(default: &str) -> SocketAddr {
    let arg = std::env::args().nth(1);
    let text = arg.as_deref().unwrap_or(default);
    text.parse()
        .unwrap_or_else(|_| panic!("{text:?} is not an address such as {default}"))
}

/// Seconds since the Unix epoch (0 for a clock before it).
pub fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
