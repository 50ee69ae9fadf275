//! Name and value rules: lab and node names, kernel interface names, node
//! kinds, MAC addresses and VLAN numbers. Pure checks that say what is
//! wrong; callers add the location and the thing being named.

use serde_saphyr::Spanned;

use super::{fail, Located};
use crate::lab::{NodeKind, IFNAME_MAX};

/// Longest lab or node name.
const NAME_MAX: usize = 32;

/// Check a kernel interface name; the error completes "interface name ...".
pub(super) fn check_ifname(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name.len() > IFNAME_MAX {
        return Err(format!(
            "`{name}` is {} bytes, longer than the {IFNAME_MAX} bytes Linux allows",
            name.len()
        ));
    }
    if name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        return Err(format!("`{name}` may not contain `/`, `:` or whitespace"));
    }
    if matches!(name, "lo" | "." | "..") {
        return Err(format!("`{name}` is reserved"));
    }
    Ok(())
}

/// Lab and node names: `[A-Za-z0-9_-]{1,32}`.
pub(super) fn check_name(name: &Spanned<String>, what: &str) -> Result<(), Located> {
    let n = &name.value;
    let ok = !n.is_empty()
        && n.len() <= NAME_MAX
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        fail(
            name.referenced,
            format!(
                "{what} name `{n}` is invalid: use 1 to {NAME_MAX} letters, digits, `_` or `-`"
            ),
        )
    }
}

pub(super) fn parse_kind(node: &str, kind: &Spanned<String>) -> Result<NodeKind, Located> {
    Ok(match kind.value.as_str() {
        "host" => NodeKind::Host,
        "router" => NodeKind::Router,
        "bridge" => NodeKind::Bridge,
        "tap" => NodeKind::Tap,
        "tun" => NodeKind::Tun,
        "switch" => NodeKind::Switch,
        other => {
            return fail(
                kind.referenced,
                format!(
                    "node {node}: unknown kind `{other}` (expected host, router, bridge, switch, \
                     tap or tun)"
                ),
            )
        }
    })
}

/// `02:00:00:00:00:01` (or with `-`); a unicast address.
pub(super) fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    let mut mac = [0u8; 6];
    let ok = parts.len() == 6
        && parts
            .iter()
            .zip(mac.iter_mut())
            .all(|(p, b)| p.len() == 2 && u8::from_str_radix(p, 16).map(|v| *b = v).is_ok());
    if !ok {
        return Err("is not a MAC address like 02:00:00:00:00:01".into());
    }
    if mac[0] & 1 != 0 {
        return Err("is a multicast address; an interface needs a unicast one".into());
    }
    Ok(mac)
}

pub(super) fn kind_word(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Host => "host",
        NodeKind::Router => "router",
        NodeKind::Bridge => "bridge",
        NodeKind::Tap => "tap",
        NodeKind::Tun => "tun",
        NodeKind::Switch => "switch",
    }
}

/// Lowest and highest usable VLAN ID (0 means "no VLAN" in a tag and 4095
/// is reserved).
const VID_MIN: i64 = 1;
const VID_MAX: i64 = 4094;

/// A VLAN ID: 1 to 4094.
pub(super) fn parse_vid(v: i64) -> Result<u16, String> {
    if (VID_MIN..=VID_MAX).contains(&v) {
        Ok(v as u16)
    } else {
        Err(format!(
            "VLAN {v} is out of range: VLAN IDs are {VID_MIN} to {VID_MAX}"
        ))
    }
}
