//! The commands: their table (name, arity, whether they write) and what each does.

use statio_core::buf::{MutBuf, NoRoom};

use super::int::parse_i64;
use super::parse::{Args, MAX_ARGS};
use super::reply::{self, Out, Sink, emit, emit_in};
use super::store::{Millis, Refused, Store};
use super::watch::WATCHED;
use super::{Kv, MUTATION_REPLY_MAX};

/// What the connection does after a command.
pub(super) enum Then {
    Continue,
    /// `QUIT`: close once the reply is sent.
    Close,
}

#[derive(Copy, Clone)]
enum Id {
    Get,
    Set,
    Incr,
    Decr,
    IncrBy,
    DecrBy,
    Del,
    Exists,
    Mget,
    Mset,
    Expire,
    Pexpire,
    Ttl,
    Pttl,
    Persist,
    Ping,
    Echo,
    Dbsize,
    Flushall,
    Flushdb,
    Select,
    Quit,
    Command,
    Config,
    Hello,
    Multi,
    Exec,
    Discard,
    Watch,
    Unwatch,
}

/// A command's name (lower case, as Redis's errors show it), arity (Redis's
/// convention: `n` exactly `n` arguments with the name, `-n` at least `n`) and whether
/// it changes the store.
struct Spec {
    name: &'static [u8],
    arity: i8,
    writes: bool,
    id: Id,
}

const fn spec(name: &'static [u8], arity: i8, writes: bool, id: Id) -> Spec {
    Spec {
        name,
        arity,
        writes,
        id,
    }
}

/// The commands; a linear search finds the ones `redis-benchmark` times first.
const COMMANDS: [Spec; 30] = [
    spec(b"get", 2, false, Id::Get),
    spec(b"set", -3, true, Id::Set),
    spec(b"incr", 2, true, Id::Incr),
    spec(b"ping", -1, false, Id::Ping),
    spec(b"mget", -2, false, Id::Mget),
    spec(b"mset", -3, true, Id::Mset),
    spec(b"del", -2, true, Id::Del),
    spec(b"exists", -2, false, Id::Exists),
    spec(b"decr", 2, true, Id::Decr),
    spec(b"incrby", 3, true, Id::IncrBy),
    spec(b"decrby", 3, true, Id::DecrBy),
    spec(b"expire", -3, true, Id::Expire),
    spec(b"pexpire", -3, true, Id::Pexpire),
    spec(b"ttl", 2, false, Id::Ttl),
    spec(b"pttl", 2, false, Id::Pttl),
    spec(b"persist", 2, true, Id::Persist),
    spec(b"echo", 2, false, Id::Echo),
    spec(b"dbsize", 1, false, Id::Dbsize),
    spec(b"flushall", -1, true, Id::Flushall),
    spec(b"flushdb", -1, true, Id::Flushdb),
    spec(b"select", 2, false, Id::Select),
    spec(b"quit", -1, false, Id::Quit),
    spec(b"command", -1, false, Id::Command),
    spec(b"config", -2, false, Id::Config),
    spec(b"hello", -1, false, Id::Hello),
    spec(b"multi", 1, false, Id::Multi),
    spec(b"exec", 1, false, Id::Exec),
    spec(b"discard", 1, false, Id::Discard),
    spec(b"watch", -2, false, Id::Watch),
    spec(b"unwatch", 1, false, Id::Unwatch),
];

/// The longest command name.
const LONGEST_NAME: usize = 8;

const NOT_AN_INTEGER: &[u8] = b"ERR value is not an integer or out of range";
const SYNTAX_ERROR: &[u8] = b"ERR syntax error";

/// Whether `arg` is `option` (lower case) in any case.
fn is(arg: &[u8], option: &[u8]) -> bool {
    arg.eq_ignore_ascii_case(option)
}

fn wrong_arity(s: &mut dyn Sink, name: &[u8]) {
    reply::error(
        s,
        &[b"ERR wrong number of arguments for '", name, b"' command"],
    );
}

/// Redis's `unknown command '%.128s', with args beginning with: ` and each argument as
/// `'%.*s' ` while the list is under 128 bytes.
fn unknown_command(s: &mut dyn Sink, args: &[&[u8]]) {
    let name = args[0];
    s.put(b"-ERR unknown command '");
    reply::one_line(s, &name[..name.len().min(128)]);
    s.put(b"', with args beginning with: ");
    let mut listed = 0;
    for arg in &args[1..] {
        if listed >= 128 {
            break;
        }
        let shown = &arg[..arg.len().min(128 - listed)];
        s.put(b"'");
        reply::one_line(s, shown);
        s.put(b"' ");
        listed += shown.len() + 3;
    }
    s.put(b"\r\n");
}

fn unknown_subcommand(s: &mut dyn Sink, sub: &[u8], command: &[u8]) {
    reply::error(
        s,
        &[
            b"ERR unknown subcommand '",
            &sub[..sub.len().min(128)],
            b"'. Try ",
            command,
            b" HELP.",
        ],
    );
}

/// The reply to a write the store refused.
fn refused<const KEYS: usize, const KEY: usize, const VALUE: usize>(
    s: &mut dyn Sink,
    why: Refused,
) {
    let (what, limit, unit): (&[u8], usize, &[u8]) = match why {
        Refused::KeyTooLong => (
            b"ERR key exceeds maximum allowed size (this server's keys are at most ",
            KEY,
            b" bytes)",
        ),
        Refused::ValueTooLarge => (
            b"ERR string exceeds maximum allowed size (this server's values are at most ",
            VALUE,
            b" bytes)",
        ),
        Refused::Full => (
            b"OOM command not allowed when the store is full (",
            KEYS,
            b" keys)",
        ),
    };
    reply::error(
        s,
        &[what, itoa::Buffer::new().format(limit).as_bytes(), unit],
    );
}

/// Why an expire time was refused.
enum BadTime {
    NotAnInteger,
    /// Out of range, or not positive where it must be.
    Invalid,
}

impl BadTime {
    fn reply(&self, s: &mut dyn Sink, command: &[u8]) {
        match self {
            BadTime::NotAnInteger => reply::error(s, &[NOT_AN_INTEGER]),
            BadTime::Invalid => {
                reply::error(s, &[b"ERR invalid expire time in '", command, b"' command"])
            }
        }
    }
}

/// The deadline `arg` units of `unit` ms after `now`, checked as Redis does (`SET`
/// wants a positive time; `EXPIRE` takes any, a past one deletes the key).
fn deadline(arg: &[u8], unit: i64, now: Millis, positive: bool) -> Result<Millis, BadTime> {
    let n = parse_i64(arg).ok_or(BadTime::NotAnInteger)?;
    if positive && n <= 0 {
        return Err(BadTime::Invalid);
    }
    n.checked_mul(unit)
        .and_then(|ms| ms.checked_add(now))
        .ok_or(BadTime::Invalid)
}

/// `SET key value [NX|XX] [EX s|PX ms|KEEPTTL]`.
fn set<const KEYS: usize, const KEY: usize, const VALUE: usize, B: MutBuf + ?Sized>(
    store: &mut Store<KEYS, KEY, VALUE>,
    list: &[&[u8]],
    now: Millis,
    out: &mut Out<'_, B>,
) -> Result<(), NoRoom> {
    let (key, value) = (list[1], list[2]);
    let (mut nx, mut xx, mut keep_ttl) = (false, false, false);
    let mut expire: Option<(&[u8], i64)> = None;
    let mut options = list[3..].iter();
    // Redis's parseExtendedStringArgumentsOrReply: each option once, no conflicts.
    while let Some(option) = options.next() {
        if is(option, b"nx") && !xx {
            nx = true;
        } else if is(option, b"xx") && !nx {
            xx = true;
        } else if is(option, b"keepttl") && expire.is_none() {
            keep_ttl = true;
        } else if (is(option, b"ex") || is(option, b"px")) && !keep_ttl && expire.is_none() {
            let Some(time) = options.next() else {
                return emit(out, |s| reply::error(s, &[SYNTAX_ERROR]));
            };
            expire = Some((time, if is(option, b"ex") { 1000 } else { 1 }));
        } else if is(option, b"get") || is(option, b"exat") || is(option, b"pxat") {
            return emit(out, |s| {
                reply::error(
                    s,
                    &[
                        SYNTAX_ERROR,
                        b": this server does not support SET's GET, EXAT and PXAT",
                    ],
                )
            });
        } else {
            return emit(out, |s| reply::error(s, &[SYNTAX_ERROR]));
        }
    }
    let deadline = match expire.map(|(time, unit)| deadline(time, unit, now, true)) {
        None => None,
        Some(Ok(deadline)) => Some(deadline),
        Some(Err(bad)) => return emit(out, |s| bad.reply(s, b"set")),
    };
    if let Err(why) = Store::<KEYS, KEY, VALUE>::check(key, value.len()) {
        return emit(out, |s| refused::<KEYS, KEY, VALUE>(s, why));
    }
    if (nx || xx) && store.get(key, now).is_some() == nx {
        return emit(out, reply::nil);
    }
    match store.set(key, value, deadline, keep_ttl, now) {
        Ok(()) => emit(out, reply::ok),
        Err(why) => emit(out, |s| refused::<KEYS, KEY, VALUE>(s, why)),
    }
}

/// `INCR`, `DECR`, `INCRBY`, `DECRBY`: `delta`, or the error its argument gave. Keeps
/// the key's deadline, as Redis does.
fn incr_by<const KEYS: usize, const KEY: usize, const VALUE: usize, B: MutBuf + ?Sized>(
    store: &mut Store<KEYS, KEY, VALUE>,
    key: &[u8],
    delta: Result<i64, &'static [u8]>,
    now: Millis,
    out: &mut Out<'_, B>,
) -> Result<(), NoRoom> {
    let delta = match delta {
        Ok(delta) => delta,
        Err(message) => return emit(out, |s| reply::error(s, &[message])),
    };
    let current = match store.get(key, now) {
        None => Some(0),
        Some(entry) => parse_i64(&entry.value),
    };
    let Some(current) = current else {
        return emit(out, |s| reply::error(s, &[NOT_AN_INTEGER]));
    };
    let Some(new) = current.checked_add(delta) else {
        return emit(out, |s| {
            reply::error(s, &[b"ERR increment or decrement would overflow"])
        });
    };
    let mut digits = itoa::Buffer::new();
    match store.set(key, digits.format(new).as_bytes(), None, true, now) {
        Ok(()) => emit(out, |s| reply::int(s, new)),
        Err(why) => emit(out, |s| refused::<KEYS, KEY, VALUE>(s, why)),
    }
}

/// `MSET key value [key value ...]`: all pairs or, when one is refused, none.
fn mset<const KEYS: usize, const KEY: usize, const VALUE: usize, B: MutBuf + ?Sized>(
    store: &mut Store<KEYS, KEY, VALUE>,
    list: &[&[u8]],
    now: Millis,
    out: &mut Out<'_, B>,
) -> Result<(), NoRoom> {
    if list.len().is_multiple_of(2) {
        return emit(out, |s| wrong_arity(s, b"mset"));
    }
    let pairs = || list[1..].chunks_exact(2);
    for pair in pairs() {
        if let Err(why) = Store::<KEYS, KEY, VALUE>::check(pair[0], pair[1].len()) {
            return emit(out, |s| refused::<KEYS, KEY, VALUE>(s, why));
        }
    }
    // Keys this MSET adds: absent, and not set by an earlier pair of it.
    let new = pairs()
        .enumerate()
        .filter(|(i, pair)| {
            store.get(pair[0], now).is_none() && !pairs().take(*i).any(|p| p[0] == pair[0])
        })
        .count();
    if let Err(why) = store.make_room(new, now) {
        return emit(out, |s| refused::<KEYS, KEY, VALUE>(s, why));
    }
    for pair in pairs() {
        // Cannot be refused: sizes and room were checked above.
        let _ = store.set(pair[0], pair[1], None, false, now);
    }
    emit(out, reply::ok)
}

/// `EXPIRE`/`PEXPIRE key time [NX|XX|GT|LT]`, as Redis 7.0's expireGenericCommand.
fn expire<const KEYS: usize, const KEY: usize, const VALUE: usize, B: MutBuf + ?Sized>(
    store: &mut Store<KEYS, KEY, VALUE>,
    list: &[&[u8]],
    now: Millis,
    unit: i64,
    name: &[u8],
    out: &mut Out<'_, B>,
) -> Result<(), NoRoom> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for option in &list[3..] {
        if is(option, b"nx") {
            nx = true;
        } else if is(option, b"xx") {
            xx = true;
        } else if is(option, b"gt") {
            gt = true;
        } else if is(option, b"lt") {
            lt = true;
        } else {
            return emit(out, |s| {
                reply::error(s, &[b"ERR Unsupported option ", option])
            });
        }
    }
    if nx && (xx || gt || lt) {
        return emit(out, |s| {
            reply::error(
                s,
                &[b"ERR NX and XX, GT or LT options at the same time are not compatible"],
            )
        });
    }
    if gt && lt {
        return emit(out, |s| {
            reply::error(
                s,
                &[b"ERR GT and LT options at the same time are not compatible"],
            )
        });
    }
    let when = match deadline(list[2], unit, now, false) {
        Ok(when) => when,
        Err(bad) => return emit(out, |s| bad.reply(s, name)),
    };
    let key = list[1];
    let Some(entry) = store.get(key, now) else {
        return emit(out, |s| reply::int(s, 0));
    };
    // No deadline counts as an infinite one for GT and LT.
    let current = entry.deadline;
    let skip = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|current| when <= current))
        || (lt && current.is_some_and(|current| when >= current));
    if skip {
        return emit(out, |s| reply::int(s, 0));
    }
    // Redis's checkAlreadyExpired: a deadline not after now deletes the key.
    if when <= now {
        store.remove(key, now);
    } else {
        store.set_deadline(key, Some(when));
    }
    emit(out, |s| reply::int(s, 1))
}

/// `CONFIG GET`: what redis-benchmark asks (`save`, `appendonly`) and `*`.
fn config(s: &mut dyn Sink, list: &[&[u8]]) {
    let sub = list[1];
    if is(sub, b"get") {
        if list.len() < 3 {
            return wrong_arity(s, b"config|get");
        }
        let asked = |name: &[u8]| list[2..].iter().any(|p| is(p, name) || *p == b"*");
        let (save, appendonly) = (asked(b"save"), asked(b"appendonly"));
        reply::map(s, usize::from(save) + usize::from(appendonly));
        if save {
            reply::bulk(s, b"save");
            reply::bulk(s, b"");
        }
        if appendonly {
            reply::bulk(s, b"appendonly");
            reply::bulk(s, b"no");
        }
    } else if is(sub, b"set") || is(sub, b"resetstat") || is(sub, b"rewrite") {
        reply::error(
            s,
            &[
                b"ERR CONFIG ",
                sub,
                b" is not supported: this server is configured at compile time",
            ],
        );
    } else {
        unknown_subcommand(s, sub, b"CONFIG");
    }
}

/// `HELLO [protover [AUTH username password] [SETNAME name]]`, as Redis 7.0's
/// helloCommand: switches the session's protocol once its reply (in the new protocol)
/// is written, and gives the session an id on its first `HELLO`.
fn hello<B: MutBuf + ?Sized>(
    last_id: &mut u32,
    list: &[&[u8]],
    out: &mut Out<'_, B>,
) -> Result<(), NoRoom> {
    let resp3 = match list.get(1).map(|v| parse_i64(v)) {
        None => out.session.resp3,
        Some(Some(2)) => false,
        Some(Some(3)) => true,
        Some(Some(_)) => {
            return emit(out, |s| {
                reply::error(s, &[b"NOPROTO unsupported protocol version"])
            });
        }
        Some(None) => {
            return emit(out, |s| {
                reply::error(
                    s,
                    &[b"ERR Protocol version is not an integer or out of range"],
                )
            });
        }
    };
    let (mut user, mut name) = (None, None);
    let mut options = list.iter().skip(2);
    while let Some(option) = options.next() {
        let more = options.len();
        if is(option, b"auth") && more >= 2 {
            user = options.next();
            options.next();
        } else if is(option, b"setname") && more >= 1 {
            name = options.next();
        } else {
            return emit(out, |s| {
                reply::error(s, &[b"ERR Syntax error in HELLO option '", option, b"'"])
            });
        }
    }
    // No users: Redis's default user without a password takes any password.
    if user.is_some_and(|user| *user != b"default") {
        return emit(out, |s| {
            reply::error(
                s,
                &[b"WRONGPASS invalid username-password pair or user is disabled."],
            )
        });
    }
    // Redis's clientSetName: printable ASCII without spaces.
    if name.is_some_and(|name| name.iter().any(|b| !(b'!'..=b'~').contains(b))) {
        return emit(out, |s| {
            reply::error(
                s,
                &[b"ERR Client names cannot contain spaces, newlines or special characters."],
            )
        });
    }
    let id = match out.session.id {
        0 => last_id.wrapping_add(1).max(1),
        id => id,
    };
    emit_in(out.buf, resp3, |s| {
        reply::map(s, 7);
        reply::bulk(s, b"server");
        reply::bulk(s, b"statio-kv");
        reply::bulk(s, b"version");
        reply::bulk(s, b"7.0.15");
        reply::bulk(s, b"proto");
        reply::int(s, if resp3 { 3 } else { 2 });
        reply::bulk(s, b"id");
        reply::int(s, i64::from(id));
        reply::bulk(s, b"mode");
        reply::bulk(s, b"standalone");
        reply::bulk(s, b"role");
        reply::bulk(s, b"master");
        reply::bulk(s, b"modules");
        reply::array(s, 0);
    })?;
    if out.session.id == 0 {
        *last_id = id;
        out.session.id = id;
    }
    out.session.resp3 = resp3;
    Ok(())
}

/// A command of the table, with an arity it accepts: what [`find`] gives.
#[derive(Copy, Clone)]
pub(super) struct Found(&'static Spec);

/// What a command is to a transaction (`MULTI` ... `EXEC`).
#[derive(Copy, Clone, PartialEq, Eq)]
pub(super) enum Role {
    Multi,
    Exec,
    Discard,
    /// `WATCH`: runs at once outside a transaction, is refused inside one (which goes
    /// on).
    Watch,
    /// `QUIT`: runs at once, inside a transaction too (Redis 7.0 does the same).
    Quit,
    /// Every other command: queued inside a transaction, run at once outside one.
    Data,
}

impl Found {
    pub(super) fn role(self) -> Role {
        match self.0.id {
            Id::Multi => Role::Multi,
            Id::Exec => Role::Exec,
            Id::Discard => Role::Discard,
            Id::Watch => Role::Watch,
            Id::Quit => Role::Quit,
            _ => Role::Data,
        }
    }
}

/// The command `args` names, if it exists and has an arity it accepts; else writes the
/// error Redis gives (too many arguments for this server, unknown command, wrong
/// number of arguments) and gives `None`.
pub(super) fn find<B: MutBuf + ?Sized>(
    args: &Args<'_>,
    out: &mut Out<'_, B>,
) -> Result<Option<Found>, NoRoom> {
    let list = &args.list[..];
    if args.count > MAX_ARGS {
        emit(out, |s| {
            reply::error(
                s,
                &[
                    b"ERR too many arguments: this server takes at most ",
                    itoa::Buffer::new().format(MAX_ARGS).as_bytes(),
                    b" per command",
                ],
            )
        })?;
        return Ok(None);
    }
    let name = list[0];
    let mut lower = [0u8; LONGEST_NAME];
    let found = (name.len() <= LONGEST_NAME)
        .then(|| {
            lower[..name.len()].copy_from_slice(name);
            lower[..name.len()].make_ascii_lowercase();
            COMMANDS
                .iter()
                .find(|spec| spec.name == &lower[..name.len()])
        })
        .flatten();
    let Some(spec) = found else {
        emit(out, |s| unknown_command(s, list))?;
        return Ok(None);
    };
    let argc = list.len();
    let arity_ok = match usize::try_from(spec.arity) {
        Ok(exact) => argc == exact,
        Err(_) => argc >= usize::from(spec.arity.unsigned_abs()),
    };
    if !arity_ok {
        emit(out, |s| wrong_arity(s, spec.name))?;
        return Ok(None);
    }
    Ok(Some(Found(spec)))
}

impl<const KEYS: usize, const KEY: usize, const VALUE: usize, const COMMAND: usize>
    Kv<KEYS, KEY, VALUE, COMMAND>
{
    /// Runs `found`, a [`Role::Data`], [`Role::Quit`] or [`Role::Watch`] command, and
    /// writes its reply; `NoRoom` when the reply does not fit into `out` (the command
    /// then changed nothing).
    pub(super) fn execute<B: MutBuf + ?Sized>(
        &mut self,
        Found(spec): Found,
        args: &Args<'_>,
        now: Millis,
        out: &mut Out<'_, B>,
    ) -> Result<Then, NoRoom> {
        let list = &args.list[..];
        let argc = list.len();
        if spec.writes && out.buf.remaining_mut() < MUTATION_REPLY_MAX {
            return Err(NoRoom {
                needed: MUTATION_REPLY_MAX,
                free: out.buf.remaining_mut(),
            });
        }
        let store = &mut self.store;
        match spec.id {
            Id::Get => emit(out, |s| match store.get(list[1], now) {
                Some(entry) => reply::bulk(s, &entry.value),
                None => reply::nil(s),
            })?,
            Id::Set => set(store, list, now, out)?,
            Id::Incr => incr_by(store, list[1], Ok(1), now, out)?,
            Id::Decr => incr_by(store, list[1], Ok(-1), now, out)?,
            Id::IncrBy => incr_by(
                store,
                list[1],
                parse_i64(list[2]).ok_or(NOT_AN_INTEGER),
                now,
                out,
            )?,
            Id::DecrBy => {
                // -i64::MIN does not exist: Redis refuses it as an overflow.
                let delta = match parse_i64(list[2]) {
                    None => Err(NOT_AN_INTEGER),
                    Some(n) => n.checked_neg().ok_or(&b"ERR decrement would overflow"[..]),
                };
                incr_by(store, list[1], delta, now, out)?
            }
            Id::Del => {
                let removed = list[1..]
                    .iter()
                    .filter(|key| store.remove(key, now))
                    .count();
                emit(out, |s| reply::int(s, removed as i64))?
            }
            Id::Exists => {
                let n = list[1..]
                    .iter()
                    .filter(|key| store.get(key, now).is_some())
                    .count();
                emit(out, |s| reply::int(s, n as i64))?
            }
            Id::Mget => emit(out, |s| {
                reply::array(s, argc - 1);
                for key in &list[1..] {
                    match store.get(key, now) {
                        Some(entry) => reply::bulk(s, &entry.value),
                        None => reply::nil(s),
                    }
                }
            })?,
            Id::Mset => mset(store, list, now, out)?,
            Id::Expire => expire(store, list, now, 1000, b"expire", out)?,
            Id::Pexpire => expire(store, list, now, 1, b"pexpire", out)?,
            Id::Ttl | Id::Pttl => {
                let ttl = match store.get(list[1], now) {
                    None => -2,
                    Some(entry) => match entry.deadline {
                        None => -1,
                        Some(deadline) => {
                            let left = deadline.saturating_sub(now).max(0);
                            match spec.id {
                                Id::Ttl => (left + 500) / 1000, // Redis rounds to the nearest second
                                _ => left,
                            }
                        }
                    },
                };
                emit(out, |s| reply::int(s, ttl))?
            }
            Id::Persist => {
                let had = store
                    .get(list[1], now)
                    .is_some_and(|e| e.deadline.is_some());
                if had {
                    store.set_deadline(list[1], None);
                }
                emit(out, |s| reply::int(s, i64::from(had)))?
            }
            Id::Ping => match list.len() {
                1 => emit(out, |s| reply::simple(s, b"PONG"))?,
                2 => emit(out, |s| reply::bulk(s, list[1]))?,
                _ => emit(out, |s| wrong_arity(s, spec.name))?,
            },
            Id::Echo => emit(out, |s| reply::bulk(s, list[1]))?,
            Id::Dbsize => emit(out, |s| reply::int(s, store.len() as i64))?,
            Id::Flushall | Id::Flushdb => {
                // Redis: one optional argument, ASYNC or SYNC (both flush at once here).
                let valid = match list {
                    [_] => true,
                    [_, mode] => is(mode, b"async") || is(mode, b"sync"),
                    _ => false,
                };
                if valid {
                    store.clear(now);
                    emit(out, reply::ok)?
                } else {
                    emit(out, |s| reply::error(s, &[SYNTAX_ERROR]))?
                }
            }
            Id::Select => emit(out, |s| match parse_i64(list[1]) {
                None => reply::error(s, &[NOT_AN_INTEGER]),
                Some(0) => reply::ok(s),
                Some(_) => reply::error(s, &[b"ERR DB index is out of range"]),
            })?,
            Id::Quit => {
                emit(out, reply::ok)?;
                return Ok(Then::Close);
            }
            Id::Command => emit(out, |s| match list.get(1) {
                // No command documentation: redis-cli falls back on its own.
                None => reply::array(s, 0),
                Some(sub) if is(sub, b"docs") => reply::map(s, 0),
                Some(sub) if is(sub, b"count") => reply::int(s, COMMANDS.len() as i64),
                Some(sub) => unknown_subcommand(s, sub, b"COMMAND"),
            })?,
            Id::Config => emit(out, |s| config(s, list))?,
            Id::Hello => hello(&mut self.last_id, list, out)?,
            Id::Watch => {
                // Kept only once the reply is out: a full output buffer runs it again.
                let mut watch = out.session.watch;
                if watch.add(list[1..].iter().copied(), store, now).is_ok() {
                    emit(out, reply::ok)?;
                    out.session.watch = watch;
                } else {
                    emit(out, |s| {
                        reply::error(
                            s,
                            &[
                                b"ERR too many keys watched: this server watches at most ",
                                itoa::Buffer::new().format(WATCHED).as_bytes(),
                                b" per connection (keys that share a bucket count once)",
                            ],
                        )
                    })?
                }
            }
            Id::Unwatch => {
                emit(out, reply::ok)?;
                out.session.watch.clear();
            }
            // The serve loop's (`transaction.rs`): never given here.
            Id::Multi | Id::Exec | Id::Discard => {}
        }
        Ok(Then::Continue)
    }
}
