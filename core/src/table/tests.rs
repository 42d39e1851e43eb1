//! The table on the simulated selector: limits, the stale-token rule within a batch, and
//! a model test against a map.

extern crate std;

use super::*;
use crate::sim::{SimSelector, SimSource};
use crate::{Ready, Run};
use core::time::Duration;
use heapless::Vec;
use proptest::prelude::*;
use std::collections::BTreeMap;

const N: usize = 4;
type Loop = EventLoop<Rec, SimSelector, /*sources*/ 6, /*timers*/ 0, /*events*/ 8>;

/// Records each dispatched token with the state it found there; on the first event of
/// `replace_on`, removes `victim` and inserts a new source (which takes the victim's slot).
#[derive(Default)]
struct Rec {
    table: SourceTable<SimSource, u32, N>,
    seen: Vec<(Token, Option<u32>), 16>,
    replace_on: Option<(Token, Token, SimSource)>,
}

impl Handler for Rec {
    type Timeout = ();
    type Message = ();
    type Loop = Loop;

    fn ready(&mut self, el: &mut Loop, token: Token, _: Ready) {
        let state = self.table.get(token).map(|(_, state)| *state);
        self.seen.push((token, state)).unwrap();
        if let Some((on, victim, source)) = self.replace_on.take_if(|(on, ..)| *on == token) {
            let _ = on;
            assert!(self.table.remove(el, victim).is_some());
            let new = self
                .table
                .insert(el, source, 99, Interest::READABLE, PollOpt::level());
            assert_eq!(new.unwrap(), victim, "LIFO reuse: the victim's slot");
            el.selector_mut()
                .set_ready(source.0, Ready::READABLE)
                .unwrap();
        }
    }
}

fn level() -> PollOpt {
    PollOpt::level()
}

#[test]
fn full_table_and_taken_token_hand_source_and_state_back() {
    let mut el = Loop::new().unwrap();
    let mut table: SourceTable<SimSource, u32, N> = SourceTable::new();
    // A source registered outside the table under token 0: the table's first slot.
    el.register(&SimSource(100), Token(0)).unwrap();
    let taken = table.insert(&mut el, SimSource(1), 1, Interest::READABLE, level());
    let taken = taken.unwrap_err();
    assert_eq!(taken.error, Error::TokenInUse(Token(0)));
    assert_eq!((taken.source, taken.state), (SimSource(1), 1));
    el.deregister(&SimSource(100), Token(0)).unwrap();
    // The selector refuses a handle registered already (here under token 5).
    el.register(&SimSource(5), Token(5)).unwrap();
    let dup = table.insert(&mut el, SimSource(5), 5, Interest::READABLE, level());
    assert!(matches!(dup.unwrap_err().error, Error::Os(_)));
    assert!(
        !el.is_registered(Token(0)),
        "a refused insert frees its token"
    );
    for i in 0..N as i32 {
        table
            .insert(&mut el, SimSource(i), i as u32, Interest::READABLE, level())
            .unwrap();
    }
    assert!(table.is_full());
    let full = table.insert(&mut el, SimSource(9), 9, Interest::READABLE, level());
    let full = full.unwrap_err();
    assert_eq!(full.error, Error::TableFull { capacity: N });
    assert_eq!(Error::from(full), Error::TableFull { capacity: N });
    assert_eq!(table.remove(&mut el, Token(N)), None, "not a table token");
    assert_eq!(table.remove(&mut el, Token(1)), Some((SimSource(1), 1)));
    assert_eq!(
        table.reregister(&mut el, Token(1), Interest::WRITABLE, level()),
        Err(Error::NotRegistered(Token(1)))
    );
    table
        .reregister(&mut el, Token(2), Interest::WRITABLE, level())
        .unwrap();
}

#[test]
fn a_stale_event_in_the_batch_never_reaches_the_slots_new_occupant() {
    let mut el = Loop::new().unwrap();
    let mut rec = Rec::default();
    let a = rec
        .table
        .insert(&mut el, SimSource(1), 1, Interest::READABLE, level())
        .unwrap();
    let b = rec
        .table
        .insert(&mut el, SimSource(2), 2, Interest::READABLE, level())
        .unwrap();
    let old = el.registration(a).unwrap();
    // Re-register a after b: the sim reports in registration order, so b's event comes
    // first in the batch.
    rec.table.remove(&mut el, a).unwrap();
    let a = rec
        .table
        .insert(&mut el, SimSource(1), 1, Interest::READABLE, level())
        .unwrap();
    assert_ne!(el.registration(a), Some(old));
    el.selector_mut().set_ready(1, Ready::READABLE).unwrap();
    el.selector_mut().set_ready(2, Ready::READABLE).unwrap();
    // b's event is first in the batch: its callback replaces a, whose event follows.
    rec.replace_on = Some((b, a, SimSource(3)));
    Run::run_once(&mut el, &mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(
        rec.seen.as_slice(),
        [(b, Some(2))],
        "a's old event was dropped"
    );
    // Next turn the new occupant's own event arrives, with its own state.
    el.selector_mut().set_ready(2, Ready::EMPTY).unwrap();
    rec.seen.clear();
    Run::run_once(&mut el, &mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(rec.seen.as_slice(), [(a, Some(99))]);
    // A registration kept past its callback reaches nothing once the slot is reused.
    assert!(rec.table.get_current(&el, old).is_none());
    let now = el.registration(a).unwrap();
    assert_eq!(rec.table.get_current(&el, now).map(|(_, s)| *s), Some(99));
}

#[test]
fn zero_bytes_are_an_empty_table() {
    // SAFETY: the type documents that all zero bytes are an empty table (Miri checks it).
    let table: SourceTable<SimSource, u64, 3> =
        unsafe { core::mem::MaybeUninit::zeroed().assume_init() };
    assert!(table.is_empty());
    assert_eq!(table.iter().count(), 0);
    assert_eq!(table.capacity(), 3);
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u32),
    Remove(usize),
    Get(usize),
    Turn,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<u32>().prop_map(Op::Insert),
        2 => (0..N + 2).prop_map(Op::Remove),
        1 => (0..N + 2).prop_map(Op::Get),
        1 => Just(Op::Turn),
    ]
}

const CASES: u32 = if cfg!(miri) { 6 } else { 1_000 };

proptest! {
    #![proptest_config(crate::test_support::proptest_config(CASES))]

    /// The table against a map from token to (handle, state): same contents after every
    /// step, every removed registration stays ended, and a turn dispatches exactly the
    /// tokens in the table.
    #[test]
    fn table_matches_a_map(ops in proptest::collection::vec(op(), 1..60)) {
        let mut el = Loop::new().unwrap();
        let mut rec = Rec::default();
        let mut model: BTreeMap<usize, (i32, u32)> = BTreeMap::new();
        let mut ended: std::vec::Vec<Registration> = std::vec::Vec::new();
        let mut next_handle = 0;
        // The marks the table and the loop's registry should report.
        let (mut peak, mut full) = (0, 0);
        for op in ops {
            match op {
                Op::Insert(state) => {
                    next_handle += 1;
                    let source = SimSource(next_handle);
                    match rec.table.insert(&mut el, source, state, Interest::READABLE, level()) {
                        Ok(token) => {
                            prop_assert!(token.0 < N);
                            prop_assert!(model.insert(token.0, (source.0, state)).is_none());
                            peak = peak.max(model.len());
                            prop_assert!(!ended.contains(&el.registration(token).unwrap()));
                        }
                        Err(rejected) => {
                            prop_assert_eq!(model.len(), N);
                            prop_assert_eq!(rejected.error, Error::TableFull { capacity: N });
                            full += 1;
                            prop_assert_eq!((rejected.source, rejected.state), (source, state));
                        }
                    }
                }
                Op::Remove(i) => {
                    let registration = el.registration(Token(i));
                    let got = rec.table.remove(&mut el, Token(i));
                    let want = model.remove(&i);
                    prop_assert_eq!(got.map(|(s, t)| (s.0, t)), want);
                    if want.is_some() {
                        ended.push(registration.unwrap());
                        prop_assert!(!el.is_registered(Token(i)));
                    }
                }
                Op::Get(i) => {
                    let got = rec.table.get(Token(i)).map(|(s, t)| (s.0, *t));
                    prop_assert_eq!(got, model.get(&i).copied());
                    prop_assert_eq!(rec.table.contains(Token(i)), model.contains_key(&i));
                }
                Op::Turn => {
                    for (handle, _) in model.values() {
                        el.selector_mut().set_ready(*handle, Ready::READABLE).unwrap();
                    }
                    rec.seen.clear();
                    Run::run_once(&mut el, &mut rec, Some(Duration::ZERO)).unwrap();
                    let mut seen: std::vec::Vec<(usize, Option<u32>)> =
                        rec.seen.iter().map(|(t, s)| (t.0, *s)).collect();
                    seen.sort_unstable();
                    let want: std::vec::Vec<(usize, Option<u32>)> =
                        model.iter().map(|(t, (_, s))| (*t, Some(*s))).collect();
                    prop_assert_eq!(seen, want);
                }
            }
            prop_assert_eq!(rec.table.len(), model.len());
            let marks = Mark { now: model.len(), peak, capacity: N, limit_hits: full };
            prop_assert_eq!(rec.table.marks(), marks);
            // The table is the loop's only user: its registry counts the same sources.
            let sources = el.stats().sources;
            prop_assert_eq!((sources.now, sources.peak), (model.len(), peak));
            let listed: std::vec::Vec<(usize, i32, u32)> =
                rec.table.iter().map(|(t, s, v)| (t.0, s.0, *v)).collect();
            let want: std::vec::Vec<(usize, i32, u32)> =
                model.iter().map(|(t, (h, v))| (*t, *h, *v)).collect();
            prop_assert_eq!(listed, want);
            for registration in &ended {
                prop_assert!(rec.table.get_current(&el, *registration).is_none());
            }
        }
    }
}
