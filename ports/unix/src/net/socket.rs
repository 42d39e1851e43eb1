//! The socket calls every socket type shares: creation (close-on-exec and non-blocking
//! from the first instruction where the OS allows), options, addresses, and the
//! would-block convention.
//!
//! | OS | new socket / accepted socket / pair | `SIGPIPE` on a reset peer avoided by |
//! |---|---|---|
//! | Linux, Android, FreeBSD, NetBSD, OpenBSD, DragonFly | `SOCK_CLOEXEC \| SOCK_NONBLOCK` / `accept4` | `MSG_NOSIGNAL` on each send |
//! | macOS, iOS | `socket` + `fcntl` (`FD_CLOEXEC`, `O_NONBLOCK`) / `accept` + `fcntl` | `SO_NOSIGPIPE` on the socket |
//!
//! On macOS a descriptor is briefly not close-on-exec between `socket` and `fcntl`: a
//! concurrent `fork` + `exec` can leak it (std and mio share the race; Darwin has no
//! atomic flag).

use core::net::SocketAddr;

use statio_core::OsError;

use crate::Fd;
use crate::error::{check, check_retry, from_errno};
use crate::net::addr::{self, RawAddr};
use crate::net::{Result, Shutdown};

/// Flags for every `send`/`sendto`: `MSG_NOSIGNAL` where it exists, so that writing to a
/// reset peer fails with `EPIPE` instead of killing the process with `SIGPIPE`.
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
/// On Darwin `SO_NOSIGPIPE`, set at creation, does the job of `MSG_NOSIGNAL`.
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(crate) const SEND_FLAGS: libc::c_int = 0;

/// The most bytes one `read`/`write` is asked to move: Darwin fails with `EINVAL` above
/// `INT_MAX`; elsewhere POSIX leaves counts above `SSIZE_MAX` undefined.
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(crate) const IO_MAX: usize = libc::c_int::MAX as usize - 1;
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
pub(crate) const IO_MAX: usize = isize::MAX as usize;

/// Maps `EAGAIN`/`EWOULDBLOCK` to `Ok(None)`.
#[inline]
pub(crate) fn would_block<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if is_would_block(err) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The error of a read offered no room (an empty slice, a full buffer): `InvalidInput`
/// (`EINVAL`), made without a call, so that a 0 from a read means only end of stream or
/// an empty datagram (see [no room](crate::net#no-room-is-an-error)).
#[cold]
pub(crate) fn no_room() -> OsError {
    from_errno(libc::EINVAL)
}

fn is_would_block(err: OsError) -> bool {
    // EWOULDBLOCK equals EAGAIN on every supported OS, but POSIX allows them to differ.
    err.code() == libc::EAGAIN || err.code() == libc::EWOULDBLOCK
}

/// Opens a close-on-exec, non-blocking socket.
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
pub(crate) fn new_socket(domain: libc::c_int, ty: libc::c_int) -> Result<Fd> {
    let ty = ty | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
    // SAFETY: socket(2) returns a new descriptor that nothing else owns, or -1.
    unsafe { Fd::from_syscall(libc::socket(domain, ty, 0)) }
}

/// Opens a close-on-exec, non-blocking socket.
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(crate) fn new_socket(domain: libc::c_int, ty: libc::c_int) -> Result<Fd> {
    // SAFETY: socket(2) returns a new descriptor that nothing else owns, or -1.
    let fd = unsafe { Fd::from_syscall(libc::socket(domain, ty, 0)) }?;
    prepare_darwin(&fd)?;
    Ok(fd)
}

/// Darwin has no `SOCK_CLOEXEC`/`SOCK_NONBLOCK`: set both after the fact, plus
/// `SO_NOSIGPIPE` in place of `MSG_NOSIGNAL`.
#[cfg(any(target_os = "macos", target_os = "ios"))]
fn prepare_darwin(fd: &Fd) -> Result<()> {
    set_cloexec(fd)?;
    set_nonblocking(fd)?;
    set_opt(fd, libc::SOL_SOCKET, libc::SO_NOSIGPIPE, 1 as libc::c_int)
}

/// Sets `FD_CLOEXEC` (for the OSes without atomic flags).
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(crate) fn set_cloexec(fd: &Fd) -> Result<()> {
    // SAFETY: `fd` is open for the call; F_SETFD takes an int argument.
    check_retry(|| unsafe { libc::fcntl(fd.raw(), libc::F_SETFD, libc::FD_CLOEXEC) }).map(drop)
}

/// Sets `O_NONBLOCK`, keeping the other status flags.
#[cfg(any(feature = "std", target_os = "macos", target_os = "ios"))]
pub(crate) fn set_nonblocking(fd: &Fd) -> Result<()> {
    // SAFETY: `fd` is open for the call; F_GETFL takes no argument.
    let flags = check_retry(|| unsafe { libc::fcntl(fd.raw(), libc::F_GETFL) })?;
    if flags & libc::O_NONBLOCK == 0 {
        // SAFETY: `fd` is open for the call; F_SETFL takes an int argument.
        check_retry(|| unsafe { libc::fcntl(fd.raw(), libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    }
    Ok(())
}

/// A connected pair of close-on-exec, non-blocking Unix sockets.
pub(crate) fn socketpair(ty: libc::c_int) -> Result<(Fd, Fd)> {
    let mut fds = [-1; 2];
    #[cfg(not(any(target_os = "macos", target_os = "ios")))]
    let ty = ty | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
    // SAFETY: `fds` has room for the two descriptors socketpair(2) writes.
    check(unsafe { libc::socketpair(libc::AF_UNIX, ty, 0, fds.as_mut_ptr()) })?;
    // SAFETY: on success both descriptors are new and owned by nobody else.
    let pair = unsafe { (Fd::from_raw(fds[0]), Fd::from_raw(fds[1])) };
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    {
        prepare_darwin(&pair.0)?;
        prepare_darwin(&pair.1)?;
    }
    Ok(pair)
}

/// Accepts one pending connection as a close-on-exec, non-blocking socket; `addr` and
/// `len` receive the peer's address as with accept(2).
///
/// # Safety
/// `len` must be valid for reads and writes, and `addr` for writes of `*len` bytes.
pub(crate) unsafe fn accept(
    listener: &Fd,
    addr: *mut libc::sockaddr,
    len: *mut libc::socklen_t,
) -> Result<Fd> {
    #[cfg(not(any(target_os = "macos", target_os = "ios")))]
    {
        let flags = libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
        // SAFETY: the caller vouches for `addr` and `len`.
        let raw = check_retry(|| unsafe { libc::accept4(listener.raw(), addr, len, flags) })?;
        // SAFETY: accept4(2) returned a new descriptor that nothing else owns.
        Ok(unsafe { Fd::from_raw(raw) })
    }
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    {
        // SAFETY: the caller vouches for `addr` and `len`.
        let raw = check_retry(|| unsafe { libc::accept(listener.raw(), addr, len) })?;
        // SAFETY: accept(2) returned a new descriptor that nothing else owns.
        let fd = unsafe { Fd::from_raw(raw) };
        prepare_darwin(&fd)?;
        Ok(fd)
    }
}

/// Accepts one pending connection of an `AF_INET`/`AF_INET6` listener.
pub(crate) fn accept_inet(listener: &Fd) -> Result<Option<(Fd, SocketAddr)>> {
    let (mut storage, mut len) = addr::empty_storage();
    let storage_ptr = (&mut storage as *mut libc::sockaddr_storage).cast();
    // SAFETY: `storage` has room for the `len` bytes the call may write.
    let accepted = unsafe { accept(listener, storage_ptr, &mut len) };
    match would_block(accepted)? {
        Some(fd) => Ok(Some((fd, addr::decode(&storage, len)?))),
        None => Ok(None),
    }
}

/// Binds to an internet address.
pub(crate) fn bind_inet(fd: &Fd, addr: &SocketAddr) -> Result<()> {
    let (raw, len) = RawAddr::new(addr);
    // SAFETY: `raw` is a valid sockaddr of `len` bytes for the call.
    check(unsafe { libc::bind(fd.raw(), raw.as_ptr(), len) }).map(drop)
}

/// Starts a non-blocking connect: `EINPROGRESS` is success; completion shows as
/// writability, failure in `SO_ERROR`.
///
/// # Safety
/// `addr` must be valid for reads of `len` bytes.
pub(crate) unsafe fn connect_raw(
    fd: &Fd,
    addr: *const libc::sockaddr,
    len: libc::socklen_t,
) -> Result<()> {
    // SAFETY: the caller vouches for `addr` and `len`.
    match check(unsafe { libc::connect(fd.raw(), addr, len) }) {
        // EINTR on a non-blocking connect also leaves it running in the background
        // (connect(2), POSIX): retrying would report EALREADY.
        Err(err) if err.code() == libc::EINPROGRESS || err.is_interrupted() => Ok(()),
        other => other.map(drop),
    }
}

/// Starts a non-blocking connect to an internet address (see [`connect_raw`]).
pub(crate) fn connect_inet(fd: &Fd, addr: &SocketAddr) -> Result<()> {
    let (raw, len) = RawAddr::new(addr);
    // SAFETY: `raw` holds a sockaddr of `len` bytes.
    unsafe { connect_raw(fd, raw.as_ptr(), len) }
}

/// Marks the socket as accepting connections.
pub(crate) fn listen(fd: &Fd, backlog: i32) -> Result<()> {
    // SAFETY: `fd` is open for the call.
    check(unsafe { libc::listen(fd.raw(), backlog) }).map(drop)
}

/// The socket's own internet address (getsockname(2)).
pub(crate) fn local_addr_inet(fd: &Fd) -> Result<SocketAddr> {
    let (mut storage, mut len) = addr::empty_storage();
    // SAFETY: `storage` has room for `len` bytes, which the kernel updates.
    check(unsafe {
        libc::getsockname(
            fd.raw(),
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    addr::decode(&storage, len)
}

/// The connected peer's internet address (getpeername(2)).
pub(crate) fn peer_addr_inet(fd: &Fd) -> Result<SocketAddr> {
    let (mut storage, mut len) = addr::empty_storage();
    // SAFETY: `storage` has room for `len` bytes, which the kernel updates.
    check(unsafe {
        libc::getpeername(
            fd.raw(),
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    addr::decode(&storage, len)
}

/// Reads into `buf` (read(2)); `Ok(None)` when nothing is available.
pub(crate) fn read(fd: &Fd, buf: &mut [u8]) -> Result<Option<usize>> {
    let len = buf.len().min(IO_MAX);
    // SAFETY: `buf` is valid for writes of `len` bytes for the call.
    would_block(check_retry(|| unsafe {
        libc::read(fd.raw(), buf.as_mut_ptr().cast(), len)
    }))
    .map(|n| n.map(|n| n as usize))
}

/// Writes from `buf` (write(2)); `Ok(None)` when there is no room.
pub(crate) fn write(fd: &Fd, buf: &[u8]) -> Result<Option<usize>> {
    let len = buf.len().min(IO_MAX);
    // SAFETY: `buf` is valid for reads of `len` bytes for the call.
    would_block(check_retry(|| unsafe {
        libc::write(fd.raw(), buf.as_ptr().cast(), len)
    }))
    .map(|n| n.map(|n| n as usize))
}

/// Receives into `buf` (recv(2)); `Ok(None)` when nothing is available.
#[inline]
pub(crate) fn recv(fd: &Fd, buf: &mut [u8]) -> Result<Option<usize>> {
    let len = buf.len().min(IO_MAX);
    // SAFETY: `buf` is valid for writes of `len` bytes for the call.
    would_block(check_retry(|| unsafe {
        libc::recv(fd.raw(), buf.as_mut_ptr().cast(), len, 0)
    }))
    .map(|n| n.map(|n| n as usize))
}

/// Sends `buf` (send(2) with [`SEND_FLAGS`]); `Ok(None)` when there is no room.
#[inline]
pub(crate) fn send(fd: &Fd, buf: &[u8]) -> Result<Option<usize>> {
    let len = buf.len().min(IO_MAX);
    // SAFETY: `buf` is valid for reads of `len` bytes for the call.
    would_block(check_retry(|| unsafe {
        libc::send(fd.raw(), buf.as_ptr().cast(), len, SEND_FLAGS)
    }))
    .map(|n| n.map(|n| n as usize))
}

/// Sends `buf` to `addr` (sendto(2) with [`SEND_FLAGS`]); `Ok(None)` when there is no room.
///
/// # Safety
/// `addr` must be valid for reads of `addr_len` bytes.
pub(crate) unsafe fn send_to_raw(
    fd: &Fd,
    buf: &[u8],
    addr: *const libc::sockaddr,
    addr_len: libc::socklen_t,
) -> Result<Option<usize>> {
    let len = buf.len().min(IO_MAX);
    // SAFETY: `buf` is valid for reads of `len` bytes; the caller vouches for `addr`.
    would_block(check_retry(|| unsafe {
        libc::sendto(
            fd.raw(),
            buf.as_ptr().cast(),
            len,
            SEND_FLAGS,
            addr,
            addr_len,
        )
    }))
    .map(|n| n.map(|n| n as usize))
}

/// Shuts down one or both directions (shutdown(2)).
pub(crate) fn shutdown(fd: &Fd, how: Shutdown) -> Result<()> {
    let how = match how {
        Shutdown::Read => libc::SHUT_RD,
        Shutdown::Write => libc::SHUT_WR,
        Shutdown::Both => libc::SHUT_RDWR,
    };
    // SAFETY: `fd` is open for the call.
    check(unsafe { libc::shutdown(fd.raw(), how) }).map(drop)
}

/// Takes the pending socket error (`SO_ERROR`), clearing it.
pub(crate) fn take_error(fd: &Fd) -> Result<Option<OsError>> {
    let code = get_int(fd, libc::SOL_SOCKET, libc::SO_ERROR)?;
    Ok((code != 0).then(|| from_errno(code)))
}

/// Sets a socket option whose value is the plain C type `T` (setsockopt(2)).
pub(crate) fn set_opt<T: Copy>(
    fd: &Fd,
    level: libc::c_int,
    name: libc::c_int,
    value: T,
) -> Result<()> {
    // SAFETY: `value` is a live `T` of the given size for the call; callers pass the C
    // type the option expects.
    check_retry(|| unsafe {
        libc::setsockopt(
            fd.raw(),
            level,
            name,
            (&value as *const T).cast(),
            addr::socklen_of::<T>(),
        )
    })
    .map(drop)
}

/// Sets a boolean socket option, passed as the `int` 0 or 1.
pub(crate) fn set_flag(fd: &Fd, level: libc::c_int, name: libc::c_int, on: bool) -> Result<()> {
    set_opt(fd, level, name, libc::c_int::from(on))
}

/// Reads a socket option whose value is the plain C type `T` (getsockopt(2)).
pub(crate) fn get_opt<T: Copy + Default>(
    fd: &Fd,
    level: libc::c_int,
    name: libc::c_int,
) -> Result<T> {
    let mut value = T::default();
    let mut len = addr::socklen_of::<T>();
    // SAFETY: `value` has room for the `len` bytes the kernel may write; callers pass
    // the C type the option has, for which any bytes the kernel writes are valid.
    check_retry(|| unsafe {
        libc::getsockopt(
            fd.raw(),
            level,
            name,
            (&mut value as *mut T).cast(),
            &mut len,
        )
    })?;
    Ok(value)
}

/// Reads a socket option whose value is an `int`.
pub(crate) fn get_int(fd: &Fd, level: libc::c_int, name: libc::c_int) -> Result<libc::c_int> {
    get_opt(fd, level, name)
}

/// Reads a boolean socket option.
pub(crate) fn get_flag(fd: &Fd, level: libc::c_int, name: libc::c_int) -> Result<bool> {
    get_int(fd, level, name).map(|v| v != 0)
}

/// Converts a size to the `int` socket options take.
///
/// # Errors
/// `InvalidInput` (`EINVAL`) above `INT_MAX`: the kernel would read a negative value.
pub(crate) fn c_int_of(value: u32) -> Result<libc::c_int> {
    libc::c_int::try_from(value).map_err(|_| from_errno(libc::EINVAL))
}
