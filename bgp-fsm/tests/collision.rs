//! Connection collision resolution (RFC 4271 6.8, RFC 6286 2.3): the
//! decision table, and a simultaneous open between two speakers, each
//! running one session per connection, resolved to a single session.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::net::Ipv4Addr;

use bytes::BytesMut;

use bgp_fsm::collision::{ExistingConnection, Speaker, local_wins, resolve_collision};
use bgp_fsm::{
    Action, CollisionResolution, ConnectionOrigin, Event, Instant, Session, SessionConfig, State,
};
use bgp_wire::Message;
use support::*;

use CollisionResolution::{CloseExisting, CloseNew, NoCollision};
use ConnectionOrigin::{Incoming, Outgoing};

const LOW: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const HIGH: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

fn sp(id: Ipv4Addr, asn: u32) -> Speaker {
    Speaker { id, asn }
}

fn existing(state: State, origin: ConnectionOrigin, peer: Ipv4Addr) -> ExistingConnection {
    ExistingConnection {
        state,
        origin: Some(origin),
        peer_id: Some(peer),
        graceful_restart: false,
    }
}

#[test]
fn decision_table() {
    let low = sp(LOW, 65001);
    let high = sp(HIGH, 65002);
    // (local, remote, existing state, existing origin, new origin, CDES, expected)
    let rows = [
        // No collision can be detected in Idle, Connect, Active.
        (
            low,
            high,
            State::Idle,
            Outgoing,
            Incoming,
            false,
            NoCollision,
        ),
        (
            low,
            high,
            State::Connect,
            Outgoing,
            Incoming,
            false,
            NoCollision,
        ),
        (
            low,
            high,
            State::Active,
            Outgoing,
            Incoming,
            false,
            NoCollision,
        ),
        // OpenConfirm: the connection opened by the higher identifier stays.
        (
            low,
            high,
            State::OpenConfirm,
            Outgoing,
            Incoming,
            false,
            CloseExisting { graceful: false },
        ),
        (
            low,
            high,
            State::OpenConfirm,
            Incoming,
            Outgoing,
            false,
            CloseNew,
        ),
        (
            high,
            low,
            State::OpenConfirm,
            Outgoing,
            Incoming,
            false,
            CloseNew,
        ),
        (
            high,
            low,
            State::OpenConfirm,
            Incoming,
            Outgoing,
            false,
            CloseExisting { graceful: false },
        ),
        // Same in OpenSent when the peer's identifier is known.
        (
            low,
            high,
            State::OpenSent,
            Outgoing,
            Incoming,
            false,
            CloseExisting { graceful: false },
        ),
        (
            high,
            low,
            State::OpenSent,
            Outgoing,
            Incoming,
            false,
            CloseNew,
        ),
        // Established: the new connection is closed...
        (
            high,
            low,
            State::Established,
            Outgoing,
            Incoming,
            false,
            CloseNew,
        ),
        (
            low,
            high,
            State::Established,
            Outgoing,
            Incoming,
            false,
            CloseNew,
        ),
        // ...unless CollisionDetectEstablishedState.
        (
            low,
            high,
            State::Established,
            Outgoing,
            Incoming,
            true,
            CloseExisting { graceful: false },
        ),
        (
            high,
            low,
            State::Established,
            Outgoing,
            Incoming,
            true,
            CloseNew,
        ),
    ];
    for (i, (l, r, st, eo, no, cdes, want)) in rows.into_iter().enumerate() {
        let got = resolve_collision(l, r, existing(st, eo, r.id), no, cdes);
        assert_eq!(got, want, "row {i}: {st} {eo}->{no} local {}", l.id);
    }
    // Equal identifiers (RFC 6286): the larger AS number wins.
    let a = sp(LOW, 65001);
    let b = sp(LOW, 65002);
    assert!(local_wins(b, a) && !local_wins(a, b));
    assert_eq!(
        resolve_collision(
            a,
            b,
            existing(State::OpenConfirm, Outgoing, LOW),
            Incoming,
            false
        ),
        CloseExisting { graceful: false }
    );
    // Another speaker, or one not identified yet: no collision.
    assert_eq!(
        resolve_collision(
            low,
            high,
            existing(State::OpenConfirm, Outgoing, Ipv4Addr::new(192, 0, 2, 9)),
            Incoming,
            false
        ),
        NoCollision
    );
    let unknown = ExistingConnection {
        peer_id: None,
        ..existing(State::OpenSent, Outgoing, HIGH)
    };
    assert_eq!(
        resolve_collision(low, high, unknown, Incoming, false),
        NoCollision
    );
    // Origin unknown: the rule as RFC 4271 6.8 words it.
    let no_origin = ExistingConnection {
        origin: None,
        ..existing(State::OpenConfirm, Outgoing, HIGH)
    };
    assert_eq!(
        resolve_collision(low, high, no_origin, Incoming, false),
        CloseExisting { graceful: false }
    );
    assert_eq!(
        resolve_collision(
            high,
            low,
            ExistingConnection {
                peer_id: Some(LOW),
                ..no_origin
            },
            Incoming,
            false
        ),
        CloseNew
    );
    // Graceful restart: a new OPEN while Established means a restart.
    let gr = ExistingConnection {
        graceful_restart: true,
        ..existing(State::Established, Outgoing, HIGH)
    };
    assert_eq!(
        resolve_collision(
            high,
            low,
            ExistingConnection {
                peer_id: Some(LOW),
                ..gr
            },
            Incoming,
            false
        ),
        CloseExisting { graceful: true }
    );
}

#[test]
fn session_resolves_against_its_state() {
    // Our session (10.0.0.1) opened its connection and is in OpenConfirm.
    let s = session_in(config(), State::OpenConfirm, peer_open());
    assert_eq!(s.connection_origin(), Some(Outgoing));
    // The peer (10.0.0.2, higher) connects: its connection wins.
    assert_eq!(
        s.detect_collision(&peer_open(), Incoming),
        CloseExisting { graceful: false }
    );
    // In OpenSent the peer's identifier is not known yet.
    let s = session_in(config(), State::OpenSent, peer_open());
    assert_eq!(s.detect_collision(&peer_open(), Incoming), NoCollision);
}

/// One speaker in the simulation: a session per connection.
struct Node {
    config: SessionConfig,
    sessions: Vec<Option<Session>>,
}

/// A connection: (session index on L, session index on R).
#[derive(Clone, Copy)]
struct Conn {
    l: usize,
    r: usize,
    open: bool,
}

/// Feeds a message that arrived on `at`'s session `idx`, after collision
/// detection against the node's other sessions; returns the index of a
/// session closed by collision resolution, if any.
fn receive(node: &mut Node, idx: usize, msg: Message, now: Instant) -> Option<usize> {
    if let Message::Open(open) = &msg {
        let origin = node.sessions[idx]
            .as_ref()
            .unwrap()
            .connection_origin()
            .unwrap();
        for other in 0..node.sessions.len() {
            if other == idx {
                continue;
            }
            let Some(existing) = node.sessions[other].as_ref() else {
                continue;
            };
            match existing.detect_collision(open, origin) {
                NoCollision => {}
                CloseNew => {
                    let s = node.sessions[idx].as_mut().unwrap();
                    s.handle_event(now, Event::OpenCollisionDump).unwrap();
                    return Some(idx);
                }
                CloseExisting { graceful } => {
                    let mut old = node.sessions[other].take().unwrap();
                    node.sessions[idx]
                        .as_mut()
                        .unwrap()
                        .inherit_peer_state(&mut old);
                    let ev = if graceful {
                        Event::TcpConnectionFails
                    } else {
                        Event::OpenCollisionDump
                    };
                    old.handle_event(now, ev).unwrap();
                    node.sessions[other] = Some(old);
                    node.sessions[idx]
                        .as_mut()
                        .unwrap()
                        .handle_message(now, msg);
                    return Some(other);
                }
            }
        }
    }
    node.sessions[idx]
        .as_mut()
        .unwrap()
        .handle_message(now, msg);
    None
}

/// `a` connects to `b`: a session on each end; returns their indexes.
fn connect(a: &mut Node, b: &mut Node, now: Instant) -> (usize, usize) {
    let mut out = Session::new(a.config.clone()).unwrap();
    feed(&mut out, now, [Event::ManualStart]);
    assert!(drain(&mut out).contains(&Action::Connect));
    feed(&mut out, now, [Event::TcpCrAcked]);
    let mut inc = Session::new(b.config.clone()).unwrap();
    feed(
        &mut inc,
        now,
        [
            Event::ManualStartWithPassiveTcpEstablishment,
            Event::TcpConnectionConfirmed,
        ],
    );
    a.sessions.push(Some(out));
    b.sessions.push(Some(inc));
    (a.sessions.len() - 1, b.sessions.len() - 1)
}

fn simultaneous_open(l_id: Ipv4Addr, r_id: Ipv4Addr) -> (Node, Node, Vec<Conn>, Vec<Action>) {
    let mut lc = SessionConfig::new(65001, l_id, 65002);
    lc.hold_time = 90;
    let rc = SessionConfig::new(65002, r_id, 65001);
    let now = Instant::ORIGIN;
    let mut l = Node {
        config: lc,
        sessions: vec![],
    };
    let mut r = Node {
        config: rc,
        sessions: vec![],
    };
    // Each side starts its session and connects; both connections complete
    // before any OPEN is read.
    let (ll, rr) = connect(&mut l, &mut r, now);
    let (rr2, ll2) = connect(&mut r, &mut l, now);
    let mut conns = vec![
        Conn {
            l: ll,
            r: rr,
            open: true,
        },
        Conn {
            l: ll2,
            r: rr2,
            open: true,
        },
    ];
    // Exchange messages over both connections in rounds: everything sent in
    // one round arrives in the next, so that the OPENs cross as they do in
    // a real simultaneous open.
    let mut log = Vec::new();
    for _ in 0..100 {
        let mut outbox: Vec<(usize, bool, Action)> = Vec::new();
        for (c, conn) in conns.iter().enumerate() {
            for a in l.sessions[conn.l].as_mut().unwrap().drain_actions() {
                log.push(a.clone());
                outbox.push((c, true, a));
            }
            for a in r.sessions[conn.r].as_mut().unwrap().drain_actions() {
                log.push(a.clone());
                outbox.push((c, false, a));
            }
        }
        if outbox.is_empty() {
            break;
        }
        for (c, from_l, a) in outbox {
            let conn = conns[c];
            let (from, to, fi, ti) = if from_l {
                (&l, &mut r, conn.l, conn.r)
            } else {
                (&r, &mut l, conn.r, conn.l)
            };
            match a {
                Action::Send(m) if conn.open => {
                    let mut wire = BytesMut::new();
                    m.encode(
                        &from.sessions[fi].as_ref().unwrap().codec_context(),
                        &mut wire,
                    )
                    .unwrap();
                    let ctx = to.sessions[ti].as_ref().unwrap().codec_context();
                    let m = Message::from_bytes(wire.freeze(), &ctx).unwrap();
                    receive(to, ti, m, now);
                }
                Action::DropConnection if conn.open => {
                    conns[c].open = false;
                    to.sessions[ti]
                        .as_mut()
                        .unwrap()
                        .handle_event(now, Event::TcpConnectionFails)
                        .unwrap();
                }
                _ => {}
            }
        }
    }
    (l, r, conns, log)
}

fn established(n: &Node) -> Vec<usize> {
    (0..n.sessions.len())
        .filter(|i| n.sessions[*i].as_ref().unwrap().state() == State::Established)
        .collect()
}

#[test]
fn simultaneous_open_resolves_to_one_session() {
    for (l_id, r_id) in [(LOW, HIGH), (HIGH, LOW)] {
        let (l, r, conns, log) = simultaneous_open(l_id, r_id);
        let le = established(&l);
        let re = established(&r);
        assert_eq!(le.len(), 1, "L {l_id}: one Established session");
        assert_eq!(re.len(), 1, "R {r_id}: one Established session");
        // They are the two ends of the same connection, and it is the one
        // opened by the speaker with the higher identifier.
        let kept = conns
            .iter()
            .position(|c| c.l == le[0] && c.r == re[0])
            .expect("same connection");
        assert!(conns[kept].open);
        let opened_by_l = kept == 0;
        assert_eq!(opened_by_l, l_id > r_id, "L {l_id}");
        // The other connection was closed with Cease / Connection Collision
        // Resolution, by one side.
        let other = 1 - kept;
        assert!(!conns[other].open);
        let ceases = log
            .iter()
            .filter(|a| {
                matches!(a,
                Action::Notification(n) if n.direction == bgp_fsm::NotificationDirection::Sent
                    && (n.code(), n.subcode()) == (6, 7))
            })
            .count();
        assert!(ceases >= 1, "Cease / Connection Collision Resolution sent");
        // Whoever detected it, the losing sessions are all in Idle.
        assert_eq!(
            l.sessions[conns[other].l].as_ref().unwrap().state(),
            State::Idle
        );
        assert_eq!(
            r.sessions[conns[other].r].as_ref().unwrap().state(),
            State::Idle
        );
    }
}
