//! An UPDATE that RFC 7606 cannot repair is answered with the UPDATE
//! Message Error NOTIFICATION it calls for (code 3, with its subcode), not
//! with a Cease: a raw peer on loopback sends one to a speaker.
//!
//! `cargo test -p bgp-speaker --test malformed_update`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use bgp_speaker::{PeerConfig, Speaker};
use bgp_wire::{Message, Open, SessionContext};
use bytes::{Bytes, BytesMut};

/// Reads one whole BGP message.
fn read_message(s: &mut TcpStream) -> Vec<u8> {
    let mut header = [0u8; 19];
    s.read_exact(&mut header).unwrap();
    let len = usize::from(u16::from_be_bytes([header[16], header[17]]));
    let mut m = header.to_vec();
    m.resize(len, 0);
    s.read_exact(&mut m[19..]).unwrap();
    m
}

/// Reads messages until one of type `t`, for at most 20 s.
fn read_until(s: &mut TcpStream, t: u8) -> Vec<u8> {
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        let m = read_message(s);
        if m[18] == t {
            return m;
        }
    }
    panic!("no message of type {t} in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrepairable_update_gets_an_update_message_error() {
    let raw = TcpListener::bind("127.0.33.2:0").unwrap();
    let port = raw.local_addr().unwrap().port();
    let speaker = Speaker::builder(65001, "192.0.2.1".parse().unwrap())
        .peer(
            PeerConfig::new("127.0.33.2".parse().unwrap(), 65002)
                .port(port)
                .local_address("127.0.33.1".parse().unwrap())
                .hold_time(9)
                .connect_retry(1),
        )
        .start()
        .await
        .unwrap();

    let notification = tokio::task::spawn_blocking(move || {
        let (mut s, _) = raw.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        read_until(&mut s, 1);
        let ctx = SessionContext::default();
        let mut out = BytesMut::new();
        Open::new(65002, 9, Ipv4Addr::new(192, 0, 2, 2), Vec::new())
            .encode(&ctx, &mut out)
            .unwrap();
        s.write_all(&out).unwrap();
        let mut keepalive = vec![0xffu8; 16];
        keepalive.extend_from_slice(&[0, 19, 4]);
        s.write_all(&keepalive).unwrap();
        read_until(&mut s, 4);
        // MP_REACH_NLRI too short to name its family: RFC 7606 5.3 leaves
        // only a session reset, with an Optional Attribute Error (3/9).
        let attrs = [0x80, 0x0e, 0x02, 0x00, 0x02];
        let mut update = vec![0xffu8; 16];
        update.extend_from_slice(&(19u16 + 4 + 5).to_be_bytes());
        update.extend_from_slice(&[2, 0, 0, 0, 5]);
        update.extend_from_slice(&attrs);
        s.write_all(&update).unwrap();
        read_until(&mut s, 3)
    })
    .await
    .unwrap();

    let Message::Notification(n) =
        Message::from_bytes(Bytes::from(notification), &SessionContext::default()).unwrap()
    else {
        panic!("not a NOTIFICATION");
    };
    assert_eq!(n.code.to_pair(), (3, 9), "{n}");
    assert_eq!(&n.data[..], &[0x80, 0x0e, 0x02, 0x00, 0x02]);
    let peer = speaker.peers().into_iter().next().unwrap();
    assert!(peer.counters.errors >= 1);
    speaker.shutdown("test done").await;
}
