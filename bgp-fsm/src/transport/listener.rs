//! The shared listener: one listening socket per local address, handing
//! each accepted connection to the peer configured for its remote address.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bgp_wire::error::CeaseSubcode;
use bgp_wire::{Message, Notification, SessionContext};
use bytes::BytesMut;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::{socket, sockopt};

/// How many accepted connections may wait for their peer's driver.
const HANDOFF_QUEUE: usize = 4;

/// How long a rejected connection is kept open for its NOTIFICATION to be
/// read.
const REJECT_LINGER: Duration = Duration::from_secs(2);

/// A connection accepted for a peer.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) stream: TcpStream,
    pub(crate) remote: SocketAddr,
}

/// What the accept task and the registrations share.
#[derive(Debug)]
struct Shared {
    socket: TcpListener,
    local: SocketAddr,
    peers: Mutex<HashMap<IpAddr, PeerEntry>>,
    rejected: AtomicU64,
}

#[derive(Debug)]
struct PeerEntry {
    tx: mpsc::Sender<Incoming>,
    md5: bool,
}

impl Shared {
    fn peers(&self) -> MutexGuard<'_, HashMap<IpAddr, PeerEntry>> {
        // A panic while holding the lock leaves a map that is still valid.
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Debug)]
struct Handle {
    shared: Arc<Shared>,
    task: AbortHandle,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A listening socket shared by the peers that accept connections on one
/// local address and port.
///
/// Each accepted connection goes to the peer registered for its remote
/// address (see [`Peer::spawn`](super::Peer::spawn)); a connection from an
/// address no peer is registered for (or whose peer cannot take it) is
/// answered with a NOTIFICATION Cease / Connection Rejected (RFC 4486) and
/// closed. TCP MD5 keys of the registered peers are set on the listening
/// socket, per peer address, so that the kernel checks the signatures of
/// the connections it accepts.
///
/// The accept task runs as long as a clone of the listener or a peer
/// registered with it is alive. Create it inside a tokio runtime.
#[derive(Debug, Clone)]
pub struct Listener {
    inner: Arc<Handle>,
}

impl Listener {
    /// Listens on `addr` (port 0 picks one: see [`Listener::local_addr`]).
    pub fn bind(addr: SocketAddr) -> io::Result<Listener> {
        let socket = socket::listen(addr)?;
        let local = socket.local_addr()?;
        let shared = Arc::new(Shared {
            socket,
            local,
            peers: Mutex::new(HashMap::new()),
            rejected: AtomicU64::new(0),
        });
        let task = tokio::spawn(accept_loop(Arc::clone(&shared))).abort_handle();
        Ok(Listener {
            inner: Arc::new(Handle { shared, task }),
        })
    }

    /// The address and port listened on.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.shared.local
    }

    /// How many connections were rejected so far.
    pub fn rejected(&self) -> u64 {
        self.inner.shared.rejected.load(Ordering::Relaxed)
    }

    /// Registers the peer at `peer`: its connections are handed to the
    /// returned registration. With `md5_key`, the key is set on the
    /// listening socket for that address. Fails if the address is already
    /// registered.
    pub(crate) fn register(
        &self,
        peer: IpAddr,
        md5_key: Option<&[u8]>,
    ) -> io::Result<Registration> {
        let peer = peer.to_canonical();
        let shared = &self.inner.shared;
        let mut peers = shared.peers();
        if peers.contains_key(&peer) {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("a peer at {peer} is already registered on {}", shared.local),
            ));
        }
        if let Some(key) = md5_key {
            sockopt::set_tcp_md5(&shared.socket, peer, key)?;
        }
        let (tx, rx) = mpsc::channel(HANDOFF_QUEUE);
        peers.insert(
            peer,
            PeerEntry {
                tx,
                md5: md5_key.is_some(),
            },
        );
        Ok(Registration {
            listener: self.clone(),
            peer,
            rx,
        })
    }
}

/// A peer's place on a [`Listener`]; deregisters (and removes its MD5 key)
/// when dropped.
#[derive(Debug)]
pub(crate) struct Registration {
    listener: Listener,
    peer: IpAddr,
    pub(crate) rx: mpsc::Receiver<Incoming>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let shared = &self.listener.inner.shared;
        let entry = shared.peers().remove(&self.peer);
        if entry.is_some_and(|e| e.md5) {
            let _ = sockopt::set_tcp_md5(&shared.socket, self.peer, b"");
        }
    }
}

async fn accept_loop(shared: Arc<Shared>) {
    loop {
        let (stream, remote) = match shared.socket.accept().await {
            Ok(c) => c,
            Err(_) => {
                // Out of descriptors or a connection reset before it was
                // accepted: try again shortly.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let ip = remote.ip().to_canonical();
        let tx = shared.peers().get(&ip).map(|e| e.tx.clone());
        let refused = match tx {
            Some(tx) => match tx.try_send(Incoming { stream, remote }) {
                Ok(()) => None,
                Err(mpsc::error::TrySendError::Full(i) | mpsc::error::TrySendError::Closed(i)) => {
                    Some(i.stream)
                }
            },
            None => Some(stream),
        };
        if let Some(stream) = refused {
            shared.rejected.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(reject(stream));
        }
    }
}

/// Sends NOTIFICATION Cease / Connection Rejected on `stream`, closes our
/// side, and waits a little for the peer to close its own.
pub(crate) async fn reject(mut stream: TcpStream) {
    let mut buf = BytesMut::new();
    let n = Message::Notification(Notification::cease(CeaseSubcode::ConnectionRejected));
    if n.encode(&SessionContext::default(), &mut buf).is_err() {
        return;
    }
    let _ = tokio::time::timeout(REJECT_LINGER, async {
        stream.write_all(&buf).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 512];
        loop {
            stream.readable().await?;
            match stream.try_read(&mut sink) {
                Ok(0) => return Ok::<(), io::Error>(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await;
}
