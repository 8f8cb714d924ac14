//! Each answer as text, and the commands: every form the module doc lists
//! is answered, anything else is `9001 syntax error`.

use std::time::Duration;

use super::fixture::{Fixture, config, lines};
use crate::birdctl::server::execute;
use crate::birdctl::{Families, GrRecovery, Phase};

async fn ask(f: &Fixture, families: Families, line: &str) -> String {
    execute(f, &config(families), line).await
}

async fn v4(f: &Fixture, line: &str) -> String {
    ask(f, Families::Ipv4, line).await
}

const HEADING: &str = "2002-name     proto    table    state  since       info";

const SYSTEM_ROWS: [&str; 4] = [
    "1002-static1  Static   master   up     20:10:56    ",
    " kernel1  Kernel   master   up     20:10:56    ",
    " device1  Device   master   up     20:10:56    ",
    " direct1  Direct   master   up     20:10:56    ",
];

const MESH: &str = "Mesh_10_0_0_2 BGP      master   up     20:10:57    Established   ";
const NODE: &str =
    "Node_10_0_0_3 BGP      master   start  20:10:56    Active        Socket: Connection refused";
const GLOBAL: &str = "Global_10_0_0_9 BGP      master   up     20:11:00    Established   ";
const LIMITED: &str =
    "Node_10_0_0_4 BGP      master   down   2021-09-17  Automatic shutdown: Route limit exceeded";

#[tokio::test]
async fn show_status() {
    let f = Fixture::default();
    let running = lines(&[
        "1000-BIRD v0.3.3+birdv1.6.8",
        "1011-Router ID is 10.0.0.1",
        " Current server time is 2021-09-19 20:48:43",
        " Last reboot on 2021-09-19 20:10:56",
        " Last reconfiguration on 2021-09-19 20:30:00",
        "0013 Daemon is up and running",
    ]);
    assert_eq!(v4(&f, "show status").await, running);
    // The IPv6 socket shows the same router ID (Calico configures the IPv4
    // one in bird6 too).
    assert_eq!(ask(&f, Families::Ipv6, "show status").await, running);

    *f.gr.lock().unwrap() = Some(GrRecovery {
        waiting: 1,
        remaining: Duration::from_secs(215),
        wait: Duration::from_secs(240),
    });
    assert_eq!(
        v4(&f, "show status").await,
        lines(&[
            "1000-BIRD v0.3.3+birdv1.6.8",
            "1011-Router ID is 10.0.0.1",
            " Current server time is 2021-09-19 20:48:43",
            " Last reboot on 2021-09-19 20:10:56",
            " Last reconfiguration on 2021-09-19 20:30:00",
            "0024-Graceful restart recovery in progress",
            "   Waiting for 1 protocols to recover",
            "   Wait timer is 215/240",
            "0013 Daemon is up and running",
        ])
    );

    *f.gr.lock().unwrap() = None;
    *f.phase.lock().unwrap() = Phase::Reconfiguring;
    assert!(
        v4(&f, "show status")
            .await
            .ends_with("\n0013 Reconfiguration in progress\n")
    );
    *f.phase.lock().unwrap() = Phase::ShuttingDown;
    assert!(
        v4(&f, "show status")
            .await
            .ends_with("\n0013 Shutdown in progress\n")
    );
}

#[tokio::test]
async fn show_protocols() {
    let f = Fixture::default();
    let mut want = vec![HEADING];
    want.extend(SYSTEM_ROWS);
    let (mesh, node, global, limited) = (
        format!(" {MESH}"),
        format!(" {NODE}"),
        format!(" {GLOBAL}"),
        format!(" {LIMITED}"),
    );
    want.extend([&*mesh, &*node, &*global, &*limited, "0000 "]);
    assert_eq!(v4(&f, "show protocols").await, lines(&want));

    // The IPv6 socket: the system protocols and the IPv6 session only.
    let mut want6 = vec![HEADING];
    want6.extend(SYSTEM_ROWS);
    want6.extend([
        " Mesh_2001_db8__2 BGP      master   up     20:10:58    Established   ",
        "0000 ",
    ]);
    assert_eq!(
        ask(&f, Families::Ipv6, "show protocols").await,
        lines(&want6)
    );

    // One by name, and by pattern.
    let one = format!("1002-{NODE}");
    assert_eq!(
        v4(&f, "show protocols Node_10_0_0_3").await,
        lines(&[HEADING, &one, "0000 "])
    );
    let node4 = format!(" {LIMITED}");
    assert_eq!(
        v4(&f, "show protocols \"Node_*\"").await,
        lines(&[HEADING, &one, &node4, "0000 "])
    );
    assert_eq!(
        v4(&f, "show protocols \"Nope*\"").await,
        "8003 No protocols match\n"
    );
    // A name the other socket has is not a protocol on this one.
    assert_eq!(
        v4(&f, "show protocols Mesh_2001_db8__2").await,
        "9002 Mesh_2001_db8__2 is not a protocol\n"
    );
    assert_eq!(
        v4(&f, "show protocols nosuch").await,
        "9002 nosuch is not a protocol\n"
    );
}

/// `show protocols all Mesh_10_0_0_2` as BIRD 1.6's `proto_show_basic_info`,
/// `proto_show_stats` and `bgp_show_proto_info` print it (the timers' time
/// left is `-`, see the module doc).
const MESH_ALL: [&str; 21] = [
    "1006-  Description:    Connection to BGP peer",
    "   Preference:     100",
    "   Input filter:   ACCEPT",
    "   Output filter:  calico_export_to_bgp_peers",
    "   Routes:         1 imported, 1 exported, 1 preferred",
    "   Route change stats:     received   rejected   filtered    ignored   accepted",
    "     Import updates:              2          0          1          0          1",
    "     Import withdraws:            0          0        ---          0          0",
    "     Export updates:              5          1          3        ---          1",
    "     Export withdraws:            2        ---        ---        ---          2",
    "   BGP state:          Established",
    "     Neighbor address: 10.0.0.2",
    "     Neighbor AS:      64512",
    "     Neighbor ID:      10.0.0.2",
    "     Neighbor caps:    refresh enhanced-refresh restart-able AS4 add-path-rx add-path-tx",
    "     Session:          internal multihop AS4 add-path-rx add-path-tx",
    "     Source address:   10.0.0.1",
    "     Hold timer:       -/240",
    "     Keepalive timer:  -/80",
    " ",
    "0000 ",
];

#[tokio::test]
async fn show_protocols_all_name() {
    let f = Fixture::default();
    let row = format!("1002-{MESH}");
    let mut want = vec![HEADING, &*row];
    want.extend(MESH_ALL);
    assert_eq!(
        v4(&f, "show protocols all Mesh_10_0_0_2").await,
        lines(&want)
    );

    // A session trying: the route lines (the protocol is not down), no
    // session details, the last error.
    let row = format!("1002-{NODE}");
    let got = v4(&f, "show protocols all Node_10_0_0_3").await;
    let tail = lines(&[
        "   BGP state:          Active",
        "     Neighbor address: 10.0.0.3",
        "     Neighbor AS:      64512",
        "     Last error:       Socket: Connection refused",
        " ",
        "0000 ",
    ]);
    assert!(got.starts_with(&lines(&[HEADING, &row])), "{got}");
    assert!(got.contains("\n   Routes:         0 imported, 0 exported, 0 preferred\n"));
    assert!(got.ends_with(&tail), "{got}");

    // Down: no route statistics at all.
    let row = format!("1002-{LIMITED}");
    assert_eq!(
        v4(&f, "show protocols all Node_10_0_0_4").await,
        lines(&[
            HEADING,
            &row,
            "1006-  Description:    Connection to BGP peer",
            "   Preference:     100",
            "   Input filter:   ACCEPT",
            "   Output filter:  calico_export_to_bgp_peers",
            "   BGP state:          Down",
            "     Neighbor address: 10.0.0.4",
            "     Neighbor AS:      64512",
            "     Last error:       Automatic shutdown: Route limit exceeded",
            " ",
            "0000 ",
        ])
    );

    // eBGP: `external`, no multihop.
    let got = v4(&f, "show protocols all Global_10_0_0_9").await;
    assert!(
        got.contains("\n     Session:          external AS4 add-path-rx add-path-tx\n"),
        "{got}"
    );
    assert!(got.contains("\n     Neighbor AS:      65001\n"), "{got}");

    // `all` over every protocol: a system protocol's details, then the
    // next row starts a new 1002 block.
    let got = v4(&f, "show protocols all").await;
    assert!(
        got.starts_with(&lines(&[
            HEADING,
            "1002-static1  Static   master   up     20:10:56    ",
            "1006-  Preference:     200",
            "   Input filter:   ACCEPT",
            "   Output filter:  REJECT",
            "   Routes:         0 imported, 0 exported, 0 preferred",
        ])),
        "{got}"
    );
    assert!(
        got.contains("\n \n1002-kernel1  Kernel   master   up     20:10:56    \n1006-"),
        "{got}"
    );
    assert_eq!(got.matches("\n1002-").count(), 8, "{got}");
    assert!(got.ends_with("\n \n0000 \n"));
    // By pattern, with details.
    let got = v4(&f, "show protocols all \"Mesh*\"").await;
    assert!(got.contains("    Neighbor address: 10.0.0.2\n"), "{got}");
    assert_eq!(got.matches("\n1002-").count(), 1, "{got}");
}

const R_UNREACH: &str =
    "10.96.0.0/12       unreachable [Global_10_0_0_9 20:11:00 from 10.0.0.9] * (100/-) [AS65001?]";
const R_DEV: &str = "172.17.8.0/24      dev eth0 [direct1 20:10:56] * (240)";
const R_BLACKHOLE: &str = "192.168.1.0/26     blackhole [static1 20:10:56] * (200)";
const R_MESH: &str =
    "192.168.2.0/26     via 10.0.0.2 on eth0 [Mesh_10_0_0_2 20:10:57] * (100/0) [i]";
/// The second path of 192.168.2.0/26: the prefix column blank.
const R_GLOBAL_2ND: &str = "                   via 10.0.0.2 on eth0 [Global_10_0_0_9 20:11:00 from 10.0.0.9] (100/0) [AS65001i]";
/// The same path when it is the first shown of its prefix.
const R_GLOBAL: &str = "192.168.2.0/26     via 10.0.0.2 on eth0 [Global_10_0_0_9 20:11:00 from 10.0.0.9] (100/0) [AS65001i]";

fn first(l: &str) -> String {
    format!("1007-{l}")
}

fn next(l: &str) -> String {
    format!(" {l}")
}

#[tokio::test]
async fn show_route_forms() {
    let f = Fixture::default();
    let all = lines(&[
        &first(R_UNREACH),
        &next(R_DEV),
        &next(R_BLACKHOLE),
        &next(R_MESH),
        &next(R_GLOBAL_2ND),
        "0000 ",
    ]);
    assert_eq!(v4(&f, "show route").await, all);
    assert_eq!(
        v4(&f, "show route count").await,
        "0014 5 of 5 routes for 4 networks\n"
    );
    assert_eq!(
        v4(&f, "show route stats").await,
        all.replace("0000 \n", "0014 5 of 5 routes for 4 networks\n")
    );
    assert_eq!(
        v4(&f, "show route primary").await,
        lines(&[
            &first(R_UNREACH),
            &next(R_DEV),
            &next(R_BLACKHOLE),
            &next(R_MESH),
            "0000 ",
        ])
    );
    assert_eq!(
        v4(&f, "show route primary count").await,
        "0014 4 of 5 routes for 4 networks\n"
    );

    // One network, by prefix or by an address in it (the most specific
    // covering it).
    let net = lines(&[&first(R_MESH), &next(R_GLOBAL_2ND), "0000 "]);
    assert_eq!(v4(&f, "show route 192.168.2.0/26").await, net);
    // A prefix with host bits is its network.
    assert_eq!(v4(&f, "show route 192.168.2.5/26").await, net);
    assert_eq!(v4(&f, "show route for 192.168.2.7").await, net);
    assert_eq!(v4(&f, "show route for 192.168.2.0/28").await, net);
    assert_eq!(
        v4(&f, "show route for 10.100.0.1").await,
        lines(&[&first(R_UNREACH), "0000 "])
    );
    assert_eq!(
        v4(&f, "show route 10.0.0.0/8").await,
        "8001 Network not in table\n"
    );
    assert_eq!(
        v4(&f, "show route for 8.8.8.8").await,
        "8001 Network not in table\n"
    );
    assert_eq!(
        v4(&f, "show route for 192.168.2.7 primary").await,
        lines(&[&first(R_MESH), "0000 "])
    );

    // By protocol: the prefix shows on the first route shown.
    assert_eq!(
        v4(&f, "show route protocol Global_10_0_0_9").await,
        lines(&[&first(R_UNREACH), &next(R_GLOBAL), "0000 "])
    );
    assert_eq!(
        v4(&f, "show route protocol Global_10_0_0_9 count").await,
        "0014 2 of 5 routes for 2 networks\n"
    );
    assert_eq!(
        v4(
            &f,
            "show route 192.168.2.0/26 protocol Global_10_0_0_9 stats"
        )
        .await,
        lines(&[&first(R_GLOBAL), "0014 1 of 2 routes for 1 networks"])
    );
    // A protocol with no routes: an empty table.
    assert_eq!(v4(&f, "show route protocol kernel1").await, "0000 \n");
    assert_eq!(
        v4(&f, "show route protocol nosuch").await,
        "9002 nosuch is not a protocol\n"
    );
    // The other family's protocol and routes are not on this socket.
    assert_eq!(
        v4(&f, "show route protocol Mesh_2001_db8__2").await,
        "9002 Mesh_2001_db8__2 is not a protocol\n"
    );
    assert_eq!(
        v4(&f, "show route 2001:db8:1::/64").await,
        "8001 Network not in table\n"
    );

    // The IPv6 socket.
    let v6 = lines(&[
        "1007-2001:db8:1::/64    via 2001:db8::2 on eth0 [Mesh_2001_db8__2 20:10:58] * (100/?) [i]",
        "0000 ",
    ]);
    assert_eq!(ask(&f, Families::Ipv6, "show route").await, v6);
    assert_eq!(
        ask(&f, Families::Ipv6, "show route for 2001:db8:1::77").await,
        v6
    );
    assert_eq!(
        ask(&f, Families::Ipv6, "show route count").await,
        "0014 1 of 1 routes for 1 networks\n"
    );
    // Both families (one BIRD 2-style socket): IPv4 first.
    let both = ask(&f, Families::Both, "show route count").await;
    assert_eq!(both, "0014 6 of 6 routes for 5 networks\n");
}

#[tokio::test]
async fn whitespace_is_free() {
    let f = Fixture::default();
    let want = v4(&f, "show protocols all Mesh_10_0_0_2").await;
    assert_eq!(
        v4(&f, "  show \t protocols   all  Mesh_10_0_0_2  ").await,
        want
    );
    assert_eq!(
        v4(&f, "show route   count").await,
        "0014 5 of 5 routes for 4 networks\n"
    );
}

#[tokio::test]
async fn everything_else_is_a_syntax_error() {
    let f = Fixture::default();
    for bad in [
        "",
        "   ",
        "show",
        "sh st",
        "show stat",
        "SHOW STATUS",
        "Show status",
        "show status all",
        "show protocols all all",
        "show protocols 10.0.0.2",
        "show protocols \"Mesh*",
        "show protocols Mesh_10_0_0_2 Node_10_0_0_3",
        "show protocols all Mesh_10_0_0_2 extra",
        "show route count stats",
        "show route primary primary",
        "show route for",
        "show route for nonsense",
        "show route 10.0.0.0/33",
        "show route 192.168.2.0/26 for 192.168.2.1",
        "show route protocol",
        "show route protocol \"Mesh*\"",
        "show route table master",
        "show route all",
        "show interfaces",
        "show symbols",
        "configure",
        "down",
        "restart all",
        "disable Mesh_10_0_0_2",
        "echo all",
        "quit",
    ] {
        assert_eq!(v4(&f, bad).await, "9001 syntax error\n", "{bad:?}");
    }
}
