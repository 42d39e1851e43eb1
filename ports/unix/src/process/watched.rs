//! [`Watched`]: the children one watcher watches, at most `N`, each in a numbered slot.

use super::{ChildError, ExitStatus, Pid};

/// Where a watched child is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Running, as far as the watcher knows.
    Running,
    /// Reported exited by the OS, not reaped yet: `waitpid` did not find it waitable
    /// (kqueue reports `NOTE_EXIT` in exit1, before the process is a zombie).
    Exiting,
    /// Reaped already (at `watch`, or by a scan): the status waits for `try_reap`.
    Reaped(ExitStatus),
}

#[derive(Copy, Clone, Debug)]
struct Entry {
    /// 0 for a free slot: a watched pid is positive.
    pid: Pid,
    state: State,
}

const FREE: Entry = Entry {
    pid: 0,
    state: State::Running,
};

/// The children of one watcher, at most `N`, each in a slot `0..N` that the port can
/// use as the key of its OS registration (a pidfd's epoll data, a `kevent`'s `udata`).
///
/// Finding a pid is a scan of the slots, O(N): it happens on `watch` only, never on
/// the path of an exit.
#[derive(Debug)]
pub struct Watched<const N: usize> {
    entries: [Entry; N],
    len: usize,
}

impl<const N: usize> Watched<N> {
    /// No child watched.
    pub const fn new() -> Watched<N> {
        Watched {
            entries: [FREE; N],
            len: 0,
        }
    }

    /// Puts `pid` (positive) in a free slot, running; returns the slot.
    ///
    /// # Errors
    /// [`ChildError::NotAChild`] for a pid not positive; [`ChildError::AlreadyWatched`];
    /// [`ChildError::Full`] when `N` children are watched.
    pub fn insert(&mut self, pid: Pid) -> Result<usize, ChildError> {
        if pid <= 0 {
            return Err(ChildError::NotAChild(pid));
        }
        if self.find(pid).is_some() {
            return Err(ChildError::AlreadyWatched(pid));
        }
        let slot = self
            .entries
            .iter()
            .position(|e| e.pid == 0)
            .ok_or(ChildError::Full { capacity: N })?;
        self.entries[slot] = Entry {
            pid,
            state: State::Running,
        };
        self.len += 1;
        Ok(slot)
    }

    /// Frees `slot`; returns its pid, if it held one.
    pub fn remove(&mut self, slot: usize) -> Option<Pid> {
        let entry = self.entries.get_mut(slot).filter(|e| e.pid != 0)?;
        let pid = entry.pid;
        *entry = FREE;
        self.len -= 1;
        Some(pid)
    }

    /// The pid in `slot`, if any.
    pub fn pid(&self, slot: usize) -> Option<Pid> {
        self.entries
            .get(slot)
            .map(|e| e.pid)
            .filter(|&pid| pid != 0)
    }

    /// The state of the child in `slot`, if any.
    pub fn state(&self, slot: usize) -> Option<State> {
        self.entries
            .get(slot)
            .filter(|e| e.pid != 0)
            .map(|e| e.state)
    }

    /// Records that the child in `slot` was reaped with `status`.
    pub fn set_reaped(&mut self, slot: usize, status: ExitStatus) {
        self.set_state(slot, State::Reaped(status));
    }

    /// Sets the state of the child in `slot`, if any.
    pub fn set_state(&mut self, slot: usize, state: State) {
        if let Some(entry) = self.entries.get_mut(slot).filter(|e| e.pid != 0) {
            entry.state = state;
        }
    }

    /// The first slot, from `start`, whose child is not [`State::Running`].
    pub fn first_not_running(&self, start: usize) -> Option<usize> {
        (start..N)
            .find(|&slot| self.entries[slot].pid != 0 && self.entries[slot].state != State::Running)
    }

    /// The slot of `pid`, if watched.
    pub fn find(&self, pid: Pid) -> Option<usize> {
        self.entries.iter().position(|e| e.pid == pid && pid != 0)
    }

    /// How many children are watched.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no child is watched.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for Watched<N> {
    fn default() -> Self {
        Watched::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_and_limits_are_errors() {
        let mut watched: Watched<2> = Watched::new();
        assert_eq!(watched.insert(0), Err(ChildError::NotAChild(0)));
        assert_eq!(watched.insert(-5), Err(ChildError::NotAChild(-5)));
        assert_eq!(watched.insert(10), Ok(0));
        assert_eq!(watched.insert(10), Err(ChildError::AlreadyWatched(10)));
        assert_eq!(watched.insert(11), Ok(1));
        assert_eq!(watched.insert(12), Err(ChildError::Full { capacity: 2 }));
        watched.set_reaped(0, ExitStatus::from_raw(0));
        assert_eq!(
            watched.state(0),
            Some(State::Reaped(ExitStatus::from_raw(0)))
        );
        assert_eq!(watched.remove(0), Some(10));
        assert_eq!(
            (watched.remove(0), watched.state(0), watched.pid(0)),
            (None, None, None)
        );
        assert_eq!(watched.find(11), Some(1));
        assert_eq!(watched.insert(12), Ok(0));
        assert_eq!(watched.state(0), Some(State::Running));
        assert_eq!(watched.len(), 2);
        assert_eq!(watched.remove(7), None);
    }
}
