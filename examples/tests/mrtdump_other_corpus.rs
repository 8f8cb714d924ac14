//! `mrtdump -m` on the corpus MRT files that come without expected output:
//! the same lines as Debian's `bgpdump -m` (when it is installed) where
//! bgpdump reads the file right, and checks of our own where it does not.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::process::Command;

use common::{dump, first_difference};

mod common;

/// Files on which bgpdump 1.6 is right, so the output must be the same.
const SAME_AS_BGPDUMP: &[&str] = &[
    "bgp-rs/updates.20190101.0000.gz",
    "bgpkit-parser/updates.bz2",
    "caida-libbgpstream/ris.rrc06.updates.1427846400.gz",
    "caida-libbgpstream/routeviews.route-views.jinx.updates.1427846400.bz2",
    "fgbgp/rib.20030503.1429.bz2",
    "mrtparse-samples/bird-mrtdump_bgp.mrt",
    "mrtparse-samples/bird-mrtdump_rib.mrt",
    "mrtparse-samples/bird6-mrtdump_bgp.mrt",
    "mrtparse-samples/bird6-mrtdump_rib.mrt",
    "mrtparse-samples/openbgpd_bgp.mrt",
    "mrtparse-samples/openbgpd_rib_table-mp.mrt",
    "mrtparse-samples/openbgpd_rib_table-v2.mrt",
    "mrtparse-samples/quagga_bgp.mrt",
    "mrtparse-samples/quagga_rib.mrt",
];

#[test]
fn same_lines_as_installed_bgpdump() {
    let mut failures = Vec::new();
    for rel in SAME_AS_BGPDUMP {
        let path = testkit::corpus_dir().join("mrt").join(rel);
        let theirs = match Command::new("bgpdump").arg("-m").arg(&path).output() {
            Ok(o) if o.status.success() => o.stdout,
            Ok(o) => panic!("bgpdump -m {rel} failed: {}", o.status),
            Err(e) => {
                println!(
                    "bgpdump not runnable ({e}): comparison with bgpdump skipped (apt-get install bgpdump)"
                );
                return;
            }
        };
        match first_difference(&theirs, &dump(rel)) {
            None => println!("{rel}: same as bgpdump"),
            Some(d) => failures.push(format!("{rel}: {d}")),
        }
    }
    assert!(
        failures.is_empty(),
        "output differs from bgpdump -m:\n{}",
        failures.join("\n")
    );
}

fn lines(rel: &str) -> Vec<String> {
    String::from_utf8(dump(rel))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The `prefix|path id` of every announcement line.
fn announced(lines: &[String]) -> Vec<String> {
    let mut v: Vec<String> = lines
        .iter()
        .filter(|l| l.split('|').nth(2) == Some("A"))
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            assert_eq!(f[0], "BGP4MP_AP", "{l}");
            format!("{}|{}", f[5], f[6])
        })
        .collect();
    v.sort();
    v
}

/// BIRD writes ADD-PATH NLRI in plain BGP4MP_MESSAGE_AS4 records (bgpdump
/// prints 0.0.0.0/0 and other garbage): the session's OPEN tells, and
/// each of the two sessions announces 7 prefixes with path identifiers.
#[test]
fn bird_add_path_without_the_addpath_subtype() {
    let l = lines("mrtparse-samples/bird_bgp.mrt");
    let mut want: Vec<String> = ["172.17.0.0/24", "172.17.1.0/24", "172.17.2.0/24"]
        .iter()
        .flat_map(|p| [format!("{p}|1"), format!("{p}|2")])
        .chain(["192.168.16.0/24|1".to_string()])
        .flat_map(|p| [p.clone(), p])
        .collect();
    want.sort();
    assert_eq!(announced(&l), want);
    assert!(l.iter().any(|x| x
        == "BGP4MP_AP|1486805565|A|192.168.0.10|65000|172.17.0.0/24|2|4200000000 4200000000 4200000000 64512 64512 64512|IGP|192.168.0.10|100|10|65000:100 65000:200 65000:300|NAG||"));
    assert_eq!(l.iter().filter(|x| x.contains("|STATE|")).count(), 12);

    let l6 = lines("mrtparse-samples/bird6_bgp.mrt");
    let mut want6: Vec<String> = ["fd01:1::/64", "fd01:1:1::/64", "fd01:1:2::/64"]
        .iter()
        .flat_map(|p| [format!("{p}|1"), format!("{p}|2")])
        .chain(["fd02:17::/64|1".to_string()])
        .flat_map(|p| [p.clone(), p])
        .collect();
    want6.sort();
    assert_eq!(announced(&l6), want6);
}

/// Quagga records the peer's OPEN, which offers ADD-PATH, but never
/// accepts it: its UPDATEs have no path identifiers.
#[test]
fn quagga_offer_of_add_path_is_not_taken() {
    let l = lines("mrtparse-samples/quagga_bgp.mrt");
    assert!(l.iter().all(|x| !x.starts_with("BGP4MP_AP")));
    assert!(
        l.iter()
            .any(|x| x.contains("|A|192.168.0.10|65000|172.17.0.0/24|"))
    );
    assert!(
        l.iter()
            .any(|x| x.contains("|A|fd02::10|65000|fd01:1:2::/64|"))
    );
}

/// OpenBGPD writes 8-octet AGGREGATORs in TABLE_DUMP (2-octet AS)
/// records; bgpdump reads them as 6 octets (`0 253.232.192.168`).
#[test]
fn openbgpd_four_octet_aggregator_in_table_dump() {
    let l = lines("mrtparse-samples/openbgpd_rib_table.mrt");
    assert_eq!(l.len(), 31);
    assert_eq!(
        l[0],
        "TABLE_DUMP|1444843994|B|192.168.1.10|65000|192.168.0.0/16|65015|IGP|192.168.0.15|100|0||NAG|65000 192.168.0.15|"
    );
}
