//! The Unix-socket server: a greeting, then one reply per request line, in
//! order, on as many connections as clients open (calico-node's readiness
//! check sends `show protocols` then `show status` on two connections; its
//! status reporter sends `show protocols` and then `show protocols all
//! <name>` for each peer on one).

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::command::{self, Command, ProtoSelector, RouteQuery};
use super::reply;
use super::source::{Families, Protocol, Route, StatusSource};

/// The version the greeting and `show status` report unless told otherwise:
/// `v<crate version>+calico-bgpd`. It starts with `v` as Calico's BIRD
/// (`v0.3.3+birdv1.6.8`) does, which calico-node's status reporter expects
/// (`BIRD v...`).
pub const DEFAULT_VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"), "+calico-bgpd");

/// Calico's IPv4 control socket.
pub const CALICO_V4_SOCKET: &str = "/var/run/calico/bird.ctl";
/// Calico's IPv6 control socket.
pub const CALICO_V6_SOCKET: &str = "/var/run/calico/bird6.ctl";

/// The longest request line taken; a longer one is answered with `9000
/// Command too long` and skipped.
pub const MAX_REQUEST: usize = 1024;

/// The settings of one control socket.
#[derive(Debug, Clone)]
pub struct SocketConfig {
    /// The socket's path.
    pub path: PathBuf,
    /// The families it shows.
    pub families: Families,
    /// The version in the greeting and `show status` (`BIRD <version>`).
    pub version: String,
    /// The socket file's permissions (0o660: root and its group, as BIRD
    /// leaves it).
    pub mode: u32,
    /// Connections served at once; more are closed on accept.
    pub max_connections: usize,
    /// Close a connection that sends nothing for this long (`None`: never,
    /// as BIRD).
    pub idle_timeout: Option<Duration>,
    /// The clock of the replies (server time, `since` columns):
    /// [`SystemTime::now`] but in tests and replays.
    pub clock: fn() -> SystemTime,
}

impl SocketConfig {
    /// A socket at `path` showing `families`.
    pub fn new(path: impl Into<PathBuf>, families: Families) -> Self {
        SocketConfig {
            path: path.into(),
            families,
            version: DEFAULT_VERSION.to_string(),
            mode: 0o660,
            max_connections: 64,
            idle_timeout: None,
            clock: SystemTime::now,
        }
    }

    /// Calico's `bird.ctl`: IPv4.
    pub fn calico_v4() -> Self {
        SocketConfig::new(CALICO_V4_SOCKET, Families::Ipv4)
    }

    /// Calico's `bird6.ctl`: IPv6.
    pub fn calico_v6() -> Self {
        SocketConfig::new(CALICO_V6_SOCKET, Families::Ipv6)
    }

    /// With another version string.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }
}

/// A bound control socket, not serving yet.
#[derive(Debug)]
pub struct ControlSocket<S> {
    listener: UnixListener,
    config: Arc<SocketConfig>,
    source: Arc<S>,
    inode: (u64, u64),
}

fn inode_of(path: &Path) -> Option<(u64, u64)> {
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

impl<S: StatusSource> ControlSocket<S> {
    /// Binds the socket (inside a tokio runtime). A socket file left at the
    /// path by a daemon that is gone is replaced; one that a running server
    /// answers on is not (`AddrInUse`). The parent directory is created if
    /// missing.
    pub fn bind(config: SocketConfig, source: Arc<S>) -> io::Result<Self> {
        let path = &config.path;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        if let Ok(m) = std::fs::symlink_metadata(path) {
            if !m.file_type().is_socket() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a socket", path.display()),
                ));
            }
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{} is served by another process", path.display()),
                ));
            }
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(config.mode))?;
        let inode = inode_of(path).unwrap_or((0, 0));
        Ok(ControlSocket {
            listener,
            config: Arc::new(config),
            source,
            inode,
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.config.path
    }

    /// Serves until the task is dropped or aborted.
    pub async fn run(self) {
        let slots = Arc::new(Semaphore::new(self.config.max_connections));
        loop {
            let stream = match self.listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment.
                    tracing::warn!(path = %self.config.path.display(), error = %e, "control socket accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                tracing::warn!(path = %self.config.path.display(), "control socket: too many connections, one closed");
                continue;
            };
            let config = self.config.clone();
            let source = self.source.clone();
            tokio::spawn(async move {
                let _permit = permit;
                if let Err(e) = serve(stream, &config, &*source).await {
                    tracing::debug!(error = %e, "control socket connection ended");
                }
            });
        }
    }

    /// Serves on a task of its own; the handle stops it and removes the
    /// socket file.
    pub fn spawn(self) -> ControlSocketHandle {
        let path = self.config.path.clone();
        let inode = self.inode;
        ControlSocketHandle {
            task: Some(tokio::spawn(self.run())),
            path,
            inode,
        }
    }
}

/// A control socket being served.
#[derive(Debug)]
pub struct ControlSocketHandle {
    task: Option<JoinHandle<()>>,
    path: PathBuf,
    inode: (u64, u64),
}

impl ControlSocketHandle {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops serving (connections being answered end too) and removes the
    /// socket file.
    pub async fn shutdown(mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }
}

impl Drop for ControlSocketHandle {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        // Only the file this server bound: a newer daemon may have replaced
        // it.
        if inode_of(&self.path) == Some(self.inode) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

enum Line {
    Ok,
    TooLong,
    Eof,
}

/// Reads one line into `buf` (without its newline), at most `max` bytes;
/// the rest of a longer line is skipped.
async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Line> {
    let mut too_long = false;
    loop {
        let avail = r.fill_buf().await?;
        if avail.is_empty() {
            // A line cut by the end of the stream is not a request.
            return Ok(Line::Eof);
        }
        let (chunk, used, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (avail.get(..i).unwrap_or_default(), i + 1, true),
            None => (avail, avail.len(), false),
        };
        if !too_long {
            if buf.len() + chunk.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        r.consume(used);
        if done {
            return Ok(if too_long { Line::TooLong } else { Line::Ok });
        }
    }
}

async fn serve<S: StatusSource>(
    stream: UnixStream,
    config: &SocketConfig,
    source: &S,
) -> io::Result<()> {
    let (rd, mut wr) = stream.into_split();
    wr.write_all(reply::greeting(&config.version).as_bytes())
        .await?;
    let mut rd = BufReader::new(rd);
    let mut buf = Vec::with_capacity(128);
    loop {
        buf.clear();
        let read = read_line(&mut rd, &mut buf, MAX_REQUEST);
        let line = match config.idle_timeout {
            Some(t) => match tokio::time::timeout(t, read).await {
                Ok(l) => l?,
                Err(_) => return Ok(()),
            },
            None => read.await?,
        };
        let out = match line {
            Line::Eof => return Ok(()),
            Line::TooLong => reply::single(reply::TOO_LONG, "Command too long"),
            Line::Ok => {
                let text = String::from_utf8_lossy(&buf);
                execute(source, config, text.trim_end_matches('\r')).await
            }
        };
        wr.write_all(out.as_bytes()).await?;
    }
}

/// A name as a BIRD symbol: characters other than letters, digits and `_`
/// become `_`.
fn symbol(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if command::is_symbol(&s) {
        s
    } else {
        format!("_{s}")
    }
}

async fn protocols_of<S: StatusSource>(source: &S, f: Families, detail: bool) -> Vec<Protocol> {
    let mut list = source.protocols(f, detail).await;
    list.retain(|p| p.bgp().is_none_or(|b| f.contains(b.neighbor)));
    for p in &mut list {
        p.name = symbol(&p.name);
    }
    list
}

/// The reply to one request line.
pub(crate) async fn execute<S: StatusSource>(
    source: &S,
    config: &SocketConfig,
    line: &str,
) -> String {
    let now = (config.clock)();
    let f = config.families;
    let Some(cmd) = command::parse(line) else {
        return reply::single(reply::PARSE_ERROR, "syntax error");
    };
    match cmd {
        Command::ShowStatus => reply::status(&config.version, &source.status(f), now),
        Command::ShowProtocols { all, which } => {
            let list = protocols_of(source, f, all).await;
            let chosen: Vec<&Protocol> = match &which {
                ProtoSelector::All => list.iter().collect(),
                ProtoSelector::Name(n) => {
                    let hit: Vec<&Protocol> = list.iter().filter(|p| &p.name == n).collect();
                    if hit.is_empty() {
                        return reply::single(
                            reply::WRONG_SYMBOL,
                            &format!("{n} is not a protocol"),
                        );
                    }
                    hit
                }
                ProtoSelector::Pattern(pat) => list
                    .iter()
                    .filter(|p| command::pattern_match(pat, &p.name))
                    .collect(),
            };
            reply::protocols(&chosen, all, now)
        }
        Command::ShowRoute(q) => show_route(source, f, &q, now).await,
    }
}

async fn show_route<S: StatusSource>(
    source: &S,
    f: Families,
    q: &RouteQuery,
    now: SystemTime,
) -> String {
    if let Some(p) = &q.protocol {
        let list = protocols_of(source, f, false).await;
        if !list.iter().any(|x| &x.name == p) {
            return reply::single(reply::WRONG_SYMBOL, &format!("{p} is not a protocol"));
        }
    }
    let mut all: Vec<Route> = source.routes(f).await;
    all.retain(|r| f.contains_net(&r.prefix));
    for r in &mut all {
        r.protocol = symbol(&r.protocol);
    }
    // By prefix, the best route first within each.
    all.sort_by(|a, b| a.prefix.cmp(&b.prefix).then(b.primary.cmp(&a.primary)));
    let net = if let Some(p) = q.prefix {
        Some(p.trunc())
    } else if let Some(x) = q.for_addr {
        all.iter()
            .filter(|r| r.prefix.contains(&x))
            .map(|r| r.prefix)
            .max_by_key(|p| p.prefix_len())
    } else {
        None
    };
    if q.for_addr.is_some() && net.is_none() {
        // No network covers the address.
        return reply::single(reply::NOT_FOUND, "Network not in table");
    }
    let examined: Vec<&Route> = match net {
        Some(n) => all.iter().filter(|r| r.prefix == n).collect(),
        None => all.iter().collect(),
    };
    if (q.prefix.is_some() || q.for_addr.is_some()) && examined.is_empty() {
        return reply::single(reply::NOT_FOUND, "Network not in table");
    }
    let shown: Vec<&Route> = examined
        .iter()
        .copied()
        .filter(|r| q.protocol.as_ref().is_none_or(|p| &r.protocol == p))
        .filter(|r| !q.primary || r.primary)
        .collect();
    reply::routes(&shown, examined.len(), q.count, q.stats, now)
}
