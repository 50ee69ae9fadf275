//! The lab file as written: serde types that mirror the YAML one to one, with
//! source locations (`Spanned`) on every value a later check may complain
//! about. Nothing here validates meaning; `resolve`, `addressing` and `routes`
//! do. Unknown keys are rejected here (`deny_unknown_fields`), duplicate keys
//! by the YAML parser itself.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::{Location, Spanned};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLab {
    pub name: Spanned<String>,
    #[serde(default)]
    pub addressing: Option<Spanned<RawAddressing>>,
    #[serde(default)]
    pub routes: Option<Spanned<String>>,
    pub nodes: Spanned<OrderedMap<Spanned<String>, Spanned<Option<RawNode>>>>,
    #[serde(default)]
    pub links: Option<Vec<Spanned<RawLink>>>,
}

/// `addressing:` — the pools automatic addresses come from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAddressing {
    #[serde(default)]
    pub ipv4: Option<Spanned<String>>,
    #[serde(default)]
    pub ipv4_prefix: Option<Spanned<u8>>,
    #[serde(default)]
    pub ipv6: Option<Spanned<String>>,
}

/// One entry of `nodes:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNode {
    pub kind: Spanned<String>,
    #[serde(default)]
    pub exec: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub routes: Option<Spanned<Vec<Spanned<RawRoute>>>>,
    #[serde(default)]
    pub owner: Option<Spanned<u32>>,
    #[serde(default)]
    pub group: Option<Spanned<u32>>,
    #[serde(default)]
    pub flows: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub groups: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub meters: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub openflow: Option<Spanned<RawOpenFlow>>,
}

/// A switch's `openflow:` settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOpenFlow {
    #[serde(default)]
    pub listen: Option<Spanned<String>>,
    #[serde(default)]
    pub controllers: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub fail_mode: Option<Spanned<String>>,
}

/// One entry of a node's `routes:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub dst: Spanned<String>,
    #[serde(default)]
    pub via: Option<Spanned<String>>,
    #[serde(default)]
    pub dev: Option<Spanned<String>>,
    #[serde(default)]
    pub metric: Option<Spanned<u32>>,
}

/// One entry of `links:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLink {
    pub endpoints: Spanned<Vec<Spanned<RawEndpoint>>>,
    #[serde(default)]
    pub mtu: Option<Spanned<u32>>,
    /// VLAN options for the switch end(s) of the link (see [`RawVlan`]).
    #[serde(default)]
    pub vlan: Option<Spanned<i64>>,
    #[serde(default)]
    pub trunk: Option<Spanned<Vec<Spanned<i64>>>>,
    #[serde(default)]
    pub native: Option<Spanned<i64>>,
}

/// `vlan`, `trunk` and `native`: a switch port's VLAN mode, on a link (for
/// its switch ends) or on one endpoint. VLAN numbers are read as `i64` so
/// that an out-of-range number gets a located range error, not a type error.
#[derive(Debug, Default)]
pub(super) struct RawVlan {
    pub vlan: Option<Spanned<i64>>,
    pub trunk: Option<Spanned<Vec<Spanned<i64>>>>,
    pub native: Option<Spanned<i64>>,
}

impl RawVlan {
    /// The first VLAN option written (in file order): its key and place.
    pub fn first(&self) -> Option<(&'static str, Location)> {
        [
            self.vlan.as_ref().map(|v| ("vlan", v.referenced)),
            self.trunk.as_ref().map(|t| ("trunk", t.referenced)),
            self.native.as_ref().map(|n| ("native", n.referenced)),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|(_, l)| (l.line(), l.column()))
    }
}

impl RawLink {
    /// Take the link-level VLAN options out.
    pub fn take_vlan(&mut self) -> RawVlan {
        RawVlan {
            vlan: self.vlan.take(),
            trunk: self.trunk.take(),
            native: self.native.take(),
        }
    }
}

impl RawEndpointMap {
    /// Take this end's VLAN options out.
    pub fn take_vlan(&mut self) -> RawVlan {
        RawVlan {
            vlan: self.vlan.take(),
            trunk: self.trunk.take(),
            native: self.native.take(),
        }
    }
}

/// A link end: `node`, `node:iface`, or a mapping with options.
#[derive(Debug)]
pub(super) enum RawEndpoint {
    Short(String),
    Full(Box<RawEndpointMap>),
}

/// The mapping form of a link end.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEndpointMap {
    pub node: Spanned<String>,
    #[serde(default)]
    pub iface: Option<Spanned<String>>,
    #[serde(default)]
    pub addresses: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub mac: Option<Spanned<String>>,
    /// VLAN options for this end, which must be a switch port.
    #[serde(default)]
    pub vlan: Option<Spanned<i64>>,
    #[serde(default)]
    pub trunk: Option<Spanned<Vec<Spanned<i64>>>>,
    #[serde(default)]
    pub native: Option<Spanned<i64>>,
}

impl<'de> Deserialize<'de> for RawEndpoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EndpointVisitor;

        impl<'de> Visitor<'de> for EndpointVisitor {
            type Value = RawEndpoint;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`node`, `node:iface` or a mapping {node, iface, addresses, mac, vlan, trunk, native}")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawEndpoint, E> {
                Ok(RawEndpoint::Short(v.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawEndpoint, A::Error> {
                RawEndpointMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|m| RawEndpoint::Full(Box::new(m)))
            }
        }

        deserializer.deserialize_any(EndpointVisitor)
    }
}

/// A YAML mapping read as a list of entries in file order (serde maps lose
/// order; node order matters for addressing and tie-breaking).
#[derive(Debug)]
pub(super) struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<(K, V)>);

        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for MapVisitor<K, V> {
            type Value = OrderedMap<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}
