//! Shared helpers of the bgp-fsm tests: configurations, OPENs, sessions
//! brought to a given state, and a pair of sessions wired to each other in
//! virtual time.

#![allow(dead_code, unreachable_pub)]

use std::net::Ipv4Addr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use bgp_fsm::{Action, Event, Instant, Session, SessionConfig, State};
use bgp_wire::capability::Multiprotocol;
use bgp_wire::message::update::builder;
use bgp_wire::{AfiSafi, Capability, Message, Open, SessionContext, Update};

pub const LOCAL_AS: u32 = 65001;
pub const PEER_AS: u32 = 65002;
pub const LOCAL_ID: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const PEER_ID: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// The instant `secs` seconds after the origin.
pub fn t(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Our configuration: AS 65001, 10.0.0.1, peer AS 65002; damping allowed
/// (events 6 and 7 accepted).
pub fn config() -> SessionConfig {
    let mut c = SessionConfig::new(LOCAL_AS, LOCAL_ID, PEER_AS);
    c.damp_peer_oscillations = true;
    c
}

/// The peer's configuration, mirror of [`config`].
pub fn peer_config() -> SessionConfig {
    let mut c = SessionConfig::new(PEER_AS, PEER_ID, LOCAL_AS);
    c.damp_peer_oscillations = true;
    c
}

/// A valid OPEN from the peer: AS 65002, hold 90, 10.0.0.2, IPv4 unicast,
/// Route Refresh, 4-octet AS.
pub fn peer_open() -> Open {
    peer_open_with(vec![])
}

/// The peer's OPEN with more capabilities after the default ones.
pub fn peer_open_with(extra: Vec<Capability>) -> Open {
    let mut caps = vec![
        Capability::Multiprotocol(Multiprotocol::new(AfiSafi::IPV4_UNICAST)),
        Capability::RouteRefresh,
        Capability::FourOctetAs(PEER_AS),
    ];
    caps.extend(extra);
    Open::new(PEER_AS, 90, PEER_ID, caps)
}

/// An UPDATE announcing 10.0.0.0/8 (not an End-of-RIB).
pub fn some_update() -> Update {
    // Withdraw 10.0.0.0/8: the smallest UPDATE that is not an End-of-RIB.
    Update::decode(
        Bytes::from_static(&[0, 2, 8, 10, 0, 0]),
        &SessionContext::default(),
    )
    .unwrap()
}

/// The End-of-RIB UPDATE of `family`, as received.
pub fn eor(family: AfiSafi) -> Update {
    let b = builder::end_of_rib(family);
    Update::decode(b.slice(19..), &SessionContext::default()).unwrap()
}

/// Feeds events at `now`, panicking on refusal.
pub fn feed(s: &mut Session, now: Instant, events: impl IntoIterator<Item = Event>) {
    for e in events {
        s.handle_event(now, e).unwrap();
    }
}

pub fn drain(s: &mut Session) -> Vec<Action> {
    s.drain_actions().collect()
}

/// A session brought to `state` at time 0 through ordinary events
/// (active side: ManualStart, Tcp_CR_Acked, the peer's OPEN, KEEPALIVE),
/// its actions drained.
pub fn session_in(config: SessionConfig, state: State, open: Open) -> Session {
    let mut s = Session::new(config).unwrap();
    let now = Instant::ORIGIN;
    let steps: Vec<Event> = match state {
        State::Idle => vec![],
        State::Connect => vec![Event::ManualStart],
        State::Active => vec![Event::ManualStartWithPassiveTcpEstablishment],
        State::OpenSent => vec![Event::ManualStart, Event::TcpCrAcked],
        State::OpenConfirm => vec![Event::ManualStart, Event::TcpCrAcked, Event::BgpOpen(open)],
        State::Established => vec![
            Event::ManualStart,
            Event::TcpCrAcked,
            Event::BgpOpen(open),
            Event::KeepAliveMsg,
        ],
    };
    feed(&mut s, now, steps);
    assert_eq!(s.state(), state, "setup");
    drain(&mut s);
    s
}

/// The messages sent among `actions`.
pub fn sent(actions: &[Action]) -> Vec<Message> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// The code and subcode of the NOTIFICATIONs sent among `actions`.
pub fn notifications_sent(actions: &[Action]) -> Vec<(u8, u8)> {
    sent(actions)
        .iter()
        .filter_map(|m| match m {
            Message::Notification(n) => Some(n.code.to_pair()),
            _ => None,
        })
        .collect()
}

/// Two sessions joined by an in-memory network, in virtual time. Messages
/// are encoded with the sender's codec context and decoded with the
/// receiver's, as a driver would.
pub struct Pair {
    pub a: Session,
    pub b: Session,
    pub now: Instant,
    /// Every action of A and of B, in order.
    pub log_a: Vec<Action>,
    pub log_b: Vec<Action>,
    /// When set, B reads nothing and sends nothing (the peer is frozen).
    pub b_frozen: bool,
    /// Whether the TCP connection between them is up.
    pub connected: bool,
}

impl Pair {
    pub fn new(a: SessionConfig, b: SessionConfig) -> Self {
        Pair {
            a: Session::new(a).unwrap(),
            b: Session::new(b).unwrap(),
            now: Instant::ORIGIN,
            log_a: Vec::new(),
            log_b: Vec::new(),
            b_frozen: false,
            connected: false,
        }
    }

    /// Runs both sessions' actions against each other until quiet.
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            let a = self.pump_a();
            let b = self.pump_b();
            if !a && !b {
                return;
            }
        }
        panic!("the pair does not settle");
    }

    fn deliver(now: Instant, from: &Session, to: &mut Session, msg: Message) {
        let mut wire = BytesMut::new();
        msg.encode(&from.codec_context(), &mut wire).unwrap();
        match Message::from_bytes(wire.freeze(), &to.codec_context()) {
            Ok(m) => to.handle_message(now, m),
            Err(e) => to.handle_decode_error(now, e),
        }
    }

    fn pump_a(&mut self) -> bool {
        let mut any = false;
        while let Some(action) = self.a.poll_action() {
            any = true;
            self.log_a.push(action.clone());
            match action {
                Action::Connect
                    if !self.connected
                        && !self.b_frozen
                        && self.b.state().accepts_connections() =>
                {
                    self.connected = true;
                    self.a.handle_event(self.now, Event::TcpCrAcked).unwrap();
                    self.b
                        .handle_event(self.now, Event::TcpConnectionConfirmed)
                        .unwrap();
                }
                Action::Connect if !self.connected => {
                    self.a
                        .handle_event(self.now, Event::TcpConnectionFails)
                        .unwrap();
                }
                Action::Send(m) if self.connected && !self.b_frozen => {
                    Self::deliver(self.now, &self.a, &mut self.b, m);
                }
                Action::DropConnection if self.connected => {
                    self.connected = false;
                    if !self.b_frozen {
                        self.b
                            .handle_event(self.now, Event::TcpConnectionFails)
                            .unwrap();
                    }
                }
                _ => {}
            }
        }
        any
    }

    fn pump_b(&mut self) -> bool {
        if self.b_frozen {
            return false;
        }
        let mut any = false;
        while let Some(action) = self.b.poll_action() {
            any = true;
            self.log_b.push(action.clone());
            match action {
                Action::Connect if !self.connected && self.a.state().accepts_connections() => {
                    self.connected = true;
                    self.b.handle_event(self.now, Event::TcpCrAcked).unwrap();
                    self.a
                        .handle_event(self.now, Event::TcpConnectionConfirmed)
                        .unwrap();
                }
                Action::Connect if !self.connected => {
                    self.b
                        .handle_event(self.now, Event::TcpConnectionFails)
                        .unwrap();
                }
                Action::Send(m) if self.connected => {
                    Self::deliver(self.now, &self.b, &mut self.a, m);
                }
                Action::DropConnection if self.connected => {
                    self.connected = false;
                    self.a
                        .handle_event(self.now, Event::TcpConnectionFails)
                        .unwrap();
                }
                _ => {}
            }
        }
        any
    }

    /// Advances virtual time to `until`, firing every timer on the way.
    pub fn run_until(&mut self, until: Instant) {
        self.settle();
        loop {
            let next = [
                self.a.poll_timeout(),
                if self.b_frozen {
                    None
                } else {
                    self.b.poll_timeout()
                },
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    self.a.handle_timeout(self.now);
                    if !self.b_frozen {
                        self.b.handle_timeout(self.now);
                    }
                    self.settle();
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
    }

    /// Advances virtual time by `d`.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    pub fn states(&self) -> (State, State) {
        (self.a.state(), self.b.state())
    }
}

impl Pair {
    /// Unfreezes B; if A dropped the connection meanwhile, B learns it now
    /// (as SIGCONT followed by a write hitting a reset connection).
    pub fn unfreeze(&mut self) {
        self.b_frozen = false;
        if !self.connected && self.b.state().is_connected() {
            self.b
                .handle_event(self.now, Event::TcpConnectionFails)
                .unwrap();
        }
        self.settle();
    }
}
