//! The self-pipe: a signal handler that marks each signal arrived and writes one byte
//! into the pipe of every [`SelfPipe`] that asked for it; [`PipeSignals`], the `Signals`
//! of the poll(2) port built on it.
//!
//! The handler is async-signal-safe: it touches only atomics and calls only `write(2)`
//! (signal-safety(7)), and keeps `errno` as it found it.
//!
//! No arrival is lost: the handler sets the signal's bit, then writes a byte if the
//! bit was clear; [`SelfPipe::take`] reads the pipe empty, then takes the bits. A
//! signal whose bit is set after the take writes a byte after it, so the pipe is
//! readable again; one whose bit is set before the take is in it. At worst a byte
//! written after the pipe was read names a signal the take already returned: one
//! wake-up that takes nothing. The pipe holds at most one byte per signal per take, so
//! it never fills.

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};

use libc::c_int;
use statio_core::{OsError, Source};

use super::action::{Actions, Disposition};
use super::claim::Claim;
use super::mask::SignalMask;
use super::{SignalError, SignalSet};
use crate::error::check_retry;
use crate::{Fd, RawFd};

/// How many self-pipes the process may hold at once: each `Signals` of the poll(2)
/// port takes one, and so does each child watcher that relies on `SIGCHLD`.
pub const SELF_PIPES: usize = 64;

/// One self-pipe as the handler sees it.
struct Slot {
    /// Held by a live `SelfPipe`.
    used: AtomicBool,
    /// The signals it asked for (0 while being set up or torn down).
    set: AtomicU64,
    /// The signals arrived since its last take.
    arrived: AtomicU64,
    /// The pipe's write end, or -1.
    writer: AtomicI32,
}

#[allow(
    clippy::declare_interior_mutable_const,
    reason = "the initialiser of each slot"
)]
const FREE: Slot = Slot {
    used: AtomicBool::new(false),
    set: AtomicU64::new(0),
    arrived: AtomicU64::new(0),
    writer: AtomicI32::new(-1),
};

static SLOTS: [Slot; SELF_PIPES] = [FREE; SELF_PIPES];

/// How many handler calls are running; a self-pipe closes its writer only at 0.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// The handler installed for [`Disposition::Catch`].
pub(crate) extern "C" fn on_signal(signal: c_int) {
    let errno = crate::error::errno();
    // SeqCst on IN_FLIGHT, `set` and `writer` (here and in `Hold::drop`): a handler
    // that counted itself after the teardown's check reads `writer` after the teardown
    // stored -1, so it never writes into a closed (or reused) descriptor.
    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    if (1..=SignalSet::MAX).contains(&signal) {
        let bit = 1u64 << (signal - 1);
        for slot in &SLOTS {
            if slot.set.load(Ordering::SeqCst) & bit != 0 {
                mark(slot, bit);
            }
        }
    }
    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    crate::error::set_errno(errno);
}

/// Marks `bit` arrived in `slot`; writes the wake-up byte if it was not marked yet.
fn mark(slot: &Slot, bit: u64) {
    // SeqCst: ordered with the reader's drain-then-swap (see the module docs).
    if slot.arrived.fetch_or(bit, Ordering::SeqCst) & bit == 0 {
        let fd = slot.writer.load(Ordering::SeqCst);
        if fd >= 0 {
            // A full pipe (EAGAIN) already holds a wake-up; nothing else can fail.
            // SAFETY: writes one byte from a live buffer; `fd` stays open while
            // IN_FLIGHT counts this call (see `Hold::drop`).
            let _ = unsafe { libc::write(fd, b"s".as_ptr().cast(), 1) };
        }
    }
}

/// A slot held by one `SelfPipe`; on drop it is emptied and freed once no handler can
/// still be writing into its pipe.
#[derive(Debug)]
struct Hold(usize);

impl Hold {
    fn find(set: SignalSet, writer: RawFd) -> Result<Hold, SignalError> {
        for (index, slot) in SLOTS.iter().enumerate() {
            // Acquire: pairs with the Release of `Hold::drop`, so the slot is empty.
            if slot
                .used
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                // SeqCst: the handler reads `set` and `writer` with SeqCst; `set` last,
                // so a handler that sees the set finds the writer.
                slot.arrived.store(0, Ordering::SeqCst);
                slot.writer.store(writer, Ordering::SeqCst);
                slot.set.store(set.bits(), Ordering::SeqCst);
                return Ok(Hold(index));
            }
        }
        Err(SignalError::Full {
            capacity: SELF_PIPES,
        })
    }

    fn slot(&self) -> &'static Slot {
        &SLOTS[self.0]
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let slot = self.slot();
        // SeqCst: see `on_signal`.
        slot.set.store(0, Ordering::SeqCst);
        slot.writer.store(-1, Ordering::SeqCst);
        while IN_FLIGHT.load(Ordering::SeqCst) != 0 {
            // SAFETY: sched_yield has no preconditions. A handler runs for one write.
            unsafe { libc::sched_yield() };
        }
        // Release: pairs with the Acquire of `Hold::find`.
        slot.used.store(false, Ordering::Release);
    }
}

/// A non-blocking, close-on-exec pipe that the self-pipe handler writes into when a
/// signal of its set arrives: readable when one arrived since the last
/// [`take`](Self::take). Several may share a signal: each sees every arrival.
///
/// The building block of [`PipeSignals`] and of the `SIGCHLD` child watchers; the
/// handler stays installed for a signal while any self-pipe holds it, and the previous
/// disposition comes back when the last one drops.
#[derive(Debug)]
pub struct SelfPipe {
    // Dropped in this order: the disposition restored, then the slot emptied (no
    // handler writes into the pipe any more), then the pipe closed.
    _actions: Actions,
    hold: Hold,
    reader: Fd,
    /// Never used here: the handler writes into it by number, while this keeps it open.
    _writer: Fd,
}

impl SelfPipe {
    /// Opens the pipe, takes a slot, and installs the handler for `set` (already
    /// checked with [`SignalSet::sigset`]) where it is not installed yet.
    ///
    /// # Errors
    /// [`SignalError::Full`] when [`SELF_PIPES`] are open; [`SignalError::Taken`] when a
    /// signal of `set` is held with another disposition (a kqueue `Signals` ignoring
    /// it); what `pipe(2)` or `sigaction(2)` refused.
    pub fn open(set: SignalSet) -> Result<SelfPipe, SignalError> {
        let (reader, writer) = crate::net::pipe()?;
        let (reader, writer) = (reader.into_fd(), writer.into_fd());
        // The slot before the handler: the first signal already finds the pipe.
        let hold = Hold::find(set, writer.raw())?;
        let actions = Actions::install(set, Disposition::Catch)?;
        Ok(SelfPipe {
            _actions: actions,
            hold,
            reader,
            _writer: writer,
        })
    }

    /// The pipe's read end, to register for readability.
    pub fn raw_fd(&self) -> RawFd {
        self.reader.raw()
    }

    /// The signals arrived since the last take (empty if none): reads the pipe empty,
    /// then takes the arrival bits (in that order: see the module docs).
    ///
    /// # Errors
    /// What `read(2)` refused other than `EAGAIN` and `EINTR` (nothing, in practice).
    pub fn take(&self) -> Result<SignalSet, OsError> {
        let mut buf = [0u8; 64];
        loop {
            let read = check_retry(|| {
                // SAFETY: `buf` is writable for its length during the call.
                unsafe { libc::read(self.reader.raw(), buf.as_mut_ptr().cast(), buf.len()) }
            });
            match read {
                // A pipe's short read means it is empty now.
                Ok(n) if (n as usize) < buf.len() => break,
                Ok(_) => {}
                Err(err) if err.code() == libc::EAGAIN => break,
                Err(err) => return Err(err),
            }
        }
        // SeqCst: see the module docs.
        let arrived = self.hold.slot().arrived.swap(0, Ordering::SeqCst);
        Ok(SignalSet::from_bits(arrived))
    }

    /// Marks `signal` (of this pipe's set) arrived and wakes the pipe, as the handler
    /// does, without a signal: for a watcher that learns of an event another way.
    pub fn notify(&self, signal: c_int) {
        if self.set().contains(signal) {
            mark(self.hold.slot(), SignalSet::new().with(signal).bits());
        }
    }

    /// The signals this pipe asked for.
    pub fn set(&self) -> SignalSet {
        SignalSet::from_bits(self.hold.slot().set.load(Ordering::Relaxed))
    }
}

/// The `Signals` of the poll(2) port: signals delivered through a self-pipe that an
/// async-signal-safe handler writes into. Re-exported as `statio_poll::Signals`.
///
/// Semantics (see [the module docs](crate::signal) for every port):
///
/// - [`new`](Self::new) installs the handler (`SA_RESTART`) for each signal, saving
///   the previous disposition, which [`Drop`] restores. No signal mask is changed:
///   the handler runs in whichever thread the kernel picks (one that does not block
///   the signal), and that thread's blocking call, if any, returns `EINTR` (the loop's
///   wait: [`Handler::interrupted`](statio_core::Handler::interrupted)) or restarts.
/// - [`block`](Self::block) changes nothing here: the handler must be able to run.
/// - The pipe's read end is the source: readable once a signal arrived since the last
///   [`receive`](Self::receive).
///
/// ```
/// use statio_unix::signal::{PipeSignals, SignalSet, SIGUSR2};
///
/// let mut signals = PipeSignals::new(SignalSet::new().with(SIGUSR2))?;
/// // SAFETY: raise has no preconditions; SIGUSR2 runs the handler just installed.
/// unsafe { libc::raise(SIGUSR2) };
/// assert!(signals.receive()?.contains(SIGUSR2));
/// assert!(signals.receive()?.is_empty());
/// # Ok::<(), statio_unix::signal::SignalError>(())
/// ```
#[derive(Debug)]
pub struct PipeSignals {
    // Dropped first: the previous dispositions come back before the claim is released.
    pipe: SelfPipe,
    claim: Claim,
}

impl PipeSignals {
    /// Changes nothing and returns a guard that restores nothing: the self-pipe
    /// handler must be able to run in some thread, so nothing is blocked here.
    ///
    /// # Errors
    /// [`SignalError::Unsupported`] for a signal this OS does not have or that cannot
    /// be caught, as `new` would say.
    pub fn block(set: SignalSet) -> Result<SignalMask, SignalError> {
        set.sigset()?;
        Ok(SignalMask::unchanged())
    }

    /// Starts receiving `set`: claims it for this process's one owner, opens the
    /// self-pipe, installs the handler.
    ///
    /// # Errors
    /// [`SignalError::Unsupported`] for a signal this OS does not have or that cannot
    /// be caught (`SIGKILL`, `SIGSTOP`); [`SignalError::Taken`] when another live
    /// `Signals` of the process has one of them; [`SignalError::Full`] when
    /// [`SELF_PIPES`] self-pipes are open; what `pipe(2)` or `sigaction(2)` refused.
    #[doc(alias = "sigaction", alias = "self-pipe")]
    pub fn new(set: SignalSet) -> Result<PipeSignals, SignalError> {
        set.sigset()?;
        let claim = Claim::take(set)?;
        let pipe = SelfPipe::open(set)?;
        Ok(PipeSignals { pipe, claim })
    }

    /// The signals this source receives.
    pub fn set(&self) -> SignalSet {
        self.claim.set()
    }

    /// The self-pipe's read end, still owned by `self`: to register with a selector.
    pub fn raw_fd(&self) -> RawFd {
        self.pipe.raw_fd()
    }

    /// The signals that arrived at least once since the last call (empty if none).
    ///
    /// # Errors
    /// What `read(2)` refused (nothing, in practice).
    pub fn receive(&mut self) -> Result<SignalSet, OsError> {
        self.pipe.take()
    }
}

impl Source<RawFd> for PipeSignals {
    fn handle(&self) -> RawFd {
        self.pipe.raw_fd()
    }
}
