//! Route reflection (RFC 4456): which internal routes go to which internal
//! peers, the attributes a reflector adds, and the loop checks on import.
//!
//! Without route reflection an internal route is never sent to another
//! internal peer (RFC 4271 9.2, the iBGP split horizon). A speaker with
//! clients is a reflector, and relaxes the rule (RFC 4456 6):
//!
//! | learned from | sent to clients | to non-clients | to eBGP / confed-eBGP |
//! |---|---|---|---|
//! | a client | yes (unless client-to-client is off) | yes | yes |
//! | a non-client internal peer | yes | no | yes |
//! | an external or confederation peer, or originated | yes | yes | yes |
//!
//! On reflection (an internal route to an internal peer) the reflector
//! sets ORIGINATOR_ID to the BGP identifier of the peer it learned the
//! route from, unless one is present, and prepends its cluster ID to
//! CLUSTER_LIST (RFC 4456 8). NEXT_HOP and the other attributes are left
//! alone. On import a route whose ORIGINATOR_ID is our router ID, or whose
//! CLUSTER_LIST holds our cluster ID, is a loop and is dropped.

use std::net::Ipv4Addr;

use bgp_wire::attribute::{ClusterList, PathAttributes};

use super::rules::{Filtered, SourceClass};

/// Whether a route of `source` may go to an internal peer (a client when
/// `to_client`), per the table in the [module documentation](self).
pub fn may_reflect(
    source: SourceClass,
    to_client: bool,
    client_to_client: bool,
) -> Result<(), Filtered> {
    match source {
        SourceClass::Client if to_client && !client_to_client => Err(Filtered::ClientToClientOff),
        SourceClass::NonClient if !to_client => Err(Filtered::IbgpSplitHorizon),
        _ => Ok(()),
    }
}

/// The attributes of a reflected route: ORIGINATOR_ID set to
/// `originator` (the BGP identifier of the peer the route came from) if
/// absent, `cluster_id` prepended to CLUSTER_LIST.
pub fn reflect(attrs: &mut PathAttributes, originator: Ipv4Addr, cluster_id: Ipv4Addr) {
    if attrs.originator_id.is_none() {
        attrs.originator_id = Some(originator);
    }
    let mut ids = Vec::with_capacity(attrs.cluster_list.as_ref().map_or(0, ClusterList::len) + 1);
    ids.push(cluster_id);
    if let Some(c) = &attrs.cluster_list {
        ids.extend(c.iter());
    }
    attrs.cluster_list = Some(ClusterList::from_items(&ids));
}

/// Why route reflection refuses a received route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReflectionLoop {
    /// ORIGINATOR_ID is our router ID: the route is our own, back.
    OriginatorIsSelf,
    /// CLUSTER_LIST holds our cluster ID: the route went round.
    ClusterLoop,
}

/// The import check: `Err` when the route looped (see
/// [`ReflectionLoop`]).
pub fn check_received(
    attrs: &PathAttributes,
    router_id: Ipv4Addr,
    cluster_id: Ipv4Addr,
) -> Result<(), ReflectionLoop> {
    if attrs.originator_id == Some(router_id) {
        return Err(ReflectionLoop::OriginatorIsSelf);
    }
    if attrs
        .cluster_list
        .as_ref()
        .is_some_and(|c| c.contains(&cluster_id))
    {
        return Err(ReflectionLoop::ClusterLoop);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn reflection_table() {
        use SourceClass as S;
        for c2c in [true, false] {
            assert_eq!(may_reflect(S::Client, true, c2c).is_ok(), c2c);
            assert!(may_reflect(S::Client, false, c2c).is_ok());
            assert!(may_reflect(S::NonClient, true, c2c).is_ok());
            assert_eq!(
                may_reflect(S::NonClient, false, c2c),
                Err(Filtered::IbgpSplitHorizon)
            );
            for s in [S::External, S::ConfedExternal, S::Originated] {
                assert!(may_reflect(s, true, c2c).is_ok());
                assert!(may_reflect(s, false, c2c).is_ok());
            }
        }
    }

    #[test]
    fn originator_kept_cluster_prepended() {
        let mut a = PathAttributes::default();
        reflect(&mut a, ip("10.0.0.1"), ip("10.9.9.9"));
        assert_eq!(a.originator_id, Some(ip("10.0.0.1")));
        reflect(&mut a, ip("10.0.0.2"), ip("10.8.8.8"));
        assert_eq!(a.originator_id, Some(ip("10.0.0.1")));
        let ids: Vec<_> = a.cluster_list.as_ref().unwrap().iter().collect();
        assert_eq!(ids, [ip("10.8.8.8"), ip("10.9.9.9")]);
        assert_eq!(
            check_received(&a, ip("10.0.0.1"), ip("1.1.1.1")),
            Err(ReflectionLoop::OriginatorIsSelf)
        );
        assert_eq!(
            check_received(&a, ip("10.0.0.3"), ip("10.9.9.9")),
            Err(ReflectionLoop::ClusterLoop)
        );
        assert_eq!(check_received(&a, ip("10.0.0.3"), ip("10.7.7.7")), Ok(()));
    }
}
