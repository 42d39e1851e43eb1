//! statio's portable core: the event loop and its fixed-capacity parts, with no
//! allocation, no `libc` and no platform code.
//!
//! | part | what |
//! |---|---|
//! | [`EventLoop`], [`Handler`], [`Run`], [`Config`] | the loop, the user's callbacks, and what ties them |
//! | [`Selector`], [`Source`], [`Events`] | the trait every port implements, and its buffer |
//! | [`Token`], [`Interest`], [`PollOpt`], [`Ready`], [`Event`], [`Registration`] | registration and readiness |
//! | [`Slab`], [`Key`] | a fixed arena with generation-checked keys |
//! | [`SourceTable`], [`Rejected`] | registered sources and their state, owned together under the loop's tokens |
//! | [`Wheel`], [`TimerKey`], [`TimerError`] | a fixed hierarchical timing wheel, and the loop's timers |
//! | [`Clock`], [`Instant`], [`SimClock`] | monotonic time, and a clock tests drive |
//! | [`Channel`], [`Sender`], [`Receiver`], [`Wake`] | a lock-free MPSC ring into the loop, waking it only when it may sleep |
//! | [`buf`]: [`Buf`], [`MutBuf`], [`RingBuf`], [`LinearBuf`], [`SliceBuf`], [`MutSliceBuf`], [`BufPool`] | byte buffers sockets read into and write from directly, and a pool lending them to connections with bytes in flight |
//! | [`Error`], [`OsError`] | typed errors |
//! | [`Stats`], [`Mark`] | each capacity's use at its peak and its limit hits, at run time; `MEMORY` on every fixed type gives its bytes at compile time |
//! | [`sim`] | a caller-driven selector for deterministic tests |
//!
//! Every capacity is a const generic: the loop's memory is one value of known size.
//! Ports (`statio-epoll`, ...) supply selectors; the `statio` crate ties them together.
#![no_std]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub mod buf;
pub mod channel;
mod clock;
mod error;
mod event;
mod event_loop;
mod handler;
mod interest;
mod mark;
mod ready;
mod registry;
mod selector;
pub mod sim;
mod slab;
mod sync;
mod table;
#[cfg(test)]
mod test_support;
mod token;
mod wheel;
mod zeroed;

pub use buf::{
    Buf, BufPool, LentBuf, LinearBuf, MutBuf, MutSliceBuf, NoRoom, PoolEmpty, RingBuf, SliceBuf,
};
pub use channel::{Channel, ChannelView, NoWake, Receiver, SendError, Sender, Wake};
pub use clock::{Clock, Instant, SimClock};
/// The portable kind of an I/O error ([`OsError::kind`], and [`Error`]'s through
/// `embedded_io::Error`): embedded-io's, re-exported so that matching on it needs no
/// dependency of its own (nor the same embedded-io version).
pub use embedded_io::ErrorKind;
pub use error::{Error, OsError};
pub use event::{Event, Events};
pub use event_loop::{Config, EventLoop, LoopCell, Run, Stats};
pub use handler::Handler;
pub use interest::{Interest, PollOpt};
pub use mark::Mark;
pub use ready::Ready;
pub use registry::Registration;
pub use selector::{Selector, Source};
pub use slab::{Key, Slab};
pub use table::{Rejected, SourceTable};
pub use token::Token;
pub use wheel::{TimerError, TimerKey, Wheel};
