//! [`Store`]: a fixed number of keys and values of bounded size, with deadlines.

use heapless::Vec;
use heapless::index_map::FnvIndexMap;

/// Milliseconds on the caller's monotonic clock; deadlines are on it too. Signed, as in
/// Redis: `EXPIRE k -5` computes a deadline in the past.
pub(super) type Millis = i64;

/// Up to `KEYS` keys of at most `KEY` bytes, each with a value of at most `VALUE` bytes
/// and an optional deadline.
///
/// A `heapless` `FnvIndexMap` (open addressing, Robin Hood, `KEYS` a power of two) with
/// `heapless::Vec` keys and values: every entry reserves `KEY + VALUE` bytes, whatever
/// it holds, and the store is one block of `KEYS` entries. FNV is not keyed, so a
/// client can choose keys that collide; a lookup then probes up to `KEYS` entries (a
/// bound, not a hang; Redis uses SipHash for this).
pub(super) struct Store<const KEYS: usize, const KEY: usize, const VALUE: usize> {
    map: FnvIndexMap<Vec<u8, KEY>, Entry<VALUE>, KEYS>,
    /// The changes to the keys of each bucket, counted (wrapping): `WATCH`'s versions.
    changes: [u32; BUCKETS],
    /// Entries with a deadline, expired or not.
    volatile: usize,
    /// Where the next [`expire`](Self::expire) step starts.
    cursor: usize,
}

/// How many buckets the keys are hashed into for `WATCH`: each counts the changes to
/// its keys (4 KiB).
pub(super) const BUCKETS: usize = 1024;

/// A key's bucket and the count of changes to it: what `WATCH` remembers of a key.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Version {
    pub bucket: u16,
    pub changes: u32,
}

/// The bucket of `key`: FNV-1a, as the map hashes (heapless does not expose its hasher).
fn bucket(key: &[u8]) -> usize {
    let hash = key.iter().fold(0x811c_9dc5_u32, |hash, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    hash as usize % BUCKETS
}

/// Counts a change to `key` in `changes` (Redis's `signalModifiedKey`).
fn touch(changes: &mut [u32; BUCKETS], key: &[u8]) {
    let count = &mut changes[bucket(key)];
    *count = count.wrapping_add(1);
}

/// A value and its deadline.
pub(super) struct Entry<const VALUE: usize> {
    pub value: Vec<u8, VALUE>,
    pub deadline: Option<Millis>,
}

impl<const VALUE: usize> Entry<VALUE> {
    /// Redis's `keyIsExpired`: expired once `now` is past the deadline.
    fn expired(&self, now: Millis) -> bool {
        self.deadline.is_some_and(|deadline| now > deadline)
    }
}

/// Why a write was refused; nothing changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Refused {
    KeyTooLong,
    ValueTooLarge,
    /// No room for another key, even after removing the expired ones.
    Full,
}

impl<const KEYS: usize, const KEY: usize, const VALUE: usize> Store<KEYS, KEY, VALUE> {
    pub const fn new() -> Self {
        Store {
            map: FnvIndexMap::new(),
            changes: [0; BUCKETS],
            volatile: 0,
            cursor: 0,
        }
    }

    /// Keys held, the expired ones not yet removed included (as Redis's `DBSIZE`).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Keys with a deadline, expired or not.
    pub fn volatile(&self) -> usize {
        self.volatile
    }

    /// The entry of `key` unless it is absent or expired: the lazy check every read makes.
    pub fn get(&self, key: &[u8], now: Millis) -> Option<&Entry<VALUE>> {
        self.map.get(key).filter(|entry| !entry.expired(now))
    }

    /// The version of `key` now: `WATCH` compares it with the one at `EXEC`.
    pub fn version(&self, key: &[u8]) -> Version {
        let bucket = bucket(key);
        Version {
            bucket: bucket as u16, // BUCKETS fits u16
            changes: self.changes[bucket],
        }
    }

    /// Whether the bucket of `version` changed since it was taken.
    pub fn changed(&self, version: Version) -> bool {
        self.changes[usize::from(version.bucket)] != version.changes
    }

    /// Removes `key` if it has expired, so that a write finds it absent.
    fn purge(&mut self, key: &[u8], now: Millis) {
        if self.map.get(key).is_some_and(|entry| entry.expired(now)) {
            self.remove_entry(key);
        }
    }

    fn remove_entry(&mut self, key: &[u8]) -> bool {
        match self.map.swap_remove(key) {
            Some(entry) => {
                if entry.deadline.is_some() {
                    self.volatile -= 1;
                }
                true
            }
            None => false,
        }
    }

    /// Removes `key`; whether it was there (and not expired).
    pub fn remove(&mut self, key: &[u8], now: Millis) -> bool {
        self.purge(key, now);
        // Removing an expired key (`purge`, `expire`) is no change: it was gone already
        // (Redis 7.0 does not fail a `WATCH` for it either).
        let removed = self.remove_entry(key);
        if removed {
            touch(&mut self.changes, key);
        }
        removed
    }

    /// Whether a write of these sizes would be refused for its sizes.
    pub fn check(key: &[u8], value_len: usize) -> Result<(), Refused> {
        if key.len() > KEY {
            Err(Refused::KeyTooLong)
        } else if value_len > VALUE {
            Err(Refused::ValueTooLarge)
        } else {
            Ok(())
        }
    }

    /// Sets `key` to `value` with `deadline`, or with the deadline it has when
    /// `keep_deadline`. One lookup when the key exists (the hot path of `SET`).
    pub fn set(
        &mut self,
        key: &[u8],
        value: &[u8],
        deadline: Option<Millis>,
        keep_deadline: bool,
        now: Millis,
    ) -> Result<(), Refused> {
        Self::check(key, value.len())?;
        let index = match self.map.get_index_of(key) {
            Some(index) => index,
            None => {
                self.make_room(1, now)?;
                let entry = Entry {
                    value: Vec::new(),
                    deadline: None,
                };
                let owned = Vec::from_slice(key).map_err(|_| Refused::KeyTooLong)?;
                self.map.insert(owned, entry).map_err(|_| Refused::Full)?;
                self.map.get_index_of(key).ok_or(Refused::Full)?
            }
        };
        let (_, entry) = self.map.get_index_mut(index).ok_or(Refused::Full)?;
        let had = entry.deadline;
        // An expired entry is overwritten as a new one: its deadline does not carry over.
        let kept = if entry.expired(now) { None } else { had };
        let deadline = if keep_deadline { kept } else { deadline };
        entry.value.clear();
        // Fits: checked above.
        let _ = entry.value.extend_from_slice(value);
        entry.deadline = deadline;
        self.volatile =
            self.volatile + usize::from(deadline.is_some()) - usize::from(had.is_some());
        touch(&mut self.changes, key);
        Ok(())
    }

    /// Gives `key`, which must be present, this deadline (`None`: none).
    pub fn set_deadline(&mut self, key: &[u8], deadline: Option<Millis>) {
        touch(&mut self.changes, key);
        if let Some(entry) = self.map.get_mut(key) {
            let old = core::mem::replace(&mut entry.deadline, deadline);
            self.volatile =
                self.volatile + usize::from(deadline.is_some()) - usize::from(old.is_some());
        }
    }

    /// Whether `new` keys fit; if not, removes every expired key first.
    pub fn make_room(&mut self, new: usize, now: Millis) -> Result<(), Refused> {
        if self.map.len() + new > KEYS {
            self.expire(now, KEYS);
        }
        if self.map.len() + new > KEYS {
            Err(Refused::Full)
        } else {
            Ok(())
        }
    }

    /// Looks at up to `budget` keys from where the last call stopped (round robin) and
    /// removes the expired ones; returns how many it removed.
    pub fn expire(&mut self, now: Millis, budget: usize) -> usize {
        let mut removed = 0;
        for _ in 0..budget {
            if self.volatile == 0 || self.map.is_empty() {
                break;
            }
            if self.cursor >= self.map.len() {
                self.cursor = 0;
            }
            let Some((key, entry)) = self.map.get_index(self.cursor) else {
                break;
            };
            if entry.expired(now) {
                // Removing swaps the last entry into this index: look at it next.
                let key = key.clone();
                self.remove_entry(&key);
                removed += 1;
            } else {
                self.cursor += 1;
            }
        }
        removed
    }

    /// Removes every key, counting a change to each that had not expired.
    pub fn clear(&mut self, now: Millis) {
        for (key, entry) in &self.map {
            if !entry.expired(now) {
                touch(&mut self.changes, key);
            }
        }
        self.map.clear();
        self.volatile = 0;
        self.cursor = 0;
    }
}
