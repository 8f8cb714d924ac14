//! Calico's resources as `calicoctl get -o yaml` and `kubectl get -o yaml`
//! print them, and the set of them a node plan is computed from.
//!
//! # Accepted documents
//!
//! A file holds one or more YAML documents (`---` between them). A
//! document is one resource, or a list: `kind: List` (kubectl) or
//! `kind: <Kind>List` (calicoctl, e.g. `BGPPeerList`) with `items`.
//!
//! | apiVersion | kinds |
//! | --- | --- |
//! | `projectcalico.org/v3` | `BGPConfiguration`, `BGPPeer`, `BGPFilter`, `IPPool`, `Node`, `BlockAffinity` |
//! | `crd.projectcalico.org/v1` (KDD CRDs) | the same except `Node`; a BlockAffinity's `deleted` is a string there |
//! | `v1` | `Node` (the KDD node: Calico's fields are the `projectcalico.org/IPv4Address`, `IPv6Address`, `ASNumber`, `RouteReflectorClusterID` annotations; labels are the Kubernetes labels over the `projectcalico.org/labels` ones), `Service`, `Endpoints` |
//! | `discovery.k8s.io/v1` | `EndpointSlice` |
//!
//! The CRD form's specs are those of v3. Other kinds (`IPAMBlock`,
//! `FelixConfiguration`, `Secret`, ...) are skipped with a warning, and so
//! are fields this daemon does not know under a Calico `spec`. A document
//! that does not parse or validate is an error ([`LoadError`]) that names
//! the file, the document, the resource (`BGPPeer/peer-1`) and the field.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod bgp_configuration;
pub mod bgp_filter;
pub mod bgp_peer;
pub mod block_affinity;
pub mod common;
pub mod ip_pool;
pub mod kubernetes;
pub mod node;

pub use bgp_configuration::BgpConfiguration;
pub use bgp_filter::BgpFilter;
pub use bgp_peer::BgpPeer;
pub use block_affinity::BlockAffinity;
pub use common::{AsNumber, Duration, FieldError, ObjectMeta, SecretKeyRef};
pub use ip_pool::IpPool;
pub use kubernetes::{EndpointSlice, Endpoints, Service};
pub use node::NodeInfo;

/// A document that cannot be used, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file.
    pub file: PathBuf,
    /// The document's position in the file (1 for the first), 0 when the
    /// file itself is at fault.
    pub document: usize,
    /// `Kind/name` of the resource, when known.
    pub resource: Option<String>,
    /// The field (`spec.peerIP`), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.document > 0 {
            write!(f, ": document {}", self.document)?;
        }
        if let Some(r) = &self.resource {
            write!(f, ": {r}")?;
        }
        if let Some(fl) = &self.field {
            write!(f, ": field {fl}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for LoadError {}

/// Something skipped while reading, that does not stop the configuration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LoadWarning {
    /// The file.
    pub file: PathBuf,
    /// The document (1 for the first).
    pub document: usize,
    /// `Kind/name`, when known.
    pub resource: Option<String>,
    /// What was skipped.
    pub message: String,
}

impl fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: document {}", self.file.display(), self.document)?;
        if let Some(r) = &self.resource {
            write!(f, ": {r}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Where a resource was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub file: PathBuf,
    /// The document (1 for the first).
    pub document: usize,
}

/// Every resource the node plan depends on, by name.
#[derive(Debug, Clone, Default)]
pub struct ResourceSet {
    /// BGPConfigurations (`default`, `node.<name>`).
    pub bgp_configurations: BTreeMap<String, BgpConfiguration>,
    /// BGPPeers.
    pub bgp_peers: BTreeMap<String, BgpPeer>,
    /// BGPFilters.
    pub bgp_filters: BTreeMap<String, BgpFilter>,
    /// Nodes (either form).
    pub nodes: BTreeMap<String, NodeInfo>,
    /// IPPools.
    pub ip_pools: BTreeMap<String, IpPool>,
    /// Block affinities (of any node; the plan takes its node's).
    pub block_affinities: BTreeMap<String, BlockAffinity>,
    /// Services by `namespace/name`.
    pub services: BTreeMap<String, Service>,
    /// Endpoints by `namespace/name` (of the service).
    pub endpoints: BTreeMap<String, Endpoints>,
    /// EndpointSlices by `namespace/name` (of the slice).
    pub endpoint_slices: BTreeMap<String, EndpointSlice>,
    /// Where each `Kind/name` came from (for duplicate errors).
    pub origins: BTreeMap<String, Origin>,
    /// Local workloads selected for BGP peering, from Felix's endpoint
    /// status files, by file name.
    pub local_workloads: BTreeMap<String, LocalWorkload>,
}

/// A workload that Felix selected for local BGP peering: one endpoint
/// status file (`/var/run/calico/endpoint-status/<file>`, JSON with
/// `ifaceName`, `mac`, `ipv4Nets`, `ipv6Nets`, `bgpPeerName`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalWorkload {
    /// The workload's interface.
    #[serde(default)]
    pub iface_name: String,
    /// Its addresses (the first of each family peers).
    #[serde(default, deserialize_with = "common::nullable")]
    pub ipv4_nets: Vec<String>,
    /// Its IPv6 addresses.
    #[serde(default, deserialize_with = "common::nullable")]
    pub ipv6_nets: Vec<String>,
    /// The BGPPeer whose `localWorkloadSelector` selected it (empty: none).
    #[serde(default)]
    pub bgp_peer_name: String,
}

impl LocalWorkload {
    /// The first address of a family, as confd takes it.
    pub fn address(&self, v4: bool) -> Option<std::net::IpAddr> {
        let nets = if v4 { &self.ipv4_nets } else { &self.ipv6_nets };
        let first = nets.first()?;
        let a = node::parse_address(first).ok()?.0;
        (a.is_ipv4() == v4).then_some(a)
    }
}

/// One resource, typed.
#[derive(Debug, Clone)]
pub enum Resource {
    /// A BGPConfiguration.
    BgpConfiguration(BgpConfiguration),
    /// A BGPPeer.
    BgpPeer(BgpPeer),
    /// A BGPFilter.
    BgpFilter(BgpFilter),
    /// A node, from either form.
    Node(NodeInfo),
    /// An IPPool.
    IpPool(IpPool),
    /// A BlockAffinity.
    BlockAffinity(BlockAffinity),
    /// A Service.
    Service(Service),
    /// An Endpoints.
    Endpoints(Endpoints),
    /// An EndpointSlice.
    EndpointSlice(EndpointSlice),
}

impl Resource {
    /// `Kind/name` (`namespace/name` for namespaced objects).
    pub fn id(&self) -> String {
        let ns = |m: &ObjectMeta| match &m.namespace {
            Some(n) => format!("{n}/{}", m.name),
            None => m.name.clone(),
        };
        match self {
            Resource::BgpConfiguration(r) => format!("BGPConfiguration/{}", r.metadata.name),
            Resource::BgpPeer(r) => format!("BGPPeer/{}", r.metadata.name),
            Resource::BgpFilter(r) => format!("BGPFilter/{}", r.metadata.name),
            Resource::Node(r) => format!("Node/{}", r.name),
            Resource::IpPool(r) => format!("IPPool/{}", r.metadata.name),
            Resource::BlockAffinity(r) => format!("BlockAffinity/{}", r.metadata.name),
            Resource::Service(r) => format!("Service/{}", ns(&r.metadata)),
            Resource::Endpoints(r) => format!("Endpoints/{}", ns(&r.metadata)),
            Resource::EndpointSlice(r) => format!("EndpointSlice/{}", ns(&r.metadata)),
        }
    }
}

/// What a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KindOf {
    BgpConfiguration,
    BgpPeer,
    BgpFilter,
    CalicoNode,
    KubernetesNode,
    IpPool,
    BlockAffinity,
    Service,
    Endpoints,
    EndpointSlice,
}

fn classify(api_version: &str, kind: &str) -> Option<KindOf> {
    let calico = matches!(
        api_version,
        "projectcalico.org/v3" | "crd.projectcalico.org/v1"
    );
    Some(match (api_version, kind) {
        (_, "BGPConfiguration") if calico => KindOf::BgpConfiguration,
        (_, "BGPPeer") if calico => KindOf::BgpPeer,
        (_, "BGPFilter") if calico => KindOf::BgpFilter,
        (_, "IPPool") if calico => KindOf::IpPool,
        (_, "BlockAffinity") if calico => KindOf::BlockAffinity,
        ("projectcalico.org/v3", "Node") => KindOf::CalicoNode,
        ("v1", "Node") => KindOf::KubernetesNode,
        ("v1", "Service") => KindOf::Service,
        ("v1", "Endpoints") => KindOf::Endpoints,
        ("discovery.k8s.io/v1", "EndpointSlice") => KindOf::EndpointSlice,
        _ => return None,
    })
}

/// Unknown fields that are worth a warning: under `spec` of Calico kinds
/// (under `spec.bgp` for a Calico Node); none for Kubernetes objects.
fn reportable(kind: KindOf, path: &str) -> bool {
    match kind {
        KindOf::CalicoNode => path.starts_with("spec.bgp."),
        KindOf::BgpConfiguration
        | KindOf::BgpPeer
        | KindOf::BgpFilter
        | KindOf::IpPool
        | KindOf::BlockAffinity => path.starts_with("spec."),
        _ => false,
    }
}

fn typed<T: for<'de> Deserialize<'de>>(
    value: serde_norway::Value,
    kind: KindOf,
    unknown: &mut Vec<String>,
) -> Result<T, (Option<String>, String)> {
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(value, &mut track);
    let r = serde_ignored::deserialize(de, |p| {
        // serde_ignored writes `?` for the inside of an Option.
        let p: Vec<String> = p
            .to_string()
            .split('.')
            .filter(|s| *s != "?")
            .map(String::from)
            .collect();
        let p = p.join(".");
        if reportable(kind, &p) {
            unknown.push(p);
        }
    });
    r.map_err(|e: serde_norway::Error| {
        let path = track.path().to_string();
        let field = (path != ".").then_some(path);
        (field, e.to_string())
    })
}

fn str_field<'a>(v: &'a serde_norway::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(serde_norway::Value::as_str)
}

fn resource_of(
    value: serde_norway::Value,
    api_version: &str,
    kind_name: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<Resource>, (Option<String>, String)> {
    let Some(kind) = classify(api_version, kind_name) else {
        warnings.push(format!(
            "kind {kind_name:?} of apiVersion {api_version:?} is not used by BGP: skipped"
        ));
        return Ok(None);
    };
    let mut unknown = Vec::new();
    let with = |errs: Vec<FieldError>| -> Result<(), (Option<String>, String)> {
        match errs.into_iter().next() {
            None => Ok(()),
            Some(e) => Err((Some(e.field), e.message)),
        }
    };
    let r = match kind {
        KindOf::BgpConfiguration => {
            let r: BgpConfiguration = typed(value, kind, &mut unknown)?;
            with(r.validate())?;
            Resource::BgpConfiguration(r)
        }
        KindOf::BgpPeer => {
            let r: BgpPeer = typed(value, kind, &mut unknown)?;
            with(r.validate())?;
            Resource::BgpPeer(r)
        }
        KindOf::BgpFilter => {
            let r: BgpFilter = typed(value, kind, &mut unknown)?;
            with(r.validate())?;
            Resource::BgpFilter(r)
        }
        KindOf::CalicoNode => {
            let r: node::CalicoNode = typed(value, kind, &mut unknown)?;
            Resource::Node(r.info().map_err(|e| {
                let e = e.into_iter().next();
                (
                    e.as_ref().map(|e| e.field.clone()),
                    e.map(|e| e.message).unwrap_or_default(),
                )
            })?)
        }
        KindOf::KubernetesNode => {
            let r: node::KubernetesNode = typed(value, kind, &mut unknown)?;
            Resource::Node(r.info().map_err(|e| {
                let e = e.into_iter().next();
                (
                    e.as_ref().map(|e| e.field.clone()),
                    e.map(|e| e.message).unwrap_or_default(),
                )
            })?)
        }
        KindOf::IpPool => {
            let r: IpPool = typed(value, kind, &mut unknown)?;
            with(r.validate())?;
            Resource::IpPool(r)
        }
        KindOf::BlockAffinity => {
            let r: BlockAffinity = typed(value, kind, &mut unknown)?;
            with(r.validate())?;
            Resource::BlockAffinity(r)
        }
        KindOf::Service => Resource::Service(typed(value, kind, &mut unknown)?),
        KindOf::Endpoints => Resource::Endpoints(typed(value, kind, &mut unknown)?),
        KindOf::EndpointSlice => Resource::EndpointSlice(typed(value, kind, &mut unknown)?),
    };
    for u in unknown {
        warnings.push(format!("unknown field {u} ignored"));
    }
    Ok(Some(r))
}

/// The resources of a file, with where each came from, and the warnings.
pub type Parsed = (Vec<(Resource, Origin)>, Vec<LoadWarning>);

/// Reads the resources of one file's text. `file` is only for the errors.
pub fn parse_documents(file: &Path, text: &str) -> Result<Parsed, LoadError> {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (i, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
        let document = i + 1;
        let err = |resource: Option<String>, field: Option<String>, message: String| LoadError {
            file: file.to_path_buf(),
            document,
            resource,
            field,
            message,
        };
        let value = serde_norway::Value::deserialize(doc)
            .map_err(|e| err(None, None, format!("not YAML: {e}")))?;
        if value.is_null() {
            continue;
        }
        if !value.is_mapping() {
            return Err(err(None, None, "a document must be a mapping".into()));
        }
        let api = str_field(&value, "apiVersion").unwrap_or("").to_string();
        let kind = str_field(&value, "kind").unwrap_or("").to_string();
        if kind.is_empty() {
            return Err(err(None, Some("kind".into()), "missing".into()));
        }
        let items: Vec<(serde_norway::Value, Option<usize>)> = if kind.ends_with("List") {
            match value.get("items") {
                None | Some(serde_norway::Value::Null) => Vec::new(),
                Some(serde_norway::Value::Sequence(s)) => s
                    .iter()
                    .cloned()
                    .enumerate()
                    .map(|(j, v)| (v, Some(j)))
                    .collect(),
                Some(_) => return Err(err(None, Some("items".into()), "not a list".into())),
            }
        } else {
            vec![(value, None)]
        };
        for (item, index) in items {
            let prefix = index.map(|j| format!("items[{j}].")).unwrap_or_default();
            let item_api = str_field(&item, "apiVersion").unwrap_or(&api).to_string();
            let item_kind = str_field(&item, "kind").unwrap_or("").to_string();
            let item_kind = if item_kind.is_empty() && index.is_some() {
                kind.trim_end_matches("List").to_string()
            } else {
                item_kind
            };
            let name = item
                .get("metadata")
                .and_then(|m| str_field(m, "name"))
                .unwrap_or("")
                .to_string();
            let rid = Some(format!("{item_kind}/{name}"));
            if name.is_empty() {
                return Err(err(
                    rid,
                    Some(format!("{prefix}metadata.name")),
                    "missing".into(),
                ));
            }
            let mut w = Vec::new();
            match resource_of(item, &item_api, &item_kind, &mut w) {
                Ok(Some(r)) => out.push((
                    r,
                    Origin {
                        file: file.to_path_buf(),
                        document,
                    },
                )),
                Ok(None) => {}
                Err((field, message)) => {
                    return Err(err(rid, field.map(|f| format!("{prefix}{f}")), message));
                }
            }
            warnings.extend(w.into_iter().map(|message| LoadWarning {
                file: file.to_path_buf(),
                document,
                resource: rid.clone(),
                message,
            }));
        }
    }
    Ok((out, warnings))
}

impl ResourceSet {
    /// Adds a resource; a second one with the same `Kind/name` is an error.
    pub fn insert(&mut self, r: Resource, origin: Origin) -> Result<(), LoadError> {
        let id = r.id();
        if let Some(first) = self.origins.get(&id) {
            return Err(LoadError {
                file: origin.file,
                document: origin.document,
                resource: Some(id),
                field: Some("metadata.name".into()),
                message: format!(
                    "defined twice (first in {} document {})",
                    first.file.display(),
                    first.document
                ),
            });
        }
        let key = |m: &ObjectMeta| match &m.namespace {
            Some(n) => format!("{n}/{}", m.name),
            None => format!("default/{}", m.name),
        };
        match r {
            Resource::BgpConfiguration(x) => {
                self.bgp_configurations.insert(x.metadata.name.clone(), x);
            }
            Resource::BgpPeer(x) => {
                self.bgp_peers.insert(x.metadata.name.clone(), x);
            }
            Resource::BgpFilter(x) => {
                self.bgp_filters.insert(x.metadata.name.clone(), x);
            }
            Resource::Node(x) => {
                self.nodes.insert(x.name.clone(), x);
            }
            Resource::IpPool(x) => {
                self.ip_pools.insert(x.metadata.name.clone(), x);
            }
            Resource::BlockAffinity(x) => {
                self.block_affinities.insert(x.metadata.name.clone(), x);
            }
            Resource::Service(x) => {
                self.services.insert(key(&x.metadata), x);
            }
            Resource::Endpoints(x) => {
                self.endpoints.insert(key(&x.metadata), x);
            }
            Resource::EndpointSlice(x) => {
                self.endpoint_slices.insert(key(&x.metadata), x);
            }
        }
        self.origins.insert(id, origin);
        Ok(())
    }

    /// Reads the resources of a text (all documents) into a new set.
    pub fn from_yaml(
        file: &Path,
        text: &str,
    ) -> Result<(ResourceSet, Vec<LoadWarning>), LoadError> {
        let mut set = ResourceSet::default();
        let (rs, w) = parse_documents(file, text)?;
        for (r, o) in rs {
            set.insert(r, o)?;
        }
        Ok((set, w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<(ResourceSet, Vec<LoadWarning>), LoadError> {
        ResourceSet::from_yaml(Path::new("t.yaml"), text)
    }

    #[test]
    fn forms() {
        let (set, w) = load(
            r#"
apiVersion: projectcalico.org/v3
kind: BGPPeerList
items:
- apiVersion: projectcalico.org/v3
  kind: BGPPeer
  metadata: {name: a, resourceVersion: "12"}
  spec: {peerIP: 192.0.2.1, asNumber: 64512}
- metadata: {name: b}
  spec: {peerIP: "[2001:db8::1]:180", asNumber: "1.10"}
---
apiVersion: v1
kind: List
items:
- apiVersion: crd.projectcalico.org/v1
  kind: IPPool
  metadata:
    name: p
    annotations: {projectcalico.org/metadata: '{"creationTimestamp":null}'}
  spec: {cidr: 10.0.0.0/16, ipipMode: Always, blockSize: 26}
- apiVersion: v1
  kind: Node
  metadata:
    name: n1
    labels: {zone: a}
    annotations:
      projectcalico.org/IPv4Address: 192.0.2.10/24
      projectcalico.org/ASNumber: "64513"
      projectcalico.org/labels: '{"zone":"b","rack":"1"}'
  spec: {podCIDR: 10.0.0.0/24}
  status: {capacity: {cpu: "2"}}
---
---
apiVersion: crd.projectcalico.org/v1
kind: BlockAffinity
metadata: {name: n1-10-0-0-0-26}
spec: {state: confirmed, node: n1, cidr: 10.0.0.0/26, deleted: "false"}
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec: {}
"#,
        )
        .unwrap();
        assert_eq!(set.bgp_peers.len(), 2);
        assert_eq!(set.bgp_peers["b"].spec.as_number, Some(AsNumber(65546)));
        assert_eq!(
            set.ip_pools["p"].spec.cidr,
            Some("10.0.0.0/16".parse().unwrap())
        );
        let n = &set.nodes["n1"];
        assert_eq!(n.as_number, Some(64513));
        assert_eq!(n.labels["zone"], "a");
        assert_eq!(n.labels["rack"], "1");
        assert_eq!(n.ipv4.unwrap().0.to_string(), "192.0.2.10");
        assert_eq!(set.block_affinities.len(), 1);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].message.contains("FelixConfiguration"));
    }

    #[test]
    fn errors_name_the_place() {
        let e = load(
            "kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: x}\nspec: {peerIP: 192.0.2.1, asNumber: 70000000000}\n",
        )
        .unwrap_err();
        assert_eq!(e.resource.as_deref(), Some("BGPPeer/x"));
        assert_eq!(e.field.as_deref(), Some("spec.asNumber"));
        let e = load(
            "kind: BGPPeerList\napiVersion: projectcalico.org/v3\nitems:\n- metadata: {name: x}\n  spec: {peerIP: 192.0.2.300}\n",
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("items[0].spec.peerIP"));
        assert_eq!(e.document, 1);
        let e = load(
            "kind: BGPFilter\napiVersion: projectcalico.org/v3\nmetadata: {name: f}\nspec:\n  exportV4:\n  - action: Accept\n    cidr: 10.0.0.0/8\n",
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("spec.exportV4[0].matchOperator"));
        let e = load("kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata: {name: p}\nspec: {cidr: nope}\n")
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("spec.cidr"));
        assert_eq!(
            e.to_string().split(": ").take(4).collect::<Vec<_>>(),
            ["t.yaml", "document 1", "IPPool/p", "field spec.cidr"]
        );
        let e = load("kind: IPPool\napiVersion: projectcalico.org/v3\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/8}\n---\nkind: IPPool\napiVersion: projectcalico.org/v3\nmetadata: {name: p}\nspec: {cidr: 10.1.0.0/16}\n")
            .unwrap_err();
        assert_eq!(e.document, 2);
        assert!(e.message.contains("defined twice"));
    }

    #[test]
    fn unknown_spec_fields_warn() {
        let (_, w) = load(
            "kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: x, uid: u}\nspec: {peerIP: 192.0.2.1, asNumber: 1, bfdEnabled: true}\n",
        )
        .unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].message, "unknown field spec.bfdEnabled ignored");
    }
}
