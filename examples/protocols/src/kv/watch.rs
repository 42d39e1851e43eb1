//! `WATCH`: a transaction that `EXEC` discards (a null reply) when a watched key changed
//! or expired after it was watched, Redis's optimistic locking, in a fixed size.
//!
//! A connection keeps versions, not keys: the store counts the changes to each of
//! [`BUCKETS`] buckets of keys (by a hash of the key), and `WATCH` remembers each
//! watched key's bucket with its count, and the earliest deadline of the watched keys
//! that had one. So `EXEC` never misses a change to a watched key; it also fails after
//! a change to another key of the same bucket (a client retries then, as after any
//! `WATCH` failure). Up to [`WATCHED`] buckets a connection: a `WATCH` beyond that is
//! refused with an error and watches none of its keys.

use super::store::{BUCKETS, Millis, Store, Version};

/// The buckets a connection can watch at once.
pub const WATCHED: usize = 8;

/// A connection's watched keys, in its [`Session`](super::Session): 88 bytes (64-bit).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct Watch {
    versions: [Version; WATCHED],
    len: u8,
    /// The earliest deadline of the watched keys that had one and had not expired.
    deadline: Option<Millis>,
}

/// `WATCH` would watch more than [`WATCHED`] buckets.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct TooMany;

impl Watch {
    /// Watches nothing.
    pub(super) const fn new() -> Self {
        Watch {
            versions: [Version {
                bucket: 0,
                changes: 0,
            }; WATCHED],
            len: 0,
            deadline: None,
        }
    }

    /// Watches `keys` as they are now in `store`: all of them, or none when they would
    /// take more than [`WATCHED`] buckets. A bucket watched already keeps its older
    /// version, as Redis ignores a key watched twice.
    pub(super) fn add<'k, const KEYS: usize, const KEY: usize, const VALUE: usize>(
        &mut self,
        keys: impl IntoIterator<Item = &'k [u8]>,
        store: &Store<KEYS, KEY, VALUE>,
        now: Millis,
    ) -> Result<(), TooMany> {
        let mut next = *self;
        for key in keys {
            let version = store.version(key);
            let watched = &next.versions[..usize::from(next.len)];
            if !watched.iter().any(|w| w.bucket == version.bucket) {
                let slot = next
                    .versions
                    .get_mut(usize::from(next.len))
                    .ok_or(TooMany)?;
                *slot = version;
                next.len += 1;
            }
            if let Some(deadline) = store.get(key, now).and_then(|entry| entry.deadline) {
                next.deadline = Some(next.deadline.map_or(deadline, |d| d.min(deadline)));
            }
        }
        *self = next;
        Ok(())
    }

    /// Whether `EXEC` must fail: a watched bucket changed, or a watched key that had
    /// not expired when it was watched has expired now (Redis 7.0's rule).
    pub(super) fn failed<const KEYS: usize, const KEY: usize, const VALUE: usize>(
        &self,
        store: &Store<KEYS, KEY, VALUE>,
        now: Millis,
    ) -> bool {
        let watched = &self.versions[..usize::from(self.len)];
        watched.iter().any(|&version| store.changed(version))
            || self.deadline.is_some_and(|deadline| now > deadline)
    }

    /// Watches nothing (`UNWATCH`, and after every `EXEC` and `DISCARD`).
    pub(super) fn clear(&mut self) {
        *self = Watch::new();
    }
}

impl Default for Watch {
    fn default() -> Self {
        Watch::new()
    }
}

// The buckets fit the u16 of a `Version`.
const _: () = assert!(BUCKETS <= 1 << 16);
