//! What a term does to a route ([`Actions`]), copy on write: the
//! attributes are cloned only by the first action that really changes
//! them (setting LOCAL_PREF to the value it has, or removing a community
//! the route lacks, changes nothing and clones nothing).
//!
//! A term's actions run in this fixed order, whatever order they were
//! given in: LOCAL_PREF, MED, ORIGIN; then for standard, extended and
//! large communities in turn: clear, remove, add; then the AS_PATH
//! prepend; then the next hop.

use std::borrow::Cow;
use std::net::IpAddr;

use bgp_wire::attribute::{
    AsPath, Communities, Community, ExtendedCommunities, ExtendedCommunity, LargeCommunities,
    LargeCommunity, ListItem, Origin, PathAttributes,
};
use bytes::BytesMut;

use super::Peer;
use super::as_path_match;
use super::community_match::{CommunityMatcher, ExtCommunityMatcher, LargeCommunityMatcher};

/// A change to a numeric attribute (LOCAL_PREF, MED).
///
/// Text form: `100` (set), `+10` (add), `-10` (subtract), `remove`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modify {
    /// Set the value.
    Set(u32),
    /// Add to the value (an absent attribute counts as 0), saturating.
    Add(u32),
    /// Subtract from the value (an absent attribute counts as 0), stopping
    /// at 0.
    Subtract(u32),
    /// Remove the attribute.
    Remove,
}

impl Modify {
    /// The new value of an attribute that was `cur`.
    pub fn apply(self, cur: Option<u32>) -> Option<u32> {
        match self {
            Modify::Set(v) => Some(v),
            Modify::Add(v) => Some(cur.unwrap_or(0).saturating_add(v)),
            Modify::Subtract(v) => Some(cur.unwrap_or(0).saturating_sub(v)),
            Modify::Remove => None,
        }
    }
}

/// Edits of a list of communities of one kind: `clear` drops them all,
/// then the communities matching a `remove` pattern are dropped, then the
/// `add` values missing from the list are appended (no duplicates are
/// made). Replacing the list is `clear` with `add`. A list left empty
/// removes the attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEdit<V, M> {
    /// Drop every community first.
    pub clear: bool,
    /// Drop the communities matching any of these patterns.
    pub remove: Vec<M>,
    /// Append these values when missing.
    pub add: Vec<V>,
}

impl<V, M> Default for ListEdit<V, M> {
    fn default() -> Self {
        ListEdit {
            clear: false,
            remove: Vec::new(),
            add: Vec::new(),
        }
    }
}

impl<V, M> ListEdit<V, M> {
    /// Whether the edit does nothing.
    pub fn is_empty(&self) -> bool {
        !self.clear && self.remove.is_empty() && self.add.is_empty()
    }
}

/// The AS that an AS_PATH prepend repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrependAs {
    /// The local AS of the session ([`Peer::local_as`]).
    Own,
    /// This AS.
    Asn(u32),
    /// The path's current leftmost (most recently added) AS, the
    /// neighbouring AS of [`as_path_match::neighbor_as`]; nothing happens
    /// when the path has none.
    LastAs,
}

/// An AS_PATH prepend: `asn`, `count` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prepend {
    /// The AS to repeat.
    pub asn: PrependAs,
    /// How many times (0 does nothing).
    pub count: u8,
}

/// What to do with the next hop. The next hop is not an attribute of
/// [`PathAttributes`] for every family (IPv6's travels in MP_REACH_NLRI),
/// so the policy does not rewrite it: it reports the request in
/// [`super::Outcome::next_hop`] for the caller to carry out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NextHopAction {
    /// Leave the next hop as it is, even where the default would change
    /// it (eBGP export).
    Unchanged,
    /// This router's own address on the session (the caller resolves it).
    SelfAddress,
    /// This address.
    Address(IpAddr),
}

/// The actions of a term (see the [module docs](self) for their order).
///
/// ```
/// use bgp_rib::policy::{Actions, Modify, NextHopAction};
/// use bgp_wire::attribute::Community;
///
/// let a = Actions::new()
///     .local_pref(200)
///     .med(Modify::Add(10))
///     .add_community(Community::new(65000, 1))
///     .prepend_own(2)
///     .next_hop(NextHopAction::SelfAddress);
/// assert!(!a.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    /// LOCAL_PREF change.
    pub local_pref: Option<Modify>,
    /// MULTI_EXIT_DISC change.
    pub med: Option<Modify>,
    /// New ORIGIN.
    pub origin: Option<Origin>,
    /// Standard community edits.
    pub communities: ListEdit<Community, CommunityMatcher>,
    /// Extended community edits.
    pub extended_communities: ListEdit<ExtendedCommunity, ExtCommunityMatcher>,
    /// Large community edits.
    pub large_communities: ListEdit<LargeCommunity, LargeCommunityMatcher>,
    /// AS_PATH prepend.
    pub prepend: Option<Prepend>,
    /// Next-hop request.
    pub next_hop: Option<NextHopAction>,
}

impl Actions {
    /// No actions.
    pub fn new() -> Self {
        Actions::default()
    }

    /// Whether there are no actions.
    pub fn is_empty(&self) -> bool {
        self == &Actions::default()
    }

    /// Set LOCAL_PREF.
    pub fn local_pref(mut self, v: u32) -> Self {
        self.local_pref = Some(Modify::Set(v));
        self
    }

    /// Change LOCAL_PREF.
    pub fn modify_local_pref(mut self, m: Modify) -> Self {
        self.local_pref = Some(m);
        self
    }

    /// Change MULTI_EXIT_DISC.
    pub fn med(mut self, m: Modify) -> Self {
        self.med = Some(m);
        self
    }

    /// Set ORIGIN.
    pub fn origin(mut self, o: Origin) -> Self {
        self.origin = Some(o);
        self
    }

    /// Add a standard community.
    pub fn add_community(mut self, c: Community) -> Self {
        self.communities.add.push(c);
        self
    }

    /// Remove the standard communities matching `m`.
    pub fn remove_communities(mut self, m: CommunityMatcher) -> Self {
        self.communities.remove.push(m);
        self
    }

    /// Remove every standard community.
    pub fn clear_communities(mut self) -> Self {
        self.communities.clear = true;
        self
    }

    /// Replace the standard communities with `cs`.
    pub fn replace_communities(mut self, cs: impl IntoIterator<Item = Community>) -> Self {
        self.communities.clear = true;
        self.communities.add = cs.into_iter().collect();
        self
    }

    /// Add an extended community.
    pub fn add_extended_community(mut self, c: ExtendedCommunity) -> Self {
        self.extended_communities.add.push(c);
        self
    }

    /// Remove the extended communities matching `m`.
    pub fn remove_extended_communities(mut self, m: ExtCommunityMatcher) -> Self {
        self.extended_communities.remove.push(m);
        self
    }

    /// Remove every extended community.
    pub fn clear_extended_communities(mut self) -> Self {
        self.extended_communities.clear = true;
        self
    }

    /// Replace the extended communities with `cs`.
    pub fn replace_extended_communities(
        mut self,
        cs: impl IntoIterator<Item = ExtendedCommunity>,
    ) -> Self {
        self.extended_communities.clear = true;
        self.extended_communities.add = cs.into_iter().collect();
        self
    }

    /// Add a large community.
    pub fn add_large_community(mut self, c: LargeCommunity) -> Self {
        self.large_communities.add.push(c);
        self
    }

    /// Remove the large communities matching `m`.
    pub fn remove_large_communities(mut self, m: LargeCommunityMatcher) -> Self {
        self.large_communities.remove.push(m);
        self
    }

    /// Remove every large community.
    pub fn clear_large_communities(mut self) -> Self {
        self.large_communities.clear = true;
        self
    }

    /// Replace the large communities with `cs`.
    pub fn replace_large_communities(
        mut self,
        cs: impl IntoIterator<Item = LargeCommunity>,
    ) -> Self {
        self.large_communities.clear = true;
        self.large_communities.add = cs.into_iter().collect();
        self
    }

    /// Prepend the session's local AS `count` times.
    pub fn prepend_own(mut self, count: u8) -> Self {
        self.prepend = Some(Prepend {
            asn: PrependAs::Own,
            count,
        });
        self
    }

    /// Prepend `asn` `count` times.
    pub fn prepend_as(mut self, asn: u32, count: u8) -> Self {
        self.prepend = Some(Prepend {
            asn: PrependAs::Asn(asn),
            count,
        });
        self
    }

    /// Prepend the path's leftmost AS `count` times.
    pub fn prepend_last_as(mut self, count: u8) -> Self {
        self.prepend = Some(Prepend {
            asn: PrependAs::LastAs,
            count,
        });
        self
    }

    /// Ask for a next hop.
    pub fn next_hop(mut self, nh: NextHopAction) -> Self {
        self.next_hop = Some(nh);
        self
    }

    /// Carries out the actions on `attrs`, cloning the borrowed set only
    /// when something changes. `next_hop` receives the next-hop request
    /// and `current_nh` the next hop later conditions see.
    pub(crate) fn apply(
        &self,
        attrs: &mut Cow<'_, PathAttributes>,
        peer: &Peer,
        next_hop: &mut Option<NextHopAction>,
        current_nh: &mut Option<IpAddr>,
    ) {
        if let Some(m) = self.local_pref {
            let new = m.apply(attrs.local_pref);
            if new != attrs.local_pref {
                attrs.to_mut().local_pref = new;
            }
        }
        if let Some(m) = self.med {
            let new = m.apply(attrs.multi_exit_disc);
            if new != attrs.multi_exit_disc {
                attrs.to_mut().multi_exit_disc = new;
            }
        }
        if let Some(o) = self.origin {
            if attrs.origin != Some(o) {
                attrs.to_mut().origin = Some(o);
            }
        }
        edit_list::<StdList>(attrs, &self.communities);
        edit_list::<ExtList>(attrs, &self.extended_communities);
        edit_list::<LargeList>(attrs, &self.large_communities);
        if let Some(p) = self.prepend {
            prepend(attrs, p, peer);
        }
        if let Some(nh) = self.next_hop {
            *next_hop = Some(nh);
            *current_nh = match nh {
                NextHopAction::Unchanged => *current_nh,
                NextHopAction::SelfAddress => None,
                NextHopAction::Address(a) => Some(a),
            };
        }
    }
}

fn prepend(attrs: &mut Cow<'_, PathAttributes>, p: Prepend, peer: &Peer) {
    if p.count == 0 {
        return;
    }
    let asn = match p.asn {
        PrependAs::Own => peer.local_as,
        PrependAs::Asn(a) => a,
        PrependAs::LastAs => match attrs.as_path.as_ref().and_then(as_path_match::neighbor_as) {
            Some(a) => a,
            None => return,
        },
    };
    let n = usize::from(p.count);
    let path = match &attrs.as_path {
        Some(x) => x.prepended(asn, n),
        None => AsPath::empty().prepended(asn, n),
    };
    attrs.to_mut().as_path = Some(path);
}

/// One of the three community list attributes of [`PathAttributes`].
trait CommunityList {
    type Item: ListItem + Copy + PartialEq;
    type Pattern;
    type List;
    fn get(a: &PathAttributes) -> Option<&Self::List>;
    fn set(a: &mut PathAttributes, v: Option<Self::List>);
    fn items(l: &Self::List) -> impl Iterator<Item = Self::Item> + '_;
    fn matches(p: &Self::Pattern, i: Self::Item) -> bool;
    fn build(b: BytesMut) -> Option<Self::List>;
}

struct StdList;
struct ExtList;
struct LargeList;

impl CommunityList for StdList {
    type Item = Community;
    type Pattern = CommunityMatcher;
    type List = Communities;
    fn get(a: &PathAttributes) -> Option<&Communities> {
        a.communities.as_ref()
    }
    fn set(a: &mut PathAttributes, v: Option<Communities>) {
        a.communities = v;
    }
    fn items(l: &Communities) -> impl Iterator<Item = Community> + '_ {
        l.iter()
    }
    fn matches(p: &CommunityMatcher, i: Community) -> bool {
        p.matches(i)
    }
    fn build(b: BytesMut) -> Option<Communities> {
        Communities::decode(&b.freeze()).ok()
    }
}

impl CommunityList for ExtList {
    type Item = ExtendedCommunity;
    type Pattern = ExtCommunityMatcher;
    type List = ExtendedCommunities;
    fn get(a: &PathAttributes) -> Option<&ExtendedCommunities> {
        a.extended_communities.as_ref()
    }
    fn set(a: &mut PathAttributes, v: Option<ExtendedCommunities>) {
        a.extended_communities = v;
    }
    fn items(l: &ExtendedCommunities) -> impl Iterator<Item = ExtendedCommunity> + '_ {
        l.iter()
    }
    fn matches(p: &ExtCommunityMatcher, i: ExtendedCommunity) -> bool {
        p.matches(i)
    }
    fn build(b: BytesMut) -> Option<ExtendedCommunities> {
        ExtendedCommunities::decode(&b.freeze()).ok()
    }
}

impl CommunityList for LargeList {
    type Item = LargeCommunity;
    type Pattern = LargeCommunityMatcher;
    type List = LargeCommunities;
    fn get(a: &PathAttributes) -> Option<&LargeCommunities> {
        a.large_communities.as_ref()
    }
    fn set(a: &mut PathAttributes, v: Option<LargeCommunities>) {
        a.large_communities = v;
    }
    fn items(l: &LargeCommunities) -> impl Iterator<Item = LargeCommunity> + '_ {
        l.iter()
    }
    fn matches(p: &LargeCommunityMatcher, i: LargeCommunity) -> bool {
        p.matches(i)
    }
    fn build(b: BytesMut) -> Option<LargeCommunities> {
        LargeCommunities::decode(&b.freeze()).ok()
    }
}

/// Applies a [`ListEdit`] to one community attribute, writing only when
/// the list changes.
fn edit_list<L: CommunityList>(
    attrs: &mut Cow<'_, PathAttributes>,
    edit: &ListEdit<L::Item, L::Pattern>,
) {
    if edit.is_empty() {
        return;
    }
    let cur = L::get(attrs);
    let dropped = |i: L::Item| edit.clear || edit.remove.iter().any(|p| L::matches(p, i));
    let kept = || cur.into_iter().flat_map(L::items).filter(|i| !dropped(*i));
    // Additions that are neither kept already nor earlier in `add`.
    let fresh = |n: usize, v: &L::Item| {
        !kept().any(|i| i == *v) && !edit.add.iter().take(n).any(|x| x == v)
    };
    let drops = cur.into_iter().flat_map(L::items).any(dropped);
    let adds = edit.add.iter().enumerate().any(|(n, v)| fresh(n, v));
    if !drops && !adds {
        return;
    }
    let mut buf = BytesMut::new();
    for i in kept() {
        i.to_wire(&mut buf);
    }
    for (n, v) in edit.add.iter().enumerate() {
        if fresh(n, v) {
            v.to_wire(&mut buf);
        }
    }
    let new = L::build(buf);
    L::set(attrs.to_mut(), new);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peer::PeerKind;
    use crate::policy::community_match::{
        parse_community, parse_extended_community, parse_large_community,
    };
    use bgp_wire::attribute::SegmentType;
    use std::net::Ipv4Addr;

    fn peer() -> Peer {
        Peer {
            kind: PeerKind::External,
            asn: 65001,
            address: "192.0.2.1".parse().unwrap(),
            router_id: Ipv4Addr::new(10, 0, 0, 1),
            local_as: 4_200_000_000,
            rr_client: false,
        }
    }

    fn base() -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(&[65001, 65002])),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            local_pref: Some(100),
            communities: Some(Communities::from_items(&[
                Community::new(65000, 1),
                Community::new(65000, 2),
                Community::NO_EXPORT,
            ])),
            extended_communities: Some(ExtendedCommunities::from_items(&[
                parse_extended_community("rt:65000:1").unwrap(),
                parse_extended_community("ro:192.0.2.1:7").unwrap(),
            ])),
            large_communities: Some(LargeCommunities::from_items(&[
                parse_large_community("65000:1:1").unwrap(),
                parse_large_community("65000:2:2").unwrap(),
            ])),
            ..PathAttributes::default()
        }
    }

    /// Runs the actions; returns the result and whether it was cloned.
    fn run(a: &Actions, attrs: &PathAttributes) -> (PathAttributes, bool, Option<NextHopAction>) {
        let mut cow = Cow::Borrowed(attrs);
        let (mut nh, mut cur) = (None, attrs.next_hop.map(IpAddr::V4));
        a.apply(&mut cow, &peer(), &mut nh, &mut cur);
        let owned = matches!(cow, Cow::Owned(_));
        (cow.into_owned(), owned, nh)
    }

    fn std_list(a: &PathAttributes) -> Vec<String> {
        a.communities
            .iter()
            .flat_map(|c| c.iter())
            .map(crate::policy::community_match::community_text)
            .collect()
    }

    #[test]
    fn numbers() {
        let b = base();
        let (r, owned, _) = run(&Actions::new().local_pref(200), &b);
        assert!(owned);
        assert_eq!(r.local_pref, Some(200));
        let (_, owned, _) = run(&Actions::new().local_pref(100), &b);
        assert!(!owned, "same value: no clone");
        let (r, _, _) = run(&Actions::new().modify_local_pref(Modify::Remove), &b);
        assert_eq!(r.local_pref, None);
        let (r, _, _) = run(&Actions::new().med(Modify::Set(5)), &b);
        assert_eq!(r.multi_exit_disc, Some(5));
        let (r, _, _) = run(&Actions::new().med(Modify::Add(7)), &b);
        assert_eq!(r.multi_exit_disc, Some(7), "absent MED counts as 0");
        let (_, owned, _) = run(&Actions::new().med(Modify::Remove), &b);
        assert!(!owned, "removing an absent MED changes nothing");
        let mut m = base();
        m.multi_exit_disc = Some(u32::MAX - 1);
        let (r, _, _) = run(&Actions::new().med(Modify::Add(7)), &m);
        assert_eq!(r.multi_exit_disc, Some(u32::MAX));
        m.multi_exit_disc = Some(3);
        let (r, _, _) = run(&Actions::new().med(Modify::Subtract(7)), &m);
        assert_eq!(r.multi_exit_disc, Some(0));
        let (r, _, _) = run(&Actions::new().med(Modify::Remove), &m);
        assert_eq!(r.multi_exit_disc, None);
        assert_eq!(Modify::Subtract(1).apply(Some(10)), Some(9));
        let (r, _, _) = run(&Actions::new().origin(Origin::Incomplete), &b);
        assert_eq!(r.origin, Some(Origin::Incomplete));
        let (_, owned, _) = run(&Actions::new().origin(Origin::Igp), &b);
        assert!(!owned);
    }

    #[test]
    fn standard_communities() {
        let b = base();
        let (r, _, _) = run(&Actions::new().add_community(Community::new(65000, 3)), &b);
        assert_eq!(std_list(&r), ["65000:1", "65000:2", "no-export", "65000:3"]);
        let (_, owned, _) = run(&Actions::new().add_community(Community::NO_EXPORT), &b);
        assert!(!owned, "already there");
        let twice = Actions::new()
            .add_community(Community::new(1, 1))
            .add_community(Community::new(1, 1));
        let (r, _, _) = run(&twice, &b);
        assert_eq!(std_list(&r), ["65000:1", "65000:2", "no-export", "1:1"]);
        let rm = Actions::new().remove_communities("65000:*".parse().unwrap());
        let (r, _, _) = run(&rm, &b);
        assert_eq!(std_list(&r), ["no-export"]);
        let (_, owned, _) = run(
            &Actions::new().remove_communities("1:*".parse().unwrap()),
            &b,
        );
        assert!(!owned, "nothing to remove");
        let (r, _, _) = run(&Actions::new().clear_communities(), &b);
        assert_eq!(r.communities, None, "an empty list removes the attribute");
        let rep = Actions::new().replace_communities([parse_community("no-peer").unwrap()]);
        let (r, _, _) = run(&rep, &b);
        assert_eq!(std_list(&r), ["no-peer"]);
        // remove then add the same: it comes back, at the end
        let both = Actions::new()
            .remove_communities("no-export".parse().unwrap())
            .add_community(Community::NO_EXPORT);
        let (r, owned, _) = run(&both, &b);
        assert!(owned);
        assert_eq!(std_list(&r), ["65000:1", "65000:2", "no-export"]);
        // empty attributes
        let e = PathAttributes::default();
        let (_, owned, _) = run(&Actions::new().clear_communities(), &e);
        assert!(!owned);
        let (r, _, _) = run(&Actions::new().add_community(Community::NO_ADVERTISE), &e);
        assert_eq!(std_list(&r), ["no-advertise"]);
    }

    #[test]
    fn extended_and_large_communities() {
        let b = base();
        let rt2 = parse_extended_community("rt:4200000000:2").unwrap();
        let (r, _, _) = run(&Actions::new().add_extended_community(rt2), &b);
        assert_eq!(r.extended_communities.as_ref().unwrap().len(), 3);
        let (r, _, _) = run(
            &Actions::new().remove_extended_communities("rt:*:*".parse().unwrap()),
            &b,
        );
        assert_eq!(
            r.extended_communities.unwrap().to_string(),
            "origin:192.0.2.1:7"
        );
        let (r, _, _) = run(&Actions::new().replace_extended_communities([rt2]), &b);
        assert_eq!(
            r.extended_communities.unwrap().iter().collect::<Vec<_>>(),
            [rt2]
        );
        let (r, _, _) = run(&Actions::new().clear_extended_communities(), &b);
        assert_eq!(r.extended_communities, None);
        let l = parse_large_community("4200000000:0:1").unwrap();
        let (r, _, _) = run(&Actions::new().add_large_community(l), &b);
        assert_eq!(
            r.large_communities.unwrap().to_string(),
            "65000:1:1 65000:2:2 4200000000:0:1"
        );
        let (r, _, _) = run(
            &Actions::new().remove_large_communities("65000:2:*".parse().unwrap()),
            &b,
        );
        assert_eq!(r.large_communities.unwrap().to_string(), "65000:1:1");
        let (r, _, _) = run(&Actions::new().replace_large_communities([l]), &b);
        assert_eq!(r.large_communities.unwrap().to_string(), "4200000000:0:1");
        let (r, _, _) = run(&Actions::new().clear_large_communities(), &b);
        assert_eq!(r.large_communities, None);
        let (_, owned, _) = run(
            &Actions::new()
                .remove_large_communities("1:*:*".parse().unwrap())
                .remove_extended_communities("rt:1:*".parse().unwrap()),
            &b,
        );
        assert!(!owned);
    }

    #[test]
    fn prepends() {
        let b = base();
        let path = |a: &Actions, x: &PathAttributes| run(a, x).0.as_path.unwrap().to_string();
        assert_eq!(
            path(&Actions::new().prepend_own(2), &b),
            "4200000000 4200000000 65001 65002"
        );
        assert_eq!(
            path(&Actions::new().prepend_as(64999, 1), &b),
            "64999 65001 65002"
        );
        assert_eq!(
            path(&Actions::new().prepend_last_as(2), &b),
            "65001 65001 65001 65002"
        );
        let (_, owned, _) = run(&Actions::new().prepend_own(0), &b);
        assert!(!owned);
        let empty = PathAttributes::default();
        assert_eq!(path(&Actions::new().prepend_own(1), &empty), "4200000000");
        let (r, owned, _) = run(&Actions::new().prepend_last_as(3), &empty);
        assert!(!owned, "no AS to repeat");
        assert_eq!(r.as_path, None);
        let mut set = base();
        set.as_path = Some(AsPath::from_segments([(
            SegmentType::AsSet,
            &[1u32, 2][..],
        )]));
        assert_eq!(path(&Actions::new().prepend_as(5, 1), &set), "5 {1,2}");
        assert_eq!(
            run(&Actions::new().prepend_last_as(1), &set).0.as_path,
            set.as_path
        );
    }

    #[test]
    fn next_hops() {
        let b = base();
        let a = Actions::new().next_hop(NextHopAction::Address("2001:db8::1".parse().unwrap()));
        let mut cow = Cow::Borrowed(&b);
        let (mut nh, mut cur) = (None, b.next_hop.map(IpAddr::V4));
        a.apply(&mut cow, &peer(), &mut nh, &mut cur);
        assert!(
            matches!(cow, Cow::Borrowed(_)),
            "next hop is reported, not written"
        );
        assert_eq!(
            nh,
            Some(NextHopAction::Address("2001:db8::1".parse().unwrap()))
        );
        assert_eq!(cur, Some("2001:db8::1".parse().unwrap()));
        let (_, _, nh) = run(&Actions::new().next_hop(NextHopAction::SelfAddress), &b);
        assert_eq!(nh, Some(NextHopAction::SelfAddress));
        let (_, _, nh) = run(&Actions::new().next_hop(NextHopAction::Unchanged), &b);
        assert_eq!(nh, Some(NextHopAction::Unchanged));
        assert!(Actions::new().is_empty());
    }
}
