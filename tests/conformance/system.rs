//! [`SystemPort`]: a port's signal source and child watcher, named from its selector,
//! so the `signals` and `children` cases are written once for every port.
//!
//! Each port's `Signals` and `Children` have the same inherent methods; this trait
//! forwards to them ([`system_port!`]), and says where the ports differ by design.

use statio::process::{ChildError, ChildExit, Pid};
use statio::signal::{SignalError, SignalMask, SignalSet};
use statio::{OsError, RawFd, Selector, Source};

/// How the port's `Signals` treats masks and dispositions (the table in
/// `statio_unix::signal`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// signalfd: the signals blocked, the disposition unchanged.
    Blocked,
    /// kqueue's `EVFILT_SIGNAL`: the signals ignored while watched.
    #[cfg_attr(
        any(target_os = "linux", target_os = "android"),
        allow(dead_code, reason = "kqueue's, on the BSDs and macOS")
    )]
    Ignored,
    /// The self-pipe: the handler installed while watched.
    Caught,
}

/// A port's system sources.
pub trait SystemPort: Selector<Handle = RawFd> + 'static {
    /// The port's `Signals`.
    type Signals: Source<RawFd> + core::fmt::Debug;
    /// The port's `Children<N>`.
    type Children<const N: usize>: Source<RawFd> + core::fmt::Debug;
    /// How its `Signals` works.
    const MECHANISM: Mechanism;

    fn block(set: SignalSet) -> Result<SignalMask, SignalError>;
    fn signals(set: SignalSet) -> Result<Self::Signals, SignalError>;
    fn receive(signals: &mut Self::Signals) -> Result<SignalSet, OsError>;
    fn children<const N: usize>() -> Result<Self::Children<N>, ChildError>;
    fn watch<const N: usize>(children: &mut Self::Children<N>, pid: Pid) -> Result<(), ChildError>;
    fn try_reap<const N: usize>(
        children: &mut Self::Children<N>,
    ) -> Result<Option<ChildExit>, ChildError>;
    fn watched<const N: usize>(children: &Self::Children<N>) -> usize;
}

/// Implements [`SystemPort`] for the selector of `statio::ports::$port`, with that
/// module's `Signals` and `Children`.
macro_rules! system_port {
    (; $port:ident :: $selector:ident, $mechanism:ident) => {
        impl SystemPort for statio::ports::$port::$selector {
            type Signals = statio::ports::$port::Signals;
            type Children<const N: usize> = statio::ports::$port::Children<N>;
            const MECHANISM: Mechanism = Mechanism::$mechanism;

            fn block(set: SignalSet) -> Result<SignalMask, SignalError> {
                Self::Signals::block(set)
            }
            fn signals(set: SignalSet) -> Result<Self::Signals, SignalError> {
                Self::Signals::new(set)
            }
            fn receive(signals: &mut Self::Signals) -> Result<SignalSet, OsError> {
                signals.receive()
            }
            fn children<const N: usize>() -> Result<Self::Children<N>, ChildError> {
                Self::Children::<N>::new()
            }
            fn watch<const N: usize>(
                children: &mut Self::Children<N>,
                pid: Pid,
            ) -> Result<(), ChildError> {
                children.watch(pid)
            }
            fn try_reap<const N: usize>(
                children: &mut Self::Children<N>,
            ) -> Result<Option<ChildExit>, ChildError> {
                children.try_reap()
            }
            fn watched<const N: usize>(children: &Self::Children<N>) -> usize {
                children.len()
            }
        }
    };
}

/// Calls `$m!($($arg),* ; port::Selector, Mechanism)` for every port built on this OS,
/// each under its cfg: the one list of the system sources' platforms in the tests.
macro_rules! for_each_system_port {
    ($m:ident $(, $arg:tt)*) => {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        $m!($($arg),* ; epoll::Epoll, Blocked);
        #[cfg(unix)]
        $m!($($arg),* ; poll::Poll, Caught);
        #[cfg(any(
            target_os = "freebsd",
            target_os = "macos",
            target_os = "netbsd",
            target_os = "openbsd",
            target_os = "dragonfly"
        ))]
        $m!($($arg),* ; kqueue::Kqueue, Ignored);
    };
}

for_each_system_port!(system_port);
