//! Every example binary, run with bad arguments: each prints a message and exits with
//! code 2, never a panic (101) or a hang.

mod util;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::example_binary;

/// Runs `bin` with `args`, killing it after 10 s; returns (exit code, stderr).
fn run(bin: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("spawn {}: {err}", bin.display()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{} {args:?} did not exit within 10 s", bin.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[track_caller]
fn assert_refused(package: Option<&str>, name: &str, args: &[&str]) {
    let Some(bin) = example_binary(package, name) else {
        return;
    };
    let (code, stderr) = run(&bin, args);
    assert_eq!(
        code,
        Some(2),
        "{name} {args:?}: exit {code:?}, stderr: {stderr}"
    );
    assert!(
        stderr.contains(name) && !stderr.contains("panicked"),
        "{name} {args:?}: no message, or a panic: {stderr}"
    );
}

#[test]
fn echo_refuses_bad_arguments() {
    for args in [
        &["127.0.0.1:0", "1e30"][..],
        &["127.0.0.1:0", "-1"],
        &["127.0.0.1:0", "NaN"],
        &["127.0.0.1:0", "0"],
        &["127.0.0.1:0", "soon"],
        &["not-an-address"],
        &["127.0.0.1:99999"],
        &["127.0.0.1:0", "5", "extra"],
    ] {
        assert_refused(None, "echo", args);
    }
}

#[test]
fn channel_and_timers_refuse_arguments() {
    assert_refused(None, "channel", &["x"]);
    assert_refused(None, "timers", &["--help"]);
}

#[test]
fn nostd_echo_refuses_bad_arguments() {
    for args in [&["not-an-address"][..], &["127.0.0.1:99999"], &["[::1"]] {
        assert_refused(Some("nostd-echo"), "nostd_echo", args);
    }
}
