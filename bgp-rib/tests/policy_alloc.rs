//! Evaluating an import policy on a route it accepts unchanged allocates
//! nothing and returns the borrowed attributes: counted by a global
//! allocator that counts the allocations of the calling thread.

#![allow(unsafe_code, reason = "a counting global allocator, in this test only")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::cell::Cell;
use std::net::Ipv4Addr;

use bgp_rib::PeerKind;
use bgp_rib::policy::{Peer, PolicyDocument, RouteView, Verdict};
use bgp_wire::attribute::{
    AsPath, Communities, Community, LargeCommunities, LargeCommunity, Origin, PathAttributes,
};
use ipnet::IpNet;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

const POLICY: &str = r#"
[prefix_set]
bogons = ["10.0.0.0/8+", "172.16.0.0/12+", "192.168.0.0/16+", "0.0.0.0/0{25,32}"]

[[policy]]
name = "import"
default = "accept"

[[policy.term]]
name = "bogons"
then = "reject"
match.prefix_set = "bogons"

[[policy.term]]
name = "long"
then = "reject"
match.as_path_length = "> 30"

[[policy.term]]
name = "blackhole"
then = "reject"
match.community_any = ["blackhole", "*:666"]

[[policy.term]]
name = "customers"
then = "accept"
set.local_pref = 200
[policy.term.match]
as_path = "_6451[0-9]$"
large_community_all = ["65000:1:*"]

[[policy.term]]
name = "mask"
then = "reject"
match.as_path_mask = "[= * 64666 * =]"

[[policy.term]]
name = "already-fine"
then = "accept"
match.any = [{ med = "<= 100" }, { origin = "egp" }]
set.local_pref = 100
set.community_remove = ["65000:9"]
"#;

#[test]
fn accepting_unchanged_allocates_nothing() {
    let doc: PolicyDocument = toml::from_str(POLICY).unwrap();
    let set = doc.compile().unwrap();
    let chain = set.chain(["import"], Verdict::Reject).unwrap();
    let peer = Peer {
        kind: PeerKind::External,
        asn: 64496,
        address: "192.0.2.1".parse().unwrap(),
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        local_as: 65000,
        rr_client: false,
    };
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(&[64496, 3356, 4_200_000_000, 64501])),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
        multi_exit_disc: Some(50),
        local_pref: Some(100),
        communities: Some(Communities::from_items(&[Community::new(65000, 100)])),
        large_communities: Some(LargeCommunities::from_items(&[LargeCommunity {
            global_admin: 65000,
            local_data1: 2,
            local_data2: 3,
        }])),
        ..PathAttributes::default()
    };
    let prefixes: Vec<IpNet> = (0..256u32)
        .map(|i| IpNet::new(Ipv4Addr::from(0xC633_0000 + (i << 8)).into(), 24).unwrap())
        .collect();
    let run = || {
        let mut accepted = 0;
        for p in &prefixes {
            let out = chain.evaluate(&RouteView::new(*p, &attrs, &peer));
            assert!(
                matches!(&out.attributes, Cow::Borrowed(a) if std::ptr::eq(*a, &attrs)),
                "{p}: attributes were copied"
            );
            accepted += usize::from(out.accepted());
        }
        accepted
    };
    // Warm up: the regular expression's per-thread cache and text buffer.
    assert_eq!(run(), prefixes.len());
    let before = allocations();
    for _ in 0..10 {
        assert_eq!(run(), prefixes.len());
    }
    assert_eq!(allocations() - before, 0, "allocations while evaluating");
    // The counter does count this thread's allocations.
    let v: Vec<u64> = Vec::with_capacity(4);
    assert_eq!(allocations() - before, 1);
    drop(v);
}
