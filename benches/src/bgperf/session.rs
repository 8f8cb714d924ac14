//! A minimal BGP session over a blocking TCP socket, for the senders and
//! the monitor: connect from a given address, exchange OPEN and KEEPALIVE,
//! then hand over the socket. No state machine beyond that: the benchmark
//! writes pre-encoded UPDATEs and reads what the target sends.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::time::{Duration, Instant};

use bgp_wire::capability::Multiprotocol;
use bgp_wire::message::header::{self, MessageType};
use bgp_wire::{AfiSafi, Capability, Keepalive, Message, Notification, Open, SessionContext};
use bytes::{Bytes, BytesMut};
use socket2::{Domain, Protocol, Socket, Type};

/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the OPEN exchange may take once connected.
const OPEN_TIMEOUT: Duration = Duration::from_secs(20);

/// An established session.
#[derive(Debug)]
pub struct Session {
    /// The socket, blocking, without a read timeout.
    pub stream: TcpStream,
    /// What the two OPENs negotiated.
    pub ctx: SessionContext,
    /// Octets read after the target's KEEPALIVE (the start of its next
    /// message).
    pub rest: BytesMut,
}

/// Why a session could not be established.
fn other(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

/// Connects from `local` to `target` until `deadline` (the target may not
/// listen yet, or refuse a first connection), and establishes the session:
/// our OPEN (AS `asn`, `hold_time`, IPv4 unicast, 4-octet AS, route
/// refresh), theirs, a KEEPALIVE each way.
pub fn establish(
    local: Ipv4Addr,
    target: SocketAddrV4,
    asn: u32,
    hold_time: u16,
    deadline: Instant,
) -> io::Result<Session> {
    loop {
        let last = match attempt(local, target, asn, hold_time) {
            Ok(s) => return Ok(s),
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            return Err(other(format!(
                "{local} -> {target}: no session before the deadline; last error: {last}"
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The OPEN we send.
pub fn our_open(asn: u32, hold_time: u16, router_id: Ipv4Addr) -> Open {
    Open::new(
        asn,
        hold_time,
        router_id,
        vec![
            Capability::Multiprotocol(Multiprotocol::new(AfiSafi::IPV4_UNICAST)),
            Capability::RouteRefresh,
            Capability::FourOctetAs(asn),
        ],
    )
}

fn attempt(local: Ipv4Addr, target: SocketAddrV4, asn: u32, hold_time: u16) -> io::Result<Session> {
    let sock = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    sock.bind(&SocketAddr::V4(SocketAddrV4::new(local, 0)).into())?;
    sock.connect_timeout(&SocketAddr::V4(target).into(), CONNECT_TIMEOUT)?;
    sock.set_tcp_nodelay(true)?;
    let mut stream: TcpStream = sock.into();
    stream.set_read_timeout(Some(OPEN_TIMEOUT))?;
    let ctx0 = SessionContext::default();
    let open = our_open(asn, hold_time, local);
    let mut buf = BytesMut::with_capacity(4096);
    Message::Open(open.clone())
        .encode(&ctx0, &mut buf)
        .map_err(|e| other(format!("encoding our OPEN: {e}")))?;
    stream.write_all(&buf)?;
    let mut rest = BytesMut::with_capacity(1 << 16);
    let deadline = Instant::now() + OPEN_TIMEOUT;
    let (h, body) = read_message(&mut stream, &mut rest, &ctx0, deadline)?;
    let theirs = match h {
        MessageType::Open => {
            Open::decode(body, &ctx0).map_err(|e| other(format!("their OPEN: {e}")))?
        }
        MessageType::Notification => return Err(notification(body, &ctx0)),
        t => return Err(other(format!("expected OPEN, got {t:?}"))),
    };
    let ctx = Open::negotiate(&open, &theirs);
    buf.clear();
    Keepalive
        .encode(&ctx, &mut buf)
        .map_err(|e| other(format!("encoding KEEPALIVE: {e}")))?;
    stream.write_all(&buf)?;
    let (h, body) = read_message(&mut stream, &mut rest, &ctx, deadline)?;
    match h {
        MessageType::Keepalive => {}
        MessageType::Notification => return Err(notification(body, &ctx)),
        t => return Err(other(format!("expected KEEPALIVE, got {t:?}"))),
    }
    stream.set_read_timeout(None)?;
    Ok(Session { stream, ctx, rest })
}

fn notification(body: Bytes, ctx: &SessionContext) -> io::Error {
    match Notification::decode(body, ctx) {
        Ok(n) => other(format!("NOTIFICATION from the target: {n}")),
        Err(e) => other(format!("unreadable NOTIFICATION: {e}")),
    }
}

/// Reads until one whole message is in `buf` and splits it off: its type
/// and body. Fails at end of stream, on a bad header, or (when the socket
/// has a read timeout) after `deadline`.
pub fn read_message(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    ctx: &SessionContext,
    deadline: Instant,
) -> io::Result<(MessageType, Bytes)> {
    loop {
        match header::frame(buf, ctx) {
            Ok(Some((h, body))) => return Ok((h.message_type, body)),
            Ok(None) => {}
            Err(e) => return Err(other(format!("bad message header: {e}"))),
        }
        if Instant::now() > deadline {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "no message"));
        }
        if fill(stream, buf)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the target closed the connection",
            ));
        }
    }
}

/// Appends what one `read` returns to `buf` (up to 64 KiB, through a
/// scratch buffer: a read that returns a few octets costs a few octets,
/// not the zeroing of 64 KiB of room).
pub fn fill(stream: &mut TcpStream, buf: &mut BytesMut) -> io::Result<usize> {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 1 << 16]);
    }
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let n = stream.read(&mut s)?;
        buf.extend_from_slice(s.get(..n).unwrap_or_default());
        Ok(n)
    })
}

/// A KEEPALIVE message.
pub fn keepalive_bytes() -> Vec<u8> {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&[0, 19, 4]);
    v
}
