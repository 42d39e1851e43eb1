//! The socket options several types share, each written and documented once: two
//! macros add them as methods to a type whose `fd` field is an [`Fd`](crate::Fd).
//!
//! | macro | options | used by |
//! |---|---|---|
//! | [`buffer_options!`] | `SO_SNDBUF`, `SO_RCVBUF` | the builders, `UnixDatagram` |
//! | [`inet_options!`] | `SO_REUSEADDR`, `SO_REUSEPORT`, `SO_REUSEPORT_LB` (FreeBSD), `IPV6_V6ONLY` | `TcpSocket`, `UdpBuilder` |

/// Adds `set_send_buffer_size` and `set_recv_buffer_size` to `$ty`.
macro_rules! buffer_options {
    ($ty:ty) => {
        impl $ty {
            /// Asks for a send buffer of `size` bytes (`SO_SNDBUF`); the kernel may round
            /// it (Linux doubles it, socket(7)) and caps it (`net.core.wmem_max`).
            ///
            /// # Errors
            /// `InvalidInput` (`EINVAL`) above `i32::MAX`; what `setsockopt` refused.
            #[doc(alias = "SO_SNDBUF")]
            pub fn set_send_buffer_size(&self, size: u32) -> $crate::net::Result<()> {
                let size = $crate::net::socket::c_int_of(size)?;
                $crate::net::socket::set_opt(&self.fd, libc::SOL_SOCKET, libc::SO_SNDBUF, size)
            }

            /// Asks for a receive buffer of `size` bytes (`SO_RCVBUF`), rounded and
            /// capped as for [`set_send_buffer_size`](Self::set_send_buffer_size)
            /// (`net.core.rmem_max`).
            ///
            /// # Errors
            /// `InvalidInput` (`EINVAL`) above `i32::MAX`; what `setsockopt` refused.
            #[doc(alias = "SO_RCVBUF")]
            pub fn set_recv_buffer_size(&self, size: u32) -> $crate::net::Result<()> {
                let size = $crate::net::socket::c_int_of(size)?;
                $crate::net::socket::set_opt(&self.fd, libc::SOL_SOCKET, libc::SO_RCVBUF, size)
            }
        }
    };
}

/// Adds the address-sharing options of internet sockets to `$ty`: they must be set
/// before `bind`.
macro_rules! inet_options {
    ($ty:ty) => {
        impl $ty {
            /// Allows binding an address still held (`SO_REUSEADDR`): for TCP, a port
            /// whose old connections are in `TIME_WAIT`; for UDP, a port another socket
            /// with this option holds (each datagram then goes to one of them).
            ///
            /// # Errors
            /// What `setsockopt` refused.
            #[doc(alias = "SO_REUSEADDR")]
            pub fn set_reuseaddr(&self, on: bool) -> $crate::net::Result<()> {
                $crate::net::socket::set_flag(&self.fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, on)
            }

            /// Allows several sockets to bind the same address and port, all of them
            /// with this option (`SO_REUSEPORT`).
            ///
            /// Linux and Android balance incoming connections and datagrams across them
            /// (one socket, and one loop, per core); the BSDs and macOS deliver to the
            /// last bound (FreeBSD balances with `set_reuseport_lb`, `SO_REUSEPORT_LB`).
            ///
            /// # Errors
            /// What `setsockopt` refused.
            #[doc(alias = "SO_REUSEPORT")]
            pub fn set_reuseport(&self, on: bool) -> $crate::net::Result<()> {
                $crate::net::socket::set_flag(&self.fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, on)
            }

            /// Lets several sockets bind the same address and port, with incoming
            /// connections and datagrams balanced across them (`SO_REUSEPORT_LB`,
            /// FreeBSD 12+): Linux's `SO_REUSEPORT`, for one loop per core.
            ///
            /// # Errors
            /// What `setsockopt` refused.
            #[cfg(target_os = "freebsd")]
            #[doc(alias = "SO_REUSEPORT_LB")]
            pub fn set_reuseport_lb(&self, on: bool) -> $crate::net::Result<()> {
                $crate::net::socket::set_flag(&self.fd, libc::SOL_SOCKET, libc::SO_REUSEPORT_LB, on)
            }

            /// Restricts an IPv6 socket to IPv6 (`IPV6_V6ONLY`): `true`, it neither
            /// receives nor binds IPv4-mapped addresses, so an IPv4 socket may take the
            /// same port; `false`, `[::]` also serves IPv4. The default is the system's
            /// (`net.ipv6.bindv6only`, off on Linux; on on OpenBSD, which cannot turn it
            /// off).
            ///
            /// # Errors
            /// What `setsockopt` refused, e.g. on an IPv4 socket (`EINVAL` or
            /// `ENOPROTOOPT`, by system).
            #[doc(alias = "IPV6_V6ONLY")]
            pub fn set_only_v6(&self, on: bool) -> $crate::net::Result<()> {
                $crate::net::socket::set_flag(&self.fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, on)
            }
        }
    };
}

pub(crate) use {buffer_options, inet_options};
