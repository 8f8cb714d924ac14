//! The programmer's task: commands in, netlink out, events back into the
//! mirror, plans for dirty prefixes, retries and re-dumps.
//!
//! Writes go in batches, one at a time: a datagram of requests is sent, and
//! messages are read until every request of it is acknowledged. The events
//! of the batch's changes come before their acknowledgements on the socket,
//! so when a batch is done the mirror already shows its effect, and the
//! next plan starts from the kernel's truth.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hash::{Hash, Hasher};
use std::io;
use std::sync::Arc;
use std::time::Duration;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use ipnet::IpNet;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, timeout};

use super::intern::Interner;
use super::netlink::{self, Incoming, KernelError, NlSocket};
use super::reconcile::{self, Conflict, OpKind, Want};
use super::retry::{ErrorClass, RouteError};
use super::route::{Family, ResolveError, ResolvedRoute, RouteKind};
use super::table::{Applied, KernelTable};
use super::{
    Counters, FamilyStatus, FibConfig, FibError, FibStatus, RouteFailure, RouteUpdate,
    STATUS_LIST_MAX,
};

/// The most bytes of requests in one datagram.
const MAX_DATAGRAM: usize = 60_000;
/// Prefixes looked at per batch at most (plans that need no write are
/// cheap, but a batch must end).
const MAX_EXAMINED: usize = 16_384;
/// How long to wait for the next message while acknowledgements or a dump
/// are outstanding, before giving up and dumping again.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a dump is tried again when interrupted or overrun.
const DUMP_TRIES: u32 = 5;

/// What a handle asks of the task.
pub(crate) enum Command {
    Update(Vec<RouteUpdate>),
    MarkSynced(Family),
    Resync,
    Status(oneshot::Sender<FibStatus>),
    Settled(oneshot::Sender<FibStatus>),
    Shutdown {
        remove_routes: bool,
        done: oneshot::Sender<FibStatus>,
    },
}

/// A desired route kind, shared by the prefixes that want it, with its
/// resolution when that does not depend on the links (no device named).
#[derive(Debug)]
struct Wanted {
    kind: RouteKind,
    fixed: Option<Resolution>,
}

type Resolution = Result<Option<ResolvedRoute>, ResolveError>;

impl PartialEq for Wanted {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

impl Eq for Wanted {}

impl Hash for Wanted {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
    }
}

impl Wanted {
    fn new(family: Family, kind: RouteKind) -> Wanted {
        let fixed =
            (!kind.names_device()).then(|| ResolvedRoute::resolve_for(family, &kind, |_| None));
        Wanted { kind, fixed }
    }

    fn resolve(
        &self,
        family: Family,
        index_of: impl Fn(&str) -> Option<u32>,
    ) -> Cow<'_, Resolution> {
        match &self.fixed {
            Some(r) => Cow::Borrowed(r),
            None => Cow::Owned(ResolvedRoute::resolve_for(family, &self.kind, index_of)),
        }
    }
}

/// What is wanted for a prefix the daemon mentioned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Desired {
    Install(Arc<Wanted>),
    /// Withdrawn or not to be installed, before sync (after sync the entry
    /// is simply dropped: unknown and absent mean the same then).
    Absent,
}

#[derive(Debug)]
struct Failure {
    error: RouteError,
    attempts: u32,
    retry_at: Option<Instant>,
}

/// One family's state.
struct Fam {
    family: Family,
    metric: u32,
    desired: HashMap<IpNet, Desired>,
    kinds: Interner<Wanted>,
    /// How many desired routes name each device.
    device_refs: HashMap<String, usize>,
    table: KernelTable,
    synced: bool,
    dirty: VecDeque<IpNet>,
    dirty_set: HashSet<IpNet>,
    failures: HashMap<IpNet, Failure>,
    conflicts: HashMap<IpNet, Conflict>,
    resync_at: Option<Instant>,
}

impl Fam {
    fn new(family: Family, cfg: &FibConfig) -> Fam {
        Fam {
            family,
            metric: cfg.effective_metric(family),
            desired: HashMap::new(),
            kinds: Interner::new(),
            device_refs: HashMap::new(),
            table: KernelTable::new(family, cfg.table, cfg.protocol),
            synced: false,
            dirty: VecDeque::new(),
            dirty_set: HashSet::new(),
            failures: HashMap::new(),
            conflicts: HashMap::new(),
            resync_at: None,
        }
    }

    fn mark(&mut self, prefix: IpNet) {
        if self.dirty_set.insert(prefix) {
            self.dirty.push_back(prefix);
        }
    }

    fn pop(&mut self) -> Option<IpNet> {
        let p = self.dirty.pop_front()?;
        self.dirty_set.remove(&p);
        Some(p)
    }

    /// Gives back the memory of a large burst once it is done.
    fn shrink(&mut self) {
        if self.dirty.is_empty() && self.dirty_set.capacity() > 65_536 {
            self.dirty = VecDeque::new();
            self.dirty_set = HashSet::new();
        }
    }

    fn count_devices(&mut self, d: Option<&Desired>, add: bool) {
        let Some(Desired::Install(w)) = d else { return };
        for dev in w.kind.devices() {
            if add {
                *self.device_refs.entry(dev.to_string()).or_insert(0) += 1;
            } else if let Some(n) = self.device_refs.get_mut(dev) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.device_refs.remove(dev);
                }
            }
        }
    }

    fn want_resync(&mut self, at: Instant) {
        self.resync_at = Some(self.resync_at.map_or(at, |t| t.min(at)));
    }

    fn status(&self, index_of: &impl Fn(&str) -> Option<u32>) -> FamilyStatus {
        let mut st = FamilyStatus {
            synced: self.synced,
            ours_in_kernel: self.table.ours_count(),
            aliens: self.table.aliens_count(),
            conflicted: self.conflicts.len(),
            failed: self.failures.len(),
            ..FamilyStatus::default()
        };
        for (p, d) in &self.desired {
            if let Desired::Install(w) = d {
                st.desired += 1;
                let ok = matches!(
                    w.resolve(self.family, index_of).as_ref(),
                    Ok(Some(r)) if self.table.get(p).ours_at(self.metric).is_some_and(|o| r.matches(&o.kind))
                );
                if ok {
                    st.installed += 1;
                }
            }
        }
        st.stale = self
            .table
            .our_prefixes()
            .filter(|p| !matches!(self.desired.get(*p), Some(Desired::Install(_))))
            .count();
        let mut conflicts: Vec<&Conflict> = self.conflicts.values().collect();
        conflicts.sort_by_key(|c| c.prefix);
        st.conflicts = conflicts
            .into_iter()
            .take(STATUS_LIST_MAX)
            .cloned()
            .collect();
        let mut failures: Vec<(&IpNet, &Failure)> = self.failures.iter().collect();
        failures.sort_by_key(|f| *f.0);
        st.failures = failures
            .into_iter()
            .take(STATUS_LIST_MAX)
            .map(|(p, f)| RouteFailure {
                prefix: *p,
                error: f.error.clone(),
                attempts: f.attempts,
                retrying: f.retry_at.is_some(),
            })
            .collect();
        st
    }
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    family: Family,
    prefix: IpNet,
    op: OpKind,
}

#[derive(Debug, Clone)]
struct Link {
    name: Option<String>,
    up: bool,
}

/// The task's state.
pub(crate) struct Engine {
    cfg: FibConfig,
    sock: NlSocket,
    v4: Fam,
    v6: Fam,
    links: HashMap<u32, Link>,
    by_name: HashMap<String, u32>,
    inflight: HashMap<u32, InFlight>,
    /// The request of the batch in flight that asks for an
    /// acknowledgement: its answer ends the batch.
    batch_end: Option<u32>,
    /// Where the last request of the batch being built starts, and its
    /// sequence number.
    batch_last: Option<(usize, u32)>,
    next_seq: u32,
    retries: BinaryHeap<Reverse<(Instant, Family, IpNet)>>,
    settle_waiters: Vec<oneshot::Sender<FibStatus>>,
    counters: Counters,
    batch_limit: usize,
    /// Alternates which family a batch starts with.
    v6_first: bool,
    out: Vec<u8>,
    /// The dump being read, if any, and whether it was spoiled (an
    /// interrupted dump or lost messages).
    dump_seq: Option<u32>,
    dump_spoiled: bool,
    dump_error: Option<KernelError>,
}

impl Engine {
    pub(crate) fn new(cfg: FibConfig) -> Result<Engine, FibError> {
        let sock = NlSocket::open(cfg.receive_buffer)?;
        // Each write brings an event and an acknowledgement into our
        // receive buffer; keep a batch's worth well inside it.
        let fits = (sock.rcvbuf() / 4096).max(16);
        let batch_limit = cfg.batch_size.clamp(1, fits);
        tracing::debug!(
            rcvbuf = sock.rcvbuf(),
            batch_limit,
            "FIB netlink socket open"
        );
        Ok(Engine {
            v4: Fam::new(Family::V4, &cfg),
            v6: Fam::new(Family::V6, &cfg),
            cfg,
            sock,
            links: HashMap::new(),
            by_name: HashMap::new(),
            inflight: HashMap::new(),
            batch_end: None,
            batch_last: None,
            next_seq: 1,
            retries: BinaryHeap::new(),
            settle_waiters: Vec::new(),
            counters: Counters::default(),
            batch_limit,
            v6_first: false,
            out: Vec::with_capacity(MAX_DATAGRAM + 4096),
            dump_seq: None,
            dump_spoiled: false,
            dump_error: None,
        })
    }

    fn fam(&mut self, f: Family) -> &mut Fam {
        match f {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        }
    }

    fn seq(&mut self) -> u32 {
        let s = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        s
    }

    /// Learns links, then both tables.
    pub(crate) async fn initial_sync(&mut self) -> Result<(), FibError> {
        self.dump(None).await.map_err(|reason| FibError::Dump {
            family: Family::V4,
            reason: format!("links: {reason}"),
        })?;
        for f in Family::ALL {
            self.dump(Some(f))
                .await
                .map_err(|reason| FibError::Dump { family: f, reason })?;
            let fam = self.fam(f);
            tracing::info!(
                family = %f,
                adopted = fam.table.ours_count(),
                aliens = fam.table.aliens_count(),
                "kernel table learned; routes of ours adopted as stale until sync"
            );
        }
        Ok(())
    }

    /// Dumps links (`None`) or a family's table, reading every message on
    /// the way (events included) until the dump ends. Retried when the
    /// kernel says the dump was interrupted or messages were lost.
    async fn dump(&mut self, family: Option<Family>) -> Result<(), String> {
        let mut last = String::new();
        for _ in 0..DUMP_TRIES {
            let seq = self.seq();
            self.out.clear();
            match family {
                None => netlink::encode_link_dump(seq, &mut self.out),
                Some(f) => {
                    netlink::encode_route_dump(f, self.cfg.table, seq, &mut self.out);
                    self.fam(f).table.begin_dump();
                }
            }
            self.dump_seq = Some(seq);
            self.dump_spoiled = false;
            self.dump_error = None;
            let out = std::mem::take(&mut self.out);
            let sent = self.sock.send(&out).await;
            self.out = out;
            if let Err(e) = sent {
                self.dump_seq = None;
                last = e.to_string();
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            self.counters.dumps += 1;
            while self.dump_seq.is_some() {
                match timeout(REPLY_TIMEOUT, self.sock.recv()).await {
                    Ok(r) => self.received(r),
                    Err(_) => {
                        self.dump_seq = None;
                        self.dump_spoiled = true;
                        last = "no reply".into();
                    }
                }
            }
            if let Some(e) = self.dump_error.take() {
                last = format!("{}", io::Error::from_raw_os_error(e.errno));
                if e.errno == libc::EPERM || e.errno == libc::EACCES {
                    return Err(last);
                }
                continue;
            }
            if self.dump_spoiled {
                if last.is_empty() {
                    last = "interrupted".into();
                }
                continue;
            }
            if let Some(f) = family {
                let fam = self.fam(f);
                let lost = fam.table.end_dump();
                for p in lost {
                    fam.mark(p);
                }
                fam.resync_at = None;
            }
            return Ok(());
        }
        Err(last)
    }

    /// Handles the result of one `recv`.
    fn received(&mut self, r: io::Result<Vec<Incoming>>) {
        match r {
            Ok(msgs) => {
                for m in msgs {
                    self.incoming(m);
                }
            }
            Err(e) if netlink::is_overrun(&e) => self.overrun(),
            Err(e) => {
                tracing::warn!(error = %e, "netlink receive failed");
            }
        }
    }

    /// Events were lost: whatever was outstanding is unknown; dump again.
    fn overrun(&mut self) {
        self.counters.overruns += 1;
        tracing::warn!("netlink receive buffer overrun: events lost; dumping the tables again");
        self.batch_end = None;
        let lost: Vec<InFlight> = self.inflight.drain().map(|(_, f)| f).collect();
        for f in lost {
            self.fam(f.family).mark(f.prefix);
        }
        if self.dump_seq.is_some() {
            self.dump_spoiled = true;
        }
        self.batch_limit = (self.batch_limit / 2).max(8);
        let now = Instant::now();
        self.v4.want_resync(now);
        self.v6.want_resync(now);
    }

    fn incoming(&mut self, m: Incoming) {
        match m {
            Incoming::Ack { seq, error } => {
                if let Some(f) = self.inflight.remove(&seq) {
                    self.write_done(f, error);
                    if self.batch_end == Some(seq) {
                        // Requests are handled in order and failures are
                        // answered at once: the rest of the batch succeeded.
                        self.batch_end = None;
                        let done: Vec<InFlight> = self.inflight.drain().map(|(_, w)| w).collect();
                        for w in done {
                            self.write_done(w, None);
                        }
                    }
                } else if self.dump_seq == Some(seq) {
                    // A dump refused at once.
                    self.dump_seq = None;
                    self.dump_error = error;
                    if self.dump_error.is_none() {
                        self.dump_spoiled = true;
                    }
                }
            }
            Incoming::Done { seq, interrupted } => {
                if self.dump_seq == Some(seq) {
                    self.dump_seq = None;
                    self.dump_spoiled |= interrupted;
                }
            }
            Incoming::NewRoute {
                seq,
                interrupted,
                replace,
                route,
            } => {
                let from_dump = self.dump_seq.is_some_and(|d| d == seq);
                if from_dump {
                    self.dump_spoiled |= interrupted;
                } else {
                    self.counters.route_events += 1;
                }
                let f = Family::of(&route.prefix);
                let prefix = route.prefix;
                let fam = self.fam(f);
                // Our route exactly as wanted (the echo of our own write, as
                // a rule): nothing to plan unless the prefix has more.
                let confirms = route.metric == fam.metric
                    && matches!(
                        fam.desired.get(&prefix),
                        Some(Desired::Install(w)) if matches!(&w.fixed, Some(Ok(Some(r))) if r.matches(&route.kind))
                    );
                let applied = fam.table.apply_new(route, replace);
                let settled = confirms && {
                    let st = fam.table.get(&prefix);
                    st.aliens().is_empty()
                        && st.ours().count() == 1
                        && !fam.failures.contains_key(&prefix)
                        && !fam.conflicts.contains_key(&prefix)
                };
                if (applied == Applied::Ours && !settled)
                    || (applied == Applied::Alien && fam.desired.contains_key(&prefix))
                {
                    fam.mark(prefix);
                }
            }
            Incoming::DelRoute { route } => {
                self.counters.route_events += 1;
                let f = Family::of(&route.prefix);
                let fam = self.fam(f);
                let applied = fam.table.apply_del(&route);
                if applied == Applied::Ours
                    || (applied == Applied::Alien && fam.desired.contains_key(&route.prefix))
                {
                    fam.mark(route.prefix);
                }
            }
            Incoming::NewLink {
                seq,
                index,
                name,
                up,
            } => {
                // The link dump at start describes what is, not a change.
                let change = self.dump_seq.is_none_or(|d| d != seq);
                self.link_changed(index, name, up, change);
            }
            Incoming::DelLink { index } => {
                if let Some(old) = self.links.remove(&index) {
                    if let Some(n) = old.name {
                        if self.by_name.get(&n) == Some(&index) {
                            self.by_name.remove(&n);
                        }
                    }
                }
                self.maybe_flushed(index, None);
            }
            Incoming::NewAddr { family, index: _ } => self.retry_failures(family),
            Incoming::DelAddr { family, index } => self.maybe_flushed(index, family),
            Incoming::Other => {}
            Incoming::Malformed(what) => {
                self.counters.malformed += 1;
                tracing::warn!(%what, "unreadable netlink message skipped");
            }
        }
    }

    fn link_changed(&mut self, index: u32, name: Option<String>, up: bool, change: bool) {
        let old = self.links.get(&index).cloned();
        if let Some(n) = &name {
            if let Some(o) = old.as_ref().and_then(|o| o.name.as_ref()) {
                if o != n && self.by_name.get(o) == Some(&index) {
                    self.by_name.remove(o);
                }
            }
            self.by_name.insert(n.clone(), index);
        }
        let name = name.or_else(|| old.as_ref().and_then(|o| o.name.clone()));
        let renamed = old.as_ref().map(|o| &o.name) != Some(&name);
        self.links.insert(index, Link { name, up });
        let was_up = old.as_ref().is_some_and(|o| o.up);
        if was_up && !up {
            self.maybe_flushed(index, None);
        }
        if change && (renamed || (up && !was_up)) {
            // A device appeared, was renamed or came up: routes that failed
            // for want of it may go in now.
            self.retry_failures(None);
            // Desired routes naming this device resolve differently now.
            let name = self.links.get(&index).and_then(|l| l.name.clone());
            if let Some(name) = name.filter(|_| renamed) {
                for f in Family::ALL {
                    let fam = self.fam(f);
                    if !fam.device_refs.contains_key(&name) {
                        continue;
                    }
                    let named: Vec<IpNet> = fam
                        .desired
                        .iter()
                        .filter(|(_, d)| matches!(d, Desired::Install(w) if w.kind.devices().any(|x| x == name)))
                        .map(|(p, _)| *p)
                        .collect();
                    for p in named {
                        fam.mark(p);
                    }
                }
            }
        }
    }

    /// A device went down or away, or lost an address: the kernel may have
    /// flushed IPv4 routes through it without telling. Dump again if any of
    /// ours used it.
    fn maybe_flushed(&mut self, index: u32, family: Option<Family>) {
        let at = Instant::now() + self.cfg.resync_delay;
        for f in Family::ALL {
            if family.is_some_and(|x| x != f) {
                continue;
            }
            let fam = self.fam(f);
            if fam.table.uses_oif(index) {
                fam.want_resync(at);
            }
        }
    }

    fn retry_failures(&mut self, family: Option<Family>) {
        for f in Family::ALL {
            if family.is_some_and(|x| x != f) {
                continue;
            }
            let fam = self.fam(f);
            let ps: Vec<IpNet> = fam.failures.keys().copied().collect();
            for p in ps {
                fam.mark(p);
            }
        }
    }

    fn write_done(&mut self, w: InFlight, error: Option<KernelError>) {
        let now = Instant::now();
        let resync_delay = self.cfg.resync_delay;
        let policy = self.cfg.retry;
        let Some(e) = error else {
            match w.op {
                OpKind::Add => self.counters.adds += 1,
                OpKind::Replace => self.counters.replaces += 1,
                OpKind::Delete => self.counters.deletes += 1,
            }
            self.fam(w.family).failures.remove(&w.prefix);
            return;
        };
        self.counters.failed_writes += 1;
        let fam = self.fam(w.family);
        match (w.op, e.errno) {
            (OpKind::Delete, libc::ESRCH | libc::ENOENT) => {
                // Already gone, though the mirror said otherwise.
                fam.want_resync(now + resync_delay);
                return;
            }
            (OpKind::Add, libc::EEXIST) => {
                if fam
                    .table
                    .get(&w.prefix)
                    .aliens_at(fam.metric)
                    .next()
                    .is_some()
                {
                    // The slot is an alien's: a conflict, settled by events.
                    fam.mark(w.prefix);
                    return;
                }
                fam.want_resync(now + resync_delay);
            }
            (OpKind::Replace, libc::ESRCH | libc::ENOENT) => {
                fam.want_resync(now + resync_delay);
            }
            _ => {}
        }
        let error = RouteError::Kernel {
            op: w.op,
            errno: e.errno,
            message: e.message,
        };
        let family = fam.family;
        let attempts = fam.failures.get(&w.prefix).map_or(0, |f| f.attempts) + 1;
        if attempts == 1 {
            tracing::warn!(%family, prefix = %w.prefix, %error, "route not written; will retry");
        }
        let retry_at =
            (error.class() == ErrorClass::Transient).then(|| now + policy.delay(attempts));
        fam.failures.insert(
            w.prefix,
            Failure {
                error,
                attempts,
                retry_at,
            },
        );
        if let Some(at) = retry_at {
            self.retries.push(Reverse((at, family, w.prefix)));
        }
    }

    fn apply_update(&mut self, u: RouteUpdate) {
        let prefix = u.prefix.trunc();
        let family = Family::of(&prefix);
        let fam = self.fam(family);
        let desired = match u.kind {
            Some(RouteKind::NotInstalled) | None => {
                if fam.synced {
                    None
                } else {
                    Some(Desired::Absent)
                }
            }
            Some(kind) => Some(Desired::Install(
                fam.kinds.intern(Wanted::new(family, kind.normalized())),
            )),
        };
        let old = match desired {
            Some(d) => {
                fam.count_devices(Some(&d), true);
                let old = fam.desired.insert(prefix, d.clone());
                if old.as_ref() == Some(&d) {
                    fam.count_devices(old.as_ref(), false);
                    return;
                }
                old
            }
            None => match fam.desired.remove(&prefix) {
                Some(old) => Some(old),
                None => return,
            },
        };
        fam.count_devices(old.as_ref(), false);
        fam.mark(prefix);
    }

    fn mark_synced(&mut self, f: Family) {
        let fam = self.fam(f);
        if fam.synced {
            return;
        }
        fam.synced = true;
        fam.desired.retain(|_, d| matches!(d, Desired::Install(_)));
        let stale: Vec<IpNet> = fam
            .table
            .our_prefixes()
            .filter(|p| !fam.desired.contains_key(*p))
            .copied()
            .collect();
        tracing::info!(family = %f, stale = stale.len(), "recovery complete; removing stale routes");
        for p in stale {
            fam.mark(p);
        }
    }

    fn index_of(&self) -> impl Fn(&str) -> Option<u32> + '_ {
        |name| self.by_name.get(name).copied()
    }

    fn status(&self) -> FibStatus {
        let idx = self.index_of();
        FibStatus {
            v4: self.v4.status(&idx),
            v6: self.v6.status(&idx),
            counters: self.counters.clone(),
        }
    }

    fn settled(&self) -> bool {
        self.inflight.is_empty()
            && self.v4.dirty.is_empty()
            && self.v6.dirty.is_empty()
            && self.v4.resync_at.is_none()
            && self.v6.resync_at.is_none()
    }

    /// Plans one prefix into the output buffer.
    fn plan_into_batch(&mut self, f: Family, prefix: IpNet) {
        let Engine {
            v4,
            v6,
            by_name,
            cfg,
            out,
            inflight,
            next_seq,
            batch_last,
            ..
        } = self;
        let fam = match f {
            Family::V4 => v4,
            Family::V6 => v6,
        };
        let index_of = |n: &str| by_name.get(n).copied();
        let resolved = match fam.desired.get(&prefix) {
            Some(Desired::Install(w)) => Some(w.resolve(f, index_of)),
            Some(Desired::Absent) => Some(Cow::Owned(Ok(None))),
            None => None,
        };
        let (want, resolve_error) = match resolved.as_deref() {
            Some(Ok(Some(r))) => (Want::Install(r), None),
            Some(Ok(None)) => (Want::Absent, None),
            // What is wanted cannot be written: what we have is outdated.
            Some(Err(e)) => (Want::Absent, Some(e.clone())),
            None => (Want::Unknown, None),
        };
        let plan = reconcile::plan_prefix(
            &prefix,
            want,
            fam.table.get(&prefix),
            fam.metric,
            fam.synced,
        );
        match plan.conflict {
            Some(c) => {
                if !fam.conflicts.contains_key(&prefix) {
                    tracing::warn!(family = %f, conflict = %c, "route slot held by another protocol");
                }
                fam.conflicts.insert(prefix, c);
            }
            None => {
                fam.conflicts.remove(&prefix);
            }
        }
        match resolve_error {
            Some(e) => {
                drop(resolved);
                let error = RouteError::Resolve(e);
                let attempts = fam.failures.get(&prefix).map_or(0, |x| x.attempts) + 1;
                if attempts == 1 {
                    tracing::warn!(family = %f, %prefix, %error, "route cannot be written");
                }
                // Retried on link events (a device appearing), not on a timer.
                fam.failures.insert(
                    prefix,
                    Failure {
                        error,
                        attempts,
                        retry_at: None,
                    },
                );
            }
            None if plan.ops.is_empty() => {
                fam.failures.remove(&prefix);
            }
            None => {}
        }
        for op in &plan.ops {
            let seq = *next_seq;
            *next_seq = next_seq.wrapping_add(1).max(1);
            *batch_last = Some((out.len(), seq));
            netlink::encode_op(op, seq, cfg.table, cfg.protocol, out);
            inflight.insert(
                seq,
                InFlight {
                    family: f,
                    prefix,
                    op: op.kind(),
                },
            );
        }
    }

    /// Builds and sends one batch; `false` if there was nothing to write.
    async fn send_batch(&mut self) -> bool {
        self.out.clear();
        let mut examined = 0usize;
        let order = if self.v6_first {
            [Family::V6, Family::V4]
        } else {
            [Family::V4, Family::V6]
        };
        self.v6_first = !self.v6_first;
        self.batch_last = None;
        'fill: for f in order {
            while self.inflight.len() < self.batch_limit
                && self.out.len() < MAX_DATAGRAM
                && examined < MAX_EXAMINED
            {
                let Some(p) = self.fam(f).pop() else {
                    continue 'fill;
                };
                examined += 1;
                self.plan_into_batch(f, p);
            }
            break;
        }
        let Some((offset, last_seq)) = self.batch_last.take() else {
            return false;
        };
        if let Some(msg) = self.out.get_mut(offset..) {
            netlink::set_ack(msg);
        }
        self.batch_end = Some(last_seq);
        let out = std::mem::take(&mut self.out);
        let sent = self.sock.send(&out).await;
        self.out = out;
        match sent {
            Ok(()) => {
                self.counters.batches += 1;
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, writes = self.inflight.len(), "sending a batch failed");
                let errno = e.raw_os_error().unwrap_or(libc::EIO);
                if errno == libc::EMSGSIZE || errno == libc::ENOBUFS {
                    self.batch_limit = (self.batch_limit / 2).max(1);
                }
                self.batch_end = None;
                let writes: Vec<InFlight> = self.inflight.drain().map(|(_, w)| w).collect();
                for w in writes {
                    self.write_done(
                        w,
                        Some(KernelError {
                            errno,
                            message: Some(format!("sending the batch: {e}")),
                        }),
                    );
                }
                false
            }
        }
    }

    /// Reads until every write of the batch is acknowledged.
    async fn await_acks(&mut self) {
        while self.batch_end.is_some() {
            match timeout(REPLY_TIMEOUT, self.sock.recv()).await {
                Ok(r) => self.received(r),
                Err(_) => {
                    tracing::warn!(
                        outstanding = self.inflight.len(),
                        "no acknowledgement from the kernel; dumping again"
                    );
                    self.overrun();
                }
            }
        }
    }

    fn fire_retries(&mut self, now: Instant) {
        while let Some(Reverse((at, f, p))) = self.retries.peek().copied() {
            if at > now {
                break;
            }
            self.retries.pop();
            let fam = self.fam(f);
            if fam.failures.get(&p).is_some_and(|x| x.retry_at == Some(at)) {
                if let Some(x) = fam.failures.get_mut(&p) {
                    x.retry_at = None;
                }
                fam.mark(p);
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        [
            self.retries.peek().map(|Reverse((at, _, _))| *at),
            self.v4.resync_at,
            self.v6.resync_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Handles a command; `Some(done)` to stop after removing routes,
    /// `Err(())` to stop now.
    fn command(&mut self, cmd: Command) -> Result<Option<oneshot::Sender<FibStatus>>, ()> {
        match cmd {
            Command::Update(us) => {
                for u in us {
                    self.apply_update(u);
                }
            }
            Command::MarkSynced(f) => self.mark_synced(f),
            Command::Resync => {
                let now = Instant::now();
                self.v4.want_resync(now);
                self.v6.want_resync(now);
            }
            Command::Status(tx) => {
                let _ = tx.send(self.status());
            }
            Command::Settled(tx) => self.settle_waiters.push(tx),
            Command::Shutdown {
                remove_routes,
                done,
            } => {
                if !remove_routes {
                    let _ = done.send(self.status());
                    return Err(());
                }
                for f in Family::ALL {
                    let fam = self.fam(f);
                    fam.synced = true;
                    fam.desired.clear();
                    fam.device_refs.clear();
                    let ours: Vec<IpNet> = fam.table.our_prefixes().copied().collect();
                    for p in ours {
                        fam.mark(p);
                    }
                }
                return Ok(Some(done));
            }
        }
        Ok(None)
    }

    /// The task: runs until every handle is gone or a shutdown.
    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut stopping: Option<oneshot::Sender<FibStatus>> = None;
        let mut open = true;
        loop {
            // Everything the handles sent so far, so that bursts coalesce.
            while open && stopping.is_none() {
                match rx.try_recv() {
                    Ok(cmd) => match self.command(cmd) {
                        Ok(Some(done)) => stopping = Some(done),
                        Ok(None) => {}
                        Err(()) => return,
                    },
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => open = false,
                }
            }
            let now = Instant::now();
            self.fire_retries(now);
            for f in Family::ALL {
                if self.fam(f).resync_at.is_some_and(|t| t <= now) {
                    if let Err(e) = self.dump(Some(f)).await {
                        tracing::warn!(family = %f, error = %e, "re-dump failed; trying again later");
                        let again = Instant::now() + Duration::from_secs(1);
                        self.fam(f).resync_at = Some(again);
                    }
                }
            }
            if self.send_batch().await {
                self.await_acks().await;
                continue;
            }
            if !(self.v4.dirty.is_empty() && self.v6.dirty.is_empty()) {
                // Plans that needed no write used up this round; more to
                // look at. Let other tasks run in between.
                tokio::task::yield_now().await;
                continue;
            }
            if self.settled() {
                self.v4.shrink();
                self.v6.shrink();
                if let Some(done) = stopping.take() {
                    let _ = done.send(self.status());
                    return;
                }
                if !self.settle_waiters.is_empty() {
                    let st = self.status();
                    for w in self.settle_waiters.drain(..) {
                        let _ = w.send(st.clone());
                    }
                }
                if !open {
                    // Every handle is gone: routes stay in the kernel.
                    return;
                }
            }
            let deadline = self.next_deadline();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending::<()>().await,
                }
            };
            enum Ev {
                Cmd(Option<Command>),
                Net(io::Result<Vec<Incoming>>),
                Timer,
            }
            let ev = tokio::select! {
                c = rx.recv(), if open && stopping.is_none() => Ev::Cmd(c),
                r = self.sock.recv() => Ev::Net(r),
                () = sleep => Ev::Timer,
            };
            match ev {
                Ev::Cmd(Some(cmd)) => match self.command(cmd) {
                    Ok(Some(done)) => stopping = Some(done),
                    Ok(None) => {}
                    Err(()) => return,
                },
                Ev::Cmd(None) => open = false,
                Ev::Net(r) => self.received(r),
                Ev::Timer => {}
            }
        }
    }
}
