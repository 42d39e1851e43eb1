//! [`StaleWatch`]: tells an event of a registration that outlived its source (an
//! orphan) from the stale events every loop sees.
//!
//! An event whose registration ended earlier in the same batch is normal (a callback
//! deregistered it, or kqueue reported its read and write filters apart): the loop drops
//! it. But once a registration has ended, the selector no longer reports it, so the
//! same stale tag in a later select means the kernel still holds a registration the
//! loop cannot reach: on epoll, a descriptor closed while registered whose file a `dup`
//! or a child keeps open. Level-triggered, it would wake every select at once: a spin.
//! libev answers the same case by rebuilding its epoll set (`ev_epoll.c`, `egen`); the
//! loop keeps no list of interests to rebuild from, so it reports the orphan instead.
//!
//! All of it is off the turn's hot path: a stale event is rare, so the dispatch calls
//! [`saw`](StaleWatch::saw) out of line and sets the loop's `extras`, and only a turn
//! with extras calls [`end_batch`](StaleWatch::end_batch). A batch with no stale event
//! costs nothing here.

use crate::token::Token;

/// The last stale tag seen, whether it was seen in the batch being dispatched, and
/// whether that batch showed it as an orphan. All zero bytes: nothing seen (the
/// zero-bytes contract of `cell.rs`).
pub(super) struct StaleWatch {
    tag: usize,
    this_batch: bool,
    orphaned: bool,
}

impl StaleWatch {
    /// What zero bytes are: nothing seen.
    #[cfg(test)]
    pub(super) const fn new() -> Self {
        StaleWatch {
            tag: 0,
            this_batch: false,
            orphaned: false,
        }
    }

    /// A stale event under `tag` (a tagged token, never [`Token::WAKER`]) arrived: an
    /// orphan when the same tag was stale in an earlier batch too
    /// ([`end_batch`](Self::end_batch) reports it, the batch dispatched whole). The
    /// batch's first orphan is the one kept.
    #[cold]
    pub(super) fn saw(&mut self, tag: Token) {
        if self.orphaned {
            return;
        }
        self.orphaned = tag.0 == self.tag && !self.this_batch;
        self.tag = tag.0;
        self.this_batch = true;
    }

    /// The batch is dispatched: a tag seen from now on is from a later select. Returns
    /// the tag of the orphan the batch showed, if any.
    #[inline]
    pub(super) fn end_batch(&mut self) -> Option<Token> {
        self.this_batch = false;
        if !self.orphaned {
            return None;
        }
        self.orphaned = false;
        Some(Token(self.tag))
    }
}
