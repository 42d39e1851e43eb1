//! [`FdIndex`]: where each registered descriptor sits in the `pollfd` array, so that
//! `reregister` and `deregister` find it in O(1) without scanning.
//!
//! Descriptor numbers are unbounded ints (up to `RLIMIT_NOFILE`, often 2^20), so a
//! direct table indexed by fd would not be fixed-size. This is an open-addressed hash
//! table with linear probing and **2N slots for at most N keys**: the load factor
//! never exceeds 1/2, so a probe sequence is short (about 2.5 slots on a miss, 1.5 on
//! a hit, Knuth, TAOCP vol. 3, 6.4) and always ends at an empty slot. Removal shifts
//! the following entries back (Knuth's Algorithm R) instead of leaving tombstones, so
//! lookups never degrade however many registrations come and go.
//!
//! The 2N slots are stored as `[[Slot; 2]; N]` and used flattened: stable Rust cannot
//! yet spell `[Slot; 2 * N]` for a generic `N`.

use statio_unix::RawFd;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Slot {
    /// The key; negative marks an empty slot (a registered fd is never negative).
    fd: RawFd,
    /// The value: a position in the `pollfd` array, below `N`.
    pos: u32,
}

const EMPTY: Slot = Slot { fd: -1, pos: 0 };

/// A fixed map from descriptor number to array position, for up to `N` descriptors.
pub(crate) struct FdIndex<const N: usize> {
    slots: [[Slot; 2]; N],
}

impl<const N: usize> FdIndex<N> {
    const LEN: usize = {
        assert!(N > 0, "a poll set must hold at least one descriptor");
        assert!(
            N <= u32::MAX as usize,
            "positions are stored as u32: at most 2^32 - 1 descriptors"
        );
        2 * N
    };

    /// An empty index.
    pub(crate) const fn new() -> Self {
        FdIndex {
            slots: [[EMPTY; 2]; N],
        }
    }

    /// The slot where the probe for `fd` starts: Fibonacci hashing (the multiplier is
    /// 2^32 / φ), then a multiply-shift into `0..2N`, which needs no power of two.
    /// Consecutive descriptor numbers, the common case, land far apart.
    fn home(fd: RawFd) -> usize {
        let hash = (fd as u32).wrapping_mul(0x9E37_79B9);
        // Below LEN: (hash * LEN) >> 32 < LEN since hash < 2^32.
        ((u64::from(hash) * Self::LEN as u64) >> 32) as usize
    }

    fn next(at: usize) -> usize {
        if at + 1 == Self::LEN { 0 } else { at + 1 }
    }

    /// `Ok(slot)` holding `fd`, or `Err(slot)`: the empty slot that ends its probe.
    fn probe(&self, fd: RawFd) -> Result<usize, usize> {
        let table = self.slots.as_flattened();
        let mut at = Self::home(fd);
        // Terminates: at most N of the 2N slots are full, so an empty one is reached.
        loop {
            let slot = table[at];
            if slot.fd == fd {
                return Ok(at);
            }
            if slot.fd < 0 {
                return Err(at);
            }
            at = Self::next(at);
        }
    }

    /// The position of `fd`, if it is in the index.
    pub(crate) fn get(&self, fd: RawFd) -> Option<usize> {
        self.probe(fd)
            .ok()
            .map(|at| self.slots.as_flattened()[at].pos as usize)
    }

    /// Adds `fd` at `pos`; `false` (and no change) when `fd` is present already.
    ///
    /// The caller keeps at most `N` descriptors in the index (the `pollfd` array's
    /// capacity), and `fd` is non-negative.
    pub(crate) fn insert(&mut self, fd: RawFd, pos: usize) -> bool {
        debug_assert!(fd >= 0 && pos < N);
        match self.probe(fd) {
            Ok(_) => false,
            Err(at) => {
                // pos < N <= u32::MAX (LEN's assertion).
                self.slots.as_flattened_mut()[at] = Slot {
                    fd,
                    pos: pos as u32,
                };
                true
            }
        }
    }

    /// Moves the present `fd` to `pos` (after a swap-remove moved its entry).
    pub(crate) fn set(&mut self, fd: RawFd, pos: usize) {
        if let Ok(at) = self.probe(fd) {
            self.slots.as_flattened_mut()[at].pos = pos as u32;
        } else {
            debug_assert!(false, "fd {fd} is not in the index");
        }
    }

    /// Removes `fd`; its position, or `None` when it was not present.
    pub(crate) fn remove(&mut self, fd: RawFd) -> Option<usize> {
        let mut hole = self.probe(fd).ok()?;
        let table = self.slots.as_flattened_mut();
        let pos = table[hole].pos as usize;
        // Backward shift: every later entry of the same cluster whose probe path
        // passes the hole moves into it, so no probe meets an empty slot early.
        let mut at = hole;
        loop {
            at = Self::next(at);
            let slot = table[at];
            if slot.fd < 0 {
                break;
            }
            let len = Self::LEN;
            let from_home = (at + len - Self::home(slot.fd)) % len;
            let from_hole = (at + len - hole) % len;
            if from_home >= from_hole {
                table[hole] = slot;
                hole = at;
            }
        }
        table[hole] = EMPTY;
        Some(pos)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::collections::HashMap;

    use super::*;

    /// A deterministic xorshift, so a failure replays.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn agrees_with_a_hash_map_over_random_operations() {
        const N: usize = 16;
        for seed in 1..50u64 {
            let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
            let mut index = FdIndex::<N>::new();
            let mut model: HashMap<RawFd, usize> = HashMap::new();
            for step in 0..2_000 {
                // Small and large descriptor numbers, clustered and spread.
                let fd = match rng.below(3) {
                    0 => rng.below(24) as RawFd,
                    1 => (rng.below(8) * 1024) as RawFd,
                    _ => rng.below(i32::MAX as u64) as RawFd,
                };
                match rng.below(4) {
                    0 | 1 if model.len() < N => {
                        let pos = rng.below(N as u64) as usize;
                        let fresh = !model.contains_key(&fd);
                        assert_eq!(index.insert(fd, pos), fresh, "seed {seed} step {step}");
                        model.entry(fd).or_insert(pos);
                    }
                    2 => {
                        assert_eq!(
                            index.remove(fd),
                            model.remove(&fd),
                            "seed {seed} step {step}"
                        );
                    }
                    _ => {
                        if let Some(pos) = model.get_mut(&fd) {
                            *pos = rng.below(N as u64) as usize;
                            index.set(fd, *pos);
                        }
                    }
                }
                for (&fd, &pos) in &model {
                    assert_eq!(index.get(fd), Some(pos), "seed {seed} step {step} fd {fd}");
                }
                assert_eq!(index.get(fd), model.get(&fd).copied());
            }
        }
    }

    #[test]
    fn holds_n_keys_that_collide_and_wrap() {
        const N: usize = 8;
        let mut index = FdIndex::<N>::new();
        // Keys sharing the last slot's home wrap around to the front.
        let last = FdIndex::<N>::LEN - 1;
        let colliding: std::vec::Vec<RawFd> = (0..i32::MAX)
            .filter(|&fd| FdIndex::<N>::home(fd) == last)
            .take(N)
            .collect();
        for (pos, &fd) in colliding.iter().enumerate() {
            assert!(index.insert(fd, pos));
        }
        assert!(!index.insert(colliding[3], 0), "a duplicate is refused");
        // Remove from the middle of the cluster: the rest stay reachable.
        assert_eq!(index.remove(colliding[2]), Some(2));
        for (pos, &fd) in colliding.iter().enumerate().filter(|&(i, _)| i != 2) {
            assert_eq!(index.get(fd), Some(pos), "fd {fd}");
        }
        assert_eq!(index.get(colliding[2]), None);
        assert_eq!(index.remove(colliding[2]), None);
    }
}
