//! A signal during the wait (`EINTR`) reaches `Handler::interrupted`, and the loop goes
//! on working afterwards; the signal helpers serve the bare selector's case too.

use core::time::Duration;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

use statio::{RawFd, Selector, Token};

use crate::util::*;

/// How long the loop's turn may block: far longer than the signaller needs.
pub const LONG_WAIT: Duration = Duration::from_secs(5);
/// Turns of [`LONG_WAIT`] before the case gives up.
const LONG_TURNS: usize = 3;
/// Signals the helper sends at most, one per [`SIGNAL_GAP`].
const MAX_SIGNALS: usize = 1_000;
const SIGNAL_GAP: Duration = Duration::from_millis(5);

extern "C" fn ignore(_: libc::c_int) {}

/// Installs a handler for SIGUSR1 that does nothing, without `SA_RESTART`, and
/// unblocks the signal on this thread.
pub fn catch_sigusr1() {
    // SAFETY: an all-zero sigaction is a valid start (flags 0: no SA_RESTART); the
    // mask is emptied before use; the handler is async-signal-safe (it does nothing).
    // pthread_sigmask only reads the set it is given.
    unsafe {
        let mut action: libc::sigaction = core::mem::zeroed();
        action.sa_sigaction = ignore as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&raw mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &raw const action, core::ptr::null_mut()),
            0
        );
        let mut set: libc::sigset_t = core::mem::zeroed();
        libc::sigemptyset(&raw mut set);
        libc::sigaddset(&raw mut set, libc::SIGUSR1);
        assert_eq!(
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &raw const set, core::ptr::null_mut()),
            0
        );
    }
}

/// A thread that sends SIGUSR1 to a target thread until stopped or out of signals.
/// Dropping it stops and joins it, so no signal targets a thread that has ended,
/// even when the case panics.
pub struct Signaller {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<usize>>,
}

impl Signaller {
    /// Starts signalling the calling thread.
    pub fn at_me() -> Signaller {
        // SAFETY: pthread_self has no preconditions.
        // Carried as an integer: musl's pthread_t is a pointer, which is not Send.
        let target = unsafe { libc::pthread_self() } as usize;
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut sent = 0;
            // Relaxed: the flag carries no data, and the join orders everything else.
            while sent < MAX_SIGNALS && !seen.load(Ordering::Relaxed) {
                // SAFETY: the target thread outlives this one: its Signaller joins this
                // thread before the target can return or unwind past it.
                let ret = unsafe { libc::pthread_kill(target as libc::pthread_t, libc::SIGUSR1) };
                assert_eq!(ret, 0, "pthread_kill");
                sent += 1;
                thread::sleep(SIGNAL_GAP);
            }
            sent
        });
        Signaller {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the thread; returns how many signals it sent.
    pub fn stop(mut self) -> usize {
        self.halt()
    }

    fn halt(&mut self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map_or(0, |t| t.join().expect("the signaller does not panic"))
    }
}

impl Drop for Signaller {
    fn drop(&mut self) {
        self.halt();
    }
}

/// SIGUSR1 sent to the loop's thread while it blocks in `run_once(Some(5 s))` calls
/// `interrupted`, dispatches no event, ends the turn (`tick`), and the loop keeps
/// working: a later event is dispatched as usual.
pub fn signal_reaches_interrupted_and_the_loop_continues<S: Selector<Handle = RawFd>>() {
    catch_sigusr1();
    let mut el = new_loop::<S, (), 4, 4>();
    let mut h = Recorder::new();
    let (a, a_peer) = socketpair();
    el.register(&a, Token(0)).unwrap();

    let signaller = Signaller::at_me();
    let mut turns = 0;
    while turns < LONG_TURNS && h.interrupted == 0 {
        el.run_once(&mut h, Some(LONG_WAIT))
            .expect("an interrupted turn is not an error");
        turns += 1;
    }
    let sent = signaller.stop();
    assert!(
        h.interrupted > 0,
        "{sent} signals over {turns} turns of up to {LONG_WAIT:?} never reached interrupted"
    );
    assert!(h.events.is_empty(), "nothing was ready: {:?}", h.events);
    assert_eq!(
        h.turns, turns,
        "every turn ends with tick, interrupted or not"
    );

    // The loop goes on: registrations still report.
    send(&a_peer, b"after");
    let ready = expect_event(&mut el, &mut h, Token(0));
    assert!(ready.is_readable(), "{ready:?}");
}
