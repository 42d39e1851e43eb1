//! [`Wheel`]: a fixed-capacity hierarchical timing wheel; its documentation is the
//! datasheet (example, time, costs, failure modes, algorithm).

use core::fmt;

/// Names one timer in a [`Wheel`]: its node and the node's generation at insertion.
///
/// A node's generation counts its insertions and removals: it is odd while the node
/// holds a pending timer, and a key matches only the timer it was issued for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct TimerKey {
    index: u32,
    generation: u32,
}

impl TimerKey {
    /// The node this key names, `0..N`: stable while the timer is pending, reused after.
    pub const fn index(self) -> usize {
        self.index as usize
    }

    /// The node's generation when this timer was inserted: `2 * k + 1` for the node's
    /// `k`-th timer (wrapping after 2^31 timers).
    pub const fn generation(self) -> u32 {
        self.generation
    }
}

/// Why [`Wheel::insert`] refused a timer; each variant gives the value back.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum InsertError<T> {
    /// All `N` nodes hold pending timers.
    Full(T),
    /// The deadline is [`Wheel::RANGE`] or more ticks after [`Wheel::now`].
    OutOfRange(T),
}

impl<T> InsertError<T> {
    /// The value that was not inserted.
    pub fn into_inner(self) -> T {
        match self {
            InsertError::Full(value) | InsertError::OutOfRange(value) => value,
        }
    }
}

impl<T> fmt::Display for InsertError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InsertError::Full(_) => f.write_str("timer wheel is full"),
            InsertError::OutOfRange(_) => write!(
                f,
                "timer deadline is {} or more ticks away, beyond the wheel's range",
                RANGE
            ),
        }
    }
}

impl<T: fmt::Debug> core::error::Error for InsertError<T> {}

const LEVELS: usize = 6;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
const SLOT_MASK: u64 = SLOTS as u64 - 1;
const LISTS: usize = LEVELS * SLOTS;
const RANGE: u64 = 1 << (SLOT_BITS * LEVELS as u32);

/// A link that points nowhere: ends a slot's list.
const NIL: u32 = u32::MAX;

/// How many inserts ahead [`Wheel::insert`] prefetches the node (and generation) it will
/// take from the free stack: enough inserts (each under 10 ns) to cover a miss to
/// memory, few enough that the lines are still cached when used. At 100,000 timers, 8
/// was measurably slower and 32 little faster.
const PREFETCH_AHEAD: usize = 16;

/// Starts moving `place`'s cache line into the core's caches, so that a write there soon
/// does not wait on memory. Only a hint: it changes nothing observable. A no-op except
/// on x86-64 (where SSE's `prefetcht0` is always present); core has no stable portable
/// prefetch.
#[inline]
fn prefetch<P>(place: &P) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` is `unsafe` for taking a raw pointer and for needing SSE,
    // which every x86-64 CPU has. A prefetch dereferences nothing in the language's
    // sense: it never faults and reads or writes no value the program can see; and this
    // pointer comes from a live reference anyway.
    unsafe {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((place as *const P).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = place;
}

struct Node<T> {
    /// When the timer is due (never before the `now` it was inserted at).
    deadline: u64,
    /// Next node in the same slot's list.
    next: u32,
    /// Previous node in the same slot's list; `NIL` for the list's head.
    prev: u32,
    /// `Some` while the node holds a pending timer.
    value: Option<T>,
}

/// Starts the node array on a cache line, so a node whose size divides 64 bytes (32 for
/// `Wheel<u64, N>`) never straddles two lines: one miss per node, not two.
#[repr(C, align(64))]
struct CacheAligned<A>(A);

/// A fixed-capacity hierarchical timing wheel holding up to `N` timers that carry a `T`,
/// with generation-checked [`TimerKey`]s, an exact next deadline and in-order expiry.
///
/// ```
/// use statio_core::{InsertError, Wheel};
///
/// let mut timers: Wheel<&str, 2> = Wheel::new(); // time starts at tick 0
/// let slow = timers.insert(5_000, "slow").unwrap();
/// let fast = timers.insert(30, "fast").unwrap();
/// assert_eq!(timers.insert(40, "third"), Err(InsertError::Full("third")));
/// assert_eq!(timers.next_deadline(), Some(30)); // sleep until tick 30, not a tick sooner
///
/// // Tickless: jump straight to the deadline; nothing is visited in between.
/// assert_eq!(timers.poll_expired(30), Some((fast, "fast")));
/// assert_eq!(timers.poll_expired(30), None);
/// assert_eq!(timers.now(), 30);
///
/// assert_eq!(timers.cancel(slow), Some("slow")); // O(1), and the slot is free at once
/// assert_eq!(timers.cancel(slow), None); // a stale key cancels nothing
/// assert!(timers.is_empty() && timers.next_deadline().is_none());
/// ```
///
/// # Time
///
/// The wheel counts in ticks (`u64`) and knows no durations: the caller converts (the
/// event loop rounds deadlines up, so a timer never fires early). [`now`](Wheel::now) is
/// the tick the wheel has reached: [`poll_expired`](Wheel::poll_expired) moves it forward,
/// nothing else does. A deadline is accepted when it is less than [`Wheel::RANGE`]
/// (2^36) ticks after `now` (795 days of 1 ms ticks); a deadline at or before `now` is
/// due at once and comes out of the next `poll_expired`.
///
/// # Costs
///
/// | operation | cost |
/// |---|---|
/// | [`insert`](Wheel::insert) | O(1): pop the free stack, push onto one slot's list, prefetch a later insert's node |
/// | [`cancel`](Wheel::cancel) | O(1): unlink from a doubly linked list; frees the node |
/// | [`next_deadline`](Wheel::next_deadline) | O(1): two `trailing_zeros` |
/// | [`poll_expired`](Wheel::poll_expired) | O(1) per timer and per occupied slot passed |
///
/// Over its life a timer moves down (cascades) at most `LEVELS - 1` times, each O(1).
///
/// A jump of any length costs nothing for empty stretches: the occupancy bitmaps lead
/// straight to the next occupied slot. Memory, all inline: per timer a node (an
/// `Option<T>`, a `u64` deadline, two `u32` links: 32 bytes for an 8-byte `T`), a `u32`
/// generation and an 8-byte free-stack entry; plus 4.5 KiB of slot heads, slot minima
/// and bitmaps. `Wheel<u64, 100_000>` is 4.4 MB, so large wheels belong in a `static`
/// or a `StaticCell`, not on a thread's stack.
///
/// Measured against `BinaryHeap` with lazy cancellation (`benches/benches/wheel.rs`):
/// insert takes about half the heap's time at 1,000 and at 100,000 timers. At 100,000
/// the node an insert writes is usually a cache miss in a 4 MB array; insert hides it by
/// prefetching, on x86-64, the node the free stack will hand out a few inserts later
/// (without that, insert took 1.2 times the heap's time). Expiry takes under half the
/// heap's time at 100,000 (which defers its costs to expiry), cancel about 5 ns and
/// next deadline under 2 ns at either size.
///
/// # Failure modes
///
/// Every limit hands the value back ([`InsertError`]): [`Full`](InsertError::Full) when all
/// `N` nodes hold timers, [`OutOfRange`](InsertError::OutOfRange) when the deadline is
/// `RANGE` or more ticks after `now`. Nothing panics. A [`TimerKey`] kept after its timer
/// fired or was cancelled reaches nothing, even when its node holds a new timer; the
/// check wraps after 2^31 timers in one node. `N` must be below `u32::MAX` (checked at
/// compile time). Timers due at the same tick come out in an unspecified (but
/// deterministic) order.
///
/// # Algorithm
///
/// Hierarchical timing wheels (Varghese and Lauck, *Hashed and Hierarchical Timing
/// Wheels*, SOSP 1987), laid out as in the Linux kernel's and tokio's wheels:
/// [`LEVELS`](Wheel::LEVELS)` = 6` levels of [`SLOTS`](Wheel::SLOTS)` = 64` slots; a slot of
/// level `l` spans `64^l` ticks, so level 0 has one tick per slot and the whole wheel
/// spans `64^6 = 2^36` ticks. A timer sits at the level of the highest 6-bit digit in
/// which its deadline differs from `now`, in the slot named by that digit of the
/// deadline. So every timer of level `l` is due before any slot of level `l + 1` begins,
/// and the earliest timer lives in the earliest occupied slot of the lowest occupied
/// level: a `u8` mask of occupied levels and a `u64` bitmap of occupied slots per level
/// find it with two `trailing_zeros`. When time reaches the start of a slot above level
/// 0, its timers move down (cascade) to the level their deadline now calls for; level-0
/// slots hold one deadline each, so their timers are due. Slot lists are doubly linked
/// through `u32` node indices, so cancel unlinks in O(1) and frees the node at once.
///
/// Each slot also keeps the least deadline pushed onto it since it was last empty, which
/// makes [`next_deadline`](Wheel::next_deadline) exact in O(1) rather than the slot's
/// start (what tokio's wheel reports, costing a wake-up per level a timer crosses). A
/// cancel does not raise that minimum, so after cancelling a slot's earliest timer the
/// answer may be early (never late) until time reaches that slot's start.
pub struct Wheel<T, const N: usize> {
    nodes: CacheAligned<[Node<T>; N]>,
    /// Head node of each slot's list, stored inverted (`!index`, so an empty list,
    /// `NIL`, is 0 and a new wheel's heads are zero bytes: untouched `.bss` in a zeroed
    /// static); indexed `level * SLOTS + slot`. Read through `head`/`set_head`.
    heads: [u32; LISTS],
    /// Least deadline pushed onto each slot since it was last empty (a lower bound of
    /// its timers' deadlines, and at least the slot's start); meaningful only while the
    /// slot is occupied (the first push sets it), so it needs no initial value.
    minima: [u64; LISTS],
    /// Bit `s` of `occupied[l]` is set when slot `s` of level `l` holds a timer.
    occupied: [u64; LEVELS],
    /// Bit `l` is set when `occupied[l] != 0`.
    levels: u8,
    /// Each node's generation (see [`TimerKey`]); apart from the nodes, so a node of an
    /// 8-byte `T` is 32 bytes (two to a cache line) and cancel checks a denser array.
    generations: [u32; N],
    /// Freed nodes, a stack: `free[..free_len]`. A separate array rather than a list
    /// through the nodes, so taking one does not wait on a cache miss in the last one
    /// (pointer chasing made insert 3x slower at 100,000 timers), and so insert knows
    /// which nodes the next inserts take and prefetches them. Each entry carries the
    /// generation the node's next timer gets, so insert reads no node memory.
    free: [(u32, u32); N],
    free_len: u32,
    /// Nodes `never_used..N` have never held a timer.
    never_used: u32,
    now: u64,
}

impl<T, const N: usize> Wheel<T, N> {
    /// Levels in the hierarchy.
    pub const LEVELS: usize = LEVELS;
    /// Slots per level; a slot of level `l` spans `SLOTS^l` ticks.
    pub const SLOTS: usize = SLOTS;
    /// A deadline must be less than `RANGE` ticks after [`now`](Self::now): `2^36`.
    pub const RANGE: u64 = RANGE;

    const CAPACITY_FITS: () = assert!(N < NIL as usize, "N must be below u32::MAX");

    /// An empty wheel at tick 0; `const`, so it can be a `static` or live in a
    /// `StaticCell`.
    pub const fn new() -> Self {
        Self::starting_at(0)
    }

    /// An empty wheel whose time starts at tick `now` (for a clock whose origin is far
    /// behind, such as one counting from boot).
    pub const fn starting_at(now: u64) -> Self {
        let () = Self::CAPACITY_FITS;
        Wheel {
            nodes: CacheAligned(
                [const {
                    Node {
                        deadline: 0,
                        next: NIL,
                        prev: NIL,
                        value: None,
                    }
                }; N],
            ),
            heads: [!NIL; LISTS],
            minima: [0; LISTS],
            occupied: [0; LEVELS],
            levels: 0,
            generations: [0; N],
            free: [(0, 0); N],
            free_len: 0,
            never_used: 0,
            now,
        }
    }

    /// Makes `place`, all zero bytes, an empty wheel at tick `now`, writing only what
    /// is not zero in [`starting_at`](Self::starting_at)'s wheel: the `N` nodes (none
    /// for `N = 0`) and `now`. Heads (inverted), minima (unused while empty), bitmaps,
    /// generations and the free stack are valid and right as zero bytes, so a zeroed
    /// `static`'s pages behind them stay untouched until timers use them.
    ///
    /// # Safety
    /// `place` must be valid for writes and aligned, and point to `size_of::<Self>()`
    /// zero bytes.
    pub(crate) unsafe fn init_zeroed(place: *mut Self, now: u64) {
        let () = Self::CAPACITY_FITS;
        // SAFETY (all three): `place` is valid and aligned (the caller's promise), so
        // are the field places derived from it; `write` drops nothing, and the zero
        // bytes below hold no value that needs dropping.
        let nodes = unsafe { &raw mut (*place).nodes.0 }.cast::<Node<T>>();
        for i in 0..N {
            let node = Node {
                deadline: 0,
                next: NIL,
                prev: NIL,
                value: None,
            };
            // SAFETY: as above; `i < N` stays inside the node array.
            unsafe { nodes.add(i).write(node) };
        }
        // SAFETY: as above.
        unsafe { (&raw mut (*place).now).write(now) };
    }

    /// Adds a timer carrying `value`, due at tick `deadline`, and returns its key.
    ///
    /// A `deadline` at or before [`now`](Self::now) is due at once: the next
    /// [`poll_expired`](Self::poll_expired) returns it, and its deadline reads as `now`.
    ///
    /// # Errors
    /// [`InsertError::OutOfRange`] when `deadline` is [`RANGE`](Self::RANGE) or more ticks
    /// after `now` (checked first), [`InsertError::Full`] when `N` timers are pending.
    /// Either gives `value` back.
    #[inline]
    pub fn insert(&mut self, deadline: u64, value: T) -> Result<TimerKey, InsertError<T>> {
        let deadline = if deadline < self.now {
            self.now
        } else {
            deadline
        };
        if deadline - self.now >= RANGE {
            return Err(InsertError::OutOfRange(value));
        }
        let (index, generation) = if self.free_len > 0 {
            self.free_len -= 1;
            // The free stack names the nodes the next inserts take: a freed node is
            // usually cold (in a 4 MB array at 100,000 timers), and writing it stalled
            // insert on memory. Asking for it now overlaps that miss with the inserts
            // in between (this halved insert's time at 100,000 timers).
            let ahead = (self.free_len as usize).wrapping_sub(PREFETCH_AHEAD);
            if let Some(&(ahead, _)) = self.free.get(ahead)
                && (ahead as usize) < N
            {
                prefetch(&self.nodes.0[ahead as usize]);
                prefetch(&self.generations[ahead as usize]);
            }
            self.free[self.free_len as usize]
        } else if (self.never_used as usize) < N {
            self.never_used += 1;
            (self.never_used - 1, 1)
        } else {
            return Err(InsertError::Full(value));
        };
        self.generations[index as usize] = generation;
        let node = &mut self.nodes.0[index as usize];
        node.deadline = deadline;
        node.value = Some(value);
        self.link(index, deadline);
        Ok(TimerKey { index, generation })
    }

    /// Removes the timer under `key` and returns its value, or `None` when it already
    /// fired or was cancelled. O(1); the node is free for the next insert at once.
    #[inline]
    pub fn cancel(&mut self, key: TimerKey) -> Option<T> {
        if !self.is_pending(key) {
            return None;
        }
        self.remove(key.index)
    }

    /// The deadline of the pending timer under `key` (`now` if it was inserted overdue).
    pub fn deadline(&self, key: TimerKey) -> Option<u64> {
        if !self.is_pending(key) {
            return None;
        }
        Some(self.nodes.0[key.index as usize].deadline)
    }

    /// Whether `key` names the timer its node now holds.
    #[inline]
    fn is_pending(&self, key: TimerKey) -> bool {
        // An odd generation marks a pending timer; keys carry odd ones, and checking
        // the bit keeps a key that somehow holds an even one off a free node.
        self.generations.get(key.index as usize) == Some(&key.generation) && key.generation & 1 == 1
    }

    /// Whether `key` names a pending timer.
    pub fn contains(&self, key: TimerKey) -> bool {
        self.deadline(key).is_some()
    }

    /// The earliest pending deadline, or `None` when no timer is pending; `now` when a
    /// timer is already due. O(1).
    ///
    /// Exact, except after [`cancel`](Self::cancel) removed the earliest timer of a slot
    /// above level 0: then it may be earlier than the true deadline (never later) until
    /// time reaches that slot's start, where [`poll_expired`](Self::poll_expired) sorts
    /// the slot out. A loop that sleeps until this tick never oversleeps a timer.
    #[inline]
    pub fn next_deadline(&self) -> Option<u64> {
        let (list, _) = self.next_list()?;
        Some(self.minima[list])
    }

    /// Returns one timer due at or before tick `now`, earliest deadline first, moving
    /// time forward to its deadline; when none is due, moves time to `now` and returns
    /// `None`.
    ///
    /// Call it until `None` to fire everything due; the caller may insert and cancel
    /// timers between calls (a timer inserted due at or before `now` fires in the same
    /// round). A `now` behind [`now`](Self::now) is taken as `now()`: time never runs
    /// backwards. Each call costs O(1) plus the cascades and occupied slots it passes:
    /// empty stretches of time are skipped through the bitmaps, however far `now` jumps.
    pub fn poll_expired(&mut self, now: u64) -> Option<(TimerKey, T)> {
        loop {
            // Level 0's slot for the current tick holds exactly the timers due now.
            let head = self.head((self.now & SLOT_MASK) as usize);
            if head != NIL {
                let key = TimerKey {
                    index: head,
                    generation: self.generations[head as usize],
                };
                return self.remove(head).map(|value| (key, value));
            }
            if now <= self.now {
                return None;
            }
            match self.next_list() {
                Some((list, start)) if start <= now => {
                    self.now = start;
                    if list >= SLOTS {
                        self.cascade(list);
                    }
                }
                _ => {
                    self.now = now;
                    return None;
                }
            }
        }
    }

    /// Calls `fire` with every timer due at or before tick `now`, in deadline order, and
    /// moves time to `now`: [`poll_expired`](Self::poll_expired) in a loop.
    pub fn advance(&mut self, now: u64, mut fire: impl FnMut(TimerKey, T)) {
        while let Some((key, value)) = self.poll_expired(now) {
            fire(key, value);
        }
    }

    /// The tick the wheel has reached (see [Time](Wheel#time)).
    pub const fn now(&self) -> u64 {
        self.now
    }

    /// How many timers are pending.
    pub const fn len(&self) -> usize {
        // Nodes ever used, less the free ones: one counter fewer to store per insert.
        (self.never_used - self.free_len) as usize
    }

    /// Whether no timer is pending.
    pub const fn is_empty(&self) -> bool {
        self.never_used == self.free_len
    }

    /// Whether `N` timers are pending.
    pub const fn is_full(&self) -> bool {
        self.len() == N
    }

    /// The most timers the wheel holds: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The list (`level * SLOTS + slot`) that holds the earliest timer, and its start.
    #[inline]
    fn next_list(&self) -> Option<(usize, u64)> {
        if self.levels == 0 {
            return None;
        }
        let level = self.levels.trailing_zeros();
        let occupied = self.occupied[level as usize];
        let shift = level * SLOT_BITS;
        // Level 0 may hold the current tick's slot (timers due now); above it, a level's
        // slot under `now` is always empty except on the top level, where it holds
        // timers of the next rotation: start the search after it.
        let from = ((self.now >> shift) + u64::from(level != 0)) & SLOT_MASK;
        let slot =
            (from + u64::from(occupied.rotate_right(from as u32).trailing_zeros())) & SLOT_MASK;
        let level_range = 1u64 << (shift + SLOT_BITS);
        let mut start = (self.now & !(level_range - 1)) + (slot << shift);
        if level != 0 && start <= self.now {
            // Only the top level wraps: the slot belongs to the next rotation.
            start += level_range;
        }
        Some((level as usize * SLOTS + slot as usize, start))
    }

    /// The level and slot a timer due at `deadline` belongs in at the current time.
    ///
    /// A pending timer stays where this puts it: time moves only up to the start of
    /// the earliest occupied slot before that slot cascades, and short of that start,
    /// `now` keeps the digits that made the choice. So a node needs no field naming its
    /// list; `remove` recomputes it.
    #[inline]
    fn place(&self, deadline: u64) -> (u32, u64) {
        // The highest 6-bit digit in which the deadline differs from now names the
        // level; beyond the top level's digits (a deadline across a 2^36 boundary,
        // still less than RANGE ahead), the top level holds it for the next rotation.
        let differ = (self.now ^ deadline) | SLOT_MASK;
        let level = ((63 - differ.leading_zeros()) / SLOT_BITS).min(LEVELS as u32 - 1);
        (level, (deadline >> (level * SLOT_BITS)) & SLOT_MASK)
    }

    /// Pushes node `index` onto the slot its `deadline` calls for at the current time.
    #[inline]
    fn link(&mut self, index: u32, deadline: u64) {
        // The highest 6-bit digit in which the deadline differs from now names the
        // level; beyond the top level's digits (a deadline across a 2^36 boundary,
        // still less than RANGE ahead), the top level holds it for the next rotation.
        let (level, slot) = self.place(deadline);
        let list = level as usize * SLOTS + slot as usize;
        let head = self.head(list);
        let node = &mut self.nodes.0[index as usize];
        node.next = head;
        node.prev = NIL;
        if head == NIL {
            self.occupied[level as usize] |= 1 << slot;
            self.levels |= 1 << level;
            self.minima[list] = deadline;
        } else {
            self.nodes.0[head as usize].prev = index;
            if deadline < self.minima[list] {
                self.minima[list] = deadline;
            }
        }
        self.set_head(list, index);
    }

    /// Unlinks pending node `index`, frees it, and returns its value (always `Some`:
    /// callers pass only pending nodes).
    #[inline]
    fn remove(&mut self, index: u32) -> Option<T> {
        let node = &mut self.nodes.0[index as usize];
        let (prev, next, deadline) = (node.prev, node.next, node.deadline);
        let value = node.value.take();
        let generation = self.generations[index as usize].wrapping_add(1);
        self.generations[index as usize] = generation;
        self.free[self.free_len as usize] = (index, generation.wrapping_add(1));
        self.free_len += 1;
        if next != NIL {
            self.nodes.0[next as usize].prev = prev;
        }
        if prev != NIL {
            self.nodes.0[prev as usize].next = next;
        } else {
            let (level, slot) = self.place(deadline);
            let list = level as usize * SLOTS + slot as usize;
            self.set_head(list, next);
            if next == NIL {
                self.clear(list);
            }
        }
        value
    }

    /// The head node of `list`, `NIL` when it is empty.
    #[inline]
    fn head(&self, list: usize) -> u32 {
        !self.heads[list]
    }

    #[inline]
    fn set_head(&mut self, list: usize, index: u32) {
        self.heads[list] = !index;
    }

    /// Marks the emptied `list` as empty in the bitmaps.
    #[inline]
    fn clear(&mut self, list: usize) {
        let (level, slot) = (list / SLOTS, list % SLOTS);
        self.occupied[level] &= !(1 << slot);
        if self.occupied[level] == 0 {
            self.levels &= !(1 << level);
        }
    }

    /// Moves every timer of `list` (above level 0, whose start is `now`) down to the
    /// level its deadline now calls for.
    fn cascade(&mut self, list: usize) {
        let mut index = self.head(list);
        self.set_head(list, NIL);
        self.clear(list);
        while index != NIL {
            let node = &self.nodes.0[index as usize];
            let (next, deadline) = (node.next, node.deadline);
            self.link(index, deadline);
            index = next;
        }
    }
}

impl<T, const N: usize> Default for Wheel<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> fmt::Debug for Wheel<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wheel")
            .field("now", &self.now)
            .field("len", &self.len())
            .field("capacity", &N)
            .field("next_deadline", &self.next_deadline())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    type Small = Wheel<u32, 16>;

    /// Fires everything due at or before `now`, noting the wheel's time at each expiry.
    fn drain<const N: usize>(wheel: &mut Wheel<u32, N>, now: u64) -> Vec<(u64, u32)> {
        let mut fired = Vec::new();
        while let Some((key, value)) = wheel.poll_expired(now) {
            assert!(!wheel.contains(key));
            fired.push((wheel.now(), value));
        }
        assert_eq!(wheel.now(), now);
        fired
    }

    /// Every delay that ends one tick before, at, and one tick after a level's span.
    fn boundary_delays() -> impl Iterator<Item = u64> {
        (0..=LEVELS as u32).flat_map(|level| {
            let span = 1u64 << (SLOT_BITS * level);
            [span - 1, span, span + 1]
                .into_iter()
                .filter(|&delay| delay < RANGE)
        })
    }

    #[test]
    fn a_zeroed_wheel_made_in_place_works_like_a_new_one() {
        let mut place = core::mem::MaybeUninit::<Wheel<u32, 8>>::zeroed();
        // SAFETY: `place` is aligned, writable and all zero bytes.
        unsafe { Wheel::init_zeroed(place.as_mut_ptr(), 100) };
        // SAFETY: init_zeroed made it a valid wheel (Miri checks every field).
        let wheel = unsafe { place.assume_init_mut() };
        assert!(wheel.is_empty() && wheel.next_deadline().is_none());
        assert_eq!(wheel.now(), 100);
        let a = wheel.insert(5_000, 1).unwrap();
        let b = wheel.insert(130, 2).unwrap();
        assert_eq!(wheel.next_deadline(), Some(130));
        assert_eq!(wheel.poll_expired(200), Some((b, 2)));
        assert_eq!(wheel.cancel(a), Some(1));
        assert!(wheel.is_empty());
    }

    #[test]
    fn delays_crossing_each_level_boundary_fire_on_their_tick() {
        for start in [0, 12_345, RANGE - 3] {
            for delay in boundary_delays() {
                let mut wheel: Small = Wheel::starting_at(start);
                let deadline = start + delay;
                let key = wheel.insert(deadline, 7).unwrap();
                assert_eq!(wheel.next_deadline(), Some(deadline), "{start} + {delay}");
                assert_eq!(wheel.deadline(key), Some(deadline));
                if delay > 0 {
                    assert_eq!(wheel.poll_expired(deadline - 1), None, "{start} + {delay}");
                    assert_eq!(wheel.next_deadline(), Some(deadline), "after cascades");
                }
                assert_eq!(wheel.poll_expired(deadline), Some((key, 7)));
                assert_eq!(wheel.now(), deadline);
                assert_eq!(wheel.next_deadline(), None);
            }
        }
    }

    #[test]
    fn deadlines_exactly_on_level_boundaries_fire_in_order() {
        let mut wheel: Wheel<u32, 32> = Wheel::starting_at(63);
        let deadlines: Vec<u64> = (1..LEVELS as u32)
            .map(|level| 1u64 << (SLOT_BITS * level))
            .chain([64, 65, 4095, 4097])
            .collect();
        for (value, &deadline) in deadlines.iter().enumerate() {
            wheel.insert(deadline, value as u32).unwrap();
        }
        let mut want: Vec<(u64, u32)> = deadlines
            .iter()
            .enumerate()
            .map(|(value, &deadline)| (deadline, value as u32))
            .collect();
        want.sort();
        let mut got = Vec::new();
        // Tickless: sleep exactly until each next deadline.
        while let Some(next) = wheel.next_deadline() {
            let fired = drain(&mut wheel, next);
            assert!(!fired.is_empty(), "woke at {next} for nothing");
            got.extend(fired);
        }
        got.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn far_jump_fires_every_overdue_timer_once_in_order() {
        let mut wheel: Wheel<u32, 64> = Wheel::starting_at(1_000);
        let mut want = Vec::new();
        for (i, delay) in boundary_delays()
            .chain([0, 3, 3, 70_000, RANGE - 1])
            .enumerate()
        {
            wheel.insert(1_000 + delay, i as u32).unwrap();
            want.push((1_000 + delay, i as u32));
        }
        want.sort();
        let mut got = drain(&mut wheel, 1_000 + 3 * RANGE);
        assert!(
            got.windows(2).all(|w| w[0].0 <= w[1].0),
            "out of order: {got:?}"
        );
        got.sort();
        assert_eq!(got, want);
        assert!(wheel.is_empty());
        assert_eq!(drain(&mut wheel, u64::MAX), []);
    }

    #[test]
    fn overdue_insert_fires_at_the_next_poll() {
        let mut wheel: Small = Wheel::starting_at(500);
        let later = wheel.insert(501, 1).unwrap();
        let late = wheel.insert(3, 2).unwrap();
        assert_eq!(wheel.deadline(late), Some(500));
        assert_eq!(wheel.next_deadline(), Some(500));
        assert_eq!(
            wheel.poll_expired(0),
            Some((late, 2)),
            "time never runs backwards"
        );
        assert_eq!(wheel.now(), 500);
        assert_eq!(wheel.poll_expired(501), Some((later, 1)));
    }

    #[test]
    fn timers_inserted_while_draining_fire_in_the_same_round_when_due() {
        let mut wheel: Small = Wheel::new();
        wheel.insert(10, 1).unwrap();
        wheel.insert(20, 2).unwrap();
        let mut fired = Vec::new();
        while let Some((_, value)) = wheel.poll_expired(30) {
            fired.push((wheel.now(), value));
            if value == 1 {
                // Re-armed from the handler: the wheel's time is 10 here, not 30.
                wheel.insert(wheel.now() + 5, 3).unwrap();
                wheel.insert(wheel.now() + 25, 4).unwrap();
            }
        }
        assert_eq!(fired, [(10, 1), (15, 3), (20, 2)]);
        assert_eq!(wheel.next_deadline(), Some(35));
    }

    #[test]
    fn top_level_wraps_across_a_range_boundary() {
        let start = RANGE - 5;
        let mut wheel: Small = Wheel::starting_at(start);
        let far = wheel.insert(start + RANGE - 1, 1).unwrap();
        let near = wheel.insert(start + (1 << 31), 2).unwrap();
        assert_eq!(wheel.next_deadline(), Some(start + (1 << 31)));
        assert_eq!(wheel.poll_expired(start + (1 << 31)), Some((near, 2)));
        assert_eq!(wheel.next_deadline(), Some(start + RANGE - 1));
        assert_eq!(drain(&mut wheel, start + RANGE - 2), []);
        assert_eq!(wheel.poll_expired(start + RANGE - 1), Some((far, 1)));
    }

    #[test]
    fn end_of_time_does_not_overflow() {
        let mut wheel: Small = Wheel::starting_at(u64::MAX - RANGE + 1);
        let last = wheel.insert(u64::MAX, 1).unwrap();
        assert_eq!(wheel.next_deadline(), Some(u64::MAX));
        assert_eq!(wheel.poll_expired(u64::MAX - 1), None);
        assert_eq!(wheel.poll_expired(u64::MAX), Some((last, 1)));
        assert_eq!(wheel.insert(u64::MAX, 2).map(|_| ()), Ok(()));
    }

    #[test]
    fn stale_keys_reach_nothing() {
        let mut wheel: Wheel<u32, 1> = Wheel::new();
        let fired = wheel.insert(5, 1).unwrap();
        assert_eq!(wheel.poll_expired(5), Some((fired, 1)));
        assert_eq!(wheel.cancel(fired), None);
        let cancelled = wheel.insert(9, 2).unwrap();
        assert_eq!(cancelled.index(), fired.index());
        assert_eq!(cancelled.generation(), fired.generation() + 2);
        assert_eq!(
            wheel.cancel(fired),
            None,
            "a fired key misses the node's new timer"
        );
        assert_eq!(wheel.cancel(cancelled), Some(2));
        assert_eq!(wheel.cancel(cancelled), None);
        let live = wheel.insert(9, 3).unwrap();
        assert_eq!(wheel.cancel(cancelled), None);
        assert!(!wheel.contains(cancelled) && wheel.contains(live));
        let foreign = TimerKey {
            index: 7,
            generation: 0,
        };
        assert_eq!(wheel.cancel(foreign), None, "an index beyond N");
        assert_eq!(wheel.poll_expired(9), Some((live, 3)));
    }

    #[test]
    fn nodes_freed_in_any_order_serve_later_inserts() {
        // Deep enough that insert prefetches nodes PREFETCH_AHEAD down the free stack.
        const N: usize = 4 * PREFETCH_AHEAD;
        let mut wheel: Wheel<u32, N> = Wheel::new();
        let mut keys: Vec<TimerKey> = (0..N as u32)
            .map(|i| wheel.insert(u64::from(i * 37 % 101 + 1), i).unwrap())
            .collect();
        // Free every other node by cancel, the rest by expiry.
        for key in keys.iter().step_by(2) {
            assert!(wheel.cancel(*key).is_some());
        }
        assert_eq!(drain(&mut wheel, 200).len(), N / 2);
        let mut want = Vec::new();
        for (i, old) in keys.iter_mut().enumerate() {
            let deadline = 200 + (i as u64 * 53) % 4_000;
            let key = wheel.insert(deadline, i as u32 + 1_000).unwrap();
            assert!(!wheel.contains(*old));
            *old = key;
            want.push((deadline, i as u32 + 1_000));
        }
        assert!(wheel.is_full());
        want.sort();
        let mut got = drain(&mut wheel, 5_000);
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
        got.sort();
        assert_eq!(got, want);
        assert!(keys.iter().all(|key| !wheel.contains(*key)));
    }

    #[test]
    fn full_wheel_returns_the_value() {
        let mut wheel: Wheel<u32, 3> = Wheel::new();
        for i in 0..3 {
            wheel.insert(u64::from(i), i).unwrap();
        }
        assert!(wheel.is_full());
        assert_eq!(wheel.insert(1, 99), Err(InsertError::Full(99)));
        let mut zero: Wheel<u32, 0> = Wheel::new();
        assert_eq!(zero.insert(1, 5).map_err(InsertError::into_inner), Err(5));
        assert_eq!(zero.poll_expired(u64::MAX), None);
    }

    #[test]
    fn out_of_range_returns_the_value() {
        let mut wheel: Small = Wheel::starting_at(100);
        assert_eq!(
            wheel.insert(100 + RANGE, 1),
            Err(InsertError::OutOfRange(1))
        );
        assert_eq!(wheel.insert(u64::MAX, 2), Err(InsertError::OutOfRange(2)));
        assert!(wheel.insert(100 + RANGE - 1, 3).is_ok());
        assert_eq!(wheel.len(), 1);
    }

    #[test]
    fn next_deadline_is_exact_across_levels() {
        let mut wheel: Wheel<u32, 32> = Wheel::starting_at(777);
        let mut deadlines: Vec<u64> = [5u64, 64, 300, 4_000, 4_096, 70_000, 300_000, 20_000_000]
            .iter()
            .chain(&[2_000_000_000, RANGE - 1])
            .map(|delay| 777 + delay)
            .collect();
        for (i, &deadline) in deadlines.iter().enumerate().rev() {
            wheel.insert(deadline, i as u32).unwrap();
            assert_eq!(wheel.next_deadline(), Some(deadline));
        }
        deadlines.sort();
        for (i, &deadline) in deadlines.iter().enumerate() {
            assert_eq!(wheel.next_deadline(), Some(deadline));
            assert_eq!(drain(&mut wheel, deadline), [(deadline, i as u32)]);
        }
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn cancelling_a_slots_earliest_timer_leaves_a_bound_that_is_never_late() {
        let mut wheel: Small = Wheel::new();
        let first = wheel.insert(5_000, 1).unwrap();
        wheel.insert(5_100, 2).unwrap();
        assert_eq!(wheel.cancel(first), Some(1));
        let bound = wheel.next_deadline().unwrap();
        assert!((4_096..=5_100).contains(&bound), "{bound}");
        // Waking at the bound sorts the slot out; the next answer is exact.
        assert_eq!(drain(&mut wheel, bound), []);
        assert_eq!(wheel.next_deadline(), Some(5_100));
    }

    #[test]
    fn dropping_the_wheel_drops_each_value_once() {
        use std::rc::Rc;
        let tracker = Rc::new(());
        {
            let mut wheel: Wheel<Rc<()>, 8> = Wheel::new();
            let a = wheel.insert(3, tracker.clone()).unwrap();
            wheel.insert(3, tracker.clone()).unwrap();
            wheel.insert(100_000, tracker.clone()).unwrap();
            wheel.insert(1, tracker.clone()).unwrap();
            drop(wheel.cancel(a));
            drop(wheel.poll_expired(2));
            assert_eq!(Rc::strong_count(&tracker), 3);
        }
        assert_eq!(Rc::strong_count(&tracker), 1);
    }

    #[test]
    fn a_wheel_can_be_a_static() {
        static TIMERS: Wheel<u32, 4> = Wheel::new();
        assert!(TIMERS.is_empty());
        assert_eq!(TIMERS.capacity(), 4);
        assert_eq!(TIMERS.next_deadline(), None);
    }

    #[test]
    fn errors_say_what_went_wrong() {
        use std::string::ToString;
        assert_eq!(InsertError::Full(()).to_string(), "timer wheel is full");
        assert_eq!(
            InsertError::OutOfRange(()).to_string(),
            "timer deadline is 68719476736 or more ticks away, beyond the wheel's range"
        );
        let _: &dyn core::error::Error = &InsertError::Full(1u8);
    }

    /// A deadline or a time to move to, relative to the wheel's time, weighted towards
    /// the places a wheel gets wrong: level spans and their edges, the range's end.
    #[derive(Debug, Clone, Copy)]
    enum When {
        /// `now + n`, n small: level 0 and its edge.
        Soon(u64),
        /// `now + 64^level + edge - 1`.
        Span(u32, u64),
        /// The next multiple of `64^level` after now, `+ edge - 1`.
        Aligned(u32, u64),
        /// `now + n`, n anywhere up to a little past the range.
        Far(u64),
        /// `now - n` (overdue).
        Past(u64),
    }

    impl When {
        fn at(self, now: u64) -> u64 {
            match self {
                When::Soon(n) | When::Far(n) => now.saturating_add(n),
                When::Span(level, edge) => now
                    .saturating_add(1 << (SLOT_BITS * level))
                    .saturating_add(edge)
                    .saturating_sub(1),
                When::Aligned(level, edge) => {
                    let span = 1u64 << (SLOT_BITS * level);
                    ((now / span).saturating_add(1))
                        .saturating_mul(span)
                        .saturating_add(edge)
                        .saturating_sub(1)
                }
                When::Past(n) => now.saturating_sub(n),
            }
        }
    }

    fn when() -> impl Strategy<Value = When> {
        prop_oneof![
            3 => (0..140u64).prop_map(When::Soon),
            3 => (0..=LEVELS as u32, 0..3u64).prop_map(|(l, e)| When::Span(l, e)),
            2 => (1..=LEVELS as u32, 0..3u64).prop_map(|(l, e)| When::Aligned(l, e)),
            2 => (0..RANGE + 100).prop_map(When::Far),
            1 => (0..200u64).prop_map(When::Past),
        ]
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(When),
        Cancel(usize),
        CancelStale(usize),
        /// Fire everything due up to this time.
        Advance(When),
        /// Take at most one due timer (the caller stops mid-round).
        PollOne(When),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => when().prop_map(Op::Insert),
            2 => any::<usize>().prop_map(Op::Cancel),
            1 => any::<usize>().prop_map(Op::CancelStale),
            2 => when().prop_map(Op::Advance),
            2 => when().prop_map(Op::PollOne),
        ]
    }

    /// The reference: a list of pending timers, searched and sorted by brute force.
    struct Model {
        now: u64,
        /// (deadline, value, key) of each pending timer; deadlines are clamped to the
        /// `now` of their insertion, as the wheel documents.
        pending: Vec<(u64, u32, TimerKey)>,
    }

    impl Model {
        fn earliest(&self) -> Option<u64> {
            self.pending.iter().map(|p| p.0).min()
        }

        fn remove_value(&mut self, value: u32) -> (u64, u32, TimerKey) {
            let at = self.pending.iter().position(|p| p.1 == value).unwrap();
            self.pending.swap_remove(at)
        }
    }

    const CASES: u32 = if cfg!(miri) { 8 } else { 10_000 };

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(CASES))]

        /// The wheel fires what a brute-force list would, on the same ticks, in deadline
        /// order (timers due on one tick compared as a set); refuses what the list says
        /// is full or out of range, giving the value back; and stale keys cancel
        /// nothing. `next_deadline` is never late, and exact in runs without cancels.
        #[test]
        fn behaves_like_a_sorted_list(
            start in prop_oneof![Just(0u64), 0..RANGE * 2, Just(u64::MAX - RANGE - 10)],
            cancels in any::<bool>(),
            ops in proptest::collection::vec(op(), 0..64),
        ) {
            const N: usize = 16;
            let mut wheel: Wheel<u32, N> = Wheel::starting_at(start);
            let mut model = Model { now: start, pending: Vec::new() };
            let mut dead: Vec<TimerKey> = Vec::new();
            for (value, op) in ops.into_iter().enumerate() {
                let value = value as u32;
                match op {
                    Op::Insert(when) => {
                        let deadline = when.at(model.now).max(model.now);
                        let got = wheel.insert(when.at(model.now), value);
                        if deadline - model.now >= RANGE {
                            prop_assert_eq!(got, Err(InsertError::OutOfRange(value)));
                        } else if model.pending.len() == N {
                            prop_assert_eq!(got, Err(InsertError::Full(value)));
                        } else {
                            let key = got.unwrap();
                            prop_assert_eq!(wheel.deadline(key), Some(deadline));
                            model.pending.push((deadline, value, key));
                        }
                    }
                    Op::Cancel(i) if cancels && !model.pending.is_empty() => {
                        let (_, value, key) = model.pending.swap_remove(i % model.pending.len());
                        prop_assert_eq!(wheel.cancel(key), Some(value));
                        dead.push(key);
                    }
                    Op::CancelStale(i) if !dead.is_empty() => {
                        let key = dead[i % dead.len()];
                        prop_assert_eq!(wheel.cancel(key), None);
                        prop_assert!(!wheel.contains(key));
                    }
                    Op::Advance(when) => {
                        let target = when.at(model.now).max(model.now);
                        let mut fired = Vec::new();
                        while let Some((key, value)) = wheel.poll_expired(target) {
                            fired.push((wheel.now(), value));
                            let (deadline, _, want_key) = model.remove_value(value);
                            prop_assert_eq!(key, want_key);
                            prop_assert_eq!(wheel.now(), deadline, "fired off its tick");
                            dead.push(key);
                        }
                        let in_order = fired.windows(2).all(|w| w[0].0 <= w[1].0);
                        prop_assert!(in_order, "out of order: {:?}", fired);
                        let none_due = model.pending.iter().all(|p| p.0 > target);
                        prop_assert!(none_due, "left due timers");
                        model.now = target;
                    }
                    Op::PollOne(when) => {
                        let target = when.at(model.now).max(model.now);
                        match (wheel.poll_expired(target), model.earliest()) {
                            (Some((key, value)), Some(earliest)) => {
                                let (deadline, _, want_key) = model.remove_value(value);
                                prop_assert_eq!(key, want_key);
                                prop_assert_eq!(deadline, earliest, "not the earliest");
                                prop_assert_eq!(wheel.now(), deadline);
                                model.now = deadline;
                                dead.push(key);
                            }
                            (None, earliest) => {
                                prop_assert!(earliest.is_none_or(|e| e > target));
                                model.now = target;
                            }
                            (Some(fired), None) => {
                                prop_assert!(false, "fired {:?} from nothing", fired)
                            }
                        }
                    }
                    _ => {}
                }
                prop_assert_eq!(wheel.now(), model.now);
                prop_assert_eq!(wheel.len(), model.pending.len());
                let next = wheel.next_deadline();
                match model.earliest() {
                    None => prop_assert_eq!(next, None),
                    Some(earliest) if cancels => {
                        let next = next.unwrap();
                        let never_late = model.now <= next && next <= earliest;
                        prop_assert!(never_late, "{} not in {}..={}", next, model.now, earliest);
                    }
                    Some(earliest) => prop_assert_eq!(next, Some(earliest)),
                }
            }
        }
    }
}
