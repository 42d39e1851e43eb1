//! [`Wheel`]: a fixed-capacity hierarchical timing wheel; its documentation is the
//! datasheet (example, time, costs, failure modes, algorithm).
//!
//! # Invariants, for whoever changes it next
//!
//! - **Placement.** A pending node sits in the list `place(deadline)` names at the
//!   current `now`, and stays there until its slot cascades (see `place`): no field
//!   names a node's list, `remove` recomputes it.
//! - **Inverted heads.** `heads` holds `!index`, so an empty list (`NIL`) is 0: zero
//!   bytes are an empty wheel, which the loop's in-place construction
//!   relies on (the zero-bytes contract, `event_loop/cell.rs`). Touch heads only through
//!   `head`/`set_head`; a new field must be empty as zero bytes or be written by
//!   `init_zeroed`.
//! - **Bitmaps.** Bit `s` of `occupied[l]` is set exactly when list `l * SLOTS + s` is
//!   not empty, bit `l` of `levels` exactly when `occupied[l] != 0`; `minima[list]` is
//!   read only while its list is not empty (the first push sets it).
//! - **Free-stack generations.** A node's generation is odd while it holds a timer.
//!   `free[..free_len]` are the free nodes, each with the (odd) generation its next
//!   timer gets, bumped ahead at `remove`, so `insert` reads no node memory; nodes
//!   `never_used..N` never held a timer and start at generation 1. So
//!   `len = never_used - free_len`.
//! - **Prefetch.** `insert` prefetches the node `PREFETCH_AHEAD` entries down the free
//!   stack. A hint only: it changes nothing observable, and it is the only `unsafe`
//!   besides `init_zeroed`.

use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::mark::Mark;

mod key;
pub use key::{TimerError, TimerKey};

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

/// The id of the next wheel built in place (the event loop's): see [`TimerKey`].
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

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
/// use statio_core::{TimerError, Wheel};
///
/// let mut timers: Wheel<&str, 2> = Wheel::new(); // time starts at tick 0
/// let slow = timers.insert(5_000, "slow").unwrap();
/// let fast = timers.insert(30, "fast").unwrap();
/// assert_eq!(timers.insert(40, "third"), Err(TimerError::Full("third")));
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
/// Every limit hands the value back ([`TimerError`]): [`Full`](TimerError::Full) when all
/// `N` nodes hold timers, [`OutOfRange`](TimerError::OutOfRange) when the deadline is
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
    /// `NIL`, is 0 and a new wheel's heads are zero bytes; see the invariants);
    /// indexed `level * SLOTS + slot`. Read through `head`/`set_head`.
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
    /// The most timers pending at once since the last `reset_marks` (`Mark::peak`).
    peak: u32,
    /// Inserts refused with `TimerError::Full` since the last `reset_marks`.
    full: u64,
    now: u64,
    /// Stamped into every key, checked by every key lookup (see [`TimerKey`]).
    id: u32,
}

impl<T, const N: usize> Wheel<T, N> {
    /// Levels in the hierarchy.
    pub const LEVELS: usize = LEVELS;
    /// Slots per level; a slot of level `l` spans `SLOTS^l` ticks.
    pub const SLOTS: usize = SLOTS;
    /// A deadline must be less than `RANGE` ticks after [`now`](Self::now): `2^36`.
    pub const RANGE: u64 = RANGE;
    /// Bytes a `Wheel<T, N>` occupies: exactly `size_of::<Self>()`. Per timer a node
    /// (an `Option<T>`, a `u64` deadline and two `u32` links), a `u32` generation and
    /// an 8-byte free-stack entry; fixed, 384 list heads (`u32`) and minima (`u64`),
    /// the bitmaps and counters: about 4.7 KiB, nodes aligned to 64 bytes.
    pub const MEMORY: usize = size_of::<Self>();

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
            peak: 0,
            full: 0,
            now,
            id: 0,
        }
    }

    /// Makes `place`, all zero bytes, an empty wheel at tick `now` with an id of its
    /// own, writing only what is not zero in [`starting_at`](Self::starting_at)'s
    /// wheel: the `N` nodes (none for `N = 0`), `now` and the id. Heads (inverted), minima (unused while empty), bitmaps,
    /// generations, the free stack and the marks are valid and right as zero bytes, so a zeroed
    /// `static`'s pages behind them stay untouched until timers use them (the loop's
    /// zero-bytes contract, stated in `event_loop/cell.rs`).
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
        // Relaxed: the id must only differ from other wheels'; it orders nothing.
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe {
            (&raw mut (*place).now).write(now);
            (&raw mut (*place).id).write(id);
        }
    }

    /// Adds a timer carrying `value`, due at tick `deadline`, and returns its key.
    ///
    /// A `deadline` at or before [`now`](Self::now) is due at once: the next
    /// [`poll_expired`](Self::poll_expired) returns it, and its deadline reads as `now`.
    ///
    /// # Errors
    /// [`TimerError::OutOfRange`] when `deadline` is [`RANGE`](Self::RANGE) or more ticks
    /// after `now` (checked first), [`TimerError::Full`] when `N` timers are pending.
    /// Either gives `value` back.
    #[inline]
    pub fn insert(&mut self, deadline: u64, value: T) -> Result<TimerKey, TimerError<T>> {
        let deadline = if deadline < self.now {
            self.now
        } else {
            deadline
        };
        if deadline - self.now >= RANGE {
            return Err(TimerError::OutOfRange(value));
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
            self.full = self.full.saturating_add(1);
            return Err(TimerError::Full(value));
        };
        self.peak = self.peak.max(self.never_used - self.free_len);
        self.generations[index as usize] = generation;
        let node = &mut self.nodes.0[index as usize];
        node.deadline = deadline;
        node.value = Some(value);
        self.link(index, deadline);
        Ok(TimerKey {
            index,
            generation,
            wheel: self.id,
        })
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
        key.wheel == self.id
            && self.generations.get(key.index as usize) == Some(&key.generation)
            && key.generation & 1 == 1
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
                    wheel: self.id,
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
    #[inline]
    pub const fn is_empty(&self) -> bool {
        // Every pending timer is on a list (the bitmaps' invariant): one byte to test,
        // which the loop does twice a turn.
        self.levels == 0
    }

    /// Whether `N` timers are pending.
    pub const fn is_full(&self) -> bool {
        self.len() == N
    }

    /// The most timers the wheel holds: `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Timers pending now and at their peak since the wheel was made or
    /// [`reset_marks`](Self::reset_marks); limit hits are inserts refused with
    /// [`TimerError::Full`] (not `OutOfRange`: that is a deadline, not a capacity).
    pub const fn marks(&self) -> Mark {
        Mark {
            now: self.len(),
            peak: self.peak as usize,
            capacity: N,
            limit_hits: self.full,
        }
    }

    /// Starts a new window of [`marks`](Self::marks): the peak is what is pending now,
    /// no limit hits.
    pub fn reset_marks(&mut self) {
        self.peak = self.len() as u32;
        self.full = 0;
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
mod tests;
