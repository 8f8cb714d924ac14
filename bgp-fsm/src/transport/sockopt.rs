//! The socket options that neither the standard library nor socket2 sets:
//! TCP MD5 signatures (RFC 2385, Linux `TCP_MD5SIG`), the minimum TTL and
//! hop limit of GTSM (RFC 5082, `IP_MINTTL` and `IPV6_MINHOPCOUNT`), and
//! the saved SYN of an accepted connection (`TCP_SAVE_SYN`,
//! `TCP_SAVED_SYN`), whose TTL GTSM checks too.
//!
//! This is the only module of the workspace that allows unsafe code (the
//! workspace lint `unsafe_code` is `deny`, overridden here). It has exactly
//! two unsafe blocks, one `setsockopt` and one `getsockopt`, each passing a
//! pointer to a buffer owned by the caller together with that buffer's
//! length. Everything else, the layout of `struct tcp_md5sig` included, is
//! built as plain bytes in safe code and checked by the tests below.
//!
//! On systems other than Linux every function returns
//! [`io::ErrorKind::Unsupported`].

#![allow(unsafe_code)]

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};

/// The longest key `TCP_MD5SIG` takes (`TCP_MD5SIG_MAXKEYLEN`).
pub const MD5_MAX_KEY_LEN: usize = 80;

/// Size of the kernel's `struct __kernel_sockaddr_storage`.
const SOCKADDR_STORAGE_LEN: usize = 128;

/// Size of `struct tcp_md5sig`: the address, flags (1), prefix length (1),
/// key length (2), interface index (4), the key (80).
const TCP_MD5SIG_LEN: usize = SOCKADDR_STORAGE_LEN + 1 + 1 + 2 + 4 + MD5_MAX_KEY_LEN;

#[cfg(target_os = "linux")]
mod sys {
    use super::*;
    use std::os::fd::AsRawFd;

    pub(super) const AF_INET: u16 = libc::AF_INET as u16;
    pub(super) const AF_INET6: u16 = libc::AF_INET6 as u16;
    pub(super) const IPPROTO_TCP: libc::c_int = libc::IPPROTO_TCP;
    pub(super) const IPPROTO_IP: libc::c_int = libc::IPPROTO_IP;
    pub(super) const IPPROTO_IPV6: libc::c_int = libc::IPPROTO_IPV6;
    pub(super) const TCP_MD5SIG: libc::c_int = libc::TCP_MD5SIG;
    pub(super) const IP_MINTTL: libc::c_int = libc::IP_MINTTL;
    pub(super) const IPV6_MINHOPCOUNT: libc::c_int = libc::IPV6_MINHOPCOUNT;
    /// `TCP_SAVE_SYN` and `TCP_SAVED_SYN` of `<linux/tcp.h>` (Linux 4.2).
    pub(super) const TCP_SAVE_SYN: libc::c_int = 27;
    pub(super) const TCP_SAVED_SYN: libc::c_int = 28;

    /// `setsockopt(fd, level, name, value, value.len())`.
    pub(super) fn set(
        fd: BorrowedFd<'_>,
        level: libc::c_int,
        name: libc::c_int,
        value: &[u8],
    ) -> io::Result<()> {
        let len = libc::socklen_t::try_from(value.len())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: `fd` is borrowed, so the descriptor stays open for the
        // whole call. `value` is a live slice of exactly `len` initialized
        // bytes; setsockopt only reads (copies) at most `len` bytes from
        // it during the call and keeps no pointer afterwards. No Rust
        // invariant depends on the kernel's answer, which is checked below.
        let rc =
            unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, value.as_ptr().cast(), len) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// `getsockopt(fd, level, name)` into `out`; returns the length the
    /// kernel wrote.
    pub(super) fn get(
        fd: BorrowedFd<'_>,
        level: libc::c_int,
        name: libc::c_int,
        out: &mut [u8],
    ) -> io::Result<usize> {
        let mut len = libc::socklen_t::try_from(out.len())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: `fd` is borrowed, so the descriptor stays open for the
        // whole call. `out` is a live, writable buffer of `len` bytes and
        // `len` says so; getsockopt writes at most `len` bytes into it and
        // stores the length written in `len`, a live local. Any byte
        // pattern is a valid `[u8]`, so nothing the kernel writes can
        // break an invariant.
        let rc = unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                level,
                name,
                out.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
        Ok(len.min(out.len()))
    }

    /// `getsockopt(fd, level, name)` for an `int` option.
    pub(super) fn get_int(
        fd: BorrowedFd<'_>,
        level: libc::c_int,
        name: libc::c_int,
    ) -> io::Result<i32> {
        let mut value = [0u8; 4];
        if get(fd, level, name, &mut value)? != 4 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "getsockopt returned an option of unexpected size",
            ));
        }
        Ok(i32::from_ne_bytes(value))
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use super::*;

    pub(super) const AF_INET: u16 = 2;
    pub(super) const AF_INET6: u16 = 10;
    pub(super) const IPPROTO_TCP: i32 = 6;
    pub(super) const IPPROTO_IP: i32 = 0;
    pub(super) const IPPROTO_IPV6: i32 = 41;
    pub(super) const TCP_MD5SIG: i32 = 14;
    pub(super) const IP_MINTTL: i32 = 21;
    pub(super) const IPV6_MINHOPCOUNT: i32 = 73;
    pub(super) const TCP_SAVE_SYN: i32 = 27;
    pub(super) const TCP_SAVED_SYN: i32 = 28;

    pub(super) fn set(_: BorrowedFd<'_>, _: i32, _: i32, _: &[u8]) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }

    pub(super) fn get(_: BorrowedFd<'_>, _: i32, _: i32, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::Unsupported.into())
    }

    pub(super) fn get_int(_: BorrowedFd<'_>, _: i32, _: i32) -> io::Result<i32> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Writes a `struct sockaddr_in` or `struct sockaddr_in6` for `addr` into
/// `out` (at least 28 bytes, zeroed). An IPv4 address on an IPv6 socket is
/// written as IPv4-mapped, as the kernel expects there.
fn put_sockaddr(out: &mut [u8], addr: SocketAddr, ipv6_socket: bool) {
    let (ip, port, flowinfo, scope) = match addr {
        SocketAddr::V4(a) => (IpAddr::V4(*a.ip()), a.port(), 0, 0),
        SocketAddr::V6(a) => (IpAddr::V6(*a.ip()), a.port(), a.flowinfo(), a.scope_id()),
    };
    let mut fields: Vec<u8> = Vec::with_capacity(28);
    match (ip, ipv6_socket) {
        (IpAddr::V4(v4), false) => {
            fields.extend_from_slice(&sys::AF_INET.to_ne_bytes());
            fields.extend_from_slice(&port.to_be_bytes());
            fields.extend_from_slice(&v4.octets());
        }
        (ip, _) => {
            let v6 = match ip {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            fields.extend_from_slice(&sys::AF_INET6.to_ne_bytes());
            fields.extend_from_slice(&port.to_be_bytes());
            fields.extend_from_slice(&flowinfo.to_be_bytes());
            fields.extend_from_slice(&v6.octets());
            fields.extend_from_slice(&scope.to_ne_bytes());
        }
    }
    for (o, f) in out.iter_mut().zip(fields) {
        *o = f;
    }
}

/// The bytes of a `struct tcp_md5sig` giving `key` for `peer` (an empty
/// key deletes the peer's key).
fn md5sig(peer: IpAddr, key: &[u8], ipv6_socket: bool) -> io::Result<[u8; TCP_MD5SIG_LEN]> {
    if key.len() > MD5_MAX_KEY_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a TCP MD5 key has at most {MD5_MAX_KEY_LEN} octets"),
        ));
    }
    let mut buf = [0u8; TCP_MD5SIG_LEN];
    let (addr, rest) = buf.split_at_mut(SOCKADDR_STORAGE_LEN);
    put_sockaddr(addr, SocketAddr::new(peer, 0), ipv6_socket);
    // tcpm_flags and tcpm_prefixlen stay 0 (plain TCP_MD5SIG ignores them).
    let keylen = u16::try_from(key.len()).unwrap_or(0).to_ne_bytes();
    if let Some(slot) = rest.get_mut(2..4) {
        slot.copy_from_slice(&keylen);
    }
    // tcpm_ifindex (4 octets) stays 0; the key follows it.
    if let Some(slot) = rest.get_mut(8..8 + key.len()) {
        slot.copy_from_slice(key);
    }
    Ok(buf)
}

/// Whether the socket is an IPv6 one (its local address is).
fn is_ipv6(fd: BorrowedFd<'_>) -> io::Result<bool> {
    let addr = socket2::SockRef::from(&fd).local_addr()?;
    Ok(addr.is_ipv6())
}

/// Sets (or, with an empty `key`, deletes) the TCP MD5 signature key for
/// connections with `peer` (RFC 2385): on a listening socket, for the
/// connections it accepts from that address; on a socket about to
/// connect, for its connection. The key is the password's octets, at most
/// 80.
pub fn set_tcp_md5(socket: &impl AsFd, peer: IpAddr, key: &[u8]) -> io::Result<()> {
    let fd = socket.as_fd();
    let ipv6 = is_ipv6(fd)?;
    let peer = match (peer, ipv6) {
        (IpAddr::V6(v6), false) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "an IPv6 peer address on an IPv4 socket",
                ));
            }
        },
        (p, _) => p,
    };
    let sig = md5sig(peer, key, ipv6)?;
    sys::set(fd, sys::IPPROTO_TCP, sys::TCP_MD5SIG, &sig)
}

/// Sets the smallest TTL (IPv4, `IP_MINTTL`) or hop limit (IPv6,
/// `IPV6_MINHOPCOUNT`) accepted on the socket: GTSM's check of incoming
/// packets (RFC 5082). 0 turns the check off.
pub fn set_min_ttl(socket: &impl AsFd, min_ttl: u8) -> io::Result<()> {
    let fd = socket.as_fd();
    let value = i32::from(min_ttl).to_ne_bytes();
    if is_ipv6(fd)? {
        sys::set(fd, sys::IPPROTO_IPV6, sys::IPV6_MINHOPCOUNT, &value)?;
        // An IPv6 socket may carry IPv4 (mapped) traffic too; the IPv4
        // option applies to that, and may be refused on a v6-only socket.
        let _ = sys::set(fd, sys::IPPROTO_IP, sys::IP_MINTTL, &value);
        Ok(())
    } else {
        sys::set(fd, sys::IPPROTO_IP, sys::IP_MINTTL, &value)
    }
}

/// The smallest TTL or hop limit accepted on the socket, as set by
/// [`set_min_ttl`].
pub fn min_ttl(socket: &impl AsFd) -> io::Result<u8> {
    let fd = socket.as_fd();
    let v = if is_ipv6(fd)? {
        sys::get_int(fd, sys::IPPROTO_IPV6, sys::IPV6_MINHOPCOUNT)?
    } else {
        sys::get_int(fd, sys::IPPROTO_IP, sys::IP_MINTTL)?
    };
    u8::try_from(v).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))
}

/// Makes a listening socket keep the IP and TCP headers of the SYN of each
/// connection it accepts, for [`saved_syn_ttl`].
pub fn set_save_syn(socket: &impl AsFd) -> io::Result<()> {
    sys::set(
        socket.as_fd(),
        sys::IPPROTO_TCP,
        sys::TCP_SAVE_SYN,
        &1i32.to_ne_bytes(),
    )
}

/// The TTL (IPv4) or hop limit (IPv6) the SYN of an accepted connection
/// arrived with, if its listener kept it ([`set_save_syn`]); `None` for a
/// socket without a saved SYN (an outgoing one, or read before). The
/// kernel frees the saved headers once read.
pub fn saved_syn_ttl(socket: &impl AsFd) -> io::Result<Option<u8>> {
    // IPv6 header (40) with extension headers and TCP header with options
    // (up to 60): 512 is plenty.
    let mut buf = [0u8; 512];
    let len = sys::get(
        socket.as_fd(),
        sys::IPPROTO_TCP,
        sys::TCP_SAVED_SYN,
        &mut buf,
    )?;
    let headers = buf.get(..len).unwrap_or_default();
    Ok(ip_header_ttl(headers))
}

/// The TTL or hop limit of the IP header at the start of `headers`.
fn ip_header_ttl(headers: &[u8]) -> Option<u8> {
    match headers.first().map(|b| b >> 4) {
        // IPv4: TTL at octet 8; IPv6: Hop Limit at octet 7.
        Some(4) => headers.get(8).copied(),
        Some(6) => headers.get(7).copied(),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6, TcpListener};

    #[test]
    fn tcp_md5sig_layout() {
        // The kernel's struct is 216 octets: 128 + 1 + 1 + 2 + 4 + 80.
        assert_eq!(TCP_MD5SIG_LEN, 216);
        let key = b"secret";
        let b = md5sig(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9)), key, false).unwrap();
        assert_eq!(&b[0..2], &sys::AF_INET.to_ne_bytes());
        assert_eq!(&b[2..4], &[0, 0]); // port
        assert_eq!(&b[4..8], &[127, 0, 0, 9]);
        assert!(b[8..128].iter().all(|x| *x == 0));
        assert_eq!(b[128], 0); // flags
        assert_eq!(b[129], 0); // prefix length
        assert_eq!(&b[130..132], &6u16.to_ne_bytes());
        assert_eq!(&b[132..136], &[0; 4]); // ifindex
        assert_eq!(&b[136..142], key);
        assert!(b[142..].iter().all(|x| *x == 0));
        // IPv4 peer on an IPv6 socket: mapped.
        let b = md5sig(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), key, true).unwrap();
        assert_eq!(&b[0..2], &sys::AF_INET6.to_ne_bytes());
        assert_eq!(
            &b[8..24],
            &Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped().octets()
        );
        assert!(md5sig(IpAddr::V6(Ipv6Addr::LOCALHOST), &[1; 81], true).is_err());
        assert!(md5sig(IpAddr::V6(Ipv6Addr::LOCALHOST), &[1; 80], true).is_ok());
    }

    #[test]
    fn sockaddr_in6_with_scope() {
        let mut out = [0u8; 28];
        let a = SocketAddrV6::new("fe80::1".parse().unwrap(), 179, 0, 7);
        put_sockaddr(&mut out, SocketAddr::V6(a), true);
        assert_eq!(&out[2..4], &179u16.to_be_bytes());
        assert_eq!(&out[8..24], &a.ip().octets());
        assert_eq!(&out[24..28], &7u32.to_ne_bytes());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn ttl_of_saved_headers() {
        let mut v4 = [0u8; 20];
        v4[0] = 0x45;
        v4[8] = 254;
        assert_eq!(ip_header_ttl(&v4), Some(254));
        let mut v6 = [0u8; 40];
        v6[0] = 0x60;
        v6[7] = 255;
        assert_eq!(ip_header_ttl(&v6), Some(255));
        assert_eq!(ip_header_ttl(&[]), None);
        assert_eq!(ip_header_ttl(&[0x45, 0, 0]), None);
    }

    #[test]
    fn saved_syn_of_an_accepted_connection() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        set_save_syn(&l).unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        socket2::SockRef::from(&c).set_ttl_v4(77).unwrap();
        let (a, _) = l.accept().unwrap();
        // The SYN went out with the system's default TTL, before ours was
        // set; on loopback it arrives unchanged.
        let default = socket2::SockRef::from(&l).ttl_v4().unwrap();
        assert_eq!(
            saved_syn_ttl(&a).unwrap(),
            Some(u8::try_from(default).unwrap())
        );
        // Read once: the kernel has freed it.
        assert_eq!(saved_syn_ttl(&a).unwrap(), None);
        // An outgoing socket has none.
        assert_eq!(saved_syn_ttl(&c).unwrap(), None);
    }

    #[test]
    fn min_ttl_round_trip() {
        let l4 = TcpListener::bind("127.0.0.1:0").unwrap();
        set_min_ttl(&l4, 254).unwrap();
        assert_eq!(min_ttl(&l4).unwrap(), 254);
        set_min_ttl(&l4, 0).unwrap();
        assert_eq!(min_ttl(&l4).unwrap(), 0);
        if let Ok(l6) = TcpListener::bind("[::1]:0") {
            set_min_ttl(&l6, 255).unwrap();
            assert_eq!(min_ttl(&l6).unwrap(), 255);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn md5_keys_on_a_listener() {
        let l4 = TcpListener::bind("127.0.0.1:0").unwrap();
        // Keys need a kernel with CONFIG_TCP_MD5SIG; say so instead of failing.
        match set_tcp_md5(&l4, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), b"pw") {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {
                eprintln!("SKIPPED: kernel without TCP MD5 signatures");
                return;
            }
            Err(e) => panic!("{e}"),
        }
        // Deleting an existing key works; deleting a missing one is ENOENT.
        set_tcp_md5(&l4, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), b"").unwrap();
        let e = set_tcp_md5(&l4, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), b"").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        if let Ok(l6) = TcpListener::bind("[::1]:0") {
            set_tcp_md5(&l6, IpAddr::V6(Ipv6Addr::LOCALHOST), b"pw").unwrap();
            set_tcp_md5(&l6, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), b"pw").unwrap();
        }
        assert!(set_tcp_md5(&l4, IpAddr::V6(Ipv6Addr::LOCALHOST), b"pw").is_err());
    }
}
