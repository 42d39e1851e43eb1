//! Socket addresses: [`core::net::SocketAddr`] to and from the kernel's `sockaddr_in` /
//! `sockaddr_in6`, and [`UnixAddr`], an owned `sockaddr_un`.
//!
//! Byte orders follow std's conversions so an address round-trips unchanged through
//! either: port and IPv4 address in network order, IPv6 address as its 16 bytes,
//! `flowinfo` and `scope_id` passed through as given.

use core::fmt;
use core::mem::{self, offset_of, size_of};
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use statio_core::OsError;

use crate::error::from_errno;

/// Room for any address this crate passes to the kernel, `sockaddr`-compatible by layout.
#[repr(C)]
pub(crate) union RawAddr {
    v4: libc::sockaddr_in,
    v6: libc::sockaddr_in6,
}

impl RawAddr {
    /// Encodes `addr` and returns it with the length the kernel must be told.
    pub(crate) fn new(addr: &SocketAddr) -> (RawAddr, libc::socklen_t) {
        match addr {
            SocketAddr::V4(a) => (
                RawAddr { v4: encode_v4(a) },
                socklen_of::<libc::sockaddr_in>(),
            ),
            SocketAddr::V6(a) => (
                RawAddr { v6: encode_v6(a) },
                socklen_of::<libc::sockaddr_in6>(),
            ),
        }
    }

    /// The address as the `const sockaddr *` the socket calls take.
    pub(crate) fn as_ptr(&self) -> *const libc::sockaddr {
        (self as *const RawAddr).cast()
    }
}

/// `size_of::<T>()` as a `socklen_t`; every sockaddr type is far below `socklen_t::MAX`.
pub(crate) const fn socklen_of<T>() -> libc::socklen_t {
    size_of::<T>() as libc::socklen_t
}

fn encode_v4(addr: &SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is a C struct of integers and byte arrays: all-zero is valid.
    let mut raw: libc::sockaddr_in = unsafe { mem::zeroed() };
    #[cfg(any(
        target_os = "freebsd",
        target_os = "macos",
        target_os = "ios",
        target_os = "dragonfly",
        target_os = "netbsd",
        target_os = "openbsd"
    ))]
    {
        raw.sin_len = size_of::<libc::sockaddr_in>() as u8;
    }
    raw.sin_family = libc::AF_INET as libc::sa_family_t;
    raw.sin_port = addr.port().to_be();
    raw.sin_addr.s_addr = u32::from_ne_bytes(addr.ip().octets());
    raw
}

fn encode_v6(addr: &SocketAddrV6) -> libc::sockaddr_in6 {
    // SAFETY: sockaddr_in6 is a C struct of integers and byte arrays: all-zero is valid.
    let mut raw: libc::sockaddr_in6 = unsafe { mem::zeroed() };
    #[cfg(any(
        target_os = "freebsd",
        target_os = "macos",
        target_os = "ios",
        target_os = "dragonfly",
        target_os = "netbsd",
        target_os = "openbsd"
    ))]
    {
        raw.sin6_len = size_of::<libc::sockaddr_in6>() as u8;
    }
    raw.sin6_family = libc::AF_INET6 as libc::sa_family_t;
    raw.sin6_port = addr.port().to_be();
    raw.sin6_flowinfo = addr.flowinfo();
    raw.sin6_addr.s6_addr = addr.ip().octets();
    raw.sin6_scope_id = addr.scope_id();
    raw
}

/// Decodes what `getsockname`, `accept`, `recvfrom` ... wrote into `storage`.
///
/// # Errors
/// `InvalidInput` (`EAFNOSUPPORT`) when the family is neither `AF_INET` nor `AF_INET6`,
/// or `len` is too short for the family's struct.
pub(crate) fn decode(
    storage: &libc::sockaddr_storage,
    len: libc::socklen_t,
) -> Result<SocketAddr, OsError> {
    let len = len as usize;
    match i32::from(storage.ss_family) {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says the storage holds a sockaddr_in, `len` says the kernel
            // wrote all of it, and sockaddr_storage is aligned for every sockaddr type.
            let raw =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(raw.sin_addr.s_addr.to_ne_bytes());
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(raw.sin_port),
            )))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for sockaddr_in6.
            let raw = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(raw.sin6_addr.s6_addr),
                u16::from_be(raw.sin6_port),
                raw.sin6_flowinfo,
                raw.sin6_scope_id,
            )))
        }
        _ => Err(from_errno(libc::EAFNOSUPPORT)),
    }
}

/// A zeroed `sockaddr_storage` and its length, ready for the kernel to fill in.
pub(crate) fn empty_storage() -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is a C struct of integers and byte arrays: all-zero is valid.
    let storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    (storage, socklen_of::<libc::sockaddr_storage>())
}

/// The address of a Unix domain socket: a filesystem path, an abstract name (Linux and
/// Android), or unnamed (a socket that was never bound, e.g. one end of a `pair`).
///
/// Paths are bytes, as the kernel sees them: no encoding is assumed.
#[derive(Copy, Clone)]
pub struct UnixAddr {
    raw: libc::sockaddr_un,
    len: libc::socklen_t,
}

/// Where `sun_path` starts: the length of an unnamed address.
const PATH_OFFSET: usize = offset_of!(libc::sockaddr_un, sun_path);

impl UnixAddr {
    fn empty() -> UnixAddr {
        // SAFETY: sockaddr_un is a C struct of integers and a byte array: all-zero is valid.
        let mut raw: libc::sockaddr_un = unsafe { mem::zeroed() };
        raw.sun_family = libc::AF_UNIX as libc::sa_family_t;
        UnixAddr {
            raw,
            len: PATH_OFFSET as libc::socklen_t,
        }
    }

    /// The address of the filesystem path `path` (without a trailing NUL).
    ///
    /// # Errors
    /// `InvalidInput`: `ENAMETOOLONG` when `path` and its terminating NUL do not fit in
    /// `sun_path` (108 bytes on Linux, 104 on the BSDs and macOS); `EINVAL` when `path`
    /// is empty or contains a NUL byte. A path is never truncated, and never names
    /// anything but a file: an empty one would be a lone NUL, which Linux reads as the
    /// abstract name "" (use [`from_abstract_name`](Self::from_abstract_name) for that).
    pub fn from_pathname(path: &[u8]) -> Result<UnixAddr, OsError> {
        let mut addr = UnixAddr::empty();
        if path.is_empty() || path.contains(&0) {
            return Err(from_errno(libc::EINVAL));
        }
        if path.len() >= addr.raw.sun_path.len() {
            return Err(from_errno(libc::ENAMETOOLONG));
        }
        for (dst, &src) in addr.raw.sun_path.iter_mut().zip(path) {
            *dst = src as libc::c_char;
        }
        // Count the NUL terminator, as the BSDs expect and Linux accepts (unix(7)).
        addr.set_len(PATH_OFFSET + path.len() + 1);
        Ok(addr)
    }

    /// The address of the abstract socket name `name` (Linux and Android): no file is
    /// created, and the name disappears with the last socket bound to it (unix(7)).
    ///
    /// `name` excludes the leading NUL that marks it abstract; it may contain any bytes.
    ///
    /// # Errors
    /// `InvalidInput` (`ENAMETOOLONG`) when `name` is longer than `sun_path` minus one
    /// byte (107 bytes).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn from_abstract_name(name: &[u8]) -> Result<UnixAddr, OsError> {
        let mut addr = UnixAddr::empty();
        if name.len() >= addr.raw.sun_path.len() {
            return Err(from_errno(libc::ENAMETOOLONG));
        }
        for (dst, &src) in addr.raw.sun_path[1..].iter_mut().zip(name) {
            *dst = src as libc::c_char;
        }
        addr.set_len(PATH_OFFSET + 1 + name.len());
        Ok(addr)
    }

    fn set_len(&mut self, len: usize) {
        self.len = len as libc::socklen_t;
        #[cfg(any(
            target_os = "freebsd",
            target_os = "macos",
            target_os = "ios",
            target_os = "dragonfly",
            target_os = "netbsd",
            target_os = "openbsd"
        ))]
        {
            self.raw.sun_len = len as u8;
        }
    }

    /// Lets the kernel fill in an address: `f` gets the `sockaddr` pointer and length
    /// in/out parameter of `accept`, `getsockname`, `recvfrom` ...
    pub(crate) fn fill<T>(
        f: impl FnOnce(*mut libc::sockaddr, *mut libc::socklen_t) -> Result<T, OsError>,
    ) -> Result<(T, UnixAddr), OsError> {
        let mut addr = UnixAddr::empty();
        let mut len = socklen_of::<libc::sockaddr_un>();
        let ret = f((&mut addr.raw as *mut libc::sockaddr_un).cast(), &mut len)?;
        // The kernel reports the full length even when it truncated; keep to what fits.
        addr.len = len.min(socklen_of::<libc::sockaddr_un>());
        // Some kernels report no length at all for an unnamed peer (macOS: 0).
        addr.len = addr.len.max(PATH_OFFSET as libc::socklen_t);
        Ok((ret, addr))
    }

    /// The address as the `const sockaddr *` and length the socket calls take.
    pub(crate) fn as_raw(&self) -> (*const libc::sockaddr, libc::socklen_t) {
        ((&self.raw as *const libc::sockaddr_un).cast(), self.len)
    }

    /// The bytes of `sun_path` the length covers.
    fn path_bytes(&self) -> &[u8] {
        let len = (self.len as usize - PATH_OFFSET).min(self.raw.sun_path.len());
        // SAFETY: c_char and u8 have the same size and alignment, and `len` is within
        // `sun_path`, which `self` borrows for the slice's lifetime.
        unsafe { core::slice::from_raw_parts(self.raw.sun_path.as_ptr().cast::<u8>(), len) }
    }

    /// The filesystem path, without its terminating NUL, if this is a path address.
    pub fn as_pathname(&self) -> Option<&[u8]> {
        let bytes = self.path_bytes();
        match bytes.first() {
            None | Some(0) => None,
            // Kernels may count the NUL and padding after it (the BSDs report the whole
            // struct): the path ends at the first NUL.
            Some(_) => Some(bytes.split(|&b| b == 0).next().unwrap_or(bytes)),
        }
    }

    /// The abstract name, without its leading NUL, if this is an abstract address
    /// (Linux and Android only).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn as_abstract_name(&self) -> Option<&[u8]> {
        match self.path_bytes() {
            [0, name @ ..] => Some(name),
            _ => None,
        }
    }

    /// Whether the address is unnamed: the socket was never bound.
    pub fn is_unnamed(&self) -> bool {
        match self.path_bytes() {
            [] => true,
            // A leading NUL is an abstract name on Linux/Android, an empty path elsewhere.
            [0, ..] => !cfg!(any(target_os = "linux", target_os = "android")),
            _ => false,
        }
    }
}

impl fmt::Debug for UnixAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = self.as_pathname() {
            return write!(f, "UnixAddr(path {:?})", path.escape_ascii());
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(name) = self.as_abstract_name() {
            return write!(f, "UnixAddr(abstract {:?})", name.escape_ascii());
        }
        f.write_str("UnixAddr(unnamed)")
    }
}

impl PartialEq for UnixAddr {
    fn eq(&self, other: &UnixAddr) -> bool {
        self.is_unnamed() == other.is_unnamed()
            && (self.is_unnamed() || self.path_bytes() == other.path_bytes())
    }
}

impl Eq for UnixAddr {}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(addr: SocketAddr) -> SocketAddr {
        let (raw, len) = RawAddr::new(&addr);
        let (mut storage, _) = empty_storage();
        // SAFETY: both pointers are valid for `len` bytes and do not overlap; `len` is at
        // most the size of RawAddr, which is at most the size of sockaddr_storage.
        unsafe {
            core::ptr::copy_nonoverlapping(
                raw.as_ptr().cast::<u8>(),
                (&mut storage as *mut libc::sockaddr_storage).cast::<u8>(),
                len as usize,
            );
        }
        decode(&storage, len).unwrap()
    }

    #[test]
    fn socket_addrs_round_trip() {
        let v4: SocketAddr = "192.0.2.7:8080".parse().unwrap();
        assert_eq!(round_trip(v4), v4);
        let v6 = SocketAddr::V6(SocketAddrV6::new("2001:db8::1".parse().unwrap(), 443, 7, 3));
        assert_eq!(round_trip(v6), v6);
    }

    #[test]
    fn unknown_family_is_typed_error() {
        let (storage, len) = empty_storage();
        assert_eq!(
            decode(&storage, len).unwrap_err().code(),
            libc::EAFNOSUPPORT
        );
    }

    #[test]
    fn unix_paths() {
        let a = UnixAddr::from_pathname(b"/tmp/x.sock").unwrap();
        assert_eq!(a.as_pathname(), Some(&b"/tmp/x.sock"[..]));
        assert!(!a.is_unnamed());
        assert_eq!(a, UnixAddr::from_pathname(b"/tmp/x.sock").unwrap());
        assert!(UnixAddr::empty().is_unnamed());
        assert_eq!(UnixAddr::empty().as_pathname(), None);
        assert_eq!(
            UnixAddr::from_pathname(b"a\0b").unwrap_err().code(),
            libc::EINVAL
        );
    }

    /// Issue 14, item 3: an empty path was a lone NUL, the abstract name "" on Linux.
    #[test]
    fn empty_path_is_an_error_not_the_abstract_name() {
        let err = UnixAddr::from_pathname(b"").unwrap_err();
        assert_eq!(
            (err.code(), err.kind()),
            (libc::EINVAL, embedded_io::ErrorKind::InvalidInput)
        );
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let empty_name = UnixAddr::from_abstract_name(b"").unwrap();
            assert_eq!(empty_name.as_abstract_name(), Some(&b""[..]));
            assert_eq!(empty_name.as_pathname(), None);
            assert!(!empty_name.is_unnamed());
            assert_ne!(empty_name, UnixAddr::empty());
            assert_ne!(Ok(empty_name), UnixAddr::from_pathname(b""));
        }
    }

    #[test]
    fn too_long_path_is_an_error_not_a_truncation() {
        let max = UnixAddr::empty().raw.sun_path.len();
        let long = [b'a'; 200];
        let err = UnixAddr::from_pathname(&long[..max]).unwrap_err();
        assert_eq!(err.code(), libc::ENAMETOOLONG);
        assert_eq!(err.kind(), embedded_io::ErrorKind::InvalidInput);
        let fits = UnixAddr::from_pathname(&long[..max - 1]).unwrap();
        assert_eq!(fits.as_pathname().unwrap().len(), max - 1);
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn abstract_names() {
        let a = UnixAddr::from_abstract_name(b"statio\0x").unwrap();
        assert_eq!(a.as_abstract_name(), Some(&b"statio\0x"[..]));
        assert_eq!(a.as_pathname(), None);
        assert!(!a.is_unnamed());
        let max = UnixAddr::empty().raw.sun_path.len();
        assert!(UnixAddr::from_abstract_name(&[1; 200][..max - 1]).is_ok());
        assert_eq!(
            UnixAddr::from_abstract_name(&[1; 200][..max])
                .unwrap_err()
                .code(),
            libc::ENAMETOOLONG
        );
    }
}
