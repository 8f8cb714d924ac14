//! Which kernel routes are ours.
//!
//! The rule is BIRD's (its Linux kernel protocol, `sysdep/linux/netlink.c`
//! and `sysdep/unix/krt.c`, read for behaviour): a route is ours when it is
//! in the table we program (main, 254) and carries our protocol number (12,
//! `bird`, which Felix recognises as BIRD's). Everything else in that table
//! is *alien*: Felix's routes (`boot` = 3 for workload routes, 80 for VXLAN
//! and its blackholes), `kernel` (2, connected subnets), `static` (4),
//! `dhcp` (16), `ra` (9) and the rest. Aliens are learned, never modified
//! and never deleted.
//!
//! Routes in other tables, with a TOS selector, with an IPv6 source prefix,
//! or cache clones (`RTM_F_CLONED`) are outside what is managed and are not
//! even mirrored: neither BIRD nor Calico puts its routes there.
//!
//! A kernel route is identified by (table, prefix, TOS, metric). An alien
//! route with the *same* prefix and metric as ours occupies our slot: adding
//! ours would fail (`EEXIST`, since additions use `NLM_F_EXCL`), and a
//! replace (`NLM_F_REPLACE`) would overwrite the alien one, which is never
//! done. BIRD behaves the same way: it replaces only routes it owns, and an
//! occupied slot makes its exclusive add fail, which it logs. Here the slot
//! is left to the alien and a [`crate::fib::Conflict`] is reported; when the
//! alien route goes away (a netlink event), ours is installed. Alien routes
//! of the same prefix at another metric are no conflict: both stay in the
//! kernel and the kernel prefers the lower metric (Felix's metric-0 routes
//! win over BIRD's metric-1024 ones, by design of Calico v3.32+).
//!
//! How a route of ours is changed differs from BIRD 1.6, which deletes its
//! route and adds the new one (it avoids `NLM_F_REPLACE` because a replace
//! does not check the protocol, and because IPv6 ECMP replace was broken in
//! old kernels). Delete-then-add leaves the prefix without a route for a
//! moment; here a change is one atomic `NLM_F_REPLACE`, sent only for a slot
//! that the mirror shows held by ours and no alien route, so the protocol
//! check is done before (IPv6 ECMP replace works in current kernels; the
//! namespace tests exercise it, on Linux 6.18). What remains is a race of
//! microseconds: an alien route added to the very slot between the event
//! we last read and our replace would be overwritten.

use super::route::KernelRoute;

/// `RTPROT_BIRD`: the protocol of the routes we install.
pub const PROTO_BIRD: u8 = 12;

/// The main routing table (`RT_TABLE_MAIN`).
pub const TABLE_MAIN: u32 = 254;

/// How a kernel route relates to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Ours: our table and protocol.
    Ours,
    /// Someone else's route in our table, by protocol number.
    Alien(u8),
    /// Not in what we manage (another table, TOS, source prefix, clone).
    Ignored,
}

/// Classifies `route` for a programmer writing `protocol` into `table`.
pub fn classify(route: &KernelRoute, table: u32, protocol: u8) -> Owner {
    if route.table != table || route.tos != 0 || route.src_len != 0 || route.cloned {
        Owner::Ignored
    } else if route.protocol == protocol {
        Owner::Ours
    } else {
        Owner::Alien(route.protocol)
    }
}

/// The name `ip route` gives a protocol number (`/etc/iproute2/rt_protos`),
/// with Felix's 80 named; other numbers as digits.
pub fn protocol_name(protocol: u8) -> String {
    let name = match protocol {
        0 => "unspec",
        1 => "redirect",
        2 => "kernel",
        3 => "boot",
        4 => "static",
        8 => "gated",
        9 => "ra",
        10 => "mrt",
        11 => "zebra",
        12 => "bird",
        13 => "dnrouted",
        14 => "xorp",
        15 => "ntk",
        16 => "dhcp",
        42 => "babel",
        80 => "80 (felix)",
        186 => "bgp",
        187 => "isis",
        188 => "ospf",
        189 => "rip",
        192 => "eigrp",
        n => return n.to_string(),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::super::route::KernelKind;
    use super::*;

    fn route(table: u32, protocol: u8) -> KernelRoute {
        KernelRoute {
            prefix: "198.19.0.0/24".parse().unwrap(),
            table,
            protocol,
            metric: 1024,
            tos: 0,
            src_len: 0,
            cloned: false,
            kind: KernelKind::Blackhole,
        }
    }

    #[test]
    fn ours_aliens_and_ignored() {
        assert_eq!(classify(&route(254, 12), 254, 12), Owner::Ours);
        for p in [2, 3, 4, 16, 80, 186] {
            assert_eq!(classify(&route(254, p), 254, 12), Owner::Alien(p));
        }
        // Another table, even with our protocol: not ours to touch.
        assert_eq!(classify(&route(100, 12), 254, 12), Owner::Ignored);
        let mut r = route(254, 12);
        r.tos = 4;
        assert_eq!(classify(&r, 254, 12), Owner::Ignored);
        let mut r = route(254, 12);
        r.cloned = true;
        assert_eq!(classify(&r, 254, 12), Owner::Ignored);
        let mut r = route(254, 12);
        r.src_len = 64;
        assert_eq!(classify(&r, 254, 12), Owner::Ignored);
    }

    #[test]
    fn names() {
        assert_eq!(protocol_name(12), "bird");
        assert_eq!(protocol_name(3), "boot");
        assert_eq!(protocol_name(80), "80 (felix)");
        assert_eq!(protocol_name(99), "99");
    }
}
