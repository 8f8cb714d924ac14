//! The tester: the senders and the monitor, in one process that runs in the
//! testers' network namespace (`bgperf tester ...`, started by
//! [`super::run`]).
//!
//! It talks to the process that started it over its standard input and
//! output, one line each way per step:
//!
//! 1. it encodes every sender's UPDATEs, establishes the monitor's session
//!    and every sender's, and prints `ready`;
//! 2. on `go` it notes the time and lets every sender write its UPDATEs
//!    (each sender thread writes one buffer of pre-encoded messages);
//! 3. the monitor decodes what the target sends, keeps per prefix the
//!    sender whose path it holds, and counts the prefixes that hold the
//!    expected one ([`Case::expected_sender`]); when all do it prints
//!    `converged SECONDS` (from `go`), or `timeout GOOD TOTAL` if the time
//!    limit passes first;
//! 4. it prints `stats key=value ...` (the senders' and the monitor's CPU
//!    seconds, message and prefix counts, what the target sent to the
//!    senders), then waits for `stop` (or the end of its input), sending
//!    KEEPALIVEs meanwhile, and exits.
//!
//! Problems are printed as `error TEXT` and end the process with status 1.

use std::io::{BufRead, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use bgp_wire::attribute::{AsPath, type_code};
use bgp_wire::message::header::MessageType;
use bgp_wire::message::update::builder;
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, SessionContext, Update};
use bytes::BytesMut;
use ipnet::IpNet;

use super::case::{self, Case};
use super::measure::thread_cpu;
use super::session::{self, Session};

/// The tester's command line (after `tester`).
#[derive(Debug, Clone, PartialEq)]
pub struct TesterArgs {
    /// The target's address (port 179).
    pub target: Ipv4Addr,
    /// The monitor's address.
    pub monitor: Ipv4Addr,
    /// The senders' addresses, one per sender of the case.
    pub senders: Vec<Ipv4Addr>,
    /// The case.
    pub case: Case,
    /// The hold time offered.
    pub hold_time: u16,
    /// How long to wait for convergence after `go`.
    pub timeout: Duration,
}

impl TesterArgs {
    /// The arguments that [`TesterArgs::parse`] reads back.
    pub fn to_args(&self) -> Vec<String> {
        let senders: Vec<String> = self.senders.iter().map(|a| a.to_string()).collect();
        let case = format!(
            "{}x{}{}",
            self.case.senders,
            self.case.prefixes,
            if self.case.competing {
                "-competing"
            } else {
                ""
            }
        );
        vec![
            "--target".into(),
            self.target.to_string(),
            "--monitor".into(),
            self.monitor.to_string(),
            "--senders".into(),
            senders.join(","),
            "--case".into(),
            case,
            "--hold".into(),
            self.hold_time.to_string(),
            "--timeout".into(),
            self.timeout.as_secs().to_string(),
        ]
    }

    /// Reads the arguments after `tester`.
    pub fn parse(args: &[String]) -> Result<TesterArgs, String> {
        let mut target = None;
        let mut monitor = None;
        let mut senders = Vec::new();
        let mut case = None;
        let mut hold_time = 180;
        let mut timeout = Duration::from_secs(600);
        let mut it = args.iter();
        while let Some(k) = it.next() {
            let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
            let addr = |v: &str| v.parse::<Ipv4Addr>().map_err(|e| format!("{k} {v:?}: {e}"));
            match k.as_str() {
                "--target" => target = Some(addr(v)?),
                "--monitor" => monitor = Some(addr(v)?),
                "--senders" => {
                    senders = v.split(',').map(addr).collect::<Result<Vec<_>, String>>()?;
                }
                "--case" => case = Some(Case::parse(v)?),
                "--hold" => hold_time = v.parse().map_err(|e| format!("--hold {v:?}: {e}"))?,
                "--timeout" => {
                    timeout = Duration::from_secs(
                        v.parse().map_err(|e| format!("--timeout {v:?}: {e}"))?,
                    );
                }
                _ => return Err(format!("unknown tester argument {k}")),
            }
        }
        let case = case.ok_or("--case is required")?;
        if senders.len() != case.senders {
            return Err(format!(
                "{} sender addresses for a case of {} senders",
                senders.len(),
                case.senders
            ));
        }
        Ok(TesterArgs {
            target: target.ok_or("--target is required")?,
            monitor: monitor.ok_or("--monitor is required")?,
            senders,
            case,
            hold_time,
            timeout,
        })
    }
}

/// The session context the senders encode with: 4-octet AS numbers, no
/// ADD-PATH, 4,096-octet messages. Every target negotiates exactly this
/// with the OPEN we send; a session that negotiates otherwise is refused.
pub fn sender_context() -> SessionContext {
    SessionContext::default().with_four_octet_as(true)
}

/// Every UPDATE sender `k` (at `addr`) sends, one after another in one
/// buffer, and how many messages that is.
pub fn encode_sender(case: &Case, k: usize, addr: Ipv4Addr) -> Result<(Vec<u8>, usize), String> {
    let ctx = sender_context();
    let mut out = Vec::new();
    let mut messages = 0;
    for block in case.blocks(k) {
        let attrs = case.attributes(k, block.start, addr);
        let nlri: Vec<Nlri> = block
            .clone()
            .map(|i| Nlri::new(IpNet::V4(case::prefix(i))))
            .collect();
        let msgs = builder::announce(&ctx, AfiSafi::IPV4_UNICAST, &attrs, None, &nlri)
            .map_err(|e| format!("encoding sender {k}'s UPDATEs: {e}"))?;
        for m in msgs {
            out.extend_from_slice(&m);
            messages += 1;
        }
    }
    Ok((out, messages))
}

/// What the monitor keeps: per prefix the sender whose path the target
/// sent last (`0`: none, `k + 1`: sender `k`, `u8::MAX`: another path).
#[derive(Debug, Clone)]
pub struct MonitorTable {
    case: Case,
    held: Vec<u8>,
    /// Prefixes whose path is the expected one.
    pub good: usize,
    /// UPDATE messages received.
    pub updates: u64,
    /// Prefixes announced (with repeats).
    pub announced: u64,
    /// Prefixes withdrawn.
    pub withdrawn: u64,
    /// Prefixes outside the case's space, or paths of no sender.
    pub unexpected: u64,
}

impl MonitorTable {
    /// An empty table for `case`.
    pub fn new(case: Case) -> MonitorTable {
        MonitorTable {
            case,
            held: vec![0; case.total()],
            good: 0,
            updates: 0,
            announced: 0,
            withdrawn: 0,
            unexpected: 0,
        }
    }

    /// Whether every prefix holds its expected path.
    pub fn converged(&self) -> bool {
        self.good == self.case.total()
    }

    /// The sender whose path prefix `i` holds, if any.
    pub fn held(&self, i: usize) -> Option<usize> {
        match self.held.get(i).copied() {
            None | Some(0) | Some(u8::MAX) => None,
            Some(k) => Some(usize::from(k) - 1),
        }
    }

    fn set(&mut self, i: usize, value: u8) {
        let expected = u8::try_from(self.case.expected_sender(i) + 1).unwrap_or(u8::MAX);
        let Some(slot) = self.held.get_mut(i) else {
            self.unexpected += 1;
            return;
        };
        let old = *slot;
        *slot = value;
        if old == expected && value != expected {
            self.good -= 1;
        } else if old != expected && value == expected {
            self.good += 1;
        }
    }

    /// Applies one UPDATE body.
    pub fn apply(&mut self, body: bytes::Bytes, ctx: &SessionContext) -> Result<(), String> {
        let u = Update::decode(body, ctx).map_err(|e| format!("UPDATE from the target: {e}"))?;
        self.updates += 1;
        for n in u.withdrawn() {
            self.withdrawn += 1;
            match index(&n) {
                Some(i) => self.set(i, 0),
                None => self.unexpected += 1,
            }
        }
        let mut nlri = u.nlri().peekable();
        if nlri.peek().is_none() {
            return Ok(());
        }
        // The target's AS first, then the sender's.
        let sender = u
            .raw_attributes()
            .find(|a| a.type_code == type_code::AS_PATH)
            .and_then(|a| AsPath::decode(&a.value, ctx.four_octet_as).ok())
            .and_then(|p| p.asns().nth(1))
            .and_then(|asn| case::sender_of_as(asn, self.case.senders));
        let value = match sender {
            Some(k) => u8::try_from(k + 1).unwrap_or(u8::MAX),
            None => {
                self.unexpected += 1;
                u8::MAX
            }
        };
        for n in nlri {
            self.announced += 1;
            match index(&n) {
                Some(i) if i < self.held.len() => self.set(i, value),
                _ => self.unexpected += 1,
            }
        }
        Ok(())
    }
}

fn index(n: &Nlri) -> Option<usize> {
    match n.prefix {
        IpNet::V4(p) => case::index_of(&p),
        IpNet::V6(_) => None,
    }
}

/// What a sender reports once its UPDATEs are written.
struct SenderDone {
    cpu: f64,
    messages: usize,
    octets: usize,
    error: Option<String>,
}

/// What the monitor reports.
enum MonitorEvent {
    Converged {
        at: Instant,
        cpu: f64,
        table: Box<MonitorTable>,
    },
    Failed(String),
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Runs the tester; `args` are the arguments after `tester`. Returns the
/// process's exit status.
pub fn main(args: &[String]) -> i32 {
    match run(args) {
        Ok(()) => 0,
        Err(e) => {
            say(&format!("error {}", e.replace('\n', " | ")));
            1
        }
    }
}

/// Sends a KEEPALIVE every `every` until `stop` says so (or is dropped).
fn keepalives(mut stream: TcpStream, every: Duration, stop: mpsc::Receiver<()>) {
    let ka = session::keepalive_bytes();
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
        if stream.write_all(&ka).is_err() {
            return;
        }
    }
}

/// Reads and discards what the target sends a sender, counting announced
/// prefixes (there should be none: the target exports nothing to senders).
fn drain(mut s: Session, count: Arc<AtomicU64>) {
    loop {
        let far = Instant::now() + Duration::from_secs(86_400);
        match session::read_message(&mut s.stream, &mut s.rest, &s.ctx, far) {
            Ok((MessageType::Update, body)) => {
                if let Ok(u) = Update::decode(body, &s.ctx) {
                    count.fetch_add(u.nlri().count() as u64, Ordering::Relaxed);
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let a = TesterArgs::parse(args)?;
    let case = a.case;
    let target = SocketAddrV4::new(a.target, 179);
    let keepalive = Duration::from_secs(u64::from((a.hold_time / 3).max(1)));
    let deadline = Instant::now() + Duration::from_secs(60);

    // The UPDATEs, before anything is timed.
    let mut buffers = Vec::with_capacity(case.senders);
    for (k, addr) in a.senders.iter().enumerate() {
        buffers.push(encode_sender(&case, k, *addr)?);
    }

    // The monitor's session first, so that it sees everything.
    let mon = session::establish(a.monitor, target, case::MONITOR_AS, a.hold_time, deadline)
        .map_err(|e| format!("monitor: {e}"))?;
    check_context(&mon.ctx, "monitor")?;
    let (mon_stop_tx, mon_stop_rx) = mpsc::channel();
    let ka_stream = mon
        .stream
        .try_clone()
        .map_err(|e| format!("monitor socket: {e}"))?;
    std::thread::Builder::new()
        .name("monitor-keepalive".into())
        .spawn(move || keepalives(ka_stream, keepalive, mon_stop_rx))
        .map_err(|e| e.to_string())?;
    let (mon_tx, mon_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("monitor".into())
        .spawn(move || monitor(mon, case, mon_tx))
        .map_err(|e| e.to_string())?;

    // The senders: each establishes its session, says so, waits for go,
    // writes its buffer, reports, then sends KEEPALIVEs until stop.
    let to_senders = Arc::new(AtomicU64::new(0));
    let (ready_tx, ready_rx) = mpsc::channel::<Result<usize, String>>();
    let (done_tx, done_rx) = mpsc::channel::<SenderDone>();
    let mut go = Vec::new();
    let mut stops = Vec::new();
    for (k, ((buf, messages), addr)) in buffers.into_iter().zip(a.senders.clone()).enumerate() {
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        go.push(go_tx);
        stops.push(stop_tx);
        let (ready_tx, done_tx) = (ready_tx.clone(), done_tx.clone());
        let count = to_senders.clone();
        let hold = a.hold_time;
        std::thread::Builder::new()
            .name(format!("sender-{k}"))
            .spawn(move || {
                let s = match session::establish(addr, target, case::sender_as(k), hold, deadline)
                    .map_err(|e| format!("sender {k}: {e}"))
                    .and_then(|s| check_context(&s.ctx, "sender").map(|()| s))
                {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let mut w = match s.stream.try_clone() {
                    Ok(w) => w,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("sender {k}: {e}")));
                        return;
                    }
                };
                let _ = std::thread::Builder::new()
                    .name(format!("sender-{k}-read"))
                    .spawn(move || drain(s, count));
                let _ = ready_tx.send(Ok(k));
                if go_rx.recv().is_err() {
                    return;
                }
                let cpu0 = thread_cpu();
                let error = w.write_all(&buf).err().map(|e| format!("sender {k}: {e}"));
                let _ = done_tx.send(SenderDone {
                    cpu: thread_cpu() - cpu0,
                    messages,
                    octets: buf.len(),
                    error,
                });
                drop(buf);
                keepalives(w, keepalive, stop_rx);
            })
            .map_err(|e| e.to_string())?;
    }
    drop(ready_tx);
    drop(done_tx);
    for _ in 0..case.senders {
        match ready_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err("the senders' sessions did not all come up".into()),
        }
    }
    // The monitor may have failed meanwhile (the target closed it).
    if let Ok(MonitorEvent::Failed(e)) = mon_rx.try_recv() {
        return Err(e);
    }
    say("ready");

    let mut stdin = std::io::stdin().lock();
    let mut line = String::new();
    stdin.read_line(&mut line).map_err(|e| e.to_string())?;
    if line.trim() != "go" {
        return Err(format!("expected go, read {:?}", line.trim()));
    }
    let t0 = Instant::now();
    for g in &go {
        let _ = g.send(());
    }

    let (table, monitor_cpu) = match mon_rx.recv_timeout(a.timeout) {
        Ok(MonitorEvent::Converged { at, cpu, table }) => {
            say(&format!("converged {:.6}", (at - t0).as_secs_f64()));
            (Some(table), cpu)
        }
        Ok(MonitorEvent::Failed(e)) => return Err(e),
        Err(_) => {
            say("timeout");
            (None, 0.0)
        }
    };
    let mut senders_cpu = 0.0;
    let (mut messages, mut octets) = (0, 0);
    for _ in 0..case.senders {
        match done_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(d) => {
                if let Some(e) = d.error {
                    return Err(e);
                }
                senders_cpu += d.cpu;
                messages += d.messages;
                octets += d.octets;
            }
            Err(_) => return Err("a sender did not finish writing".into()),
        }
    }
    let mut stats = format!(
        "stats senders_cpu={senders_cpu:.6} monitor_cpu={monitor_cpu:.6} sent_messages={messages} sent_octets={octets} to_senders={}",
        to_senders.load(Ordering::Relaxed)
    );
    if let Some(t) = &table {
        stats.push_str(&format!(
            " updates={} announced={} withdrawn={} unexpected={} good={} total={}",
            t.updates,
            t.announced,
            t.withdrawn,
            t.unexpected,
            t.good,
            case.total()
        ));
    }
    say(&stats);

    // Keep the sessions up until told to stop.
    line.clear();
    let _ = stdin.read_line(&mut line);
    drop(stops);
    drop(mon_stop_tx);
    Ok(())
}

fn check_context(ctx: &SessionContext, who: &str) -> Result<(), String> {
    let want = sender_context();
    if ctx.four_octet_as != want.four_octet_as
        || ctx.extended_message
        || ctx.add_path_receive(AfiSafi::IPV4_UNICAST)
        || ctx.add_path_send(AfiSafi::IPV4_UNICAST)
    {
        return Err(format!(
            "{who}: the session negotiated {ctx:?}, not 4-octet AS only"
        ));
    }
    Ok(())
}

/// The monitor's thread: reads the target's messages into a
/// [`MonitorTable`] and reports convergence once, then keeps reading (so
/// that the target is never blocked on it) until the session ends.
fn monitor(mut s: Session, case: Case, tx: mpsc::Sender<MonitorEvent>) {
    let cpu0 = thread_cpu();
    let mut table = MonitorTable::new(case);
    let mut reported = false;
    let far = Instant::now() + Duration::from_secs(86_400);
    let mut buf = std::mem::replace(&mut s.rest, BytesMut::new());
    loop {
        match session::read_message(&mut s.stream, &mut buf, &s.ctx, far) {
            Ok((MessageType::Update, body)) => {
                if reported {
                    continue;
                }
                if let Err(e) = table.apply(body, &s.ctx) {
                    let _ = tx.send(MonitorEvent::Failed(format!("monitor: {e}")));
                    return;
                }
                if table.converged() {
                    reported = true;
                    let _ = tx.send(MonitorEvent::Converged {
                        at: Instant::now(),
                        cpu: thread_cpu() - cpu0,
                        table: Box::new(table.clone()),
                    });
                }
            }
            Ok((MessageType::Notification, body)) => {
                let text = bgp_wire::Notification::decode(body, &s.ctx)
                    .map_or_else(|e| e.to_string(), |n| n.to_string());
                if !reported {
                    let _ = tx.send(MonitorEvent::Failed(format!(
                        "monitor: NOTIFICATION from the target: {text}"
                    )));
                }
                return;
            }
            Ok(_) => {}
            Err(e) => {
                if !reported {
                    let _ = tx.send(MonitorEvent::Failed(format!("monitor: {e}")));
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_round_trip() {
        let a = TesterArgs {
            target: Ipv4Addr::new(198, 18, 224, 1),
            monitor: Ipv4Addr::new(198, 18, 224, 2),
            senders: vec![
                Ipv4Addr::new(198, 18, 224, 10),
                Ipv4Addr::new(198, 18, 224, 11),
            ],
            case: Case::competing(2, 1000),
            hold_time: 180,
            timeout: Duration::from_secs(60),
        };
        assert_eq!(TesterArgs::parse(&a.to_args()).unwrap(), a);
        let mut bad = a.to_args();
        bad.push("--what".into());
        bad.push("x".into());
        assert!(TesterArgs::parse(&bad).is_err());
    }

    /// The monitor's table, fed with the senders' own UPDATEs re-labelled
    /// as the target would send them (its AS prepended).
    #[test]
    fn monitor_counts_expected_paths() {
        let case = Case::competing(3, 100);
        let ctx = sender_context();
        let mut t = MonitorTable::new(case);
        let nh = Ipv4Addr::new(198, 18, 224, 1);
        // Every sender's paths in turn: the table ends with the best ones
        // only if the target sent only the best, so send each block's
        // expected sender last.
        for k in 0..3 {
            for block in case.blocks(k) {
                if case.expected_sender(block.start) == k {
                    continue;
                }
                feed(&mut t, &case, k, block, nh, &ctx);
            }
        }
        assert_eq!(t.good, 0);
        for k in 0..3 {
            for block in case.blocks(k) {
                if case.expected_sender(block.start) == k {
                    feed(&mut t, &case, k, block, nh, &ctx);
                }
            }
        }
        assert!(t.converged(), "{} of {}", t.good, case.total());
        assert_eq!(t.held(17), Some(case.expected_sender(17)));
        assert_eq!(t.unexpected, 0);
        // A withdrawal takes a prefix out again.
        let w = builder::withdraw(
            &ctx,
            AfiSafi::IPV4_UNICAST,
            &[Nlri::new(IpNet::V4(case::prefix(5)))],
        )
        .unwrap();
        t.apply(w[0].slice(19..), &ctx).unwrap();
        assert!(!t.converged());
        assert_eq!(t.held(5), None);
    }

    fn feed(
        t: &mut MonitorTable,
        case: &Case,
        k: usize,
        block: std::ops::Range<usize>,
        nh: Ipv4Addr,
        ctx: &SessionContext,
    ) {
        let mut attrs = case.attributes(k, block.start, nh);
        attrs.as_path = Some(attrs.as_path.unwrap().prepended(case::TARGET_AS, 1));
        let nlri: Vec<Nlri> = block
            .map(|i| Nlri::new(IpNet::V4(case::prefix(i))))
            .collect();
        for m in builder::announce(ctx, AfiSafi::IPV4_UNICAST, &attrs, None, &nlri).unwrap() {
            t.apply(m.slice(19..), ctx).unwrap();
        }
    }

    #[test]
    fn sender_buffers() {
        let case = Case::distinct(2, 5000);
        let (buf, n) = encode_sender(&case, 1, Ipv4Addr::new(198, 18, 224, 11)).unwrap();
        assert!((5..=6).contains(&n), "{n} messages");
        let mut t = MonitorTable::new(case);
        let ctx = sender_context();
        let mut b = BytesMut::from(&buf[..]);
        while let Some((_, body)) = bgp_wire::message::header::frame(&mut b, &ctx).unwrap() {
            t.apply(body, &ctx).unwrap();
        }
        // Without the target's AS in front, the sender's AS is not second.
        assert_eq!(t.announced, 5000);
        assert_eq!(t.good, 0);
    }
}
