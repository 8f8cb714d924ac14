//! Creating and tuning the TCP sockets of a peer: source binding, TCP MD5,
//! TTL (single hop, multihop, GTSM) and TCP_NODELAY.

use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};

use socket2::SockRef;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::sockopt;

/// The TTL (IPv4) or hop limit (IPv6) of a peer's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Ttl {
    /// The usual choice: TTL 1 for an external peer (directly connected,
    /// as BIRD, FRR and GoBGP assume), the system's default for an internal
    /// one. No check of the TTL of incoming packets.
    #[default]
    Default,
    /// Multihop: send with this TTL; no check of incoming packets.
    Multihop(u8),
    /// GTSM (RFC 5082): send with TTL 255, and accept only packets whose
    /// TTL is at least 256 - `hops` (255 for a directly connected peer,
    /// `hops` 1). `hops` 0 is taken as 1.
    Gtsm {
        /// How many hops away the peer is.
        hops: u8,
    },
}

impl Ttl {
    /// The TTL to send with, if set (`internal`: the peer is in our AS).
    pub fn outgoing(self, internal: bool) -> Option<u8> {
        match self {
            Ttl::Default if internal => None,
            Ttl::Default => Some(1),
            Ttl::Multihop(n) => Some(n.max(1)),
            Ttl::Gtsm { .. } => Some(255),
        }
    }

    /// The smallest TTL accepted, if checked.
    pub fn minimum(self) -> Option<u8> {
        match self {
            Ttl::Gtsm { hops } => Some(255 - (hops.max(1) - 1)),
            _ => None,
        }
    }
}

/// The per-peer options applied to each of its sockets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SocketOptions {
    /// TTL or hop limit to send with.
    pub(crate) ttl: Option<u8>,
    /// Smallest TTL or hop limit accepted.
    pub(crate) min_ttl: Option<u8>,
    /// TCP MD5 key.
    pub(crate) md5_key: Option<Vec<u8>>,
}

/// Sets TTL / hop limit, minimum TTL and TCP_NODELAY on a socket. On an
/// IPv6 socket the IPv4 options are set too where the kernel takes them
/// (IPv4-mapped traffic of a dual-stack socket). On an accepted socket
/// with a minimum TTL, fails (`PermissionDenied`) if the connection's SYN
/// arrived with a lower TTL.
pub(crate) fn apply(
    socket: &impl std::os::fd::AsFd,
    ipv6: bool,
    opts: &SocketOptions,
) -> io::Result<()> {
    let s = SockRef::from(socket);
    s.set_tcp_nodelay(true)?;
    if let Some(ttl) = opts.ttl {
        if ipv6 {
            s.set_unicast_hops_v6(u32::from(ttl))?;
            let _ = s.set_ttl_v4(u32::from(ttl));
        } else {
            s.set_ttl_v4(u32::from(ttl))?;
        }
    }
    if let Some(min) = opts.min_ttl {
        sockopt::set_min_ttl(socket, min)?;
    }
    // An accepted connection: the minimum TTL, set only now, did not
    // check the SYN nor what arrived before accept (the peer's OPEN,
    // often): its SYN's TTL is checked instead. Reading the saved SYN
    // also frees it.
    let syn_ttl = sockopt::saved_syn_ttl(socket).unwrap_or(None);
    if let (Some(min), Some(ttl)) = (opts.min_ttl, syn_ttl) {
        if ttl < min {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("SYN with TTL {ttl}, below the minimum {min} (GTSM)"),
            ));
        }
    }
    Ok(())
}

/// Opens a connection to `remote`, from `local` if given, with the peer's
/// options set before the SYN is sent. A link-local IPv6 source takes the
/// scope of `remote`.
pub(crate) async fn connect(
    remote: SocketAddr,
    local: Option<IpAddr>,
    opts: SocketOptions,
) -> io::Result<TcpStream> {
    let socket = if remote.is_ipv6() {
        TcpSocket::new_v6()?
    } else {
        TcpSocket::new_v4()?
    };
    if let Some(key) = &opts.md5_key {
        sockopt::set_tcp_md5(&socket, remote.ip(), key)?;
    }
    apply(&socket, remote.is_ipv6(), &opts)?;
    if let Some(local) = local {
        let bind = match (local, remote) {
            (IpAddr::V6(l), SocketAddr::V6(r)) => {
                let scope = if l.is_unicast_link_local() {
                    r.scope_id()
                } else {
                    0
                };
                SocketAddr::V6(SocketAddrV6::new(l, 0, 0, scope))
            }
            (l, _) => SocketAddr::new(l, 0),
        };
        socket.bind(bind)?;
    }
    socket.connect(remote).await
}

/// Binds a listening socket on `addr` (address reuse on; an IPv6 address
/// other than `::` is IPv6-only, `::` keeps the system's dual-stack
/// default; TTL and hop limit 255; SYNs saved).
pub(crate) fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv6() {
        TcpSocket::new_v6()?
    } else {
        TcpSocket::new_v4()?
    };
    socket.set_reuseaddr(true)?;
    // The SYN-ACKs come from the listening socket: TTL 255 lets them
    // through a connecting peer's GTSM check (RFC 5082); each accepted
    // connection then gets its own peer's TTL.
    let s = SockRef::from(&socket);
    if let SocketAddr::V6(a) = addr {
        if !a.ip().is_unspecified() {
            s.set_only_v6(true)?;
        }
        s.set_unicast_hops_v6(255)?;
        let _ = s.set_ttl_v4(255);
    } else {
        s.set_ttl_v4(255)?;
    }
    // Keeps each SYN's headers for the GTSM check of `apply`; without it
    // (not Linux) that check is skipped.
    let _ = sockopt::set_save_syn(&socket);
    socket.bind(addr)?;
    socket.listen(1024)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ttl_policies() {
        assert_eq!(Ttl::Default.outgoing(false), Some(1));
        assert_eq!(Ttl::Default.outgoing(true), None);
        assert_eq!(Ttl::Default.minimum(), None);
        assert_eq!(Ttl::Multihop(5).outgoing(false), Some(5));
        assert_eq!(Ttl::Multihop(5).minimum(), None);
        assert_eq!(Ttl::Gtsm { hops: 1 }.outgoing(true), Some(255));
        assert_eq!(Ttl::Gtsm { hops: 1 }.minimum(), Some(255));
        assert_eq!(Ttl::Gtsm { hops: 0 }.minimum(), Some(255));
        assert_eq!(Ttl::Gtsm { hops: 3 }.minimum(), Some(253));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn options_are_set() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let opts = SocketOptions {
            ttl: Some(255),
            min_ttl: Some(254),
            md5_key: None,
        };
        apply(&l, false, &opts).unwrap();
        let s = SockRef::from(&l);
        assert_eq!(s.ttl_v4().unwrap(), 255);
        assert!(s.tcp_nodelay().unwrap());
        assert_eq!(sockopt::min_ttl(&l).unwrap(), 254);
        if let Ok(l6) = std::net::TcpListener::bind("[::1]:0") {
            apply(&l6, true, &opts).unwrap();
            let s = SockRef::from(&l6);
            assert_eq!(s.unicast_hops_v6().unwrap(), 255);
            assert_eq!(sockopt::min_ttl(&l6).unwrap(), 254);
        }
    }
}
