//! [`Channel`]: a bounded, lock-free, multi-producer single-consumer ring of messages into
//! the loop, with a [`Wake`] protocol that costs a syscall only when the loop may be asleep.
//!
//! ```
//! use statio_core::channel::{Channel, SendError};
//!
//! static CHANNEL: Channel<u32, 4> = Channel::new();
//!
//! let rx = CHANNEL.receiver().unwrap(); // the loop's: there is only one
//! assert!(CHANNEL.receiver().is_none());
//!
//! let tx = CHANNEL.sender(); // Copy + Send + Sync: hand one to every thread
//! for i in 0..4 {
//!     tx.send(i).unwrap();
//! }
//! assert_eq!(tx.send(9), Err(SendError::Full(9))); // full: the message comes back
//!
//! assert_eq!(rx.try_recv(), Some(0));
//! tx.send(4).unwrap();
//! assert_eq!((1..=4).map(|_| rx.try_recv().unwrap()).collect::<Vec<_>>(), [1, 2, 3, 4]);
//! assert_eq!(rx.try_recv(), None);
//!
//! drop(rx); // the loop is gone: senders are told, and keep their message
//! assert_eq!(tx.send(5), Err(SendError::Disconnected(5)));
//!
//! let rx = CHANNEL.receiver().unwrap(); // detached: the next loop takes it
//! tx.send(6).unwrap();
//! assert_eq!(rx.try_recv(), Some(6));
//! ```
//!
//! **Failure modes.** [`Sender::send`] never blocks and never drops: a full ring returns
//! the message ([`SendError::Full`]), so does a channel without a [`Receiver`] since the
//! last one was dropped ([`SendError::Disconnected`]). Messages still queued when the
//! receiver or the channel is dropped are dropped exactly once.
//!
//! **Detaching.** Dropping the receiver detaches the channel: the ring is closed (a send
//! is decided by its claim of a position, so each send racing the drop either came first,
//! and its message is dropped with the others still queued, or comes after and gets its
//! message back), the queued messages are dropped, the waker is dropped, and the next
//! [`receiver`](ChannelView::receiver) call opens the channel for a new loop. The drop
//! waits for the senders still inside their send: one between its claim and its write
//! (a few instructions), and any calling the waker, so the waker (and the descriptor it
//! owns) is never used after it was dropped. So do not drop the receiver where it
//! preempts a sender that cannot resume meanwhile (in a signal or interrupt handler
//! that interrupted a send): that drop would wait for ever.
//!
//! **Ownership.** The channel owns its storage and never moves while borrowed: put it in a
//! `static`, a `StaticCell`, or a scope that outlives the loop and the senders. Senders
//! and the receiver borrow it; none of them names the capacity (they hold a
//! [`ChannelView`]), so the loop can keep a `Receiver<'a, M, W>` without repeating `N`.
//!
//! **Algorithm.** Dmitry Vyukov's bounded MPMC array queue, reduced to one consumer: each
//! slot carries a stamp saying whether it is free for the producer of the current lap or
//! holds that lap's message; producers claim a position with one compare-and-swap on
//! `tail`, the consumer needs no read-modify-write for correctness (it makes one anyway,
//! to pace itself: see `pop`). `N` is a power of two, at least 2, so positions can wrap
//! around `usize` (the ring is "lock-free" in the usual loose sense: a producer
//! preempted between its claim and its write holds up the messages behind it, never the
//! other producers). Closing the ring sets the lowest bit of `tail` (positions count in
//! twos above it), as crossbeam-channel's array flavour marks a disconnection in its
//! tail: the claim's CAS fails on it, so closing costs a send nothing extra.
//! (Hand-written because heapless' `mpmc` queue is deprecated as not lock-free.)
//!
//! Why a producer reads its slot's stamp before claiming it, and the consumer writes the
//! stamp back, although both cost a cache-line transfer when the consumer runs right
//! behind the producer (issue 17): on a 2-vCPU Xeon KVM guest, two variants that drop the
//! producer's read (the consumer frees slots by moving `head`, producers keep a copy of
//! `head` beside `tail`; or that copy as a fast path in front of the stamp) ran 1.3 to 2x
//! faster against a spinning consumer, but through a running loop they doubled the wake
//! syscalls per message and lost 40 % of the throughput; putting back the read alone
//! undid both effects. The loop is what the channel is for, so the read stays
//! (docs/BENCHMARKS.md, "The notification channel", has the runs). What did make it
//! faster than `ArrayQueue` there, on both benchmarks, is the consumer moving `head`
//! with a swap instead of a store: see `pop`.
//!
//! **Waking the loop.** Before it sleeps in `select`, the loop calls
//! [`Receiver::prepare_sleep`], which raises a sleep flag and says whether the ring is
//! empty; after `select` it calls [`Receiver::finish_sleep`]. A send that finds the flag
//! raised lowers it and calls the attached [`Wake`] (an eventfd write on epoll); senders
//! that find it lowered, i.e. all but the first of a burst and every send while the loop
//! is awake, cost no syscall. No wake-up is lost: see [`Receiver::prepare_sleep`].

#[cfg(all(test, not(loom)))]
mod detach_tests;
#[cfg(all(test, loom))]
mod loom_tests;
mod receiver;
#[cfg(all(test, not(loom)))]
mod tests;

use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ops::Deref;

use crate::error::OsError;
use crate::sync::{AtomicUsize, Ordering, UnsafeCell};

pub use receiver::Receiver;

/// Wakes an event loop that may be asleep in `select`: what a port implements (an
/// `eventfd` write on epoll, `EVFILT_USER` on kqueue, a self-pipe write with poll(2)).
///
/// Called by [`Sender::send`] on the sender's thread, at most once per sleep of the loop.
pub trait Wake {
    /// Makes the loop's current or next `select` return.
    ///
    /// # Errors
    /// What the OS refused. An implementation treats "a wake-up is already pending"
    /// (e.g. `EAGAIN` from a saturated eventfd) as success.
    fn wake(&self) -> Result<(), OsError>;
}

impl<W: Wake + ?Sized> Wake for &W {
    fn wake(&self) -> Result<(), OsError> {
        (**self).wake()
    }
}

/// A [`Wake`] that does nothing: for channels read by a loop that never sleeps
/// unboundedly (it polls with a timeout), and for tests.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct NoWake;

impl Wake for NoWake {
    fn wake(&self) -> Result<(), OsError> {
        Ok(())
    }
}

/// Why [`Sender::send`] failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SendError<M> {
    /// The ring holds `N` messages: here is yours back.
    Full(M),
    /// The [`Receiver`] was dropped and no new one was taken since: nobody will read it,
    /// here it is back.
    ///
    /// Exact: a send racing the receiver's drop either is refused so, or was queued
    /// before the drop closed the ring (and is dropped by it, as every queued message).
    Disconnected(M),
    /// The message was queued, but waking the loop failed; the loop will see it at its
    /// next turn, and the next send tries the wake-up again.
    Wake(OsError),
}

impl<M> SendError<M> {
    /// The message that was not queued, if any.
    pub fn into_inner(self) -> Option<M> {
        match self {
            SendError::Full(msg) | SendError::Disconnected(msg) => Some(msg),
            SendError::Wake(_) => None,
        }
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Full(_) => f.write_str("channel is full"),
            SendError::Disconnected(_) => f.write_str("channel's receiver is gone"),
            SendError::Wake(err) => write!(f, "message queued, but waking the loop failed: {err}"),
        }
    }
}

impl<M: fmt::Debug> core::error::Error for SendError<M> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            SendError::Wake(err) => Some(err),
            _ => None,
        }
    }
}

/// `state`: the loop may be asleep in `select` (set by `prepare_sleep`, cleared by
/// `finish_sleep` or by the first sender that sees it).
const SLEEPING: usize = 1;
/// `state`: a receiver is out (cleared when its drop has detached the channel).
const TAKEN: usize = 1 << 1;
/// `state`: the receiver is detaching the channel: no call of the waker starts.
const DETACHING: usize = 1 << 2;
/// `state`: the waker cell is initialised (by the receiver's `attach`; cleared when the
/// detaching receiver dropped the waker).
const ATTACHED: usize = 1 << 3;
/// `state`: one sender calling the waker; the bits from here up count them, so that a
/// detaching receiver drops the waker only once none is.
const WAKING: usize = 1 << 4;

/// `tail`: the ring is closed (no receiver since the last one dropped): claims fail and
/// sends return `Disconnected`. Closing is one read-modify-write of `tail`, ordered
/// against every claim, so no send can slip past it.
const TAIL_CLOSED: usize = 1;
/// What a claim adds to `tail` (and a receive to `head`): positions count in twos
/// above [`TAIL_CLOSED`].
const STEP: usize = 2;

/// Keeps a value on its own cache line(s), so producers hammering `tail` do not slow the
/// consumer's `head` (two lines on x86_64/aarch64, whose prefetchers pull pairs).
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), repr(align(128)))]
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    repr(align(64))
)]
struct CachePadded<T>(T);

/// One cell of the ring: opaque, named only by the [`Channel`] alias.
pub struct Slot<M> {
    /// `lap` (the position rounded down to a multiple of the lap, `STEP * N`) when free
    /// for the producer of that lap's position, `lap + 1` when it holds that producer's
    /// message. Vyukov's sequence number minus the slot's offset, so every stamp starts
    /// at 0 and `new` can be `const`.
    stamp: AtomicUsize,
    message: UnsafeCell<MaybeUninit<M>>,
}

impl<M> Slot<M> {
    #[cfg(not(loom))]
    const fn new() -> Self {
        Slot {
            stamp: AtomicUsize::new(0),
            message: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    #[cfg(loom)]
    fn new() -> Self {
        Slot {
            stamp: AtomicUsize::new(0),
            message: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }
}

/// The channel's one generic body: `S` is `[Slot<M>; N]` for the owned [`Channel`] and
/// `[Slot<M>]` for the capacity-erased [`ChannelView`] that senders and the receiver hold.
pub struct ChannelInner<M, W, S: ?Sized + AsRef<[Slot<M>]>> {
    /// The next position a producer claims, plus [`TAIL_CLOSED`]; producers write it
    /// (and the receiver: `prepare_sleep` with a read-modify-write of +0, closing and
    /// opening the ring).
    tail: CachePadded<AtomicUsize>,
    /// The next position the consumer reads; only the receiver writes it (an atomic so
    /// that no `unsafe` is needed, and so that `pop` can move it with a swap, which paces
    /// the consumer; all accesses are `Relaxed`, and a new receiver sees the last one's
    /// through `state`).
    head: CachePadded<AtomicUsize>,
    /// `SLEEPING | TAKEN | DETACHING | ATTACHED`, and the count of `WAKING` senders: read
    /// by every send, written rarely.
    state: CachePadded<AtomicUsize>,
    /// The loop's waker, written by the receiver's `attach` and dropped by its detach
    /// (`ATTACHED` says when it is initialised).
    waker: UnsafeCell<MaybeUninit<W>>,
    /// Sends refused with `Full`, ever (wrapping): written only on that path, so no
    /// padding of its own; read by the loop's marks.
    full: AtomicUsize,
    message: PhantomData<M>,
    slots: S,
}

/// A bounded MPSC channel of up to `N` messages of `M`, waking its loop through `W`.
///
/// `N` is a power of two, at least 2 (checked at compile time). `W` is the port's waker,
/// owned by the channel from [`attach`](Receiver::attach) until that receiver drops: a
/// concrete type, so a send calls it without `dyn`; `NoWake` for a loop that never
/// sleeps.
pub type Channel<M, const N: usize, W = NoWake> = ChannelInner<M, W, [Slot<M>; N]>;

/// A [`Channel`] of any capacity, behind a reference: what [`Sender`] and [`Receiver`]
/// hold, so neither names `N`.
pub type ChannelView<M, W = NoWake> = ChannelInner<M, W, [Slot<M>]>;

// SAFETY: a message is written by one sender and read by the receiver, each access ordered
// by its slot's stamp (Release store, Acquire load), so `M` crosses threads but is never
// shared: `M: Send` suffices. The waker is shared by reference among all senders (`W:
// Sync`), written before `ATTACHED` is published, and dropped by the detaching receiver
// or by whoever drops the channel, on any thread (`W: Send`). Every other field is atomic.
unsafe impl<M: Send, W: Send + Sync, S: ?Sized + AsRef<[Slot<M>]>> Sync for ChannelInner<M, W, S> {}

impl<M, W, const N: usize> Channel<M, N, W> {
    const VALID_CAPACITY: () = assert!(
        N >= 2 && N.is_power_of_two(),
        "a channel's capacity must be a power of two, at least 2"
    );

    /// Bytes a `Channel<M, N, W>` occupies: exactly `size_of::<Self>()`. `N` slots of
    /// an `M` and a `usize` stamp each, the waker `W`, a `usize` count of refused
    /// sends, and three counters each on cache lines of their own (128 bytes apiece on
    /// x86_64 and aarch64).
    pub const MEMORY: usize = size_of::<Self>();

    /// An empty channel with no waker attached; `const`, so it can be a `static`.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        let () = Self::VALID_CAPACITY;
        ChannelInner {
            tail: CachePadded(AtomicUsize::new(0)),
            head: CachePadded(AtomicUsize::new(0)),
            state: CachePadded(AtomicUsize::new(0)),
            waker: UnsafeCell::new(MaybeUninit::uninit()),
            full: AtomicUsize::new(0),
            message: PhantomData,
            slots: [const { Slot::new() }; N],
        }
    }

    /// An empty channel (loom's atomics are not `const`).
    #[cfg(loom)]
    pub fn new() -> Self {
        let () = Self::VALID_CAPACITY;
        ChannelInner {
            tail: CachePadded(AtomicUsize::new(0)),
            head: CachePadded(AtomicUsize::new(0)),
            state: CachePadded(AtomicUsize::new(0)),
            waker: UnsafeCell::new(MaybeUninit::uninit()),
            full: AtomicUsize::new(0),
            message: PhantomData,
            slots: core::array::from_fn(|_| Slot::new()),
        }
    }

    /// This channel without its capacity in the type.
    pub fn as_view(&self) -> &ChannelView<M, W> {
        self
    }
}

impl<M, W, const N: usize> Default for Channel<M, N, W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M, W, const N: usize> Deref for Channel<M, N, W> {
    type Target = ChannelView<M, W>;

    fn deref(&self) -> &ChannelView<M, W> {
        self
    }
}

impl<M, W> ChannelView<M, W> {
    /// A sending handle; make as many as you like (or copy this one).
    pub fn sender(&self) -> Sender<'_, M, W> {
        Sender { channel: self }
    }

    /// The receiving handle, unless one is out: `None` while a receiver lives (the
    /// channel has one consumer). Once that receiver was dropped, the channel is
    /// detached and this opens it again for a new one (its messages start from the
    /// next send: those queued before the drop were dropped with it).
    pub fn receiver(&self) -> Option<Receiver<'_, M, W>> {
        // Acquire: pairs with the Release in the last receiver's detach (`receiver.rs`),
        // so its `head`, its drained slots and its dropped waker are seen.
        let state = self.state.0.fetch_or(TAKEN, Ordering::Acquire);
        if state & TAKEN != 0 {
            return None; // (not `bool::then_some`: it would build and drop a receiver)
        }
        // Open the ring, if a detach closed it. Relaxed: claims from now on write slots
        // that the stamps order; `head` equals the position the detach closed at.
        self.tail.0.fetch_and(!TAIL_CLOSED, Ordering::Relaxed);
        Some(Receiver::new(self))
    }

    /// How many messages the ring holds when full: `N`.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// How many sends the ring refused with [`SendError::Full`] since it was made,
    /// wrapping at `usize::MAX`: a count to take differences of. Senders bump it only
    /// when the ring is full, never on a send that succeeds.
    pub fn full_count(&self) -> usize {
        // Relaxed: a statistic; it orders nothing.
        self.full.load(Ordering::Relaxed)
    }

    /// How many messages are queued now (claimed by a sender, even if not yet fully
    /// written), at most `N`. Exact when no send is under way; otherwise a snapshot.
    pub fn len(&self) -> usize {
        // Relaxed (both): a snapshot. `head` moves only on the receiver's thread; a
        // sender may claim the position `head + N` between the receiver's stamp store
        // and its `head` store, hence the `min`.
        let tail = self.tail.0.load(Ordering::Relaxed) & !TAIL_CLOSED;
        let head = self.head.0.load(Ordering::Relaxed);
        (tail.wrapping_sub(head) / STEP).min(self.capacity())
    }

    /// Whether no message is queued now (as [`len`](Self::len), a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a receiver attached a waker that is not dropped yet.
    pub fn has_waker(&self) -> bool {
        // Relaxed: reports only the flag; a waker is reached through its receiver.
        self.state.0.load(Ordering::Relaxed) & ATTACHED != 0
    }

    /// Claims a position and writes `msg` there, or hands `msg` back when the ring is
    /// full or closed.
    fn push(&self, msg: M) -> Result<(), SendError<M>> {
        // Relaxed: a guess, checked against the slot's stamp and by the CAS below.
        let mut tail = self.tail.0.load(Ordering::Relaxed);
        loop {
            if tail & TAIL_CLOSED != 0 {
                // The CAS below would fail on this bit: the claim comes after the close.
                return Err(SendError::Disconnected(msg));
            }
            let slot = self.slot(tail);
            let lap = self.lap(tail);
            // Acquire: pairs with the Release stamp store in `pop`, so the consumer's read
            // of the previous lap's message is done before we overwrite it.
            let stamp = slot.stamp.load(Ordering::Acquire);
            let ahead = stamp.wrapping_sub(lap) as isize;
            if ahead == 0 {
                // Acquire on success: pairs with the Release read-modify-write on `tail` in
                // `prepare_sleep`; if that came first, we will see its SLEEPING flag.
                match self.tail.0.compare_exchange_weak(
                    tail,
                    tail.wrapping_add(STEP),
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS made this position ours alone, and the stamp says
                        // the consumer is done with the slot (see the Acquire above).
                        slot.message.with_mut(|cell| unsafe { (*cell).write(msg) });
                        // Release: pairs with the Acquire stamp load in `pop`, publishing
                        // the message written just above.
                        slot.stamp.store(lap.wrapping_add(1), Ordering::Release);
                        return Ok(());
                    }
                    Err(now) => tail = now,
                }
            } else if ahead < 0 {
                // The slot still holds the message of the previous lap: the ring is full.
                return Err(SendError::Full(msg));
            } else {
                // Another producer claimed this position already: catch up.
                tail = self.tail.0.load(Ordering::Relaxed);
            }
        }
    }
}

impl<M, W, S: ?Sized + AsRef<[Slot<M>]>> ChannelInner<M, W, S> {
    /// The slot of `position` (a multiple of `STEP`).
    fn slot(&self, position: usize) -> &Slot<M> {
        &self.slots.as_ref()[(position / STEP) & (self.slots.as_ref().len() - 1)]
    }

    /// `position` rounded down to the start of its lap.
    fn lap(&self, position: usize) -> usize {
        position & !(self.slots.as_ref().len() * STEP - 1)
    }

    /// Takes the message at `head`, if it is published. Only the receiver (or the drop of
    /// the channel, with `&mut`) calls this: there is one consumer.
    fn pop(&self) -> Option<M> {
        // Relaxed: only the consumer writes `head`.
        let head = self.head.0.load(Ordering::Relaxed);
        let slot = self.slot(head);
        let lap = self.lap(head);
        // Acquire: pairs with the Release stamp store in `push`, so the message is written.
        if slot.stamp.load(Ordering::Acquire) != lap.wrapping_add(1) {
            return None;
        }
        // SAFETY: the stamp says the slot holds this lap's message, published above, and
        // no producer writes it until we release it below.
        let msg = slot
            .message
            .with(|cell| unsafe { (*cell).assume_init_read() });
        // Release: pairs with the Acquire stamp load in `push`; the slot is free for the
        // next lap's producer only after our read.
        slot.stamp.store(
            lap.wrapping_add(self.slots.as_ref().len() * STEP),
            Ordering::Release,
        );
        // A read-modify-write where a store would do: it paces the consumer (issue 17).
        // With a plain store the consumer, needing no locked instruction, ran right behind
        // the producer and moved the slot's line between the cores twice a message (on a
        // 2-vCPU Xeon: 0.4 to 0.5x ArrayQueue, whose consumer CASes `head`); with the
        // swap it stays behind and reads lines the producer has finished: 1.1 to 1.3x, and
        // twice the throughput through a running loop. Measured, not derived: a SeqCst
        // fence here did not do it, a swap of a private word half did (docs/BENCHMARKS.md).
        // Relaxed: only the consumer writes `head`; the pacing is not an ordering.
        self.head.0.swap(head.wrapping_add(STEP), Ordering::Relaxed);
        Some(msg)
    }
}

impl<M, W: Wake> ChannelView<M, W> {
    /// Counts a send the full ring refused, and hands its message back.
    #[cold]
    fn refused(&self, msg: M) -> SendError<M> {
        // Relaxed: a statistic; it orders nothing.
        self.full.fetch_add(1, Ordering::Relaxed);
        SendError::Full(msg)
    }

    /// Lowers the sleep flag and, if this call is the one that lowered it, wakes the loop.
    ///
    /// The sender counts itself in `state` (one `WAKING`) in the same compare-and-swap
    /// that lowers the flag, and only while no detach is under way, so a detaching
    /// receiver can wait until no sender is using the waker before it drops it.
    #[cold]
    fn wake(&self) -> Result<(), OsError> {
        // Relaxed: a guess, checked by the CAS.
        let mut state = self.state.0.load(Ordering::Relaxed);
        loop {
            if state & (SLEEPING | ATTACHED | DETACHING) != SLEEPING | ATTACHED {
                // Another sender got here first, there is no waker, or it is going.
                return Ok(());
            }
            // Acquire on success: pairs with the Release in `attach` (the sleep flag was
            // raised by a read-modify-write later in the same release sequence), so the
            // waker is visible.
            match self.state.0.compare_exchange_weak(
                state,
                (state & !SLEEPING) + WAKING,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        // SAFETY: ATTACHED, seen through the Acquire above, says the cell is initialised;
        // the count we added keeps a detaching receiver from dropping it until we are done.
        let result = self
            .waker
            .with(|waker| unsafe { (*waker).assume_init_ref() }.wake());
        if result.is_err() {
            // Let the next sender try again; at worst the loop gets a spurious wake-up.
            // Relaxed: carries no data.
            self.state.0.fetch_or(SLEEPING, Ordering::Relaxed);
        }
        // Release: pairs with the Acquire load in the detach's wait, so our use of the
        // waker happens before its drop.
        self.state.0.fetch_sub(WAKING, Ordering::Release);
        result
    }
}

impl<M, W, S: ?Sized + AsRef<[Slot<M>]>> Drop for ChannelInner<M, W, S> {
    fn drop(&mut self) {
        // `&mut self`: no sender or receiver is left, so every claimed slot is published
        // and Relaxed reads see the last values. A receiver that was dropped left the
        // ring empty and no waker; one that was forgotten left both to us.
        while self.pop().is_some() {}
        if self.state.0.load(Ordering::Relaxed) & ATTACHED != 0 {
            // SAFETY: ATTACHED says the waker cell is initialised; it is dropped once, here.
            self.waker
                .with_mut(|waker| unsafe { (*waker).assume_init_drop() });
        }
    }
}

/// A handle that sends messages into a [`Channel`]: `Copy`, and `Send + Sync` when
/// `M: Send` (and the waker `W: Send + Sync`).
pub struct Sender<'a, M, W = NoWake> {
    channel: &'a ChannelView<M, W>,
}

impl<M, W> Clone for Sender<'_, M, W> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, W> Copy for Sender<'_, M, W> {}

impl<M, W> fmt::Debug for Sender<'_, M, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.channel.capacity())
            .finish_non_exhaustive()
    }
}

impl<'a, M, W: Wake> Sender<'a, M, W> {
    /// Queues `msg` for the loop, waking it if it may be asleep; never blocks.
    ///
    /// Messages from one sender thread arrive in the order sent; messages from different
    /// threads interleave. A send costs one compare-and-swap, plus one [`Wake::wake`]
    /// (and two read-modify-writes of the channel's state around it) when it is the
    /// first since the loop fell asleep.
    ///
    /// # Errors
    /// [`SendError::Full`] with the message when the ring holds `N` messages;
    /// [`SendError::Disconnected`] with the message when the receiver was dropped and
    /// no new one taken; [`SendError::Wake`] when the message was queued but the waker
    /// failed.
    ///
    /// # Panics
    /// Never (unless the waker panics).
    pub fn send(&self, msg: M) -> Result<(), SendError<M>> {
        let channel = self.channel;
        channel.push(msg).map_err(|err| match err {
            SendError::Full(msg) => channel.refused(msg),
            other => other,
        })?;
        // Relaxed: the Acquire CAS in `push` already orders this load after a
        // `prepare_sleep` whose `tail` update it read, so it cannot miss that flag.
        if channel.state.0.load(Ordering::Relaxed) & SLEEPING != 0 {
            channel.wake().map_err(SendError::Wake)?;
        }
        Ok(())
    }

    /// The channel this sender feeds.
    pub fn channel(&self) -> &'a ChannelView<M, W> {
        self.channel
    }
}
