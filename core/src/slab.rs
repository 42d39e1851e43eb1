//! [`Slab`]: a fixed-capacity arena with generation-checked [`Key`]s.
//!
//! ```
//! use statio_core::Slab;
//!
//! let mut conns: Slab<&str, 2> = Slab::new();
//! let a = conns.insert("alice").unwrap();
//! let b = conns.insert("bob").unwrap();
//! assert_eq!(conns.insert("carol"), Err("carol")); // full: the value comes back
//!
//! assert_eq!(conns.remove(a), Some("alice"));
//! let c = conns.insert("carol").unwrap(); // reuses a's slot...
//! assert_eq!(c.index(), a.index());
//! assert_eq!(conns.get(a), None); // ...but a's key is stale and reaches nothing
//! assert_eq!(conns.get(c), Some(&"carol"));
//! assert_eq!(conns.get(b), Some(&"bob"));
//! ```
//!
//! Insert, lookup and removal are O(1): vacated slots form an intrusive free list
//! (reused last-in, first-out), and slots never used yet are taken in order. Each slot
//! has a stamp, odd while a value holds it, bumped on insert and on removal; a [`Key`]
//! holds the stamp its value was inserted under, so a key kept after its value was
//! removed never reaches the slot's next occupant. A slot's generation (its stamp
//! halved) wraps after 2^31 removals.

use core::mem::{ManuallyDrop, MaybeUninit};

use crate::token::Token;
use crate::zeroed::assert_zero_bytes;

/// Names one value in a [`Slab`]: its slot and the slot's generation at insertion.
///
/// Convert it to the [`Token`] of the value's source with `Token::from(key)` (the
/// slot index): the registry checks its own generation on each event, and
/// [`Slab::key_at`] turns the token of an event back into the key.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    index: u32,
    /// The slot's stamp while this value holds it: always odd.
    stamp: u32,
}

impl Key {
    /// The slot this key names, `0..N`: stable while the value lives, reused after.
    pub const fn index(self) -> usize {
        self.index as usize
    }

    /// How many values the slot held before this one (wrapping after 2^31).
    pub const fn generation(self) -> u32 {
        self.stamp >> 1
    }
}

impl From<Key> for Token {
    /// The token of slot `key.index()`.
    fn from(key: Key) -> Token {
        Token(key.index())
    }
}

struct Slot<T> {
    /// Odd while a value holds the slot; bumped on insert and on removal, so a slot of
    /// zero bytes is vacant and has never been used.
    stamp: u32,
    /// The value or the free link, never both: see [`Body`]. Zero bytes until used.
    body: MaybeUninit<Body<T>>,
}

/// A slot's bytes after its stamp: the value while occupied (`stamp` odd), the free
/// link once vacated. Sharing them keeps a slot of a 4-byte value (a descriptor) at 8
/// bytes, not 12.
union Body<T> {
    /// Initialised exactly while the slot's stamp is odd.
    value: ManuallyDrop<T>,
    /// Written when the slot is vacated: the index + 1 of the next vacated slot, 0 for
    /// none. Read only while the slot heads the free list.
    next_free: u32,
}

impl<T> Slot<T> {
    const fn is_occupied(&self) -> bool {
        self.stamp & 1 == 1
    }

    /// Whether the value `key` names is here: `key` is odd, so this slot is occupied.
    fn holds(&self, key: Key) -> bool {
        self.is_occupied() && self.stamp == key.stamp
    }

    /// The value; the caller has checked that the slot is occupied.
    ///
    /// # Safety
    /// `stamp` must be odd (then the body holds an initialised value).
    unsafe fn value(&self) -> &T {
        // SAFETY: the body holds a value while the stamp is odd (the caller's promise).
        unsafe { &self.body.assume_init_ref().value }
    }

    /// The value, mutably.
    ///
    /// # Safety
    /// As for [`value`](Self::value).
    unsafe fn value_mut(&mut self) -> &mut T {
        // SAFETY: as in `value`.
        unsafe { &mut self.body.assume_init_mut().value }
    }

    /// The free link of a vacated slot.
    ///
    /// # Safety
    /// The slot must have been vacated (a `remove` wrote the link) and not occupied since.
    unsafe fn next_free(&self) -> u32 {
        // SAFETY: `vacate` wrote the link and nothing wrote the body since (the
        // caller's promise).
        unsafe { self.body.assume_init_ref().next_free }
    }

    /// Takes the value out and stores the free link `next_free` in its place.
    ///
    /// # Safety
    /// `stamp` must be odd; the caller makes it even at once.
    unsafe fn vacate(&mut self, next_free: u32) -> T {
        // SAFETY: the body holds a value (the caller's promise); it is moved out
        // before the link overwrites its bytes, and never read again.
        let value = unsafe { ManuallyDrop::take(&mut self.body.assume_init_mut().value) };
        self.body.write(Body { next_free });
        value
    }
}

/// A fixed arena of up to `N` values of `T`, addressed by generation-checked [`Key`]s.
///
/// # In a `static`
/// An empty slab is all zero bytes: every stamp even (vacant), the free list's links
/// stored as index + 1 with 0 for "none" (in the bytes a value takes while occupied),
/// the values uninitialised (the build checks this). So a table in
/// `static TABLE: ConstStaticCell<Slab<Conn, 10_000>> = ConstStaticCell::new(Slab::new())`
/// lands in `.bss`: no bytes in the binary, never built on the stack (`take` hands it
/// out in place), and only the slots a connection has used become resident, since
/// [`new`](Slab::new) and [`insert`](Slab::insert) touch no slot past the ones taken.
/// A `static` that holds a slab together with a field whose empty value is not zero
/// (a default timeout, ...) goes to `.data` whole: keep such fields apart, as
/// `examples/nostd_echo` does.
///
/// # Capacity
/// `N` may be up to `u32::MAX` (checked at compile time): indices and links are `u32`.
pub struct Slab<T, const N: usize> {
    slots: [Slot<T>; N],
    /// The index + 1 of the most recently vacated slot, 0 for none.
    free_head: u32,
    /// Slots `never_used..N` have never held a value: their bytes are still zero.
    never_used: u32,
    len: u32,
}

assert_zero_bytes!(
    // `u32` values: the probe has no padding, so every byte is checked.
    Slab::<u32, 3>::new(),
    "Slab::new() must be all zero bytes, or a static table lands in .data"
);

impl<T, const N: usize> Slab<T, N> {
    const FITS: () = assert!(
        N as u64 <= u32::MAX as u64,
        "a Slab holds at most u32::MAX values"
    );

    /// Bytes a `Slab<T, N>` occupies: exactly `size_of::<Self>()`. `N` slots of a 4-byte
    /// stamp and a `T` (at least 4 bytes: a vacated slot keeps its free link there),
    /// then three `u32` counters, each part padded to `T`'s alignment.
    pub const MEMORY: usize = size_of::<Self>();

    /// An empty slab: `const` and all zero bytes, so it can be a `static` in `.bss`.
    pub const fn new() -> Self {
        let () = Self::FITS;
        Slab {
            slots: [const {
                Slot {
                    stamp: 0,
                    // Zeroed, not uninit: the compile-time check reads every byte.
                    body: MaybeUninit::zeroed(),
                }
            }; N],
            free_head: 0,
            never_used: 0,
            len: 0,
        }
    }

    /// Stores `value` and returns its key.
    ///
    /// # Errors
    /// `Err(value)` when all `N` slots are occupied.
    pub fn insert(&mut self, value: T) -> Result<Key, T> {
        match self.vacant_key() {
            Some(key) => {
                self.occupy(key, value);
                Ok(key)
            }
            None => Err(value),
        }
    }

    /// Stores the value `make` builds from its own key (for values that know their
    /// token), or returns `None` without calling `make` when the slab is full.
    pub fn insert_with(&mut self, make: impl FnOnce(Key) -> T) -> Option<Key> {
        let key = self.vacant_key()?;
        self.occupy(key, make(key));
        Some(key)
    }

    /// The key the next insert will return, if there is room.
    pub fn vacant_key(&self) -> Option<Key> {
        let index = if self.free_head != 0 {
            self.free_head - 1
        } else if (self.never_used as usize) < N {
            self.never_used
        } else {
            return None;
        };
        Some(Key {
            index,
            // Vacant: even, so the occupant's stamp is odd.
            stamp: self.slots[index as usize].stamp.wrapping_add(1),
        })
    }

    /// Puts `value` in the slot of `key`, which [`vacant_key`](Self::vacant_key) just gave.
    fn occupy(&mut self, key: Key, value: T) {
        let slot = &mut self.slots[key.index as usize];
        if self.free_head == key.index + 1 {
            // SAFETY: the slot heads the free list, so `remove` vacated it.
            self.free_head = unsafe { slot.next_free() };
        } else {
            self.never_used += 1;
        }
        // Vacant: there is no value to drop.
        slot.body.write(Body {
            value: ManuallyDrop::new(value),
        });
        slot.stamp = key.stamp;
        self.len += 1;
    }

    /// The value under `key`, or `None` if it was removed (or never was).
    pub fn get(&self, key: Key) -> Option<&T> {
        let slot = self.slots.get(key.index as usize)?;
        // SAFETY: `holds` checked that the slot is occupied.
        slot.holds(key).then(|| unsafe { slot.value() })
    }

    /// The value under `key`, mutably.
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if !slot.holds(key) {
            return None;
        }
        // SAFETY: as in `get`.
        Some(unsafe { slot.value_mut() })
    }

    /// Whether `key` names a live value.
    pub fn contains(&self, key: Key) -> bool {
        self.get(key).is_some()
    }

    /// The key of the value now in slot `index`, if it is occupied: turns a token that
    /// carries only the index back into a key.
    pub fn key_at(&self, index: usize) -> Option<Key> {
        let slot = self.slots.get(index)?;
        slot.is_occupied().then_some(Key {
            // `index < N <= u32::MAX` (`FITS`).
            index: index as u32,
            stamp: slot.stamp,
        })
    }

    /// Removes and returns the value under `key`; the key and its copies go stale.
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if !slot.holds(key) {
            return None;
        }
        // SAFETY: `holds` checked that the slot is occupied; its stamp goes even next,
        // so nothing reads the value again until an insert writes a new one.
        let value = unsafe { slot.vacate(self.free_head) };
        // Even: vacant.
        slot.stamp = slot.stamp.wrapping_add(1);
        self.free_head = key.index + 1;
        self.len -= 1;
        Some(value)
    }

    /// How many values are stored.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no value is stored.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether all `N` slots are occupied.
    pub const fn is_full(&self) -> bool {
        self.len as usize == N
    }

    /// The most values the slab holds: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The stored values with their keys, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (Key, &T)> {
        let used = &self.slots[..self.never_used as usize];
        (0..).zip(used).filter_map(|(index, slot)| {
            let key = Key {
                index,
                stamp: slot.stamp,
            };
            // SAFETY: `is_occupied` checked it.
            slot.is_occupied().then(|| (key, unsafe { slot.value() }))
        })
    }

    /// The stored values with their keys, mutably, in slot order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Key, &mut T)> {
        let used = &mut self.slots[..self.never_used as usize];
        (0..).zip(used).filter_map(|(index, slot)| {
            let key = Key {
                index,
                stamp: slot.stamp,
            };
            // SAFETY: `is_occupied` checked it.
            slot.is_occupied()
                .then(|| (key, unsafe { slot.value_mut() }))
        })
    }
}

impl<T, const N: usize> Drop for Slab<T, N> {
    fn drop(&mut self) {
        if !core::mem::needs_drop::<T>() {
            return;
        }
        for slot in &mut self.slots[..self.never_used as usize] {
            if slot.is_occupied() {
                // SAFETY: an occupied slot's value is initialised, and the slab is
                // going away, so nothing reads it after this drop.
                unsafe { core::ptr::drop_in_place(slot.value_mut()) };
            }
        }
    }
}

impl<T, const N: usize> Default for Slab<T, N> {
    fn default() -> Self {
        Self::new()
    }
}
#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use static_cell::ConstStaticCell;
    use std::collections::BTreeMap;
    use std::vec::Vec;

    #[test]
    fn full_slab_returns_the_value() {
        let mut slab: Slab<u32, 3> = Slab::new();
        for i in 0..3 {
            slab.insert(i).unwrap();
        }
        assert!(slab.is_full());
        assert_eq!(slab.insert(99), Err(99));
        assert_eq!(slab.insert_with(|_| unreachable!("no room")), None);
        assert_eq!(slab.vacant_key(), None);
    }

    #[test]
    fn zero_capacity_slab_is_always_full() {
        let mut slab: Slab<u8, 0> = Slab::new();
        assert_eq!(slab.insert(1), Err(1));
        assert_eq!(slab.key_at(0), None);
        assert_eq!(slab.iter().count(), 0);
    }

    #[test]
    fn stale_key_misses_the_new_occupant() {
        let mut slab: Slab<&str, 1> = Slab::new();
        let old = slab.insert("old").unwrap();
        assert_eq!(slab.remove(old), Some("old"));
        assert_eq!(slab.remove(old), None);
        let new = slab.insert_with(|key| {
            assert_eq!(key.index(), old.index());
            "new"
        });
        let new = new.unwrap();
        assert_ne!(new, old);
        assert_eq!(new.generation(), old.generation() + 1);
        assert_eq!(slab.get(old), None);
        assert_eq!(slab.get_mut(old), None);
        assert!(!slab.contains(old));
        assert_eq!(slab.key_at(0), Some(new));
    }

    #[test]
    fn dropping_the_slab_drops_each_value_once() {
        use std::rc::Rc;
        let tracker = Rc::new(());
        {
            let mut slab: Slab<Rc<()>, 4> = Slab::new();
            let a = slab.insert(tracker.clone()).unwrap();
            slab.insert(tracker.clone()).unwrap();
            drop(slab.remove(a));
            slab.insert(tracker.clone()).unwrap();
            assert_eq!(Rc::strong_count(&tracker), 3);
        }
        assert_eq!(Rc::strong_count(&tracker), 1);
    }

    #[test]
    fn key_names_its_slot_as_a_token() {
        let mut slab: Slab<(), 4> = Slab::new();
        slab.insert(()).unwrap();
        let key = slab.insert(()).unwrap();
        assert_eq!(Token::from(key), Token(1));
        assert_eq!(slab.key_at(Token::from(key).0), Some(key));
    }

    /// A 10,000-slot table of 8 KiB slots (80 MB) in a `static`: zero bytes, so in
    /// `.bss`, an anonymous mapping, not in the executable's file (which `.data` would
    /// be, 80 MB of it). Taken in place: nothing builds it on the stack.
    #[test]
    #[cfg_attr(miri, ignore = "reads /proc; Miri would also allocate the 80 MB")]
    fn a_static_table_of_80_mb_lands_in_bss() {
        static TABLE: ConstStaticCell<Slab<[u8; 8192], 10_000>> = ConstStaticCell::new(Slab::new());
        let table = TABLE.take();
        let key = table.insert([7; 8192]).unwrap();
        assert_eq!(table.get(key).map(|slot| slot[8191]), Some(7));
        let middle = core::ptr::from_ref(table).addr() + size_of_val(table) / 2;
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            std::eprintln!("no /proc/self/maps: nothing to check on this system");
            return;
        };
        let mapping = maps
            .lines()
            .find(|line| {
                let range = line.split(' ').next().unwrap();
                let (start, end) = range.split_once('-').unwrap();
                let start = usize::from_str_radix(start, 16).unwrap();
                let end = usize::from_str_radix(end, 16).unwrap();
                (start..end).contains(&middle)
            })
            .expect("the static is mapped");
        // Fields: range, perms, offset, device, inode, then the path (absent: anonymous).
        let path = mapping.split_whitespace().nth(5);
        assert_eq!(path, None, "the table is file-backed (.data): {mapping}");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16),
        Remove(usize),
        RemoveStale(usize),
        Set(usize, u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => any::<u16>().prop_map(Op::Insert),
            2 => any::<usize>().prop_map(Op::Remove),
            1 => any::<usize>().prop_map(Op::RemoveStale),
            1 => (any::<usize>(), any::<u16>()).prop_map(|(i, v)| Op::Set(i, v)),
        ]
    }

    const CASES: u32 = if cfg!(miri) { 8 } else { 2_000 };

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(CASES))]

        /// The slab agrees with a map from key to value; stale keys never reach anything.
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec(op(), 0..200)) {
            const N: usize = 8;
            let mut slab: Slab<u16, N> = Slab::new();
            let mut model: BTreeMap<(usize, u32), u16> = BTreeMap::new();
            let mut dead: Vec<Key> = Vec::new();
            for op in ops {
                let live: Vec<Key> = slab.iter().map(|(k, _)| k).collect();
                match op {
                    Op::Insert(v) => match slab.insert(v) {
                        Ok(k) => {
                            prop_assert!(model.insert((k.index(), k.generation()), v).is_none());
                        }
                        Err(back) => {
                            prop_assert_eq!(back, v);
                            prop_assert_eq!(model.len(), N);
                        }
                    },
                    Op::Remove(i) if !live.is_empty() => {
                        let k = live[i % live.len()];
                        prop_assert_eq!(slab.remove(k), model.remove(&(k.index(), k.generation())));
                        dead.push(k);
                    }
                    Op::RemoveStale(i) if !dead.is_empty() => {
                        let k = dead[i % dead.len()];
                        prop_assert_eq!(slab.remove(k), None);
                        prop_assert_eq!(slab.get(k), None);
                    }
                    Op::Set(i, v) if !live.is_empty() => {
                        let k = live[i % live.len()];
                        *slab.get_mut(k).unwrap() = v;
                        model.insert((k.index(), k.generation()), v);
                    }
                    _ => {}
                }
                prop_assert_eq!(slab.len(), model.len());
                let seen: Vec<((usize, u32), u16)> =
                    slab.iter().map(|(k, v)| ((k.index(), k.generation()), *v)).collect();
                let want: Vec<((usize, u32), u16)> = model.iter().map(|(k, v)| (*k, *v)).collect();
                prop_assert_eq!(seen, want);
                for k in &dead {
                    prop_assert!(!slab.contains(*k));
                }
            }
        }
    }
}
