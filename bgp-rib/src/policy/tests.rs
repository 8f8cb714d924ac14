//! Tests of whole policies: evaluation order, chains, copy on write, and
//! the serde form (round trips and located errors).

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bgp_wire::attribute::{
    AsPath, Communities, Community, ExtendedCommunities, ExtendedCommunity, LargeCommunities,
    LargeCommunity, Origin, PathAttributes, SegmentType,
};
use ipnet::IpNet;
use proptest::prelude::*;

use super::*;

fn peer() -> Peer {
    Peer {
        kind: PeerKind::External,
        asn: 64496,
        address: "192.0.2.1".parse().unwrap(),
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        local_as: 65000,
        rr_client: false,
    }
}

fn attrs() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(&[64496, 64501])),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
        multi_exit_disc: Some(10),
        communities: Some(Communities::from_items(&[Community::new(65000, 100)])),
        ..PathAttributes::default()
    }
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn borrowed_original(out: &Outcome<'_>, original: &PathAttributes) -> bool {
    matches!(&out.attributes, Cow::Borrowed(p) if std::ptr::eq(*p, original))
}

#[test]
fn terms_run_in_order_and_see_earlier_changes() {
    let p = Policy::new("p")
        .term(
            Term::new("raise")
                .when(Condition::neighbor_as([64496]))
                .set(Actions::new().local_pref(300)),
        )
        .term(
            Term::new("skipped")
                .when(Condition::local_pref(NumberMatch::Lt(300)))
                .reject(),
        )
        .term(
            Term::new("tag")
                .when(Condition::local_pref(NumberMatch::Eq(300)))
                .set(Actions::new().add_community(Community::new(65000, 1)))
                .accept(),
        );
    let a = attrs();
    let peer = peer();
    let out = p.evaluate(&RouteView::new(net("198.51.100.0/24"), &a, &peer));
    assert_eq!(out.verdict, Verdict::Accept);
    assert_eq!(out.decided_by, DecidedBy::Term { policy: 0, term: 2 });
    assert_eq!(out.attributes.local_pref, Some(300));
    assert_eq!(
        out.attributes.communities.as_ref().unwrap().to_string(),
        "65000:100 65000:1"
    );
    assert!(out.changed());
    // the original is untouched
    assert_eq!(a, attrs());
}

#[test]
fn defaults_and_chains() {
    let a = attrs();
    let peer = peer();
    let view = RouteView::new(net("198.51.100.0/24"), &a, &peer);
    let nothing = Policy::new("nothing");
    let out = nothing.evaluate(&view);
    assert_eq!(
        (out.verdict, out.decided_by),
        (Verdict::Reject, DecidedBy::Chain)
    );
    let acc = nothing.clone().default_action(DefaultAction::Accept);
    let out = acc.evaluate(&view);
    assert_eq!(
        (out.verdict, out.decided_by),
        (Verdict::Accept, DecidedBy::PolicyDefault { policy: 0 })
    );
    assert!(borrowed_original(&out, &a));
    let rej = Policy::new("rej").default_action(DefaultAction::Reject);

    // Fall through the first policy, accepted by the second's default,
    // with the first's change kept.
    let mark =
        Arc::new(Policy::new("mark").term(Term::new("m").set(Actions::new().med(Modify::Set(1)))));
    let chain = Chain::new([mark.clone(), Arc::new(acc.clone())]);
    let out = chain.evaluate(&view);
    assert_eq!(
        (out.verdict, out.decided_by),
        (Verdict::Accept, DecidedBy::PolicyDefault { policy: 1 })
    );
    assert_eq!(out.attributes.multi_exit_disc, Some(1));

    // next-policy skips the rest of the policy and its default
    let skip = Arc::new(
        Policy::new("skip")
            .term(Term::new("jump").next_policy())
            .term(Term::new("never").reject())
            .default_action(DefaultAction::Reject),
    );
    let chain = Chain::new([skip.clone(), Arc::new(acc.clone())]);
    assert_eq!(chain.evaluate(&view).verdict, Verdict::Accept);
    // ... and the chain's own verdict when nothing follows
    let chain = Chain::new([skip.clone()]);
    assert_eq!(chain.evaluate(&view).verdict, Verdict::Reject);
    let chain = Chain::new([skip]).otherwise(Verdict::Accept);
    assert_eq!(chain.fallback(), Verdict::Accept);
    let out = chain.evaluate(&view);
    assert_eq!(
        (out.verdict, out.decided_by),
        (Verdict::Accept, DecidedBy::Chain)
    );

    // accept and reject end the chain
    let stop = Arc::new(Policy::new("stop").term(Term::new("t").accept()));
    let chain = Chain::new([stop, Arc::new(rej.clone())]);
    assert_eq!(chain.evaluate(&view).verdict, Verdict::Accept);
    let chain = Chain::new([Arc::new(rej), Arc::new(acc)]);
    assert_eq!(chain.policies().len(), 2);
    assert_eq!(chain.evaluate(&view).verdict, Verdict::Reject);
}

#[test]
fn next_hop_requests() {
    let a = attrs();
    let peer = peer();
    let six: IpAddr = "2001:db8::1".parse().unwrap();
    let p = Policy::new("nh")
        .term(Term::new("set").set(Actions::new().next_hop(NextHopAction::Address(six))))
        .term(
            Term::new("seen")
                .when(Condition::next_hop_in([net("2001:db8::/32")]))
                .accept(),
        );
    let view = RouteView::new(net("2001:db8:5::/48"), &a, &peer).with_next_hop(None);
    let out = p.evaluate(&view);
    assert_eq!(
        out.verdict,
        Verdict::Accept,
        "later terms see the new next hop"
    );
    assert_eq!(out.next_hop, Some(NextHopAction::Address(six)));
    assert!(
        borrowed_original(&out, &a),
        "next hop is not an attribute change"
    );
    let p = Policy::new("self")
        .term(Term::new("s").set(Actions::new().next_hop(NextHopAction::SelfAddress)))
        .term(
            Term::new("gone")
                .when(Condition::next_hop_in([net("0.0.0.0/0"), net("::/0")]))
                .reject(),
        )
        .default_action(DefaultAction::Accept);
    let out = p.evaluate(&RouteView::new(net("192.0.2.0/24"), &a, &peer));
    assert_eq!(
        out.verdict,
        Verdict::Accept,
        "self is unknown to conditions"
    );
    assert_eq!(out.next_hop, Some(NextHopAction::SelfAddress));
}

#[test]
fn peer_from_rib_info() {
    let info = crate::PeerInfo {
        kind: PeerKind::Internal,
        asn: 65000,
        router_id: Ipv4Addr::new(10, 0, 0, 2),
        address: "10.0.0.2".parse().unwrap(),
        local: false,
    };
    let p = Peer::from_info(&info, 65000);
    assert_eq!(p.kind, PeerKind::Internal);
    assert_eq!(p.router_id, info.router_id);
    assert!(!p.rr_client);
}

fn arb_attrs() -> impl Strategy<Value = PathAttributes> {
    let seg = (
        prop_oneof![
            Just(SegmentType::AsSequence),
            Just(SegmentType::AsSet),
            Just(SegmentType::AsConfedSequence),
            Just(SegmentType::AsConfedSet)
        ],
        prop::collection::vec(prop_oneof![1u32..65536, any::<u32>()], 1..8),
    );
    (
        prop::option::of(prop_oneof![
            Just(Origin::Igp),
            Just(Origin::Egp),
            Just(Origin::Incomplete)
        ]),
        prop::option::of(prop::collection::vec(seg, 0..4)),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<[u8; 4]>()),
        prop::option::of(prop::collection::vec(any::<u32>(), 1..6)),
        prop::option::of(prop::collection::vec(any::<[u8; 8]>(), 1..4)),
        prop::option::of(prop::collection::vec(any::<(u32, u32, u32)>(), 1..4)),
    )
        .prop_map(
            |(origin, path, med, lp, nh, std, ext, large)| PathAttributes {
                origin,
                as_path: path
                    .map(|segs| AsPath::from_segments(segs.iter().map(|(t, v)| (*t, &v[..])))),
                multi_exit_disc: med,
                local_pref: lp,
                next_hop: nh.map(Ipv4Addr::from),
                communities: std.map(|v| {
                    Communities::from_items(&v.into_iter().map(Community).collect::<Vec<_>>())
                }),
                extended_communities: ext.map(|v| {
                    ExtendedCommunities::from_items(
                        &v.into_iter().map(ExtendedCommunity).collect::<Vec<_>>(),
                    )
                }),
                large_communities: large.map(|v| {
                    LargeCommunities::from_items(
                        &v.into_iter()
                            .map(|(a, b, c)| LargeCommunity {
                                global_admin: a,
                                local_data1: b,
                                local_data2: c,
                            })
                            .collect::<Vec<_>>(),
                    )
                }),
                ..PathAttributes::default()
            },
        )
}

fn arb_prefix() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (any::<u32>(), 0u8..=32)
            .prop_map(|(a, l)| IpNet::new(IpAddr::V4(a.into()), l).unwrap().trunc()),
        (any::<u128>(), 0u8..=128)
            .prop_map(|(a, l)| IpNet::new(IpAddr::V6(a.into()), l).unwrap().trunc()),
    ]
}

/// Policies that accept without changing anything: however the terms
/// match, the result must be the borrowed original.
fn accept_only_policies() -> Vec<Policy> {
    let conditions = Condition::any([
        Condition::prefix_in(PrefixSet::parse(["10.0.0.0/8+", "::/0{48,64}"]).unwrap()),
        Condition::as_path_regex(AsPathRegex::new("_6450[0-9]_").unwrap()),
        Condition::as_path_mask("[= * 1..1000 * =]".parse().unwrap()),
        Condition::community_any(["*:666".parse().unwrap(), "no-export".parse().unwrap()]),
        Condition::large_community_all(["*:*:1".parse().unwrap()]),
        Condition::extended_community_any(["rt:*:*".parse().unwrap()]),
        !Condition::med(NumberMatch::Ge(100)),
    ]);
    vec![
        Policy::new("default-accept").default_action(DefaultAction::Accept),
        Policy::new("accept-term").term(Term::new("all").accept()),
        Policy::new("look-then-accept")
            .term(Term::new("look").when(conditions.clone()))
            .term(Term::new("look-more").when(!conditions).next_term())
            .term(Term::new("accept").accept()),
        Policy::new("no-op-actions")
            .term(
                Term::new("nothing-to-remove").set(
                    Actions::new()
                        .remove_communities("65535:0..1".parse().unwrap())
                        .prepend_own(0),
                ),
            )
            .default_action(DefaultAction::Accept),
    ]
}

proptest! {
    /// An accepting policy that changes nothing returns the very
    /// attributes it was given, borrowed: no clone.
    #[test]
    fn accept_only_borrows_the_original(a in arb_attrs(), prefix in arb_prefix()) {
        let peer = peer();
        let original = a.clone();
        for p in accept_only_policies() {
            let out = p.evaluate(&RouteView::new(prefix, &a, &peer));
            prop_assert_eq!(out.verdict, Verdict::Accept, "{}", p.name);
            prop_assert!(borrowed_original(&out, &a), "{} cloned", p.name);
            prop_assert_eq!(&*out.attributes, &original);
            prop_assert_eq!(out.next_hop, None);
        }
    }

    /// Setting LOCAL_PREF changes that field and nothing else.
    #[test]
    fn set_changes_only_its_field(a in arb_attrs(), lp in any::<u32>()) {
        let peer = peer();
        let p = Policy::new("lp").term(Term::new("t").set(Actions::new().local_pref(lp)).accept());
        let out = p.evaluate(&RouteView::new(net("192.0.2.0/24"), &a, &peer));
        let mut want = a.clone();
        want.local_pref = Some(lp);
        prop_assert_eq!(out.changed(), a.local_pref != Some(lp));
        prop_assert_eq!(out.attributes.into_owned(), want);
    }

    /// Removing every community of each kind drops the attributes, and
    /// adding then finds them absent.
    #[test]
    fn clear_then_add(a in arb_attrs()) {
        let peer = peer();
        let actions = Actions::new()
            .remove_communities("*:*".parse().unwrap())
            .remove_extended_communities("0x0000000000000000".parse().unwrap())
            .clear_extended_communities()
            .remove_large_communities("*:*:*".parse().unwrap())
            .add_large_community(LargeCommunity { global_admin: 1, local_data1: 2, local_data2: 3 });
        let p = Policy::new("c").term(Term::new("t").set(actions).accept());
        let out = p.evaluate(&RouteView::new(net("192.0.2.0/24"), &a, &peer));
        prop_assert_eq!(&out.attributes.communities, &None);
        prop_assert_eq!(&out.attributes.extended_communities, &None);
        prop_assert_eq!(out.attributes.large_communities.as_ref().map(|l| l.to_string()), Some("1:2:3".to_owned()));
    }
}

/// A document using every key of `match` and `set`, every flow and every
/// default.
const EVERYTHING: &str = r#"
[prefix_set]
bogons = ["10.0.0.0/8+", "0.0.0.0/0{25,32}", "2001:db8::/32+"]

[[policy]]
name = "every-match"
default = "reject"

[[policy.term]]
name = "prefixes"
then = "next-term"
match.family = "ipv4"
match.prefix = ["198.51.100.0/24", "203.0.113.0/24{25,28}"]
match.prefix_set = "bogons"

[[policy.term]]
name = "paths"
then = "next-policy"
[policy.term.match]
as_path = "_6450[0-9]$"
as_path_mask = "[= * 64500 ? =]"
as_path_contains = [64500, 4200000000]
as_path_origin = 64501
as_path_neighbor = [64496, 64511]
as_path_length = "<= 10"

[[policy.term]]
name = "communities"
then = "accept"
[policy.term.match]
community_any = ["65000:*", "no-export", "*:666"]
community_all = ["65000:100..199", "no-advertise"]
extended_community_any = ["rt:65000:*", "ro:192.0.2.1:7", "0x8006000000000000"]
extended_community_all = ["rt:4200000000:1"]
large_community_any = ["65000:*:*"]
large_community_all = ["65000:1:2", "*:0..9:*"]

[[policy.term]]
name = "peers"
then = "reject"
[policy.term.match]
next_hop = ["192.0.2.1", "2001:db8::/64"]
peer_type = "confed-ebgp"
rr_client = true
peer_as = [64496, 64497]
peer_address = ["192.0.2.0/24"]
peer_router_id = ["192.0.2.1"]
origin = "incomplete"
med = 50
local_pref = "100..200"

[[policy.term]]
name = "composition"
[policy.term.match]
peer_type = "ibgp"
all = [{ med = ">= 1" }, { local_pref = "!= 7" }]
any = [{ origin = "igp" }, { origin = "egp", med = "< 5" }, {}]
not = { any = [{ peer_as = 1 }], not = { family = "ipv6" } }

[[policy]]
name = "every-set"

[[policy.term]]
name = "numbers"
set.local_pref = 200
set.med = "+10"
set.origin = "egp"

[[policy.term]]
name = "more-numbers"
then = "next-policy"
set.local_pref = "-5"
set.med = "remove"

[[policy.term]]
name = "standard"
[policy.term.set]
community_clear = true
community_remove = ["65000:*"]
community_add = ["65000:1", "no-export", "no-peer"]

[[policy.term]]
name = "extended"
[policy.term.set]
extended_community_clear = true
extended_community_remove = ["rt:*:*"]
extended_community_add = ["rt:65000:1", "ro:192.0.2.1:7", "rt:4200000000:2", "0x8006000000000000"]

[[policy.term]]
name = "large"
[policy.term.set]
large_community_clear = true
large_community_remove = ["65000:*:*"]
large_community_add = ["65000:0:1"]

[[policy.term]]
name = "prepend-own"
set.as_path_prepend = { count = 2 }
set.next_hop = "self"

[[policy.term]]
name = "prepend-as"
set.as_path_prepend = { asn = 4200000000, count = 3 }
set.next_hop = "unchanged"

[[policy.term]]
name = "prepend-last"
then = "accept"
set.as_path_prepend = { last_as = true, count = 1 }
set.next_hop = "2001:db8::1"

[[policy]]
name = "defaults"
default = "accept"

[[policy]]
name = "unnamed-terms"
default = "next-policy"

[[policy.term]]
then = "reject"
"#;

#[test]
fn serde_round_trip_of_every_kind_of_term() {
    let doc: PolicyDocument = toml::from_str(EVERYTHING).unwrap();
    assert_eq!(doc.policy.len(), 4);
    // data → TOML → data
    let text = toml::to_string(&doc).unwrap();
    let again: PolicyDocument = toml::from_str(&text).unwrap();
    assert_eq!(again, doc, "{text}");
    // data → typed → data
    let set = doc.compile().unwrap();
    let back = PolicyDocument::from_policies(set.policies().iter().map(|p| &**p)).unwrap();
    assert_eq!(back, doc);
    // typed → data → typed
    let set2 = back.compile().unwrap();
    for (a, b) in set.policies().iter().zip(set2.policies()) {
        assert_eq!(a, b);
    }
    assert!(set.prefix_set("bogons").is_some());
    assert_eq!(set.get("every-set").unwrap().terms.len(), 8);
    // the named set is shared, not copied, by the terms that use it
    let Condition::All(c) = &set.get("every-match").unwrap().terms[0].condition else {
        panic!()
    };
    let Condition::Prefix(shared) = &c[2] else {
        panic!()
    };
    assert!(Arc::ptr_eq(shared, set.prefix_set("bogons").unwrap()));
}

#[test]
fn typed_policy_round_trips_through_toml() {
    let bogons = Arc::new(PrefixSet::parse(["10.0.0.0/8+"]).unwrap().named("bogons"));
    let p = Policy::new("typed")
        .term(Term::new("b").when(Condition::prefix_in(bogons)).reject())
        .term(
            Term::new("c")
                .when(Condition::as_path_length(NumberMatch::Gt(3)))
                .when(
                    Condition::community_any(["65000:1".parse().unwrap()])
                        | Condition::large_community_any(["1:*:*".parse().unwrap()]),
                )
                .when(!Condition::origin(Origin::Incomplete))
                .set(
                    Actions::new()
                        .modify_local_pref(Modify::Add(5))
                        .replace_communities([Community::NO_EXPORT])
                        .prepend_as(65010, 2)
                        .next_hop(NextHopAction::Unchanged),
                )
                .accept(),
        )
        .default_action(DefaultAction::Reject);
    let doc = PolicyDocument::from_policies([&p]).unwrap();
    let text = toml::to_string(&doc).unwrap();
    let parsed: PolicyDocument = toml::from_str(&text).unwrap();
    let set = parsed.compile().unwrap();
    assert_eq!(**set.get("typed").unwrap(), p, "{text}");
}

#[test]
fn replace_is_clear_and_add() {
    let doc: PolicyDocument = toml::from_str(
        r#"
        [[policy]]
        name = "r"
        [[policy.term]]
        set.community_replace = ["no-export"]
        set.large_community_replace = []
        "#,
    )
    .unwrap();
    let set = doc.compile().unwrap();
    let a = &set.get("r").unwrap().terms[0].actions;
    assert!(a.communities.clear);
    assert_eq!(a.communities.add, [Community::NO_EXPORT]);
    assert!(a.large_communities.clear && a.large_communities.add.is_empty());
}

/// Compiles a one-term policy `p` (term `t`) with this TOML for the term.
fn term_error(term: &str) -> ConfigError {
    let text = format!(
        "[prefix_set]\nok = [\"10.0.0.0/8\"]\n[[policy]]\nname = \"p\"\n[[policy.term]]\nname = \"t\"\n{term}\n"
    );
    let doc: PolicyDocument = toml::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    doc.compile().unwrap_err()
}

#[test]
fn validation_errors_name_the_term_and_field() {
    for (term, field, says) in [
        (
            "match.prefix = [\"10.0.0.0/8\", \"10.0.0.1/8\"]",
            "match.prefix[1]",
            "10.0.0.0/8?",
        ),
        ("match.prefix = []", "match.prefix", "empty list"),
        (
            "match.prefix_set = \"nope\"",
            "match.prefix_set",
            "defined: ok",
        ),
        (
            "match.as_path = \"(65001\"",
            "match.as_path",
            "regular expression",
        ),
        (
            "match.as_path_mask = \"[= 1 x =]\"",
            "match.as_path_mask",
            "\"x\"",
        ),
        (
            "match.as_path_length = \"<< 3\"",
            "match.as_path_length",
            "comparison",
        ),
        ("match.as_path_origin = []", "match.as_path_origin", "empty"),
        (
            "match.community_any = [\"65000:x\"]",
            "match.community_any[0]",
            "community pattern",
        ),
        (
            "match.community_all = [\"1:1\", \"70000:1\"]",
            "match.community_all[1]",
            "70000",
        ),
        (
            "match.extended_community_all = [\"rt:1:1\", \"xx:1:1\"]",
            "match.extended_community_all[1]",
            "unknown kind",
        ),
        (
            "match.large_community_any = [\"1:2\"]",
            "match.large_community_any[0]",
            "global:local1:local2",
        ),
        (
            "match.next_hop = [\"192.0.2.300\"]",
            "match.next_hop[0]",
            "address",
        ),
        (
            "match.peer_router_id = [\"2001:db8::1\"]",
            "match.peer_router_id[0]",
            "IPv4",
        ),
        ("match.med = \"lots\"", "match.med", "comparison"),
        (
            "match.any = [{}, { local_pref = \">= x\" }]",
            "match.any[1].local_pref",
            "comparison",
        ),
        (
            "match.not = { all = [{ community_all = [] }] }",
            "match.not.all[0].community_all",
            "empty",
        ),
        ("set.local_pref = \"++1\"", "set.local_pref", "+N"),
        ("set.med = \"-x\"", "set.med", "remove"),
        (
            "set.community_add = [\"65000:*\"]",
            "set.community_add[0]",
            "community",
        ),
        (
            "set.community_remove = [\"65000:1:1\"]",
            "set.community_remove[0]",
            "community pattern",
        ),
        (
            "set.extended_community_add = [\"rt:*:1\"]",
            "set.extended_community_add[0]",
            "extended community",
        ),
        (
            "set.large_community_replace = [\"1:2:x\"]",
            "set.large_community_replace[0]",
            "large community",
        ),
        (
            "set.community_replace = [\"1:1\"]\nset.community_add = [\"1:2\"]",
            "set.community_replace",
            "clear and add",
        ),
        (
            "set.as_path_prepend = { count = 0 }",
            "set.as_path_prepend.count",
            "from 1 to 64",
        ),
        (
            "set.as_path_prepend = { count = 65 }",
            "set.as_path_prepend.count",
            "from 1 to 64",
        ),
        (
            "set.as_path_prepend = { asn = 1, last_as = true }",
            "set.as_path_prepend",
            "not both",
        ),
        ("set.next_hop = \"selff\"", "set.next_hop", "\"self\""),
    ] {
        let e = term_error(term);
        assert_eq!(e.location, "policy \"p\" term 1 \"t\"", "{term}");
        assert_eq!(e.field, field, "{term}: {e}");
        assert!(e.to_string().contains(says), "{term}: {e}");
    }
}

#[test]
fn validation_errors_elsewhere() {
    let compile = |t: &str| {
        toml::from_str::<PolicyDocument>(t)
            .unwrap()
            .compile()
            .unwrap_err()
    };
    let e = compile("[prefix_set]\nx = [\"10.0.0.0/8\", \"fish\"]");
    assert_eq!(
        (e.location.as_str(), e.field.as_str()),
        ("prefix_set \"x\"", "[1]")
    );
    let e = compile("[[policy]]\nname = \"a\"\n[[policy]]\nname = \"a\"");
    assert_eq!(
        (e.location.as_str(), e.field.as_str()),
        ("policy \"a\"", "name")
    );
    let e = compile("[[policy]]\nname = \"\"");
    assert_eq!(e.location, "policy 1");
    let e = compile(
        "[[policy]]\nname = \"a\"\n[[policy.term]]\nname = \"x\"\n[[policy.term]]\n[[policy.term]]\nname = \"x\"",
    );
    assert_eq!(
        (e.location.as_str(), e.field.as_str()),
        ("policy \"a\" term 3 \"x\"", "name")
    );
    // an unnamed term is located by its position
    let e =
        compile("[[policy]]\nname = \"a\"\n[[policy.term]]\n[[policy.term]]\nmatch.med = \"?\"");
    assert_eq!(
        (e.location.as_str(), e.field.as_str()),
        ("policy \"a\" term 2", "match.med")
    );
    let set: PolicyDocument = toml::from_str("[[policy]]\nname = \"a\"").unwrap();
    let e = set
        .compile()
        .unwrap()
        .chain(["a", "b"], Verdict::Reject)
        .unwrap_err();
    assert_eq!((e.location.as_str(), e.field.as_str()), ("chain", "[1]"));
    assert!(e.message.contains("\"b\""));
}

#[test]
fn toml_parse_errors_name_the_field() {
    let parse = |t: &str| toml::from_str::<PolicyDocument>(t).unwrap_err().to_string();
    let base = "[[policy]]\nname = \"p\"\n[[policy.term]]\n";
    for (term, says) in [
        ("match.loca_pref = 100", "loca_pref"),
        ("set.comunity_add = [\"1:1\"]", "comunity_add"),
        ("match.peer_type = \"ebpg\"", "ebpg"),
        ("match.origin = \"bgp\"", "bgp"),
        ("then = \"accept-all\"", "accept-all"),
        ("match.rr_client = \"yes\"", "rr_client"),
        ("match.peer_as = \"64496\"", "peer_as"),
        ("match.med = -1", "med"),
        ("match.local_pref = 4294967296", "local_pref"),
        ("match.prefix = \"10.0.0.0/8\"", "prefix"),
        ("set.as_path_prepend = { cont = 2 }", "cont"),
    ] {
        let e = parse(&format!("{base}{term}"));
        assert!(e.contains(says), "{term}: {e}");
    }
    let e = parse("[[policy]]\nname = \"p\"\ndefault = \"maybe\"");
    assert!(e.contains("maybe") && e.contains("next-policy"), "{e}");
    let e = parse("[[polcy]]\nname = \"p\"");
    assert!(e.contains("polcy"), "{e}");
}
