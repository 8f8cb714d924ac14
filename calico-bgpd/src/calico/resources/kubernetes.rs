//! The Kubernetes objects that service advertisement reads: `v1/Service`,
//! `v1/Endpoints` and `discovery.k8s.io/v1/EndpointSlice`, as `kubectl get
//! -o yaml` prints them (only the fields used are read).

use serde::Deserialize;

use super::common::nullable;

/// A `v1/Service`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Service {
    /// `metadata` (name and namespace).
    #[serde(default)]
    pub metadata: super::ObjectMeta,
    /// `spec`.
    #[serde(default, deserialize_with = "nullable")]
    pub spec: ServiceSpec,
    /// `status`.
    #[serde(default, deserialize_with = "nullable")]
    pub status: ServiceStatus,
}

/// `spec` of a Service.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The cluster IP (`None` for headless services).
    #[serde(default, rename = "clusterIP")]
    pub cluster_ip: Option<String>,
    /// External IPs.
    #[serde(default, rename = "externalIPs", deserialize_with = "nullable")]
    pub external_ips: Vec<String>,
    /// `Cluster` or `Local`.
    #[serde(default)]
    pub external_traffic_policy: Option<String>,
    /// Requested LB address (deprecated field).
    #[serde(default, rename = "loadBalancerIP")]
    pub load_balancer_ip: Option<String>,
}

/// `status` of a Service.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    /// `status.loadBalancer`.
    #[serde(default, deserialize_with = "nullable")]
    pub load_balancer: LoadBalancerStatus,
}

/// `status.loadBalancer`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct LoadBalancerStatus {
    /// `ingress[].ip`.
    #[serde(default, deserialize_with = "nullable")]
    pub ingress: Vec<LoadBalancerIngress>,
}

/// One `ingress` entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct LoadBalancerIngress {
    /// The address.
    #[serde(default)]
    pub ip: Option<String>,
}

/// A `v1/Endpoints`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Endpoints {
    /// `metadata`: the service's name and namespace.
    #[serde(default)]
    pub metadata: super::ObjectMeta,
    /// `subsets`.
    #[serde(default, deserialize_with = "nullable")]
    pub subsets: Vec<EndpointSubset>,
}

/// One subset.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSubset {
    /// Ready addresses.
    #[serde(default, deserialize_with = "nullable")]
    pub addresses: Vec<EndpointAddress>,
    /// Not-ready addresses (not used).
    #[serde(default, deserialize_with = "nullable")]
    pub not_ready_addresses: Vec<EndpointAddress>,
    /// Ports (not used).
    #[serde(default, deserialize_with = "nullable")]
    pub ports: Vec<serde::de::IgnoredAny>,
}

/// One address.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointAddress {
    /// The endpoint's address.
    #[serde(default)]
    pub ip: String,
    /// The node it runs on.
    #[serde(default)]
    pub node_name: Option<String>,
}

/// A `discovery.k8s.io/v1/EndpointSlice`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSlice {
    /// `metadata`: the service is the `kubernetes.io/service-name` label.
    #[serde(default)]
    pub metadata: super::ObjectMeta,
    /// `IPv4`, `IPv6`, `FQDN`.
    #[serde(default)]
    pub address_type: Option<String>,
    /// The endpoints.
    #[serde(default, deserialize_with = "nullable")]
    pub endpoints: Vec<SliceEndpoint>,
    /// Ports (not used).
    #[serde(default, deserialize_with = "nullable")]
    pub ports: Vec<serde::de::IgnoredAny>,
}

/// One endpoint of a slice.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SliceEndpoint {
    /// Its addresses.
    #[serde(default, deserialize_with = "nullable")]
    pub addresses: Vec<String>,
    /// The node it runs on.
    #[serde(default)]
    pub node_name: Option<String>,
    /// `conditions.ready` (a missing value counts as ready).
    #[serde(default, deserialize_with = "nullable")]
    pub conditions: SliceConditions,
}

/// `conditions` of a slice endpoint.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SliceConditions {
    /// Ready.
    #[serde(default)]
    pub ready: Option<bool>,
}

/// The label of an EndpointSlice that names its service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
