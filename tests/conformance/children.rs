//! Child exits as events: each port's `Children` reports every watched child's exit
//! once, with its status, reaps it (no zombie), reaps nothing else, and reports a
//! child that exited before it was watched.
//!
//! They run in the `system` test binary with the signal cases: the poll port's
//! watcher installs a `SIGCHLD` handler, which would interrupt the suite's threads.

use std::io::Write;
use std::process::{Command, Stdio};

use statio::process::{ChildError, ChildExit, ExitStatus, Pid};
use statio::{Ready, Token};

use crate::system::SystemPort;
use crate::util::*;

const CHILDREN: Token = Token(0);

/// What the hook keeps: the watcher, and every exit it reaped.
pub struct Reaped<S: SystemPort, const N: usize> {
    children: S::Children<N>,
    exits: Vec<ChildExit>,
}

type ChildLoop<S, const N: usize> = RecLoop<S, Reaped<S, N>>;
type ChildRec<S, const N: usize> = Recorder<S, Reaped<S, N>>;

/// A loop with a new watcher of `N` registered under [`CHILDREN`], and a recorder
/// whose hook reaps until `Ok(None)` on each of its events.
fn child_loop<S: SystemPort, const N: usize>() -> (ChildLoop<S, N>, ChildRec<S, N>) {
    let children = S::children::<N>().expect("a child watcher");
    let mut el = new_loop::<S, Reaped<S, N>, 16, 16>();
    el.register(&children, CHILDREN)
        .expect("register the watcher");
    let rec = Recorder::with_hook(
        Reaped {
            children,
            exits: Vec::new(),
        },
        |r: &mut ChildRec<S, N>, _: &mut ChildLoop<S, N>, token: Token, _: Ready| {
            if token == CHILDREN {
                while let Some(exit) = S::try_reap(&mut r.state.children).expect("try_reap") {
                    r.state.exits.push(exit);
                }
            }
        },
    );
    (el, rec)
}

/// A child running `sh -c script`, its stdin from `stdin`.
#[allow(
    clippy::zombie_processes,
    reason = "the watcher under test reaps it, or the case's own waitpid"
)]
fn spawn(script: &str, stdin: Stdio) -> Pid {
    let child = Command::new("sh")
        .args(["-c", script])
        .stdin(stdin)
        .spawn()
        .expect("spawn sh");
    // Dropping a std Child neither waits for nor kills it: the watcher reaps it.
    Pid::try_from(child.id()).expect("a pid fits pid_t")
}

/// Whether `pid` is gone for good: `waitpid` says it is no child of ours (`ECHILD`),
/// so no zombie is left.
fn is_reaped(pid: Pid) -> bool {
    let mut status = 0;
    // SAFETY: `status` is writable; `pid` is positive.
    let ret = unsafe { libc::waitpid(pid, &raw mut status, libc::WNOHANG) };
    ret == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD)
}

/// Waits (bounded) until `pid` is a zombie, without reaping it.
fn wait_until_zombie(pid: Pid) {
    wait_for("the child has exited", || {
        // SAFETY: zeroed siginfo_t is valid; `info` is writable for the call.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above; WNOWAIT leaves the child waitable.
        let ret = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &raw mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        // SAFETY: waitid succeeded, so `info` holds a child's siginfo or zeroes.
        ret == 0 && unsafe { info.si_pid() } == pid
    });
}

/// An exit code and a kill by a signal arrive with their statuses, each child reaped.
pub fn exits_arrive_with_their_status<S: SystemPort>() {
    let (mut el, mut rec) = child_loop::<S, 4>();
    let exiting = spawn("exit 3", Stdio::null());
    let sleeping = spawn("exec sleep 30", Stdio::null());
    S::watch(&mut rec.state.children, exiting).unwrap();
    S::watch(&mut rec.state.children, sleeping).unwrap();
    // SAFETY: kill has no memory preconditions; `sleeping` is our unreaped child.
    assert_eq!(unsafe { libc::kill(sleeping, libc::SIGKILL) }, 0);

    run_until(&mut el, &mut rec, "both children reaped", MAX_TURNS, |r| {
        r.state.exits.len() == 2
    });
    let status = |pid| {
        rec.state
            .exits
            .iter()
            .find(|e| e.pid == pid)
            .map(|e| e.status)
            .expect("reported")
    };
    assert_eq!(status(exiting).code(), Some(3));
    let killed: ExitStatus = status(sleeping);
    assert_eq!(
        (killed.code(), killed.signal()),
        (None, Some(libc::SIGKILL))
    );
    assert!(is_reaped(exiting) && is_reaped(sleeping), "no zombie left");
    assert_eq!(S::watched(&rec.state.children), 0);
    expect_no_events(&mut el, &mut rec, 3, "every exit was reaped");
}

/// A child that is a zombie before the watcher exists (its `SIGCHLD` long gone) is
/// reported like any other once watched.
pub fn a_child_that_exited_before_it_was_watched<S: SystemPort>() {
    let pid = spawn("exit 5", Stdio::null());
    wait_until_zombie(pid);
    let (mut el, mut rec) = child_loop::<S, 4>();
    expect_no_events(&mut el, &mut rec, 2, "nothing is watched yet");
    S::watch(&mut rec.state.children, pid).unwrap();
    let ready = expect_event(&mut el, &mut rec, CHILDREN);
    assert!(ready.is_readable(), "{ready:?}");
    assert_eq!(rec.state.exits.len(), 1);
    assert_eq!(
        (rec.state.exits[0].pid, rec.state.exits[0].status.code()),
        (pid, Some(5))
    );
    assert!(is_reaped(pid), "no zombie left");
}

/// 100 children blocked on one pipe exit together when it closes: each is reported
/// once, with its own code, and none is left a zombie.
pub fn a_hundred_children_exiting_at_once<S: SystemPort>() {
    const COUNT: usize = 100;
    let (mut el, mut rec) = child_loop::<S, 128>();
    let (reader, mut writer) = std::io::pipe().expect("a pipe");
    let mut pids = Vec::new();
    for n in 0..COUNT {
        let stdin = Stdio::from(reader.try_clone().expect("dup the read end"));
        // Each blocks in `read` until the pipe closes, then exits with its number.
        let pid = spawn(&format!("read _ ; exit {n}"), stdin);
        S::watch(&mut rec.state.children, pid).unwrap();
        pids.push(pid);
    }
    drop(reader);
    expect_no_events(&mut el, &mut rec, 2, "no child has exited yet");
    // One newline would release one child: closing releases them all at once.
    writer.flush().unwrap();
    drop(writer);

    run_until(
        &mut el,
        &mut rec,
        "100 children reaped",
        4 * MAX_TURNS,
        |r| r.state.exits.len() >= COUNT,
    );
    assert_eq!(rec.state.exits.len(), COUNT, "each child once");
    for (n, &pid) in pids.iter().enumerate() {
        let exits: Vec<_> = rec.state.exits.iter().filter(|e| e.pid == pid).collect();
        assert_eq!(exits.len(), 1, "child {n} reported once");
        assert_eq!(exits[0].status.code(), Some(n as i32), "child {n}'s code");
        assert!(is_reaped(pid), "child {n} left no zombie");
    }
    assert_eq!(S::watched(&rec.state.children), 0);
    expect_no_events(&mut el, &mut rec, 3, "every exit was reaped");
}

/// The watcher reaps only what it watches: an unwatched child's status stays for its
/// owner's `waitpid`.
pub fn only_watched_children_are_reaped<S: SystemPort>() {
    let (mut el, mut rec) = child_loop::<S, 4>();
    // The other child first, a zombie first: what `waitpid(-1)` would take.
    let other = spawn("exit 2", Stdio::null());
    wait_until_zombie(other);
    let watched = spawn("exit 1", Stdio::null());
    S::watch(&mut rec.state.children, watched).unwrap();
    run_until(
        &mut el,
        &mut rec,
        "the watched child reaped",
        MAX_TURNS,
        |r| !r.state.exits.is_empty(),
    );
    expect_no_events(&mut el, &mut rec, 3, "the other child is not watched");
    assert_eq!(rec.state.exits.len(), 1);
    assert_eq!(rec.state.exits[0].pid, watched);
    assert_eq!(
        rec.state.exits[0].status.code(),
        Some(1),
        "the watched child's status"
    );

    let mut status = 0;
    // SAFETY: `status` is writable; `other` is our child.
    assert_eq!(unsafe { libc::waitpid(other, &raw mut status, 0) }, other);
    assert_eq!(
        ExitStatus::from_raw(status).code(),
        Some(2),
        "its status was kept"
    );
}

/// Not a child, a pid that names a group, a second watch and a full watcher are
/// errors that say so; dropping the watcher leaves a running child alone.
pub fn limits_are_errors_and_drop_reaps_nothing<S: SystemPort>() {
    let mut children = S::children::<1>().unwrap();
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    for pid in [1, me, 0, -1] {
        assert_eq!(
            S::watch(&mut children, pid).unwrap_err(),
            ChildError::NotAChild(pid),
            "pid {pid}"
        );
    }
    let running = spawn("exec sleep 30", Stdio::null());
    S::watch(&mut children, running).unwrap();
    assert_eq!(
        S::watch(&mut children, running).unwrap_err(),
        ChildError::AlreadyWatched(running)
    );
    let second = spawn("exit 0", Stdio::null());
    assert_eq!(
        S::watch(&mut children, second).unwrap_err(),
        ChildError::Full { capacity: 1 }
    );
    drop(children);

    // SAFETY: kill has no memory preconditions; both are our unreaped children.
    assert_eq!(unsafe { libc::kill(running, libc::SIGKILL) }, 0);
    let mut status = 0;
    // SAFETY: `status` is writable; `running` and `second` are our children.
    assert_eq!(
        unsafe { libc::waitpid(running, &raw mut status, 0) },
        running
    );
    assert_eq!(ExitStatus::from_raw(status).signal(), Some(libc::SIGKILL));
    // SAFETY: as above.
    assert_eq!(unsafe { libc::waitpid(second, &raw mut status, 0) }, second);
}
