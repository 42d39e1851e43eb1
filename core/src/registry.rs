//! [`Registry`]: which handle is registered under each token, and the generation that
//! makes events of an earlier registration recognisable as stale.
//!
//! The selector is given a *tagged* token: the caller's token in the low half of a
//! `usize`, the slot's generation in the high half. Deregistration bumps the
//! generation, so events of the old registration still queued in the current batch
//! no longer resolve, even when the same token or fd number is registered again at
//! once (what libev's `egen` and libuv's `uv__platform_invalidate_fd` guard against).
//!
//! A slot is 8 bytes for a 4-byte handle (`RawFd`): a `u32` generation whose parity
//! says whether the slot is occupied (odd) or vacant (even), and the handle. A vacant
//! slot that never held a registration is all zero bytes, so a registry in zeroed
//! memory (`.bss`) is valid and empty as it is, and costs no resident page until used.

use core::mem::MaybeUninit;

use crate::error::Error;
use crate::mark::Mark;
use crate::token::Token;

/// Bits of a tagged token that hold the caller's token; the rest hold the generation.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Generations wrap within the bits left above the index (16 on 32-bit targets, 32 on
/// 64-bit ones); the mask's low bits are all ones, so wrapping keeps the parity.
const GENERATION_MASK: u32 = (usize::MAX >> INDEX_BITS) as u32;

struct Slot<H> {
    /// Odd while a registration holds the slot; bumped on claim and on release.
    generation: u32,
    /// The registered handle; initialised by the first claim, read only while
    /// `generation` is odd (so a slot of zero bytes is valid whatever `H` is: the
    /// zero-bytes contract of `event_loop/cell.rs`).
    handle: MaybeUninit<H>,
}

impl<H: Copy + Eq> Slot<H> {
    #[inline]
    fn is_occupied(&self) -> bool {
        self.generation & 1 == 1
    }

    /// Whether `handle` holds this slot.
    #[inline]
    fn held_by(&self, handle: H) -> bool {
        // SAFETY: an odd generation means `claim` wrote the handle (it writes it before
        // making the generation odd, and nothing clears it).
        self.is_occupied() && unsafe { self.handle.assume_init() } == handle
    }

    /// The tagged token of this slot's registration under `index`.
    #[inline]
    fn tag(&self, index: usize) -> Token {
        Token(index | (self.generation as usize) << INDEX_BITS)
    }
}

/// One registration of a source under a token, as
/// [`EventLoop::registration`](crate::EventLoop::registration) names it: the token and
/// the generation its slot had when the registration began. A deregistration ends it, so
/// a later registration under the same token compares unequal.
///
/// Generations wrap (after 2^31 registrations of one token on 64-bit targets, 2^15 on
/// 32-bit ones), as the loop's stale-event check does.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Registration(Token);

impl Registration {
    /// The token this registration holds (or held).
    pub const fn token(self) -> Token {
        Token(self.0.0 & INDEX_MASK)
    }
}

/// What is registered under each token `0..N`.
///
/// All zero bytes are a valid, empty registry (every generation 0: vacant, no marks):
/// the loop starts one with [`init_zeroed`](Self::init_zeroed).
pub(crate) struct Registry<H, const N: usize> {
    slots: [Slot<H>; N],
    /// Registrations now (`N` fits a `u32`: `FITS`).
    len: u32,
    /// The most registrations at once since the last `reset_marks`.
    peak: u32,
    /// Claims refused since the last `reset_marks` for a token of `N` or more.
    out_of_range: u64,
}

impl<H: Copy + Eq, const N: usize> Registry<H, N> {
    // Below the mask, not up to it: the all-ones index (that of `Token::WAKER`, whatever
    // its generation bits) must never name a slot.
    const FITS: () = assert!(
        N <= INDEX_MASK,
        "SOURCES must fit in half a usize (65,535 on 32-bit targets)"
    );

    /// Makes `place`, all zero bytes, an empty registry: it writes nothing, since zero
    /// bytes are one, and checks `N` at compile time.
    ///
    /// # Safety
    /// `place` must point to `size_of::<Self>()` zero bytes.
    pub(crate) unsafe fn init_zeroed(place: *mut Self) {
        let () = Self::FITS;
        let _ = place;
    }

    /// An empty registry: what `init_zeroed` makes of zero bytes.
    #[cfg(test)]
    pub(crate) const fn new() -> Self {
        let () = Self::FITS;
        Registry {
            slots: [const {
                Slot {
                    generation: 0,
                    handle: MaybeUninit::uninit(),
                }
            }; N],
            len: 0,
            peak: 0,
            out_of_range: 0,
        }
    }

    /// Claims `token` for `handle` and returns the tagged token to give the selector.
    pub(crate) fn claim(&mut self, token: Token, handle: H) -> Result<Token, Error> {
        let Some(slot) = self.slots.get_mut(token.0) else {
            self.out_of_range = self.out_of_range.saturating_add(1);
            return Err(Error::TokenOutOfRange { token, capacity: N });
        };
        if slot.is_occupied() {
            return Err(Error::TokenInUse(token));
        }
        slot.handle = MaybeUninit::new(handle);
        // Odd: occupied. The mask keeps it in the token's high half.
        slot.generation = slot.generation.wrapping_add(1) & GENERATION_MASK;
        let tagged = slot.tag(token.0);
        self.len += 1;
        self.peak = self.peak.max(self.len);
        Ok(tagged)
    }

    /// The tagged token of `handle`'s registration under `token`.
    pub(crate) fn tagged(&self, token: Token, handle: H) -> Result<Token, Error> {
        match self.slots.get(token.0) {
            Some(slot) if slot.held_by(handle) => Ok(slot.tag(token.0)),
            _ => Err(Error::NotRegistered(token)),
        }
    }

    /// Frees `token` if `handle` holds it; its queued events go stale.
    pub(crate) fn release(&mut self, token: Token, handle: H) -> Result<(), Error> {
        match self.slots.get_mut(token.0) {
            Some(slot) if slot.held_by(handle) => {
                // Even: vacant; queued events carry the odd generation before it.
                slot.generation = slot.generation.wrapping_add(1) & GENERATION_MASK;
                self.len -= 1;
                Ok(())
            }
            _ => Err(Error::NotRegistered(token)),
        }
    }

    /// Frees `token` whoever holds it, returning the handle it was registered with and
    /// the tagged token of the registration that ends.
    pub(crate) fn release_any(&mut self, token: Token) -> Result<(H, Token), Error> {
        match self.slots.get_mut(token.0) {
            Some(slot) if slot.is_occupied() => {
                let tagged = slot.tag(token.0);
                // SAFETY: occupied, so `claim` wrote the handle (as in `held_by`).
                let handle = unsafe { slot.handle.assume_init() };
                slot.generation = slot.generation.wrapping_add(1) & GENERATION_MASK;
                self.len -= 1;
                Ok((handle, tagged))
            }
            _ => Err(Error::NotRegistered(token)),
        }
    }

    /// The caller's token for a tagged token from an event, or `None` if the event
    /// belongs to a registration that has since ended.
    #[inline]
    pub(crate) fn resolve(&self, tagged: Token) -> Option<Token> {
        let index = tagged.0 & INDEX_MASK;
        let generation = tagged.0 >> INDEX_BITS;
        let slot = self.slots.get(index)?;
        // A tag's generation is odd for every registration the loop made; the parity
        // check keeps a forged even one (a token registered through `selector_mut`)
        // off a vacant slot. A branch of its own, after the slot's: folded into the
        // index check, it costs a `setb`/`and` pair per event.
        if slot.generation as usize != generation || generation & 1 == 0 {
            return None;
        }
        Some(Token(index))
    }

    /// The token index a tagged token names (valid or not).
    pub(crate) fn index_of(&self, tagged: Token) -> usize {
        tagged.0 & INDEX_MASK
    }

    /// The registration under `token`, if any.
    #[inline]
    pub(crate) fn registration(&self, token: Token) -> Option<Registration> {
        match self.slots.get(token.0) {
            Some(slot) if slot.is_occupied() => Some(Registration(slot.tag(token.0))),
            _ => None,
        }
    }

    /// Whether `token` holds a registration.
    pub(crate) fn is_registered(&self, token: Token) -> bool {
        self.slots.get(token.0).is_some_and(Slot::is_occupied)
    }

    /// Registrations now and at their peak; limit hits are claims refused with
    /// [`Error::TokenOutOfRange`].
    pub(crate) fn marks(&self) -> Mark {
        Mark {
            now: self.len as usize,
            peak: self.peak as usize,
            capacity: N,
            limit_hits: self.out_of_range,
        }
    }

    /// Starts a new window of marks: the peak is what is registered now.
    pub(crate) fn reset_marks(&mut self) {
        self.peak = self.len;
        self.out_of_range = 0;
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
    fn release_any_frees_the_token_whatever_its_handle() {
        let mut reg: Registry<i32, 2> = Registry::new();
        assert_eq!(
            reg.release_any(Token(1)),
            Err(Error::NotRegistered(Token(1)))
        );
        let tagged = reg.claim(Token(1), 7).unwrap();
        assert_eq!(reg.release_any(Token(1)), Ok((7, tagged)));
        assert_eq!(reg.resolve(tagged), None);
        assert!(!reg.is_registered(Token(1)));
        assert_eq!(
            reg.release_any(Token(1)),
            Err(Error::NotRegistered(Token(1)))
        );
    }

    #[test]
    fn a_registration_ends_with_its_deregistration() {
        let mut reg: Registry<i32, 2> = Registry::new();
        assert_eq!(reg.registration(Token(1)), None);
        assert_eq!(reg.registration(Token(9)), None);
        reg.claim(Token(1), 7).unwrap();
        let first = reg.registration(Token(1)).unwrap();
        assert_eq!(reg.registration(Token(1)), Some(first));
        reg.release(Token(1), 7).unwrap();
        assert_eq!(reg.registration(Token(1)), None);
        reg.claim(Token(1), 7).unwrap();
        assert_ne!(reg.registration(Token(1)), Some(first));
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
    fn generation_wraps_without_overflow_keeping_parity() {
        let mut reg: Registry<i32, 1> = Registry::new();
        // The last vacant generation before the wrap: the claim takes the top odd one.
        reg.slots[0].generation = GENERATION_MASK - 1;
        let top = reg.claim(Token(0), 1).unwrap();
        assert_eq!(top.0 >> INDEX_BITS, GENERATION_MASK as usize);
        assert_eq!(reg.resolve(top), Some(Token(0)));
        reg.release(Token(0), 1).unwrap();
        assert_eq!(reg.slots[0].generation, 0);
        assert!(!reg.is_registered(Token(0)));
        assert_eq!(reg.resolve(top), None);
        let again = reg.claim(Token(0), 1).unwrap();
        assert_eq!(again.0 >> INDEX_BITS, 1);
    }

    #[test]
    fn marks_count_registrations_and_refusals() {
        let mut reg: Registry<i32, 2> = Registry::new();
        reg.claim(Token(0), 1).unwrap();
        reg.claim(Token(1), 2).unwrap();
        let _ = reg.claim(Token(2), 3);
        let _ = reg.claim(Token(0), 4); // in use: not a capacity limit
        reg.release(Token(0), 1).unwrap();
        let want = Mark {
            now: 1,
            peak: 2,
            capacity: 2,
            limit_hits: 1,
        };
        assert_eq!(reg.marks(), want);
        reg.reset_marks();
        assert_eq!((reg.marks().peak, reg.marks().limit_hits), (1, 0));
    }

    #[test]
    fn zero_bytes_are_an_empty_registry() {
        // SAFETY: the type documents that all zero bytes are valid (Miri checks it).
        let mut reg: Registry<i32, 3> = unsafe { MaybeUninit::zeroed().assume_init() };
        assert!(!reg.is_registered(Token(0)));
        assert_eq!(reg.resolve(Token(0)), None);
        let tagged = reg.claim(Token(0), 4).unwrap();
        assert_eq!(reg.resolve(tagged), Some(Token(0)));
    }

    #[test]
    fn a_slot_is_8_bytes_for_a_4_byte_handle() {
        assert_eq!(core::mem::size_of::<Slot<i32>>(), 8);
        // And 16 bytes of marks.
        assert_eq!(core::mem::size_of::<Registry<i32, 1025>>(), 8 * 1025 + 16);
    }

    #[test]
    fn a_vacant_slot_with_a_forged_even_tag_resolves_to_nothing() {
        // Generation 0 is the vacant slot's own: a token registered behind the loop's
        // back (through `selector_mut`) carries it and must not resolve.
        let mut reg: Registry<i32, 2> = Registry::new();
        assert_eq!(reg.resolve(Token(1)), None);
        let tagged = reg.claim(Token(1), 3).unwrap();
        reg.release(Token(1), 3).unwrap();
        let even = Token(1 | (reg.slots[1].generation as usize) << INDEX_BITS);
        assert_ne!(even, tagged);
        assert_eq!(reg.resolve(even), None);
    }
}
