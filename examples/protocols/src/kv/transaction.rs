//! Transactions: `MULTI` opens one, each command after it is answered `+QUEUED` (or
//! refused, as Redis refuses it), `EXEC` runs the queued commands one after the other
//! with nothing in between and answers an array of their replies, `DISCARD` drops them.
//! `EXEC` answers null instead, running nothing, when a key the connection watched
//! changed since (`watch.rs`); `EXEC` and `DISCARD` unwatch every key.
//!
//! The queue is the connection's own input: a queued command stays unconsumed at the
//! start of it, so a transaction needs no memory beyond the input buffer, and the
//! [`Multi`] in the session counts how many of those bytes were answered already. So a
//! transaction's queued commands and the command after them (at last its `EXEC`) must
//! fit the input buffer (`COMMAND` bytes) together, whether they arrive at once or in
//! pieces: one that outgrows it is discarded, as one with a refused command is, and its
//! `EXEC` says why (`-EXECABORT`). `EXEC` runs into an empty output buffer (it waits until what
//! the buffer holds was sent: [`Next::OutputFull`](crate::Next::OutputFull)), where every
//! reply is promised [`MUTATION_REPLY_MAX`] bytes, so that a command that changes the
//! store always runs; a transaction of more commands than that allows is discarded
//! (`-EXECABORT`), and a reply larger than what is left for it becomes an error element,
//! as outside a transaction a reply larger than the buffer does.

use statio_core::buf::{Buf, MutBuf, NoRoom};

use super::command::{self, Role};
use super::parse::{self, Args, Frame};
use super::reply::{self, Out, emit};
use super::store::Millis;
use super::{Kv, MUTATION_REPLY_MAX, Session};

/// A connection's open transaction, kept in its [`Session`](super::Session).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Multi {
    /// Bytes at the start of the input that were answered already: the queued commands
    /// and the refused nested `MULTI`s among them. 0 once discarded.
    answered: usize,
    /// Commands queued, to run at `EXEC`.
    queued: usize,
    /// Why `EXEC` will discard the transaction, if it will: then nothing is kept.
    discarded: Option<Discarded>,
}

/// Why a transaction will be discarded at its `EXEC`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Discarded {
    /// A command was refused while queueing (unknown, wrong arity): Redis's rule.
    Refused,
    /// The queued commands outgrew the input buffer: this server's limit.
    InputFull,
}

/// What to do with the command just served.
pub(super) enum Step {
    /// Consume it, and the queue before it, if any (the queue is done with).
    Consume,
    /// Leave it in the input, answered: it is queued.
    Keep,
    /// Close the connection once the reply is sent.
    Close,
}

impl Multi {
    /// The bytes after the consumed input that belong to the queue: skip them.
    pub(super) fn answered(multi: Option<Multi>) -> usize {
        multi.map_or(0, |multi| multi.answered)
    }

    /// Discards the transaction for `why`: from now on it keeps nothing in the input.
    fn discard(&mut self, why: Discarded) {
        self.answered = 0;
        self.discarded.get_or_insert(why);
    }

    /// A command was refused, or its reply did not fit even an empty output buffer: the
    /// transaction will be discarded (Redis's "previous errors").
    pub(super) fn refuse(&mut self) {
        self.discard(Discarded::Refused);
    }

    /// Counts `len` more bytes at the start of the input as answered and kept.
    pub(super) fn answer(&mut self, len: usize) {
        self.answered += len;
    }

    /// The queued commands and what follows them fill the input buffer: the queue goes.
    pub(super) fn input_full(&mut self) {
        self.discard(Discarded::InputFull);
    }
}

impl Session {
    /// Ends the open transaction and unwatches every key: after `EXEC` and `DISCARD`,
    /// whatever they answered (Redis's `discardTransaction`).
    fn end_transaction(&mut self) {
        self.multi = None;
        self.watch.clear();
    }
}

impl<const KEYS: usize, const KEY: usize, const VALUE: usize, const COMMAND: usize>
    Kv<KEYS, KEY, VALUE, COMMAND>
{
    /// Serves the command in `args`, after `queue`, the queued commands of an open
    /// transaction (empty otherwise).
    /// `NoRoom` when its reply does not fit: nothing was done then.
    pub(super) fn step<B: Buf + MutBuf + ?Sized>(
        &mut self,
        args: &Args<'_>,
        queue: &[u8],
        now: Millis,
        out: &mut Out<'_, B>,
    ) -> Result<Step, NoRoom> {
        if out.session.multi.is_some()
            && args.count > 1
            && args.list[0].eq_ignore_ascii_case(b"exec")
        {
            // Redis ends the transaction on an EXEC it refuses.
            emit(out, |s| {
                reply::error(
                    s,
                    &[b"EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"],
                )
            })?;
            out.session.end_transaction();
            return Ok(Step::Consume);
        }
        let Some(found) = command::find(args, out)? else {
            if let Some(multi) = out.session.multi.as_mut() {
                multi.refuse();
            }
            return Ok(Step::Consume);
        };
        let multi = out.session.multi;
        match (found.role(), multi) {
            (Role::Data | Role::Quit | Role::Watch, None) | (Role::Quit, Some(_)) => {
                return match self.execute(found, args, now, out)? {
                    command::Then::Continue => Ok(Step::Consume),
                    command::Then::Close => Ok(Step::Close),
                };
            }
            (Role::Multi, None) => {
                emit(out, reply::ok)?;
                out.session.multi = Some(Multi::default());
            }
            (Role::Multi | Role::Watch, Some(multi)) => {
                let error: &[u8] = if found.role() == Role::Multi {
                    b"ERR MULTI calls can not be nested"
                } else {
                    b"ERR WATCH inside MULTI is not allowed"
                };
                emit(out, |s| reply::error(s, &[error]))?;
                // Not queued, but inside the kept queue (if one is kept): skipped when
                // the queue runs.
                return Ok(if multi.discarded.is_some() {
                    Step::Consume
                } else {
                    Step::Keep
                });
            }
            (Role::Exec | Role::Discard, None) => {
                let name: &[u8] = if found.role() == Role::Exec {
                    b"EXEC"
                } else {
                    b"DISCARD"
                };
                emit(out, |s| {
                    reply::error(s, &[b"ERR ", name, b" without MULTI"])
                })?;
            }
            (Role::Discard, Some(_)) => {
                emit(out, reply::ok)?;
                out.session.end_transaction();
            }
            (Role::Exec, Some(multi)) => {
                self.exec(multi, queue, now, out)?;
                out.session.end_transaction();
            }
            (Role::Data, Some(multi)) => {
                emit(out, |s| reply::simple(s, b"QUEUED"))?;
                if multi.discarded.is_some() {
                    return Ok(Step::Consume);
                }
                if let Some(multi) = out.session.multi.as_mut() {
                    multi.queued += 1;
                }
                return Ok(Step::Keep);
            }
        }
        Ok(Step::Consume)
    }

    /// `EXEC` of a transaction not discarded yet: runs the commands queued in `queue`
    /// and writes the array of their replies, or discards them with `-EXECABORT`.
    fn exec<B: Buf + MutBuf + ?Sized>(
        &mut self,
        multi: Multi,
        queue: &[u8],
        now: Millis,
        out: &mut Out<'_, B>,
    ) -> Result<(), NoRoom> {
        let why: &[u8] = match multi.discarded {
            Some(Discarded::Refused) => b"EXECABORT Transaction discarded because of previous errors.",
            Some(Discarded::InputFull) => {
                b"EXECABORT Transaction discarded because its queued commands outgrew this server's input buffer."
            }
            None => {
                // Every reply gets its share; the array's header takes at most 22 bytes.
                let needed = 22 + multi.queued * MUTATION_REPLY_MAX;
                let free = out.buf.remaining_mut();
                if out.buf.has_remaining() {
                    // Send what waits first: the transaction runs into an empty buffer,
                    // so what each reply gets depends on the transaction alone.
                    return Err(NoRoom { needed, free });
                }
                if out.session.watch.failed(&self.store, now) {
                    // A watched key changed: nothing runs (Redis's null array).
                    return emit(out, reply::nil_array);
                }
                if needed <= free {
                    return self.run(multi.queued, queue, now, out);
                }
                b"EXECABORT Transaction discarded because its replies may not fit this server's output buffer."
            }
        };
        emit(out, |s| reply::error(s, &[why]))
    }

    /// Runs the `queued` commands of `queue` into `out`, which has room for the array's
    /// header and [`MUTATION_REPLY_MAX`] bytes per reply.
    fn run<B: MutBuf + ?Sized>(
        &mut self,
        queued: usize,
        queue: &[u8],
        now: Millis,
        out: &mut Out<'_, B>,
    ) -> Result<(), NoRoom> {
        emit(out, |s| reply::array(s, queued))?;
        let mut args = Args::default();
        let mut at = 0;
        let mut left = queued;
        while left > 0 {
            // The queue was parsed, frame by frame, when its commands were answered.
            let len = match parse::parse(&queue[at..], COMMAND, &mut args) {
                Frame::Command { len } => len,
                Frame::Empty(len) => {
                    at += len;
                    continue;
                }
                Frame::Incomplete | Frame::Error(_) => break,
            };
            at += len;
            // Refused commands discarded the transaction: `find` refuses none here.
            let found = command::find(&args, out)?;
            if found.is_some_and(|found| found.role() != Role::Data) {
                // A nested MULTI, answered when queued: not a command of the array.
                continue;
            }
            left -= 1;
            // Later replies keep their share: this one may take what is beyond it.
            let mut held = Held {
                buf: &mut *out.buf,
                held: left * MUTATION_REPLY_MAX,
            };
            let mut share = Out {
                buf: &mut held,
                session: &mut *out.session,
            };
            let ran = found.map_or(Ok(()), |found| {
                self.execute(found, &args, now, &mut share).map(drop)
            });
            if ran.is_err() {
                emit(&mut share, reply::too_large)?;
            }
        }
        Ok(())
    }
}

/// A [`MutBuf`] that holds back the last `held` bytes of `buf`'s room: what the replies
/// after this one are promised. (Hand-written: core's buffers have no such view.)
struct Held<'a, B: ?Sized> {
    buf: &'a mut B,
    held: usize,
}

impl<B: MutBuf + ?Sized> MutBuf for Held<'_, B> {
    fn remaining_mut(&self) -> usize {
        self.buf.remaining_mut().saturating_sub(self.held)
    }

    fn chunks_mut(&mut self) -> (&mut [u8], &mut [u8]) {
        let mut room = self.remaining_mut();
        let (first, second) = self.buf.chunks_mut();
        let first_len = first.len().min(room);
        room -= first_len;
        let second_len = second.len().min(room);
        (&mut first[..first_len], &mut second[..second_len])
    }

    fn commit(&mut self, n: usize) -> usize {
        let n = n.min(self.remaining_mut());
        self.buf.commit(n)
    }
}
