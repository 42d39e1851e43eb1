//! The selector conformance suite: every behaviour a port's `Selector` must show,
//! written once and run for every port built on this OS. Two halves: the loop-level
//! subjects drive the port through the event loop; `selector` drives a bare selector
//! (`EINTR`, whole tokens, `NotFound`, short waits), so the ports' own unit tests keep
//! only what is theirs.
//!
//! Each subject module holds generic cases, `fn case<S: Selector<Handle = RawFd>>()`;
//! [`conformance!`] instantiates all of them as `#[test]`s for one port, as
//! `<port>::<subject>::<case>`. Adding a port is one line at the bottom of this file.
//!
//! Every case uses loopback sockets, socketpairs or pipes only, bounds every wait
//! (turn caps, `run_once` timeouts), and asserts behaviour, never timing.

mod closing;
mod dispatch;
mod interrupt;
mod modes;
mod orphan;
mod overflow;
mod registration;
mod selector;
mod stale;
#[path = "../util/mod.rs"]
mod util;

/// Instantiates every case of every subject as a `#[test]` for the selector `$selector`,
/// in a module named `$port`.
///
/// A case that shows a known bug carries `#[ignore = "bug: ..."]` in the list below,
/// for every port alike.
macro_rules! conformance {
    ($port:ident, $selector:ty) => {
        mod $port {
            conformance!(@subject $selector, registration {
                events_arrive_under_the_registered_token,
                reregister_changes_interest,
                reregister_rearms_oneshot,
                deregister_stops_events,
                token_out_of_range_is_an_error,
                token_in_use_is_an_error,
                same_source_under_a_second_token_is_already_exists,
                wrong_token_or_source_is_not_registered,
                full_registry_errors_and_a_freed_token_is_reused,
            });
            conformance!(@subject $selector, modes {
                level_reports_every_turn_while_data_remains,
                level_reports_writable_every_turn,
                edge_reports_once_per_arrival,
                edge_reports_writable_once,
                oneshot_reports_once_until_reregistered,
                edge_oneshot_reports_once_until_reregistered,
            });
            conformance!(@subject $selector, closing {
                peer_close_gives_hup_or_read_closed,
                tcp_peer_close_gives_hup_or_read_closed,
                pipe_writer_close_gives_hup_or_read_closed,
                pipe_reader_close_reaches_the_writer,
                half_close_gives_read_closed_not_hup,
                read_closed_is_never_a_false_positive,
                reset_gives_error_or_hup,
            });
            conformance!(@subject $selector, dispatch {
                hang_up_on_a_readable_registration_calls_readable_only,
                writable_is_skipped_once_readable_deregistered,
                a_nested_turn_is_refused_and_loses_no_event,
            });
            conformance!(@subject $selector, stale {
                deregistered_in_the_batch_gets_no_event,
                reregistered_in_the_batch_gets_no_stale_event,
                reopened_fd_number_gets_no_stale_event,
            });
            conformance!(@subject $selector, orphan {
                release_frees_a_dropped_sources_token_and_spares_the_new_owner,
                a_dup_of_a_dropped_source_never_makes_the_loop_spin,
            });
            conformance!(@subject $selector, overflow {
                level_dispatches_every_source,
                edge_dispatches_every_source_once,
                oneshot_dispatches_every_source_once,
                edge_oneshot_dispatches_every_source_once,
            });
            conformance!(@subject $selector, interrupt {
                signal_reaches_interrupted_and_the_loop_continues,
            });
            conformance!(@subject $selector, selector {
                select_is_interrupted_and_not_retried,
                tokens_round_trip_whole,
                unknown_handles_are_not_found,
                a_one_microsecond_wait_returns_without_events,
            });
        }
    };
    (@subject $selector:ty, $subject:ident { $($(#[$attr:meta])* $case:ident),* $(,)? }) => {
        mod $subject {
            $(
                #[test]
                $(#[$attr])*
                fn $case() {
                    crate::$subject::$case::<$selector>();
                }
            )*
        }
    };
}

#[cfg(any(target_os = "linux", target_os = "android"))]
conformance!(epoll, statio::ports::epoll::Epoll);
#[cfg(unix)]
conformance!(poll, statio::ports::poll::Poll);
#[cfg(any(
    target_os = "freebsd",
    target_os = "macos",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
conformance!(kqueue, statio::ports::kqueue::Kqueue);
