//! The Loc-RIB best-path stream: what a FIB programmer consumes.
//!
//! The RIB task never waits for a subscriber. It writes each change into
//! the subscriber's pending map, keyed by prefix: a newer change of a
//! prefix replaces the older one in place (it keeps its position in the
//! order of first change). A slow subscriber therefore holds at most one
//! entry per prefix, however many changes it missed, and receives the
//! latest state of each: memory is bounded by the number of prefixes, not
//! by the rate of change. [`Subscription::coalesced`] counts the changes
//! that were overwritten before being read.
//!
//! A new subscription starts with the whole Loc-RIB as its first batch.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ipnet::IpNet;
use tokio::sync::Notify;

use crate::status::BestRoute;

#[derive(Debug, Default)]
struct Pending {
    order: VecDeque<IpNet>,
    latest: HashMap<IpNet, BestRoute>,
}

/// What the RIB task and the subscriber share.
#[derive(Debug, Default)]
pub(crate) struct SubShared {
    pending: Mutex<Pending>,
    notify: Notify,
    closed: AtomicBool,
    dropped: AtomicBool,
    coalesced: AtomicU64,
    delivered: AtomicU64,
}

impl SubShared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds changes (RIB task side), each replacing the pending change of
    /// its prefix.
    pub(crate) fn push(&self, changes: impl IntoIterator<Item = BestRoute>) {
        let mut any = false;
        {
            let mut p = self.lock();
            for c in changes {
                any = true;
                let prefix = c.prefix;
                if p.latest.insert(prefix, c).is_some() {
                    self.coalesced.fetch_add(1, Ordering::Relaxed);
                } else {
                    p.order.push_back(prefix);
                }
            }
        }
        if any {
            self.notify.notify_one();
        }
    }

    /// Whether the subscriber is gone.
    pub(crate) fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The speaker stopped: the subscriber gets what is pending, then
    /// `None`.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.notify.notify_one();
    }
}

/// A subscription to Loc-RIB best-path changes (see the [module
/// documentation](self)), from [`crate::Speaker::subscribe`].
///
/// ```no_run
/// # async fn f(speaker: bgp_speaker::Speaker) {
/// let mut sub = speaker.subscribe().await.unwrap();
/// while let Some(batch) = sub.recv_batch().await {
///     for change in batch {
///         match &change.best {
///             Some(_) => println!("{} via {:?}", change.prefix, change.next_hops),
///             None => println!("{} gone", change.prefix),
///         }
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Subscription {
    shared: Arc<SubShared>,
    buffer: VecDeque<BestRoute>,
}

impl Subscription {
    pub(crate) fn new() -> (Subscription, Arc<SubShared>) {
        let shared = Arc::new(SubShared::default());
        (
            Subscription {
                shared: Arc::clone(&shared),
                buffer: VecDeque::new(),
            },
            shared,
        )
    }

    /// Every pending change, oldest prefix first, waiting for one if none
    /// is pending; `None` once the speaker has stopped and everything was
    /// received.
    pub async fn recv_batch(&mut self) -> Option<Vec<BestRoute>> {
        if !self.buffer.is_empty() {
            return Some(self.buffer.drain(..).collect());
        }
        loop {
            if let Some(b) = self.try_recv_batch() {
                return Some(b);
            }
            if self.shared.closed.load(Ordering::Relaxed) {
                return self.try_recv_batch();
            }
            self.shared.notify.notified().await;
        }
    }

    /// The pending changes, if any, without waiting.
    pub fn try_recv_batch(&mut self) -> Option<Vec<BestRoute>> {
        if !self.buffer.is_empty() {
            return Some(self.buffer.drain(..).collect());
        }
        let mut p = self.shared.lock();
        if p.order.is_empty() {
            return None;
        }
        let order = std::mem::take(&mut p.order);
        let mut latest = std::mem::take(&mut p.latest);
        drop(p);
        let out: Vec<BestRoute> = order
            .into_iter()
            .filter_map(|k| latest.remove(&k))
            .collect();
        self.shared
            .delivered
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        Some(out)
    }

    /// The next change, waiting for one.
    pub async fn recv(&mut self) -> Option<BestRoute> {
        if self.buffer.is_empty() {
            let b = self.recv_batch().await?;
            self.buffer.extend(b);
        }
        self.buffer.pop_front()
    }

    /// How many prefixes have a change waiting (at most one each).
    pub fn pending(&self) -> usize {
        self.shared.lock().order.len() + self.buffer.len()
    }

    /// How many changes were replaced by a newer one before being read.
    pub fn coalesced(&self) -> u64 {
        self.shared.coalesced.load(Ordering::Relaxed)
    }

    /// How many changes were handed out.
    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::Relaxed)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.shared.dropped.store(true, Ordering::Relaxed);
    }
}
