//! `WATCH` and `UNWATCH`: two connections on one store, the replies recorded from
//! redis-server 7.0.15, and this server's limit (the buckets a connection watches).

use std::string::String;
use std::vec::Vec;

use super::store::Store as Buckets;
use super::{Kv, Session, WATCHED};
use crate::driver::drive;

type Store = Kv<64, 16, 32>;

/// One step of a conversation: which connection (0 or 1), its inline input, the time
/// (ms), and what redis-server 7.0.15 answered to it.
type Step = (usize, &'static str, i64, &'static str);

/// Runs `steps` on `kv`, each input whole; every reply, step by step.
fn conversation(kv: &mut Store, steps: &[(usize, &str, i64)]) -> Vec<String> {
    let mut sessions = [Session::new(), Session::new()];
    steps
        .iter()
        .map(|&(who, input, now)| serve(kv, &mut sessions[who], input, now))
        .collect()
}

/// `input` served whole on the connection of `session`, its output sent as it fills.
fn serve<const KEYS: usize>(
    kv: &mut Kv<KEYS, 16, 32>,
    session: &mut Session,
    input: &str,
    now: i64,
) -> String {
    let t = drive::<4080>(input.as_bytes(), input.len(), 4080, |input, out| {
        kv.serve(session, input, out, now as u64)
    });
    assert!(t.kept.is_empty() && !t.closed, "{input:?}: {t:?}");
    String::from_utf8_lossy(&t.output).into_owned()
}

/// Recorded from redis-server 7.0.15 (two connections, each step sent whole and
/// answered before the next, after `FLUSHALL`; times by sleeping between steps).
const REDIS_7_0_15: &[&[Step]] = &[
    // Another connection's write, and the connection's own.
    &[
        (0, "SET a 0\r\nWATCH a\r\n", 0, "+OK\r\n+OK\r\n"),
        (1, "SET a 1\r\n", 0, "+OK\r\n"),
        (
            0,
            "MULTI\r\nGET a\r\nEXEC\r\n",
            0,
            "+OK\r\n+QUEUED\r\n*-1\r\n",
        ),
        // EXEC unwatched: the next transaction runs.
        (
            0,
            "MULTI\r\nGET a\r\nEXEC\r\n",
            0,
            "+OK\r\n+QUEUED\r\n*1\r\n$1\r\n1\r\n",
        ),
    ],
    &[(
        0,
        "WATCH a\r\nSET a 2\r\nMULTI\r\nGET a\r\nEXEC\r\n",
        0,
        "+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*-1\r\n",
    )],
    // Commands that change nothing do not fail it.
    &[
        (1, "SET a x\r\n", 0, "+OK\r\n"),
        (0, "WATCH a zz\r\n", 0, "+OK\r\n"),
        (
            1,
            "SET a 9 NX\r\nPERSIST a\r\nEXPIRE a 50 GT\r\nDEL zz\r\n",
            0,
            "$-1\r\n:0\r\n:0\r\n:0\r\n",
        ),
        (
            1,
            "INCR a\r\nGET a\r\n",
            0,
            "-ERR value is not an integer or out of range\r\n$1\r\nx\r\n",
        ),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n*0\r\n"),
    ],
    // Each kind of change fails it: EXPIRE, PERSIST, DEL, INCR, MSET, SET of the same
    // value, FLUSHALL of a key that exists.
    &[
        (1, "SET a 1\r\n", 0, "+OK\r\n"),
        (0, "WATCH a\r\n", 0, "+OK\r\n"),
        (1, "EXPIRE a 100\r\n", 0, ":1\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n*-1\r\n"),
        (0, "WATCH a\r\n", 0, "+OK\r\n"),
        (1, "PERSIST a\r\n", 0, ":1\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n*-1\r\n"),
        (0, "WATCH a\r\n", 0, "+OK\r\n"),
        (1, "DEL a\r\n", 0, ":1\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n*-1\r\n"),
        (0, "WATCH n\r\n", 0, "+OK\r\n"),
        (1, "INCR n\r\n", 0, ":1\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n*-1\r\n"),
        (0, "WATCH m2\r\n", 0, "+OK\r\n"),
        (1, "MSET m1 1 m2 2\r\n", 0, "+OK\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n*-1\r\n"),
        (1, "SET s v\r\n", 0, "+OK\r\n"),
        (0, "WATCH s\r\n", 0, "+OK\r\n"),
        (1, "SET s v\r\n", 0, "+OK\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n*-1\r\n"),
        (0, "WATCH s\r\n", 0, "+OK\r\n"),
        (1, "FLUSHALL\r\n", 0, "+OK\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n*-1\r\n"),
    ],
    // FLUSHALL of a key that does not exist changes nothing.
    &[
        (0, "WATCH zz\r\n", 0, "+OK\r\n"),
        (1, "FLUSHALL\r\n", 0, "+OK\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n*0\r\n"),
    ],
    // DISCARD and UNWATCH unwatch; DISCARD without MULTI does not; an EXECABORT does.
    &[
        (
            0,
            "WATCH s\r\nMULTI\r\nDISCARD\r\n",
            0,
            "+OK\r\n+OK\r\n+OK\r\n",
        ),
        (1, "SET s w\r\n", 0, "+OK\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n*0\r\n"),
        (0, "WATCH s\r\nUNWATCH\r\n", 0, "+OK\r\n+OK\r\n"),
        (1, "SET s w\r\n", 0, "+OK\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n*0\r\n"),
        (
            0,
            "WATCH s\r\nDISCARD\r\n",
            0,
            "+OK\r\n-ERR DISCARD without MULTI\r\n",
        ),
        (1, "SET s x\r\n", 0, "+OK\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n*-1\r\n"),
        (
            0,
            "WATCH s\r\nMULTI\r\nNOPE\r\n",
            0,
            "+OK\r\n+OK\r\n-ERR unknown command 'NOPE', with args beginning with: \r\n",
        ),
        (1, "SET s y\r\n", 0, "+OK\r\n"),
        (
            0,
            "EXEC\r\nMULTI\r\nEXEC\r\n",
            0,
            "-EXECABORT Transaction discarded because of previous errors.\r\n+OK\r\n*0\r\n",
        ),
    ],
    // A watched key that expires fails it; one that had expired when watched does not.
    &[
        (1, "SET e 1 PX 100\r\n", 0, "+OK\r\n"),
        (0, "WATCH e\r\n", 0, "+OK\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 300, "+OK\r\n*-1\r\n"),
        (1, "SET f 1 PX 50\r\n", 300, "+OK\r\n"),
        (0, "WATCH f\r\n", 500, "+OK\r\n"),
        (1, "GET f\r\n", 800, "$-1\r\n"),
        (0, "MULTI\r\nEXEC\r\n", 800, "+OK\r\n*0\r\n"),
    ],
    // The queued commands do not run; RESP3's null.
    &[
        (0, "WATCH q\r\n", 0, "+OK\r\n"),
        (1, "SET q 1\r\n", 0, "+OK\r\n"),
        (
            0,
            "MULTI\r\nINCR q\r\nEXEC\r\nGET q\r\n",
            0,
            "+OK\r\n+QUEUED\r\n*-1\r\n$1\r\n1\r\n",
        ),
        (0, "WATCH q\r\n", 0, "+OK\r\n"),
        (1, "SET q 2\r\n", 0, "+OK\r\n"),
        (0, "HELLO 3\r\n", 0, ""),
        (0, "MULTI\r\nEXEC\r\n", 0, "+OK\r\n_\r\n"),
    ],
    // WATCH inside MULTI is refused without discarding; UNWATCH is queued.
    &[(
        0,
        "MULTI\r\nWATCH x\r\nSET x 1\r\nUNWATCH\r\nEXEC\r\n",
        0,
        "+OK\r\n-ERR WATCH inside MULTI is not allowed\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n+OK\r\n",
    )],
    &[(
        0,
        "WATCH\r\nUNWATCH x\r\n",
        0,
        "-ERR wrong number of arguments for 'watch' command\r\n\
         -ERR wrong number of arguments for 'unwatch' command\r\n",
    )],
];

#[test]
fn watch_answers_as_redis_7_0_15() {
    for steps in REDIS_7_0_15 {
        let mut kv = Store::new();
        let inputs: Vec<_> = steps
            .iter()
            .map(|&(who, input, now, _)| (who, input, now))
            .collect();
        let replies = conversation(&mut kv, &inputs);
        for (&(who, input, _, expected), reply) in steps.iter().zip(&replies) {
            if input.starts_with("HELLO") {
                continue; // its map names this server, not Redis
            }
            assert_eq!(reply, expected, "connection {who}, {input:?}, in {steps:?}");
        }
    }
}

#[test]
fn active_expiry_fails_exec_only_for_a_key_that_had_not_expired_when_watched() {
    for (set_at, watch_at, exec) in [(0, 100, "*0"), (60, 100, "*-1")] {
        let mut kv = Store::new();
        let (mut a, mut b) = (Session::new(), Session::new());
        assert_eq!(
            serve(&mut kv, &mut b, "SET f 1 PX 50\r\n", set_at),
            "+OK\r\n"
        );
        assert_eq!(serve(&mut kv, &mut a, "WATCH f\r\n", watch_at), "+OK\r\n");
        assert_eq!(kv.expire(200, 64), 1, "the timer's sweep removes f");
        let replies = serve(&mut kv, &mut a, "MULTI\r\nEXEC\r\n", 200);
        assert_eq!(
            replies,
            std::format!("+OK\r\n{exec}\r\n"),
            "f set at {set_at} ms"
        );
    }
}

/// Keys in `WATCHED + 1` different buckets, and one more that shares the first's.
fn keys() -> (Vec<String>, String) {
    let buckets = Buckets::<64, 16, 32>::new();
    let bucket = |key: &String| buckets.version(key.as_bytes()).bucket;
    let mut names = (0..).map(|i| std::format!("key{i}"));
    let mut distinct: Vec<String> = Vec::new();
    while distinct.len() <= WATCHED {
        let key = names.next().unwrap();
        if distinct.iter().all(|k| bucket(k) != bucket(&key)) {
            distinct.push(key);
        }
    }
    let twin = names.find(|k| bucket(k) == bucket(&distinct[0])).unwrap();
    (distinct, twin)
}

#[test]
fn a_connection_watches_up_to_watched_buckets_and_a_watch_beyond_watches_nothing() {
    let (distinct, twin) = keys();
    let mut kv = Store::new();
    let all = distinct.join(" ");
    let first_eight = distinct[..WATCHED].join(" ");
    let replies = conversation(
        &mut kv,
        &[
            // One too many: refused, and none of them is watched.
            (0, &std::format!("WATCH {all}\r\n"), 0),
            (1, &std::format!("SET {} 1\r\n", distinct[0]), 0),
            (0, "MULTI\r\nEXEC\r\n", 0),
            // WATCHED of them, and one that shares a bucket: accepted.
            (0, &std::format!("WATCH {first_eight} {twin}\r\n"), 0),
            (0, &std::format!("WATCH {}\r\n", distinct[WATCHED]), 0),
            (1, &std::format!("SET {} 1\r\n", distinct[WATCHED - 1]), 0),
            (0, "MULTI\r\nEXEC\r\n", 0),
        ],
    );
    let too_many = "-ERR too many keys watched: this server watches at most 8 per connection \
                    (keys that share a bucket count once)\r\n";
    assert_eq!(
        replies,
        [
            too_many,
            "+OK\r\n",
            "+OK\r\n*0\r\n",
            "+OK\r\n",
            too_many,
            "+OK\r\n",
            "+OK\r\n*-1\r\n"
        ]
    );
}

#[test]
fn a_change_to_another_key_of_a_watched_bucket_fails_exec() {
    // Documented: versions are kept per bucket, never missing a change to a watched key.
    let (distinct, twin) = keys();
    let mut kv = Store::new();
    let replies = conversation(
        &mut kv,
        &[
            (0, &std::format!("WATCH {}\r\n", distinct[0]), 0),
            (1, &std::format!("SET {twin} 1\r\n"), 0),
            (0, "MULTI\r\nEXEC\r\n", 0),
        ],
    );
    assert_eq!(replies, ["+OK\r\n", "+OK\r\n", "+OK\r\n*-1\r\n"]);
}

#[test]
fn a_refused_write_changes_no_version() {
    // A full store refuses a new key: a watch on it stays good.
    let mut kv: Kv<4, 16, 32> = Kv::new();
    let (mut a, mut b) = (Session::new(), Session::new());
    assert_eq!(
        serve(&mut kv, &mut b, "MSET a 1 b 2 c 3 d 4\r\n", 0),
        "+OK\r\n"
    );
    assert_eq!(serve(&mut kv, &mut a, "WATCH e\r\n", 0), "+OK\r\n");
    assert!(serve(&mut kv, &mut b, "SET e 5\r\n", 0).starts_with("-OOM "));
    assert_eq!(
        serve(&mut kv, &mut a, "MULTI\r\nEXEC\r\n", 0),
        "+OK\r\n*0\r\n"
    );
}
