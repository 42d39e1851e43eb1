//! [`Receiver`]: the loop's end of a [`Channel`](super::Channel), the sleep/wake
//! protocol, and the detach that its drop performs.

use core::fmt;
use core::marker::PhantomData;

use super::{ATTACHED, ChannelView, DETACHING, SLEEPING, TAIL_CLOSED, TAKEN, WAKING};
use crate::sync::{Ordering, spin};

/// The one handle that receives from a [`Channel`](super::Channel): the loop's. Not
/// `Clone`, not `Sync` (so there is one consumer, which the ring relies on), but `Send`
/// when `M: Send`.
///
/// Dropping it detaches the channel: later sends fail with
/// [`SendError::Disconnected`](super::SendError::Disconnected), the messages still queued
/// and the waker are dropped, and the channel's
/// [`receiver`](ChannelView::receiver) hands out a new receiver, for a new loop.
pub struct Receiver<'a, M, W = super::NoWake> {
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
    /// The receiver of `channel`, whose `TAKEN` flag the caller just raised.
    pub(super) fn new(channel: &'a ChannelView<M, W>) -> Self {
        Receiver {
            channel,
            not_sync: PhantomData,
        }
    }

    /// Takes the oldest message, if one is queued and fully written.
    pub fn try_recv(&self) -> Option<M> {
        self.channel.pop()
    }

    /// Hands the channel the loop's waker, which senders will call when the loop may be
    /// asleep. The channel owns it from now on, and this receiver's drop drops it once no
    /// sender is calling it (so a sender never calls a waker whose OS handle is closed).
    ///
    /// # Errors
    /// `Err(waker)` when this receiver attached a waker already.
    pub fn attach(&self, waker: W) -> Result<(), W> {
        // Relaxed: only the receiver sets ATTACHED, and there is one receiver.
        if self.channel.state.0.load(Ordering::Relaxed) & ATTACHED != 0 {
            return Err(waker);
        }
        // SAFETY: no sender reads the cell before it sees ATTACHED, set below; only this
        // receiver writes it, once (the last receiver's detach dropped the previous one
        // and cleared ATTACHED before this receiver was handed out).
        self.channel
            .waker
            .with_mut(|cell| unsafe { (*cell).write(waker) });
        // Release: pairs with the Acquire in the senders' wake path, publishing the
        // waker written above.
        self.channel.state.0.fetch_or(ATTACHED, Ordering::Release);
        Ok(())
    }

    /// The attached waker, if any (the port reaches its OS handle through this). Borrowed
    /// from the receiver: the waker goes when the receiver does.
    pub fn waker(&self) -> Option<&W> {
        // Relaxed: only this receiver sets ATTACHED, and it wrote the cell before.
        if self.channel.state.0.load(Ordering::Relaxed) & ATTACHED == 0 {
            return None;
        }
        // SAFETY: ATTACHED says the cell is initialised; only this receiver's drop
        // drops it, which the borrow of `self` rules out while the reference lives.
        Some(
            self.channel
                .waker
                .with(|waker| unsafe { (*waker).assume_init_ref() }),
        )
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
        // modification order: a plain load could read an older `tail`. (The ring is open
        // while a receiver lives: `tail` carries no TAIL_CLOSED here.)
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
    /// Detaches the channel: closes the ring, drops what it holds, waits until no sender
    /// is calling the waker, drops the waker, and lets the next receiver be taken.
    fn drop(&mut self) {
        let channel = self.channel;
        // No call of the waker starts from here on: a sender's CAS in `wake` fails on
        // DETACHING. Relaxed: our later Acquire loads of `state` read this value or a
        // later one, so they count every sender that got in before it.
        channel.state.0.fetch_or(DETACHING, Ordering::Relaxed);
        // No claim succeeds from here on. Relaxed: a read-modify-write, so `end` counts
        // every claim that came before; the messages themselves are ordered by the stamps.
        let end = channel.tail.0.fetch_or(TAIL_CLOSED, Ordering::Relaxed);
        // Drop every message claimed before the close; a slot claimed but not written yet
        // is waited for (its sender is between its CAS and its stamp store).
        // Relaxed: only the consumer writes `head`.
        while channel.head.0.load(Ordering::Relaxed) != end {
            if channel.pop().is_none() {
                spin();
            }
        }
        // Wait out the senders calling the waker. Acquire: pairs with the Release
        // decrement in `wake`, so their use of the waker happens before its drop below.
        let mut state = channel.state.0.load(Ordering::Acquire);
        while state >= WAKING {
            spin();
            state = channel.state.0.load(Ordering::Acquire);
        }
        if state & ATTACHED != 0 {
            // SAFETY: ATTACHED says the cell is initialised; no sender holds a reference
            // (the count is zero and no new one can start), and this receiver, the only
            // one, drops it once: ATTACHED is cleared below.
            channel
                .waker
                .with_mut(|waker| unsafe { (*waker).assume_init_drop() });
        }
        // Release: pairs with the Acquire in `receiver()`, so the next receiver sees our
        // `head`, the freed slots and the waker's cell as dropped. The ring stays closed
        // until that receiver opens it.
        let detached = SLEEPING | TAKEN | DETACHING | ATTACHED;
        channel.state.0.fetch_and(!detached, Ordering::Release);
    }
}
