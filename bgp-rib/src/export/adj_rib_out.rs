//! The Adj-RIB-Out of one update group: what its members have been sent,
//! as handles.
//!
//! One table per family maps each prefix sent to a 4-octet value: the
//! exported attribute set's [`AttrId`] (in the [`Exporter`]'s store, shared
//! by every group), or, for a family sent with ADD-PATH, the index of a
//! list of [`OutPath`]s (source, path identifier sent, set). No attribute
//! is copied per prefix, and none per member: the members of a group share
//! this table.
//!
//! [`Exporter`]: super::Exporter

use bgp_wire::AfiSafi;
use bgp_wire::nlri::Nlri;
use ipnet::IpNet;

use super::add_path_send::OutPath;
use crate::attr_store::AttrId;
use crate::prefix_table::{Family, Ipv4, Ipv6, PrefixTable};

/// The Adj-RIB-Out of one update group (see the [module
/// documentation](self)).
#[derive(Debug, Default)]
pub struct AdjRibOut {
    v4: PrefixTable<Ipv4, u32>,
    v6: PrefixTable<Ipv6, u32>,
    /// Whether each family (IPv4, IPv6) holds lists (ADD-PATH).
    add_path: [bool; 2],
    lists: Vec<Vec<OutPath>>,
    free: Vec<u32>,
    routes: usize,
}

fn fam(prefix: &IpNet) -> usize {
    usize::from(prefix.addr().is_ipv6())
}

impl AdjRibOut {
    /// An empty table; `add_path_v4` and `add_path_v6` say which families
    /// carry several paths per prefix.
    pub fn new(add_path_v4: bool, add_path_v6: bool) -> Self {
        AdjRibOut {
            add_path: [add_path_v4, add_path_v6],
            ..AdjRibOut::default()
        }
    }

    /// Whether a prefix's family is sent with ADD-PATH.
    pub fn is_add_path(&self, prefix: &IpNet) -> bool {
        self.add_path.get(fam(prefix)).copied().unwrap_or(false)
    }

    /// Number of prefixes held.
    pub fn prefixes(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Number of routes (prefix and path identifier) held.
    pub fn routes(&self) -> usize {
        self.routes
    }

    fn raw(&self, prefix: &IpNet) -> Option<u32> {
        match prefix {
            IpNet::V4(n) => self.v4.get(&n.trunc()).copied(),
            IpNet::V6(n) => self.v6.get(&n.trunc()).copied(),
        }
    }

    fn set_raw(&mut self, prefix: &IpNet, v: Option<u32>) -> Option<u32> {
        match (prefix, v) {
            (IpNet::V4(n), Some(v)) => self.v4.insert(n.trunc(), v),
            (IpNet::V4(n), None) => self.v4.remove(&n.trunc()),
            (IpNet::V6(n), Some(v)) => self.v6.insert(n.trunc(), v),
            (IpNet::V6(n), None) => self.v6.remove(&n.trunc()),
        }
    }

    /// The set sent for a prefix of a family without ADD-PATH.
    pub fn get(&self, prefix: &IpNet) -> Option<AttrId> {
        if self.is_add_path(prefix) {
            return None;
        }
        self.raw(prefix).map(AttrId)
    }

    /// Records the set sent for a prefix (`None`: withdrawn); returns the
    /// one before.
    pub(crate) fn set(&mut self, prefix: &IpNet, attr: Option<AttrId>) -> Option<AttrId> {
        let old = self.set_raw(prefix, attr.map(|a| a.0)).map(AttrId);
        self.routes = self.routes + usize::from(attr.is_some()) - usize::from(old.is_some());
        old
    }

    /// The paths sent for a prefix of an ADD-PATH family.
    pub fn paths(&self, prefix: &IpNet) -> &[OutPath] {
        if !self.is_add_path(prefix) {
            return &[];
        }
        self.raw(prefix)
            .and_then(|i| self.lists.get(i as usize))
            .map_or(&[], |l| &l[..])
    }

    /// Records the paths sent for a prefix; returns the ones before.
    pub(crate) fn set_paths(&mut self, prefix: &IpNet, paths: Vec<OutPath>) -> Vec<OutPath> {
        let new_len = paths.len();
        let old = match self.raw(prefix) {
            Some(i) => {
                let slot = self.lists.get_mut(i as usize);
                let old = slot
                    .map(|l| std::mem::replace(l, paths))
                    .unwrap_or_default();
                if new_len == 0 {
                    self.set_raw(prefix, None);
                    if let Some(l) = self.lists.get_mut(i as usize) {
                        *l = Vec::new();
                    }
                    self.free.push(i);
                }
                old
            }
            None if new_len == 0 => Vec::new(),
            None => {
                let i = match self.free.pop() {
                    Some(i) => {
                        if let Some(l) = self.lists.get_mut(i as usize) {
                            *l = paths;
                        }
                        i
                    }
                    None => {
                        self.lists.push(paths);
                        u32::try_from(self.lists.len() - 1).unwrap_or(u32::MAX)
                    }
                };
                self.set_raw(prefix, Some(i));
                Vec::new()
            }
        };
        self.routes = self.routes + new_len - old.len();
        old
    }

    /// Every route of a family, in address order: the NLRI as sent (with
    /// its path identifier on an ADD-PATH family) and the set.
    pub fn iter(&self, family: AfiSafi) -> Box<dyn Iterator<Item = (Nlri, AttrId)> + '_> {
        let lists = &self.lists;
        let expand = move |net: IpNet, v: u32, add_path: bool| -> Vec<(Nlri, AttrId)> {
            if add_path {
                lists
                    .get(v as usize)
                    .map(|l| {
                        l.iter()
                            .map(|o| (Nlri::with_path_id(net, o.path_id), o.attr))
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                vec![(Nlri::new(net), AttrId(v))]
            }
        };
        if family == AfiSafi::IPV4_UNICAST {
            let ap = self.add_path[0];
            Box::new(
                self.v4
                    .iter()
                    .flat_map(move |(n, v)| expand(Ipv4::ip_net(n), *v, ap)),
            )
        } else if family == AfiSafi::IPV6_UNICAST {
            let ap = self.add_path[1];
            Box::new(
                self.v6
                    .iter()
                    .flat_map(move |(n, v)| expand(Ipv6::ip_net(n), *v, ap)),
            )
        } else {
            Box::new(std::iter::empty())
        }
    }

    /// Every prefix held, IPv4 then IPv6, in address order.
    pub fn prefix_list(&self) -> Vec<IpNet> {
        let mut v: Vec<IpNet> = Vec::with_capacity(self.prefixes());
        v.extend(self.v4.iter().map(|(n, _)| Ipv4::ip_net(n)));
        v.extend(self.v6.iter().map(|(n, _)| Ipv6::ip_net(n)));
        v
    }

    /// Every set reference held (one per route), for releasing them.
    pub(crate) fn drain_refs(&mut self) -> Vec<AttrId> {
        let mut out = Vec::with_capacity(self.routes);
        for fam in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
            out.extend(self.iter(fam).map(|(_, a)| a));
        }
        *self = AdjRibOut::new(self.add_path[0], self.add_path[1]);
        out
    }

    /// Heap bytes: the tables and the path lists.
    pub fn heap_bytes(&self) -> usize {
        self.v4.heap_bytes()
            + self.v6.heap_bytes()
            + self.lists.capacity() * std::mem::size_of::<Vec<OutPath>>()
            + self
                .lists
                .iter()
                .map(|l| l.capacity() * std::mem::size_of::<OutPath>())
                .sum::<usize>()
            + self.free.capacity() * 4
    }
}
