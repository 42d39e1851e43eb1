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
//! Insert, lookup and removal are O(1): vacant slots form an intrusive free list, and
//! slots never used yet are taken in order, so `new` is `const` and touches no slot.
//! Each slot counts its removals; a [`Key`] holds the count it was issued at, so a key
//! kept after its value was removed never reaches the slot's next occupant. The count
//! wraps after 2^32 removals from one slot.

/// Names one value in a [`Slab`]: its slot and the slot's generation at insertion.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    index: usize,
    generation: u32,
}

impl Key {
    /// The slot this key names, `0..N`: stable while the value lives, reused after.
    pub const fn index(self) -> usize {
        self.index
    }

    /// How many values the slot held before this one.
    pub const fn generation(self) -> u32 {
        self.generation
    }
}

/// A slot's vacant link: `NONE` ends the free list.
const NONE: usize = usize::MAX;

enum Entry<T> {
    Vacant { next_free: usize },
    Occupied(T),
}

struct Slot<T> {
    generation: u32,
    entry: Entry<T>,
}

/// A fixed arena of up to `N` values of `T`, addressed by generation-checked [`Key`]s.
pub struct Slab<T, const N: usize> {
    slots: [Slot<T>; N],
    /// Head of the list of vacated slots, or `NONE`.
    free_head: usize,
    /// Slots `never_used..N` have never held a value.
    never_used: usize,
    len: usize,
}

impl<T, const N: usize> Slab<T, N> {
    /// An empty slab; `const`, so it can be a `static` or live in a `StaticCell`.
    pub const fn new() -> Self {
        Slab {
            slots: [const {
                Slot {
                    generation: 0,
                    entry: Entry::Vacant { next_free: NONE },
                }
            }; N],
            free_head: NONE,
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
        let index = if self.free_head != NONE {
            self.free_head
        } else if self.never_used < N {
            self.never_used
        } else {
            return None;
        };
        Some(Key {
            index,
            generation: self.slots[index].generation,
        })
    }

    fn occupy(&mut self, key: Key, value: T) {
        let slot = &mut self.slots[key.index];
        if let Entry::Vacant { next_free } = slot.entry {
            if key.index == self.free_head {
                self.free_head = next_free;
            } else {
                self.never_used += 1;
            }
        }
        slot.entry = Entry::Occupied(value);
        self.len += 1;
    }

    /// The value under `key`, or `None` if it was removed (or never was).
    pub fn get(&self, key: Key) -> Option<&T> {
        match self.slots.get(key.index)? {
            Slot {
                generation,
                entry: Entry::Occupied(value),
            } if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    /// The value under `key`, mutably.
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.slots.get_mut(key.index)? {
            Slot {
                generation,
                entry: Entry::Occupied(value),
            } if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    /// Whether `key` names a live value.
    pub fn contains(&self, key: Key) -> bool {
        self.get(key).is_some()
    }

    /// The key of the value now in slot `index`, if it is occupied: turns a token that
    /// carries only the index back into a key.
    pub fn key_at(&self, index: usize) -> Option<Key> {
        match self.slots.get(index)? {
            Slot {
                generation,
                entry: Entry::Occupied(_),
            } => Some(Key {
                index,
                generation: *generation,
            }),
            _ => None,
        }
    }

    /// Removes and returns the value under `key`; the key and its copies go stale.
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.index)?;
        if slot.generation != key.generation || matches!(slot.entry, Entry::Vacant { .. }) {
            return None;
        }
        let vacant = Entry::Vacant {
            next_free: self.free_head,
        };
        let Entry::Occupied(value) = core::mem::replace(&mut slot.entry, vacant) else {
            return None;
        };
        slot.generation = slot.generation.wrapping_add(1);
        self.free_head = key.index;
        self.len -= 1;
        Some(value)
    }

    /// How many values are stored.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no value is stored.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether all `N` slots are occupied.
    pub const fn is_full(&self) -> bool {
        self.len == N
    }

    /// The most values the slab holds: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The stored values with their keys, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (Key, &T)> {
        self.slots[..self.never_used]
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| match &slot.entry {
                Entry::Occupied(value) => Some((
                    Key {
                        index,
                        generation: slot.generation,
                    },
                    value,
                )),
                Entry::Vacant { .. } => None,
            })
    }

    /// The stored values with their keys, mutably, in slot order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Key, &mut T)> {
        self.slots[..self.never_used]
            .iter_mut()
            .enumerate()
            .filter_map(|(index, slot)| match &mut slot.entry {
                Entry::Occupied(value) => Some((
                    Key {
                        index,
                        generation: slot.generation,
                    },
                    value,
                )),
                Entry::Vacant { .. } => None,
            })
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
