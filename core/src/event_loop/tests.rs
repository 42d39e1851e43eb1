//! The loop on the simulated selector: dispatch, stale events, limits, timers, the
//! channel and the in-place cell.

use super::*;
use crate::sim::{SimSelector, SimSource};
use crate::{Ready, Token};
use heapless::Vec;

type Loop = EventLoop<Recorder, SimSelector, 8, 4, 4>;

/// Records every callback; optionally deregisters a victim when an event arrives.
#[derive(Default)]
struct Recorder {
    ready: Vec<(Token, Ready), 64>,
    /// Each timer value fired, with the simulated time it fired at.
    fired: Vec<(u32, Duration), 64>,
    /// Timer values that set a new timer of zero delay when they fire.
    rearm: Option<u32>,
    /// Each channel message, in the order delivered.
    notified: Vec<u32, 64>,
    interrupted: usize,
    turns: usize,
    /// On any event of `.0`, deregister source `.1` under token `.2`.
    deregister_on: Option<(Token, SimSource, Token)>,
    /// On the first event of `.0`, deregister source `.2` from token `.1` and register
    /// a new source with the same handle under the same token.
    replace_on: Option<(Token, Token, SimSource)>,
}

impl Handler for Recorder {
    type Timeout = u32;
    type Message = u32;
    type Loop = Loop;

    fn notify(&mut self, _: &mut Loop, message: u32) {
        self.notified.push(message).unwrap();
    }

    fn timeout(&mut self, el: &mut Loop, value: u32) {
        let at = el
            .selector()
            .clock()
            .now()
            .duration_since(crate::Instant::ZERO);
        self.fired.push((value, at)).unwrap();
        if self.rearm == Some(value) {
            el.timeout(value, Duration::ZERO).unwrap();
        }
    }

    fn ready(&mut self, el: &mut Loop, token: Token, ready: Ready) {
        self.ready.push((token, ready)).unwrap();
        if let Some((on, victim, victim_token)) = self.deregister_on
            && on == token
        {
            el.deregister(&victim, victim_token).unwrap();
        }
        if let Some((on, victim_token, source)) = self.replace_on
            && on == token
        {
            self.replace_on = None;
            el.deregister(&source, victim_token).unwrap();
            el.register(&SimSource(source.0), victim_token).unwrap();
        }
    }

    fn interrupted(&mut self, _: &mut Loop) {
        self.interrupted += 1;
    }

    fn tick(&mut self, _: &mut Loop) {
        self.turns += 1;
    }
}

fn tokens(r: &Recorder) -> std::vec::Vec<usize> {
    r.ready.iter().map(|(t, _)| t.0).collect()
}

extern crate std;

#[test]
fn dispatches_ready_sources_with_their_tokens() {
    let mut el = Loop::new().unwrap();
    el.register(&SimSource(10), Token(3)).unwrap();
    el.register_opt(
        &SimSource(11),
        Token(5),
        Interest::WRITABLE,
        PollOpt::edge(),
    )
    .unwrap();
    el.selector_mut().set_ready(10, Ready::READABLE).unwrap();
    el.selector_mut().set_ready(11, Ready::WRITABLE).unwrap();
    let mut rec = Recorder::default();
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(
        rec.ready.as_slice(),
        &[(Token(3), Ready::READABLE), (Token(5), Ready::WRITABLE)]
    );
    assert_eq!(rec.turns, 1);
}

#[test]
fn a_loop_built_in_its_cell_works_and_is_built_once() {
    static CELL: LoopCell<Loop> = LoopCell::new();
    let zero = Config::new().timer_tick(Duration::ZERO);
    assert!(matches!(CELL.init(zero), Err(Error::InvalidConfig(_))));
    // The refusal left the cell empty: a valid config builds the loop.
    let el = CELL.init(Config::new()).unwrap();
    assert!(matches!(
        CELL.init(Config::new()),
        Err(Error::LoopCellTaken)
    ));
    el.register(&SimSource(10), Token(3)).unwrap();
    el.selector_mut().set_ready(10, Ready::READABLE).unwrap();
    el.timeout(7, Duration::from_millis(2)).unwrap();
    let mut rec = Recorder::default();
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(tokens(&rec), [3]);
    el.deregister(&SimSource(10), Token(3)).unwrap();
    assert!(!el.is_registered(Token(3)));
    // Nothing ready: the turn sleeps until the timer's deadline.
    el.run_once(&mut rec, None).unwrap();
    assert_eq!(fired(&rec), [7]);
}

#[test]
fn every_limit_is_a_typed_error() {
    let mut el = Loop::new().unwrap();
    assert_eq!(
        el.register(&SimSource(1), Token(8)),
        Err(Error::TokenOutOfRange {
            token: Token(8),
            capacity: 8
        })
    );
    el.register(&SimSource(1), Token(0)).unwrap();
    assert_eq!(
        el.register(&SimSource(2), Token(0)),
        Err(Error::TokenInUse(Token(0)))
    );
    // The same source under a second token: the selector refuses, the token stays free.
    let err = el.register(&SimSource(1), Token(1)).unwrap_err();
    assert!(matches!(err, Error::Os(os) if os.kind() == embedded_io::ErrorKind::AlreadyExists));
    assert!(!el.is_registered(Token(1)));
    assert_eq!(
        el.reregister(&SimSource(2), Token(0), Interest::BOTH, PollOpt::edge()),
        Err(Error::NotRegistered(Token(0)))
    );
    assert_eq!(
        el.deregister(&SimSource(1), Token(7)),
        Err(Error::NotRegistered(Token(7)))
    );
    assert_eq!(
        el.deregister(&SimSource(1), Token(99)),
        Err(Error::NotRegistered(Token(99)))
    );
    el.deregister(&SimSource(1), Token(0)).unwrap();
    assert!(!el.is_registered(Token(0)));
}

/// A loop with sources 10 and 11 under tokens 1 and 2, both readable: one batch.
fn two_ready() -> Loop {
    let mut el = Loop::new().unwrap();
    el.register(&SimSource(10), Token(1)).unwrap();
    el.register(&SimSource(11), Token(2)).unwrap();
    el.selector_mut().set_ready(10, Ready::READABLE).unwrap();
    el.selector_mut().set_ready(11, Ready::READABLE).unwrap();
    el
}

#[test]
fn a_source_deregistered_in_the_batch_gets_no_event() {
    let mut el = two_ready();
    let mut rec = Recorder {
        deregister_on: Some((Token(1), SimSource(11), Token(2))),
        ..Recorder::default()
    };
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(tokens(&rec), [1]);
}

#[test]
fn a_handle_reopened_in_the_batch_gets_no_stale_event() {
    // Tokens 1 and 2 are ready in one batch. Handling token 1, the handler closes
    // token 2's source and registers a new source with the same handle number under
    // the same token. The queued event belongs to the old registration: dropped.
    let mut el = two_ready();
    let mut rec = Recorder {
        replace_on: Some((Token(1), Token(2), SimSource(11))),
        ..Recorder::default()
    };
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(tokens(&rec), [1]);
    assert!(el.is_registered(Token(2)));
    // The new registration reports its own readiness, and only that.
    el.deregister(&SimSource(10), Token(1)).unwrap();
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(tokens(&rec), [1]);
    el.selector_mut()
        .set_ready(11, Ready::WRITABLE | Ready::READABLE)
        .unwrap();
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(tokens(&rec), [1, 2]);
}

/// Registers `SimSource(i)` under `Token(i)`, edge-triggered and readable, for `i` in
/// `0..n`.
fn edge_ready<H: Handler, const S: usize, const T: usize, const E: usize>(
    el: &mut EventLoop<H, SimSelector, S, T, E>,
    n: i32,
) {
    for i in 0..n {
        el.register_opt(
            &SimSource(i),
            Token(i as usize),
            Interest::READABLE,
            PollOpt::edge(),
        )
        .unwrap();
        el.selector_mut().set_ready(i, Ready::READABLE).unwrap();
    }
}

#[test]
fn overflowing_the_events_buffer_loses_nothing() {
    // 4 events per turn, 7 ready edge-triggered sources: two turns deliver all 7.
    let mut el = Loop::new().unwrap();
    edge_ready(&mut el, 7);
    let mut rec = Recorder::default();
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(rec.ready.len(), 4);
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    let mut seen = tokens(&rec);
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2, 3, 4, 5, 6]);
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(rec.ready.len(), 7, "edge-triggered: nothing more");
}

#[test]
fn eintr_reaches_interrupted_and_the_loop_goes_on() {
    let mut el = Loop::new().unwrap();
    el.register(&SimSource(1), Token(0)).unwrap();
    el.selector_mut().interrupt_next();
    let mut rec = Recorder::default();
    el.run_once(&mut rec, None).unwrap();
    assert_eq!((rec.interrupted, rec.ready.len(), rec.turns), (1, 0, 1));
    el.selector_mut().set_ready(1, Ready::READABLE).unwrap();
    el.run_once(&mut rec, None).unwrap();
    assert_eq!(tokens(&rec), [0]);
}

#[test]
fn max_sleep_caps_the_select_wait() {
    let cap = Duration::from_millis(5);
    let mut el = Loop::configured(Config::new().max_sleep(cap)).unwrap();
    let mut rec = Recorder::default();
    el.run_once(&mut rec, None).unwrap();
    assert_eq!(el.selector().last_max_wait(), Some(cap));
    el.run_once(&mut rec, Some(Duration::from_millis(1)))
        .unwrap();
    assert_eq!(
        el.selector().last_max_wait(),
        Some(Duration::from_millis(1))
    );
    let mut el = Loop::new().unwrap();
    el.run_once(&mut rec, None).unwrap();
    assert_eq!(el.selector().last_max_wait(), None);
}

#[test]
fn run_returns_after_shutdown_and_reports_running() {
    struct Stopper(usize);
    type L = EventLoop<Stopper, SimSelector, 2, 0, 2>;
    impl Handler for Stopper {
        type Timeout = ();
        type Message = ();
        type Loop = L;
        fn tick(&mut self, el: &mut L) {
            assert!(el.is_running());
            self.0 += 1;
            if self.0 == 3 {
                el.shutdown();
            }
        }
    }
    let mut el = L::new().unwrap();
    let mut h = Stopper(0);
    assert!(!el.is_running());
    el.run(&mut h).unwrap();
    assert_eq!(h.0, 3);
    assert!(!el.is_running());
}

/// `run` tests `running` only on turns with extras, and `shutdown` sets them: a
/// shutdown from `ready` (dispatch) or from `timeout` (the turn's extras, which then
/// find nothing else left) still ends `run` after that turn, with no further select.
#[test]
fn run_returns_after_a_shutdown_from_ready_or_timeout() {
    #[derive(Default)]
    struct StopIn {
        from_timeout: bool,
        turns: usize,
    }
    type L = EventLoop<StopIn, SimSelector, 2, 1, 2>;
    impl Handler for StopIn {
        type Timeout = ();
        type Message = ();
        type Loop = L;
        fn ready(&mut self, el: &mut L, _: Token, _: Ready) {
            if !self.from_timeout {
                el.shutdown();
            }
        }
        fn timeout(&mut self, el: &mut L, (): ()) {
            el.shutdown();
        }
        fn tick(&mut self, el: &mut L) {
            self.turns += 1;
            // A bound, so a regression fails the asserts below rather than hanging.
            if self.turns == 5 {
                el.shutdown();
            }
        }
    }
    for from_timeout in [false, true] {
        let mut el = L::new().unwrap();
        let mut h = StopIn {
            from_timeout,
            turns: 0,
        };
        if from_timeout {
            el.timeout((), Duration::ZERO).unwrap();
        } else {
            el.register(&SimSource(1), Token(1)).unwrap();
            el.selector_mut().set_ready(1, Ready::READABLE).unwrap();
        }
        el.run(&mut h).unwrap();
        assert_eq!(
            (h.turns, el.selector().select_calls()),
            (1, 1),
            "{from_timeout}"
        );
        assert!(!el.is_running());
        // A turn of `run_once` then finds no extras left and clears them.
        el.run_once(&mut h, Some(Duration::ZERO)).unwrap();
        assert!(!el.extras, "{from_timeout}");
    }
}

#[test]
fn default_ready_routes_to_readable_and_writable() {
    #[derive(Default)]
    struct Seed {
        readable: Vec<Ready, 8>,
        writable: usize,
    }
    type L = EventLoop<Seed, SimSelector, 2, 1, 2>;
    impl Handler for Seed {
        type Timeout = ();
        type Message = ();
        type Loop = L;
        fn readable(&mut self, _: &mut L, _: Token, hint: Ready) {
            self.readable.push(hint).unwrap();
        }
        fn writable(&mut self, _: &mut L, _: Token) {
            self.writable += 1;
        }
    }
    let mut el = L::new().unwrap();
    el.register_opt(&SimSource(1), Token(0), Interest::BOTH, PollOpt::edge())
        .unwrap();
    let mut h = Seed::default();
    let turn = |el: &mut L, h: &mut Seed, r: Ready| {
        el.selector_mut().set_ready(1, r).unwrap();
        el.run_once(h, Some(Duration::ZERO)).unwrap();
    };
    turn(&mut el, &mut h, Ready::READABLE | Ready::WRITABLE);
    turn(&mut el, &mut h, Ready::HUP);
    turn(&mut el, &mut h, Ready::WRITABLE);
    assert_eq!(
        h.readable.as_slice(),
        &[Ready::READABLE | Ready::WRITABLE, Ready::HUP]
    );
    assert_eq!(h.writable, 2);
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn fired(rec: &Recorder) -> std::vec::Vec<u32> {
    rec.fired.iter().map(|(v, _)| *v).collect()
}

#[test]
fn a_timer_fires_once_at_its_deadline_never_before() {
    let mut el = Loop::new().unwrap();
    let mut rec = Recorder::default();
    el.timeout(7, ms(10)).unwrap();
    // The select sleeps exactly until the deadline, then the timer fires.
    el.run_once(&mut rec, None).unwrap();
    assert_eq!(el.selector().last_max_wait(), Some(ms(10)));
    assert_eq!(rec.fired.as_slice(), &[(7, ms(10))]);
    // Nothing pending: the next turn may sleep for ever.
    el.run_once(&mut rec, None).unwrap();
    assert_eq!(el.selector().last_max_wait(), None);
    assert_eq!(rec.fired.len(), 1);
}

#[test]
fn a_deadline_between_ticks_rounds_up() {
    let tick = Config::new().timer_tick(ms(10));
    let mut el = Loop::configured(tick).unwrap();
    let mut rec = Recorder::default();
    el.timeout(1, Duration::from_micros(10_001)).unwrap();
    // Not due at 10 ms (that would be early): the deadline is the 20 ms tick.
    el.run_once(&mut rec, Some(ms(10))).unwrap();
    assert!(rec.fired.is_empty());
    el.run_once(&mut rec, None).unwrap();
    assert_eq!(rec.fired.as_slice(), &[(1, ms(20))]);
}

#[test]
fn an_idle_loop_sleeps_until_its_timer() {
    // One timer 2 s away, nothing else: at most a handful of selects before it fires.
    let mut el = Loop::new().unwrap();
    let mut rec = Recorder::default();
    el.timeout(1, Duration::from_secs(2)).unwrap();
    for _ in 0..5 {
        if !rec.fired.is_empty() {
            break;
        }
        el.run_once(&mut rec, None).unwrap();
    }
    assert_eq!(fired(&rec), [1]);
    assert!(
        el.selector().select_calls() <= 2,
        "{} selects",
        el.selector().select_calls()
    );
}

#[test]
fn a_clock_jump_fires_every_overdue_timer_once_in_order() {
    let mut el = Loop::new().unwrap();
    let mut rec = Recorder::default();
    for (value, delay) in [(3, 300_000), (1, 5), (2, 70), (4, 5_000_000)] {
        el.timeout(value, ms(delay)).unwrap();
    }
    el.selector().clock().advance(Duration::from_secs(7200));
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(fired(&rec), [1, 2, 3, 4]);
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(rec.fired.len(), 4);
}

#[test]
fn clear_timeout_cancels_once_and_stale_handles_cancel_nothing() {
    let mut el = Loop::new().unwrap();
    let mut rec = Recorder::default();
    let a = el.timeout(1, ms(5)).unwrap();
    let b = el.timeout(2, ms(5)).unwrap();
    assert!(el.clear_timeout(a));
    assert!(!el.clear_timeout(a));
    el.run_once(&mut rec, None).unwrap();
    assert_eq!(fired(&rec), [2]);
    assert!(!el.clear_timeout(b), "fired: its handle is stale");
    // A new timer reuses a's slot; a's handle still cancels nothing.
    let _c = el.timeout(3, ms(5)).unwrap();
    assert!(!el.clear_timeout(a));
    el.run_once(&mut rec, None).unwrap();
    assert_eq!(fired(&rec), [2, 3]);
}

#[test]
fn timer_limits_hand_the_value_back() {
    let mut el = Loop::new().unwrap();
    for i in 0..4 {
        el.timeout(i, ms(1)).unwrap();
    }
    assert_eq!(el.timeout(99, ms(1)), Err(TimerError::Full(99)));
    let mut el = Loop::new().unwrap();
    assert_eq!(
        el.timeout(5, Duration::from_secs(100 * 365 * 86_400)),
        Err(TimerError::OutOfRange(5))
    );
    assert_eq!(el.timeout(6, Duration::MAX), Err(TimerError::OutOfRange(6)));
}

#[test]
fn a_zero_tick_is_refused() {
    let zero = Config::new().timer_tick(Duration::ZERO);
    assert!(matches!(
        Loop::configured(zero),
        Err(Error::InvalidConfig(_))
    ));
}

#[test]
fn a_timer_rearmed_at_zero_delay_cannot_starve_io() {
    let mut el = Loop::new().unwrap();
    el.register(&SimSource(1), Token(0)).unwrap();
    el.selector_mut().set_ready(1, Ready::READABLE).unwrap();
    let mut rec = Recorder {
        rearm: Some(9),
        ..Recorder::default()
    };
    el.timeout(9, Duration::ZERO).unwrap();
    for _ in 0..3 {
        el.run_once(&mut rec, None).unwrap();
    }
    // One firing per turn, and the level-triggered source every turn.
    assert_eq!(fired(&rec), [9, 9, 9]);
    assert_eq!(tokens(&rec), [0, 0, 0]);
    assert_eq!(el.selector().last_max_wait(), Some(Duration::ZERO));
}

use crate::channel::{Channel, NoWake, SendError};

#[test]
fn channel_messages_reach_notify_in_order_a_bounded_number_per_turn() {
    static CHANNEL: Channel<u32, 4, NoWake> = Channel::new();
    let mut el = Loop::configured(Config::new().messages_per_turn(3)).unwrap();
    assert!(el.sender().is_none());
    let tx = el.attach_channel(&CHANNEL).unwrap();
    for i in 0..4 {
        tx.send(i).unwrap();
    }
    assert_eq!(tx.send(4), Err(SendError::Full(4)));
    let mut rec = Recorder::default();
    el.run_once(&mut rec, None).unwrap();
    // Messages were queued, so the turn did not sleep; three of four were delivered.
    assert_eq!(el.selector().last_max_wait(), Some(Duration::ZERO));
    assert_eq!(rec.notified.as_slice(), &[0, 1, 2]);
    el.run_once(&mut rec, None).unwrap();
    assert_eq!(el.selector().last_max_wait(), Some(Duration::ZERO));
    assert_eq!(rec.notified.as_slice(), &[0, 1, 2, 3]);
    // Nothing queued: the loop may sleep as long as it was asked to.
    el.sender().unwrap().send(5).unwrap();
    el.run_once(&mut rec, Some(ms(7))).unwrap();
    el.run_once(&mut rec, Some(ms(7))).unwrap();
    assert_eq!(el.selector().last_max_wait(), Some(ms(7)));
    assert_eq!(rec.notified.as_slice(), &[0, 1, 2, 3, 5]);
}

#[test]
fn a_channel_has_one_receiving_loop_and_a_loop_one_channel() {
    static FIRST: Channel<u32, 2, NoWake> = Channel::new();
    static SECOND: Channel<u32, 2, NoWake> = Channel::new();
    let mut a = Loop::new().unwrap();
    let mut b = Loop::new().unwrap();
    a.attach_channel(&FIRST).unwrap();
    assert!(matches!(
        a.attach_channel(&SECOND),
        Err(Error::ChannelInUse)
    ));
    assert!(matches!(b.attach_channel(&FIRST), Err(Error::ChannelInUse)));
    // SECOND was not consumed by the refusal: another loop can still take it.
    b.attach_channel(&SECOND).unwrap();
}

#[test]
fn a_failed_waker_keeps_the_channel_and_a_retry_attaches_it() {
    static CHANNEL: Channel<u32, 2, NoWake> = Channel::new();
    static OTHER: Channel<u32, 2, NoWake> = Channel::new();
    let mut el = Loop::new().unwrap();
    el.selector_mut().refuse_next_waker();
    let err = el.attach_channel(&CHANNEL).unwrap_err();
    assert!(matches!(err, Error::Os(os) if os.code() == 24));
    // The channel is not closed: messages still reach the loop.
    CHANNEL.sender().send(1).unwrap();
    let mut rec = Recorder::default();
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(rec.notified.as_slice(), &[1]);
    // Another channel is refused; the same one gets its waker now.
    assert!(matches!(
        el.attach_channel(&OTHER),
        Err(Error::ChannelInUse)
    ));
    el.attach_channel(&CHANNEL).unwrap();
    assert!(CHANNEL.has_waker());
    assert!(matches!(
        el.attach_channel(&CHANNEL),
        Err(Error::ChannelInUse)
    ));
}

/// Issue 14 item 4: every callback tries a nested `run_once` and `run`.
#[derive(Default)]
struct Nester {
    seen: Vec<usize, 8>,
    nested: Vec<Result<(), Error>, 32>,
}

type NestLoop = EventLoop<Nester, SimSelector, 8, 2, 8>;

impl Nester {
    fn nest(&mut self, el: &mut NestLoop) {
        let once = el.run_once(self, Some(Duration::ZERO));
        self.nested.push(once).unwrap();
        let run = el.run(self);
        self.nested.push(run).unwrap();
    }
}

impl Handler for Nester {
    type Timeout = ();
    type Message = ();
    type Loop = NestLoop;

    fn ready(&mut self, el: &mut NestLoop, token: Token, _: Ready) {
        self.seen.push(token.0).unwrap();
        self.nest(el);
    }

    fn timeout(&mut self, el: &mut NestLoop, (): ()) {
        self.nest(el);
    }

    fn tick(&mut self, el: &mut NestLoop) {
        self.nest(el);
    }
}

#[test]
fn a_nested_turn_is_refused_and_loses_no_event() {
    // Four edge-triggered sources ready in one batch: a nested turn that refilled the
    // events buffer would drop the three not yet dispatched.
    let mut el = NestLoop::new().unwrap();
    edge_ready(&mut el, 4);
    el.timeout((), Duration::ZERO).unwrap();
    let mut h = Nester::default();
    el.run_once(&mut h, Some(Duration::ZERO)).unwrap();
    assert_eq!(h.seen.as_slice(), &[0, 1, 2, 3]);
    // 4 events, 1 timer, 1 tick: each tried run_once and run.
    assert_eq!(h.nested.len(), 12);
    assert!(
        h.nested.iter().all(|r| *r == Err(Error::Reentered)),
        "{:?}",
        h.nested
    );
    assert!(!el.is_running());
    // The loop is whole: the next turn runs (and its tick is refused again).
    el.selector_mut().set_ready(2, Ready::READABLE).unwrap();
    el.run_once(&mut h, Some(Duration::ZERO)).unwrap();
    assert_eq!(h.seen.as_slice(), &[0, 1, 2, 3, 2]);
}

#[test]
fn a_timer_key_of_another_loop_cancels_nothing() {
    let mut a = Loop::new().unwrap();
    let mut b = Loop::new().unwrap();
    let in_a = a.timeout(1, ms(5)).unwrap();
    let in_b = b.timeout(2, ms(5)).unwrap();
    assert!(!b.clear_timeout(in_a), "a's key cancelled b's timer");
    assert!(!a.clear_timeout(in_b), "b's key cancelled a's timer");
    let mut rec = Recorder::default();
    b.run_once(&mut rec, None).unwrap();
    assert_eq!(fired(&rec), [2]);
    assert!(a.clear_timeout(in_a));
}

/// Counts `readable` and `writable` calls through the default `ready`; optionally
/// deregisters (and re-registers) its source in `readable`.
#[derive(Default)]
struct Split {
    readable: usize,
    writable: usize,
    /// In `readable`: deregister `SimSource(1)` from `Token(0)`, then (when `true`)
    /// register it again under the same token.
    end_in_readable: Option<bool>,
}

type SplitLoop = EventLoop<Split, SimSelector, 2, 0, 2>;

impl Handler for Split {
    type Timeout = ();
    type Message = ();
    type Loop = SplitLoop;

    fn readable(&mut self, el: &mut SplitLoop, token: Token, _: Ready) {
        self.readable += 1;
        if let Some(again) = self.end_in_readable {
            el.deregister(&SimSource(1), token).unwrap();
            if again {
                el.register_opt(&SimSource(1), token, Interest::BOTH, PollOpt::edge())
                    .unwrap();
            }
        }
    }

    fn writable(&mut self, _: &mut SplitLoop, _: Token) {
        self.writable += 1;
    }
}

/// One turn of a `Split` whose source is registered for `interest` and reports `ready`.
fn split_turn(interest: Interest, ready: Ready, end_in_readable: Option<bool>) -> Split {
    let mut el = SplitLoop::new().unwrap();
    el.register_opt(&SimSource(1), Token(0), interest, PollOpt::edge())
        .unwrap();
    el.selector_mut().set_ready(1, ready).unwrap();
    let mut h = Split {
        end_in_readable,
        ..Split::default()
    };
    el.run_once(&mut h, Some(Duration::ZERO)).unwrap();
    h
}

#[test]
fn writable_is_called_only_for_writable_readiness() {
    let closed = Ready::HUP | Ready::READ_CLOSED | Ready::WRITE_CLOSED;
    // A hang-up on a writable registration that reports no WRITABLE: readable only.
    let h = split_turn(Interest::BOTH, closed | Ready::ERROR, None);
    assert_eq!((h.readable, h.writable), (1, 0));
    let h = split_turn(Interest::BOTH, closed | Ready::WRITABLE, None);
    assert_eq!((h.readable, h.writable), (1, 1));
    let h = split_turn(Interest::WRITABLE, Ready::WRITABLE, None);
    assert_eq!((h.readable, h.writable), (0, 1));
}

#[test]
fn writable_is_not_called_once_readable_ended_the_registration() {
    let both = Ready::READABLE | Ready::WRITABLE;
    let h = split_turn(Interest::BOTH, both, Some(false));
    assert_eq!((h.readable, h.writable), (1, 0), "deregistered");
    let h = split_turn(Interest::BOTH, both, Some(true));
    assert_eq!(
        (h.readable, h.writable),
        (1, 0),
        "deregistered, registered again"
    );
}

/// Issue 14 item 5, the channel's half: dropping the loop drops its `Receiver`, which
/// detaches the channel.
#[test]
fn a_static_channel_is_attached_again_after_its_loop_drops() {
    static CHANNEL: Channel<u32, 2, NoWake> = Channel::new();
    let mut first = Loop::new().unwrap();
    first.attach_channel(&CHANNEL).unwrap();
    drop(first);
    let mut second = Loop::new().unwrap();
    let tx = second.attach_channel(&CHANNEL).unwrap();
    tx.send(7).unwrap();
    let mut rec = Recorder::default();
    second.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(rec.notified.as_slice(), &[7]);
}

/// `release` frees a token whose source is gone: the selector forgets it (the sim, as
/// poll(2), drops its entry), no event of it is dispatched, and the token can be
/// registered again.
#[test]
fn release_frees_the_token_of_a_gone_source() {
    let mut el = Loop::new().unwrap();
    let mut rec = Recorder::default();
    assert_eq!(el.release(Token(1)), Err(Error::NotRegistered(Token(1))));
    el.register(&SimSource(10), Token(1)).unwrap();
    el.selector_mut().set_ready(10, Ready::READABLE).unwrap();
    el.release(Token(1)).unwrap();
    assert!(!el.is_registered(Token(1)));
    for _ in 0..3 {
        el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    }
    assert!(rec.ready.is_empty());
    // The same handle (a reused descriptor number) registers again, under any token.
    el.register(&SimSource(10), Token(2)).unwrap();
}

/// A registration the loop does not know that keeps reporting (here one made behind its
/// back; on epoll, one that outlived its descriptor) is reported once as `Orphaned`,
/// after a turn that dispatched the rest of its batch: never a silent spin.
#[test]
fn a_stale_registration_that_keeps_reporting_is_orphaned() {
    let mut el = Loop::new().unwrap();
    let mut rec = Recorder::default();
    el.register(&SimSource(1), Token(1)).unwrap();
    el.selector_mut()
        .register(9, Token(3), Interest::READABLE, PollOpt::level())
        .unwrap();
    el.selector_mut().set_ready(9, Ready::READABLE).unwrap();
    el.selector_mut().set_ready(1, Ready::READABLE).unwrap();
    // First sighting: dropped as stale, like an event deregistered within its batch.
    el.run_once(&mut rec, Some(Duration::ZERO)).unwrap();
    assert_eq!(rec.ready.len(), 1);
    // Second select in a row: orphaned; the live source's event is still dispatched.
    assert_eq!(
        el.run_once(&mut rec, Some(Duration::ZERO)),
        Err(Error::Orphaned(Token(3)))
    );
    assert_eq!(rec.ready.len(), 2);
    // `run` stops with it rather than spinning.
    assert_eq!(el.run(&mut rec), Err(Error::Orphaned(Token(3))));
    assert!(rec.turns <= 4, "{} turns", rec.turns);
}

/// A stale event twice in one batch (kqueue reports read and write apart) is not an
/// orphan: only a later select's is.
#[test]
fn a_tag_stale_twice_in_one_batch_is_not_orphaned() {
    let mut watch = super::orphan::StaleWatch::new();
    let tag = Token(1 << 40 | 2);
    watch.saw(tag);
    watch.saw(tag);
    assert_eq!(watch.end_batch(), None);
    watch.saw(tag);
    // Another stale tag later in the batch: the orphan found first is kept.
    watch.saw(Token(1 << 40 | 3));
    assert_eq!(watch.end_batch(), Some(tag));
    // Reported once: the next batch starts clean.
    assert_eq!(watch.end_batch(), None);
}
