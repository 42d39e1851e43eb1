//! [`Registry`]: which handle is registered under each token, and the generation that
//! makes events of an earlier registration recognisable as stale.
//!
//! The selector is given a *tagged* token: the caller's token in the low half of a
//! `usize`, the slot's generation in the high half. Deregistration bumps the
//! generation, so events of the old registration still queued in the current batch
//! no longer resolve, even when the same token or fd number is registered again at
//! once (what libev's `egen` and libuv's `uv__platform_invalidate_fd` guard against).

use crate::{Error, Token};

/// Bits of a tagged token that hold the caller's token; the rest hold the generation.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Generations wrap within the bits left above the index.
const GENERATION_MASK: usize = usize::MAX >> INDEX_BITS;

struct Slot<H> {
    generation: usize,
    handle: Option<H>,
}

/// What is registered under each token `0..N`.
pub(crate) struct Registry<H, const N: usize> {
    slots: [Slot<H>; N],
}

impl<H: Copy + Eq, const N: usize> Registry<H, N> {
    // Below the mask, not up to it: the all-ones index (that of `Token::WAKER`, whatever
    // its generation bits) must never name a slot.
    const FITS: () = assert!(
        N <= INDEX_MASK,
        "SOURCES must fit in half a usize (65,535 on 32-bit targets)"
    );

    pub(crate) const fn new() -> Self {
        let () = Self::FITS;
        Registry {
            slots: [const {
                Slot {
                    generation: 0,
                    handle: None,
                }
            }; N],
        }
    }

    /// Claims `token` for `handle` and returns the tagged token to give the selector.
    pub(crate) fn claim(&mut self, token: Token, handle: H) -> Result<Token, Error> {
        let slot = self
            .slots
            .get_mut(token.0)
            .ok_or(Error::TokenOutOfRange { token, capacity: N })?;
        if slot.handle.is_some() {
            return Err(Error::TokenInUse(token));
        }
        slot.handle = Some(handle);
        Ok(Token(token.0 | slot.generation << INDEX_BITS))
    }

    /// The tagged token of `handle`'s registration under `token`.
    pub(crate) fn tagged(&self, token: Token, handle: H) -> Result<Token, Error> {
        match self.slots.get(token.0) {
            Some(slot) if slot.handle == Some(handle) => {
                Ok(Token(token.0 | slot.generation << INDEX_BITS))
            }
            _ => Err(Error::NotRegistered(token)),
        }
    }

    /// Frees `token` if `handle` holds it; its queued events go stale.
    pub(crate) fn release(&mut self, token: Token, handle: H) -> Result<(), Error> {
        match self.slots.get_mut(token.0) {
            Some(slot) if slot.handle == Some(handle) => {
                slot.handle = None;
                slot.generation = (slot.generation + 1) & GENERATION_MASK;
                Ok(())
            }
            _ => Err(Error::NotRegistered(token)),
        }
    }

    /// The caller's token for a tagged token from an event, or `None` if the event
    /// belongs to a registration that has since ended.
    #[inline]
    pub(crate) fn resolve(&self, tagged: Token) -> Option<Token> {
        let index = tagged.0 & INDEX_MASK;
        let slot = self.slots.get(index)?;
        let current = slot.handle.is_some() && slot.generation == tagged.0 >> INDEX_BITS;
        current.then_some(Token(index))
    }

    /// Whether `token` holds a registration.
    pub(crate) fn is_registered(&self, token: Token) -> bool {
        self.slots.get(token.0).is_some_and(|s| s.handle.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_tokens_resolve_until_released() {
        let mut reg: Registry<i32, 4> = Registry::new();
        let tagged = reg.claim(Token(2), 7).unwrap();
        assert_eq!(reg.resolve(tagged), Some(Token(2)));
        assert_eq!(reg.tagged(Token(2), 7), Ok(tagged));
        assert_eq!(reg.tagged(Token(2), 8), Err(Error::NotRegistered(Token(2))));
        reg.release(Token(2), 7).unwrap();
        assert_eq!(reg.resolve(tagged), None);
        // The same token and handle again: the old tag stays stale.
        let again = reg.claim(Token(2), 7).unwrap();
        assert_ne!(again, tagged);
        assert_eq!(reg.resolve(tagged), None);
        assert_eq!(reg.resolve(again), Some(Token(2)));
    }

    #[test]
    fn limits_are_errors() {
        let mut reg: Registry<i32, 2> = Registry::new();
        assert_eq!(
            reg.claim(Token(2), 1),
            Err(Error::TokenOutOfRange {
                token: Token(2),
                capacity: 2
            })
        );
        reg.claim(Token(0), 1).unwrap();
        assert_eq!(reg.claim(Token(0), 2), Err(Error::TokenInUse(Token(0))));
        assert_eq!(
            reg.release(Token(1), 1),
            Err(Error::NotRegistered(Token(1)))
        );
        assert_eq!(
            reg.release(Token(0), 2),
            Err(Error::NotRegistered(Token(0)))
        );
        assert!(reg.is_registered(Token(0)));
        assert!(!reg.is_registered(Token(5)));
        // A tag whose index is out of range (forged, corrupt, or the waker's) resolves to
        // nothing.
        assert_eq!(reg.resolve(Token::WAKER), None);
    }

    #[test]
    fn generation_wraps_without_overflow() {
        let mut reg: Registry<i32, 1> = Registry::new();
        reg.slots[0].generation = GENERATION_MASK;
        reg.claim(Token(0), 1).unwrap();
        reg.release(Token(0), 1).unwrap();
        assert_eq!(reg.slots[0].generation, 0);
    }
}
