//! BIRD 1.x reply framing and the text of each reply.
//!
//! Every line starts with a four-digit code. A line that more lines follow
//! has a `-` after its code (`1002-kernel1 ...`); the next lines with the
//! same code drop it and start with a space instead (` device1 ...`); the
//! last line of a reply has a space after its code (`0000 `, `0013 Daemon is
//! up and running`), which is what `birdc` waits for. Codes: 0xxx done,
//! 1xxx table rows, 2xxx table headings, 8xxx run-time errors, 9xxx parse
//! errors.

use std::fmt::Write as _;
use std::time::SystemTime;

use bgp_wire::attribute::Origin;

use super::source::{
    BgpInfo, DaemonStatus, IgpMetric, Phase, ProtoState, Protocol, ProtocolKind, Route, RouteDest,
    StatRow,
};
use super::time;

/// Welcome (the greeting).
pub(crate) const WELCOME: u16 = 1;
/// End of a table.
pub(crate) const OK: u16 = 0;
/// The last line of `show status`.
pub(crate) const STATUS: u16 = 13;
/// The count line of `show route count`.
pub(crate) const ROUTE_COUNT: u16 = 14;
/// Graceful restart status (`show status`).
pub(crate) const GR_STATUS: u16 = 24;
/// `BIRD <version>` in `show status`.
pub(crate) const VERSION: u16 = 1000;
/// Protocol rows.
pub(crate) const PROTOCOL_LIST: u16 = 1002;
/// Protocol details.
pub(crate) const PROTOCOL_DETAILS: u16 = 1006;
/// Route rows.
pub(crate) const ROUTE_LIST: u16 = 1007;
/// Router ID and times in `show status`.
pub(crate) const UPTIME: u16 = 1011;
/// The heading of the protocol table.
pub(crate) const PROTOCOL_HEADING: u16 = 2002;
/// Network not in table.
pub(crate) const NOT_FOUND: u16 = 8001;
/// No protocols match.
pub(crate) const NO_MATCH: u16 = 8003;
/// Command too long.
pub(crate) const TOO_LONG: u16 = 9000;
/// Parse error.
pub(crate) const PARSE_ERROR: u16 = 9001;
/// A symbol of the wrong kind (not a protocol).
pub(crate) const WRONG_SYMBOL: u16 = 9002;

/// The heading of `show protocols` in BIRD 1.x; calico-node compares its
/// words with `name proto table state since info`.
pub(crate) const PROTOCOL_HEADER: &str = "name     proto    table    state  since       info";

/// A reply being written.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    out: String,
    last: Option<u16>,
}

fn push_clean(out: &mut String, text: &str) {
    // A line must stay one line: peer-supplied text (a Shutdown
    // Communication, a name) loses its control characters.
    out.extend(text.chars().map(|c| if c.is_control() { ' ' } else { c }));
}

impl Reply {
    pub(crate) fn new() -> Self {
        Reply::default()
    }

    /// A line that more lines follow.
    pub(crate) fn line(&mut self, code: u16, text: &str) {
        if self.last == Some(code) {
            self.out.push(' ');
        } else {
            let _ = write!(self.out, "{code:04}-");
        }
        push_clean(&mut self.out, text);
        self.out.push('\n');
        self.last = Some(code);
    }

    /// The last line.
    pub(crate) fn end(mut self, code: u16, text: &str) -> String {
        let _ = write!(self.out, "{code:04} ");
        push_clean(&mut self.out, text);
        self.out.push('\n');
        self.out
    }
}

/// A reply of one line.
pub(crate) fn single(code: u16, text: &str) -> String {
    Reply::new().end(code, text)
}

/// The greeting: `0001 BIRD <version> ready.`
pub(crate) fn greeting(version: &str) -> String {
    single(WELCOME, &format!("BIRD {version} ready."))
}

/// `show status`.
pub(crate) fn status(version: &str, st: &DaemonStatus, now: SystemTime) -> String {
    let mut r = Reply::new();
    r.line(VERSION, &format!("BIRD {version}"));
    r.line(UPTIME, &format!("Router ID is {}", st.router_id));
    r.line(
        UPTIME,
        &format!("Current server time is {}", time::datetime(now)),
    );
    r.line(
        UPTIME,
        &format!("Last reboot on {}", time::datetime(st.boot_time)),
    );
    r.line(
        UPTIME,
        &format!(
            "Last reconfiguration on {}",
            time::datetime(st.reconfig_time)
        ),
    );
    if let Some(gr) = &st.gr_recovery {
        r.line(GR_STATUS, "Graceful restart recovery in progress");
        r.line(
            GR_STATUS,
            &format!("  Waiting for {} protocols to recover", gr.waiting),
        );
        r.line(
            GR_STATUS,
            &format!(
                "  Wait timer is {}/{}",
                gr.remaining.as_secs(),
                gr.wait.as_secs()
            ),
        );
    }
    let last = match st.phase {
        Phase::Running => "Daemon is up and running",
        Phase::Reconfiguring => "Reconfiguration in progress",
        Phase::ShuttingDown => "Shutdown in progress",
    };
    r.end(STATUS, last)
}

/// The info column: the BGP state and the last error.
fn info(p: &Protocol) -> String {
    let Some(b) = p.bgp() else {
        return String::new();
    };
    let err = b
        .last_error
        .as_ref()
        .map(|e| format!("{}{}", e.class.prefix(), e.message))
        .unwrap_or_default();
    if p.state == ProtoState::Down {
        err
    } else {
        format!("{:<14}{err}", b.state.name())
    }
}

/// One row of the protocol table.
fn protocol_row(p: &Protocol, now: SystemTime) -> String {
    format!(
        "{:<8} {:<8} {:<8} {:<5}  {:<10}  {}",
        p.name,
        p.kind.name(),
        p.table,
        p.state.name(),
        time::since(p.since, now),
        info(p)
    )
}

fn stat_line(label: &str, cols: [Option<u64>; 5]) -> String {
    let mut s = format!("    {label:<20}");
    for (i, c) in cols.iter().enumerate() {
        let v = c.map_or_else(|| "---".to_string(), |v| v.to_string());
        if i == 0 {
            let _ = write!(s, "{v:>10}");
        } else {
            let _ = write!(s, " {v:>10}");
        }
    }
    s
}

fn all5(r: &StatRow) -> [Option<u64>; 5] {
    [
        Some(r.received),
        Some(r.rejected),
        Some(r.filtered),
        Some(r.ignored),
        Some(r.accepted),
    ]
}

fn bgp_details(r: &mut Reply, b: &BgpInfo) {
    let c = PROTOCOL_DETAILS;
    r.line(c, &format!("  BGP state:          {}", b.state.name()));
    r.line(c, &format!("    Neighbor address: {}", b.neighbor));
    r.line(c, &format!("    Neighbor AS:      {}", b.neighbor_as));
    if b.gr_active {
        r.line(c, "    Neighbor graceful restart active");
    }
    if let Some(s) = &b.session {
        r.line(c, &format!("    Neighbor ID:      {}", s.neighbor_id));
        let caps = [
            (s.caps.refresh, " refresh"),
            (s.caps.enhanced_refresh, " enhanced-refresh"),
            (s.caps.restart_able, " restart-able"),
            (
                s.caps.restart_aware && !s.caps.restart_able,
                " restart-aware",
            ),
            (s.caps.as4, " AS4"),
            (s.caps.add_path_rx, " add-path-rx"),
            (s.caps.add_path_tx, " add-path-tx"),
            (s.caps.ext_messages, " ext-messages"),
        ];
        let caps: String = caps.iter().filter(|(on, _)| *on).map(|(_, t)| *t).collect();
        r.line(c, &format!("    Neighbor caps:   {caps}"));
        let flags = [
            (s.multihop, " multihop"),
            (s.rr_client, " route-reflector"),
            (s.as4, " AS4"),
            (s.add_path_rx, " add-path-rx"),
            (s.add_path_tx, " add-path-tx"),
            (s.ext_messages, " ext-messages"),
        ];
        let flags: String = flags
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, t)| *t)
            .collect();
        let kind = if s.internal { "internal" } else { "external" };
        r.line(c, &format!("    Session:          {kind}{flags}"));
        if let Some(a) = s.source_address {
            r.line(c, &format!("    Source address:   {a}"));
        }
        // The time left on each timer is not known here: `-`.
        r.line(c, &format!("    Hold timer:       -/{}", s.hold_time));
        r.line(c, &format!("    Keepalive timer:  -/{}", s.keepalive_time));
    }
    if let Some(e) = &b.last_error {
        r.line(
            c,
            &format!("    Last error:       {}{}", e.class.prefix(), e.message),
        );
    }
}

fn details(r: &mut Reply, p: &Protocol) {
    let c = PROTOCOL_DETAILS;
    if let Some(d) = &p.description {
        r.line(c, &format!("  Description:    {d}"));
    }
    r.line(c, &format!("  Preference:     {}", p.preference));
    r.line(c, &format!("  Input filter:   {}", p.input_filter));
    r.line(c, &format!("  Output filter:  {}", p.output_filter));
    if p.state != ProtoState::Down {
        let s = &p.stats;
        r.line(
            c,
            &format!(
                "  Routes:         {} imported, {} exported, {} preferred",
                s.imported, s.exported, s.preferred
            ),
        );
        r.line(
            c,
            &format!(
                "  {:<22}{:>10} {:>10} {:>10} {:>10} {:>10}",
                "Route change stats:", "received", "rejected", "filtered", "ignored", "accepted"
            ),
        );
        r.line(c, &stat_line("Import updates:", all5(&s.import_updates)));
        let w = &s.import_withdraws;
        r.line(
            c,
            &stat_line(
                "Import withdraws:",
                [
                    Some(w.received),
                    Some(w.rejected),
                    None,
                    Some(w.ignored),
                    Some(w.accepted),
                ],
            ),
        );
        let u = &s.export_updates;
        r.line(
            c,
            &stat_line(
                "Export updates:",
                [
                    Some(u.received),
                    Some(u.rejected),
                    Some(u.filtered),
                    None,
                    Some(u.accepted),
                ],
            ),
        );
        let w = &s.export_withdraws;
        r.line(
            c,
            &stat_line(
                "Export withdraws:",
                [Some(w.received), None, None, None, Some(w.accepted)],
            ),
        );
    }
    if let ProtocolKind::Bgp(b) = &p.kind {
        bgp_details(r, b);
    }
    r.line(c, "");
}

/// `show protocols [all]` over the protocols selected (empty: `8003`).
pub(crate) fn protocols(list: &[&Protocol], all: bool, now: SystemTime) -> String {
    if list.is_empty() {
        return single(NO_MATCH, "No protocols match");
    }
    let mut r = Reply::new();
    r.line(PROTOCOL_HEADING, PROTOCOL_HEADER);
    for p in list {
        r.line(PROTOCOL_LIST, &protocol_row(p, now));
        if all {
            details(&mut r, p);
        }
    }
    r.end(OK, "")
}

fn origin_char(o: Origin) -> char {
    match o {
        Origin::Igp => 'i',
        Origin::Egp => 'e',
        Origin::Incomplete => '?',
    }
}

/// One route row; `first` says whether it is the first of its prefix (the
/// others leave the prefix column blank).
fn route_row(rt: &Route, first: bool, now: SystemTime) -> String {
    let net = if first {
        rt.prefix.to_string()
    } else {
        String::new()
    };
    let (via, gateway) = match &rt.dest {
        RouteDest::Via { gateway, iface } => (format!("via {gateway} on {iface}"), Some(*gateway)),
        RouteDest::Dev(iface) => (format!("dev {iface}"), None),
        RouteDest::Blackhole => ("blackhole".to_string(), None),
        RouteDest::Unreachable => ("unreachable".to_string(), None),
        RouteDest::Prohibited => ("prohibited".to_string(), None),
    };
    let from = match rt.from {
        Some(f) if Some(f) != gateway => format!(" from {f}"),
        _ => String::new(),
    };
    let mut info = format!(" ({}", rt.preference);
    if let Some(b) = &rt.bgp {
        match b.igp_metric {
            Some(IgpMetric::Known(m)) => {
                let _ = write!(info, "/{m}");
            }
            Some(IgpMetric::Unknown) => info.push_str("/?"),
            Some(IgpMetric::Unresolvable) => info.push_str("/-"),
            None => {}
        }
        info.push_str(") [");
        if let Some(a) = b.origin_as {
            let _ = write!(info, "AS{a}");
        }
        if let Some(o) = b.origin {
            info.push(origin_char(o));
        }
        info.push(']');
    } else {
        info.push(')');
    }
    format!(
        "{net:<18} {via} [{} {}{from}]{}{info}",
        rt.protocol,
        time::since(rt.since, now),
        if rt.primary { " *" } else { "" },
    )
}

/// The count line: `<shown> of <examined> routes for <networks> networks`.
fn count_text(shown: &[&Route], examined: usize) -> String {
    let mut nets = 0usize;
    let mut prev = None;
    for r in shown {
        if prev != Some(r.prefix) {
            nets += 1;
            prev = Some(r.prefix);
        }
    }
    format!("{} of {examined} routes for {nets} networks", shown.len())
}

/// `show route` over the routes selected, grouped by prefix (the caller
/// sorts them); `examined` is how many routes the selection looked at.
pub(crate) fn routes(
    shown: &[&Route],
    examined: usize,
    count: bool,
    stats: bool,
    now: SystemTime,
) -> String {
    if count {
        return single(ROUTE_COUNT, &count_text(shown, examined));
    }
    let mut r = Reply::new();
    let mut prev = None;
    for rt in shown {
        let first = prev != Some(rt.prefix);
        prev = Some(rt.prefix);
        r.line(ROUTE_LIST, &route_row(rt, first, now));
    }
    if stats {
        r.end(ROUTE_COUNT, &count_text(shown, examined))
    } else {
        r.end(OK, "")
    }
}
