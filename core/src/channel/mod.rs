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
//! ```
//!
//! **Failure modes.** [`Sender::send`] never blocks and never drops: a full ring returns
//! the message ([`SendError::Full`]), so does a channel whose [`Receiver`] was dropped
//! ([`SendError::Disconnected`]). Messages still queued when the receiver or the channel
//! is dropped are dropped exactly once.
//!
//! **Ownership.** The channel owns its storage and never moves while borrowed: put it in a
//! `static`, a `StaticCell`, or a scope that outlives the loop and the senders. Senders
//! and the receiver borrow it; none of them names the capacity (they hold a
//! [`ChannelView`]), so the loop can keep a `Receiver<'a, M, W>` without repeating `N`.
//!
//! **Algorithm.** Dmitry Vyukov's bounded MPMC array queue, reduced to one consumer: each
//! slot carries a stamp saying whether it is free for the producer of the current lap or
//! holds that lap's message; producers claim a position with one compare-and-swap on
//! `tail`, the consumer needs no read-modify-write at all. `N` is a power of two, at
//! least 2, so positions can wrap around `usize` (the ring is "lock-free" in the usual
//! loose sense: a producer preempted between its claim and its write holds up the
//! messages behind it, never the other producers).
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
//! (docs/BENCHMARKS.md, "The notification channel", has the runs).
//!
//! **Waking the loop.** Before it sleeps in `select`, the loop calls
//! [`Receiver::prepare_sleep`], which raises a sleep flag and says whether the ring is
//! empty; after `select` it calls [`Receiver::finish_sleep`]. A send that finds the flag
//! raised lowers it and calls the attached [`Wake`] (an eventfd write on epoll); senders
//! that find it lowered, i.e. all but the first of a burst and every send while the loop
//! is awake, cost no syscall. No wake-up is lost: see [`Receiver::prepare_sleep`].

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;

use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ops::Deref;

use crate::OsError;
use crate::sync::{AtomicUsize, Ordering, UnsafeCell};

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
    /// The [`Receiver`] was dropped: nobody will read it, here it is back.
    ///
    /// Best effort: a send racing with the receiver's drop may still succeed; such a
    /// message is dropped with the channel.
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
/// `state`: the receiver was handed out.
const TAKEN: usize = 1 << 1;
/// `state`: the receiver was dropped; sends fail with `Disconnected`.
const CLOSED: usize = 1 << 2;
/// `state`: the waker cell is initialised (set once, by the receiver).
const ATTACHED: usize = 1 << 3;

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
    /// `lap` (the position rounded down to a multiple of the capacity) when free for the
    /// producer of that lap's position, `lap + 1` when it holds that producer's message.
    /// Vyukov's sequence number minus the slot's index, so every stamp starts at 0 and
    /// `new` can be `const`.
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
    /// The next position a producer claims; only producers write it (and the receiver's
    /// `prepare_sleep`, with a read-modify-write of +0).
    tail: CachePadded<AtomicUsize>,
    /// The next position the consumer reads; only the receiver touches it (an atomic only
    /// so that no `unsafe` is needed; all accesses are `Relaxed`).
    head: CachePadded<AtomicUsize>,
    /// `SLEEPING | TAKEN | CLOSED | ATTACHED`: read by every send, written rarely.
    state: CachePadded<AtomicUsize>,
    /// The loop's waker, initialised once by the receiver (`ATTACHED` says when).
    waker: UnsafeCell<MaybeUninit<W>>,
    message: PhantomData<M>,
    slots: S,
}

/// A bounded MPSC channel of up to `N` messages of `M`, waking its loop through `W`.
///
/// `N` is a power of two, at least 2 (checked at compile time). `W` is the port's waker,
/// owned by the channel once [attached](Receiver::attach): a concrete type, so a send
/// calls it without `dyn`; `NoWake` for a loop that never sleeps.
pub type Channel<M, const N: usize, W = NoWake> = ChannelInner<M, W, [Slot<M>; N]>;

/// A [`Channel`] of any capacity, behind a reference: what [`Sender`] and [`Receiver`]
/// hold, so neither names `N`.
pub type ChannelView<M, W = NoWake> = ChannelInner<M, W, [Slot<M>]>;

// SAFETY: a message is written by one sender and read by the receiver, each access ordered
// by its slot's stamp (Release store, Acquire load), so `M` crosses threads but is never
// shared: `M: Send` suffices. The waker is shared by reference among all senders (`W:
// Sync`), written once before `ATTACHED` is published, and dropped by whoever drops the
// channel (`W: Send`). Every other field is atomic.
unsafe impl<M: Send, W: Send + Sync, S: ?Sized + AsRef<[Slot<M>]>> Sync for ChannelInner<M, W, S> {}

impl<M, W, const N: usize> Channel<M, N, W> {
    const VALID_CAPACITY: () = assert!(
        N >= 2 && N.is_power_of_two(),
        "a channel's capacity must be a power of two, at least 2"
    );

    /// An empty channel with no waker attached; `const`, so it can be a `static`.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        let () = Self::VALID_CAPACITY;
        ChannelInner {
            tail: CachePadded(AtomicUsize::new(0)),
            head: CachePadded(AtomicUsize::new(0)),
            state: CachePadded(AtomicUsize::new(0)),
            waker: UnsafeCell::new(MaybeUninit::uninit()),
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

    /// The receiving handle, the first time; `None` after (the channel has one consumer).
    pub fn receiver(&self) -> Option<Receiver<'_, M, W>> {
        // Relaxed: TAKEN guards only itself; `head` is reached through the one receiver.
        let state = self.state.0.fetch_or(TAKEN, Ordering::Relaxed);
        if state & TAKEN != 0 {
            return None; // (not `bool::then_some`: it would build and drop a receiver)
        }
        Some(Receiver {
            channel: self,
            not_sync: PhantomData,
        })
    }

    /// How many messages the ring holds when full: `N`.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The attached waker, if the receiver attached one (the port reaches its OS handle
    /// through this, e.g. to register and drain an eventfd).
    pub fn waker(&self) -> Option<&W> {
        // Acquire: pairs with the Release in `Receiver::attach`, so the waker's bytes
        // are visible before we hand out a reference to them.
        if self.state.0.load(Ordering::Acquire) & ATTACHED == 0 {
            return None;
        }
        // SAFETY: ATTACHED is set only after the cell was initialised, and the cell is
        // never written again while the channel lives.
        Some(
            self.waker
                .with(|waker| unsafe { (*waker).assume_init_ref() }),
        )
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Claims a position and writes `msg` there, or hands `msg` back when the ring is full.
    fn push(&self, msg: M) -> Result<(), M> {
        let mask = self.mask();
        // Relaxed: a guess, checked against the slot's stamp and by the CAS below.
        let mut tail = self.tail.0.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[tail & mask];
            let lap = tail & !mask;
            // Acquire: pairs with the Release stamp store in `pop`, so the consumer's read
            // of the previous lap's message is done before we overwrite it.
            let stamp = slot.stamp.load(Ordering::Acquire);
            let ahead = stamp.wrapping_sub(lap) as isize;
            if ahead == 0 {
                // Acquire on success: pairs with the Release read-modify-write on `tail` in
                // `prepare_sleep`; if that came first, we will see its SLEEPING flag.
                match self.tail.0.compare_exchange_weak(
                    tail,
                    tail.wrapping_add(1),
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
                return Err(msg);
            } else {
                // Another producer claimed this position already: catch up.
                tail = self.tail.0.load(Ordering::Relaxed);
            }
        }
    }

    /// Takes the message at `head`, if it is published. Only the receiver (or the drop of
    /// the channel, with `&mut`) calls this: there is one consumer.
    fn pop(&self) -> Option<M> {
        let mask = self.mask();
        // Relaxed: only the consumer writes `head`.
        let head = self.head.0.load(Ordering::Relaxed);
        let slot = &self.slots[head & mask];
        let lap = head & !mask;
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
        slot.stamp
            .store(lap.wrapping_add(self.slots.len()), Ordering::Release);
        self.head.0.store(head.wrapping_add(1), Ordering::Relaxed);
        Some(msg)
    }
}

impl<M, W: Wake> ChannelView<M, W> {
    /// Lowers the sleep flag and, if this call is the one that lowered it, wakes the loop.
    #[cold]
    fn wake(&self) -> Result<(), OsError> {
        // Acquire: pairs with the Release in `attach` (the sleep flag was raised by a
        // read-modify-write later in the same release sequence), so the waker is visible.
        let state = self.state.0.fetch_and(!SLEEPING, Ordering::Acquire);
        if state & (SLEEPING | ATTACHED) != SLEEPING | ATTACHED {
            return Ok(()); // another sender got here first, or there is no waker
        }
        // SAFETY: ATTACHED, seen through the Acquire above, says the cell is initialised,
        // and it is never written again while the channel lives.
        let result = self
            .waker
            .with(|waker| unsafe { (*waker).assume_init_ref() }.wake());
        if result.is_err() {
            // Let the next sender try again; at worst the loop gets a spurious wake-up.
            // Relaxed: carries no data.
            self.state.0.fetch_or(SLEEPING, Ordering::Relaxed);
        }
        result
    }
}

impl<M, W, S: ?Sized + AsRef<[Slot<M>]>> Drop for ChannelInner<M, W, S> {
    fn drop(&mut self) {
        let slots = self.slots.as_ref();
        let mask = slots.len() - 1;
        // `&mut self`: no sender or receiver is left, so every claimed slot is published
        // and Relaxed reads see the last values.
        let mut head = self.head.0.load(Ordering::Relaxed);
        loop {
            let slot = &slots[head & mask];
            let lap = head & !mask;
            if slot.stamp.load(Ordering::Relaxed) != lap.wrapping_add(1) {
                break;
            }
            // SAFETY: the stamp says this slot holds an unread message; reading it once
            // and moving on drops each queued message exactly once.
            slot.message
                .with_mut(|cell| unsafe { (*cell).assume_init_drop() });
            head = head.wrapping_add(1);
        }
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
    /// threads interleave. A send costs one compare-and-swap, plus one [`Wake::wake`] when
    /// it is the first since the loop fell asleep.
    ///
    /// # Errors
    /// [`SendError::Full`] with the message when the ring holds `N` messages;
    /// [`SendError::Disconnected`] with the message when the receiver was dropped;
    /// [`SendError::Wake`] when the message was queued but the waker failed.
    ///
    /// # Panics
    /// Never (unless the waker panics).
    pub fn send(&self, msg: M) -> Result<(), SendError<M>> {
        let channel = self.channel;
        // Relaxed: closing is best effort (see `SendError::Disconnected`).
        if channel.state.0.load(Ordering::Relaxed) & CLOSED != 0 {
            return Err(SendError::Disconnected(msg));
        }
        channel.push(msg).map_err(SendError::Full)?;
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

/// The one handle that receives from a [`Channel`]: the loop's. Not `Clone`, not `Sync`
/// (so there is one consumer, which the ring relies on), but `Send` when `M: Send`.
///
/// Dropping it closes the channel: later sends fail with [`SendError::Disconnected`],
/// and the messages still queued are dropped.
pub struct Receiver<'a, M, W = NoWake> {
    channel: &'a ChannelView<M, W>,
    /// Makes the receiver `!Sync`: two threads must not `try_recv` through one `&Receiver`.
    not_sync: PhantomData<core::cell::Cell<()>>,
}

impl<M, W> fmt::Debug for Receiver<'_, M, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("capacity", &self.channel.capacity())
            .finish_non_exhaustive()
    }
}

impl<'a, M, W> Receiver<'a, M, W> {
    /// Takes the oldest message, if one is queued and fully written.
    pub fn try_recv(&self) -> Option<M> {
        self.channel.pop()
    }

    /// Hands the channel the loop's waker, which senders will call when the loop may be
    /// asleep. The channel owns it from now on and drops it when the channel is dropped
    /// (so a sender never calls a waker whose OS handle is closed).
    ///
    /// # Errors
    /// `Err(waker)` when a waker is attached already (once per channel).
    pub fn attach(&self, waker: W) -> Result<(), W> {
        // Relaxed: only the receiver sets ATTACHED, and there is one receiver.
        if self.channel.state.0.load(Ordering::Relaxed) & ATTACHED != 0 {
            return Err(waker);
        }
        // SAFETY: no sender reads the cell before it sees ATTACHED, set below; only this
        // receiver writes it, once.
        self.channel
            .waker
            .with_mut(|cell| unsafe { (*cell).write(waker) });
        // Release: pairs with the Acquire in `waker()` and in the senders' wake path,
        // publishing the waker written above.
        self.channel.state.0.fetch_or(ATTACHED, Ordering::Release);
        Ok(())
    }

    /// The attached waker, if any.
    pub fn waker(&self) -> Option<&'a W> {
        self.channel.waker()
    }

    /// Raises the sleep flag and tells whether the loop may now sleep: `true` when the
    /// ring is empty, in which case the first later send wakes the loop; `false` (flag
    /// lowered again) when a message is queued or being written, so the loop should
    /// receive it instead of sleeping.
    ///
    /// Call it right before `select`, and [`finish_sleep`](Self::finish_sleep) right after,
    /// whatever this returned. No wake-up is lost: the flag is raised before `tail` is
    /// read with a Release read-modify-write, and every claim of a position is an Acquire
    /// read-modify-write of `tail`. Either that claim comes first, and `tail` shows a
    /// message (`false`), or it comes after, and its sender then sees the flag.
    ///
    /// `false` also covers a producer that has claimed a slot but not yet written it; the
    /// loop then takes a non-blocking turn and asks again (a producer preempted at that
    /// point makes the loop poll until it resumes).
    pub fn prepare_sleep(&self) -> bool {
        let channel = self.channel;
        // Relaxed: ordered before the senders' reads of the flag by the Release on `tail`
        // just below, through their Acquire CAS.
        channel.state.0.fetch_or(SLEEPING, Ordering::Relaxed);
        // Release: pairs with the Acquire CAS in `push` (see above). A read-modify-write
        // (+0), not a load, so that it is ordered against the claims in `tail`'s
        // modification order: a plain load could read an older `tail`.
        let tail = channel.tail.0.fetch_add(0, Ordering::Release);
        // Relaxed: only the consumer writes `head`.
        if tail == channel.head.0.load(Ordering::Relaxed) {
            return true;
        }
        self.finish_sleep();
        false
    }

    /// Lowers the sleep flag after `select` returned: sends cost no syscall again.
    pub fn finish_sleep(&self) {
        // Relaxed: carries no data; a sender that still saw the flag raised makes one
        // spurious wake-up, which the loop drains with the next `select`.
        self.channel.state.0.fetch_and(!SLEEPING, Ordering::Relaxed);
    }

    /// How many messages the ring holds when full: `N`.
    pub fn capacity(&self) -> usize {
        self.channel.capacity()
    }

    /// The channel this receiver reads.
    pub fn channel(&self) -> &'a ChannelView<M, W> {
        self.channel
    }
}

impl<M, W> Drop for Receiver<'_, M, W> {
    fn drop(&mut self) {
        // Relaxed: closing is best effort (see `SendError::Disconnected`).
        self.channel.state.0.fetch_or(CLOSED, Ordering::Relaxed);
        while self.channel.pop().is_some() {}
    }
}
