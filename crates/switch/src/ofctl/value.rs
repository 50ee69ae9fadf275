//! Values in ovs-ofctl syntax: integers as C's `strtoull(s, 0)` reads them
//! (`0x` hex, leading-`0` octal, decimal), `value/mask` pairs, Ethernet
//! addresses, IPv4/IPv6 addresses with a prefix length or a mask, and port
//! numbers or names. Errors are the reason only; the caller adds the place.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::flow::PortNo;

/// An unsigned integer, base chosen by prefix like `strtoull(s, NULL, 0)`.
pub(super) fn uint(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16)
            .ok()
            .filter(|_| !hex.is_empty() && !hex.starts_with('+'));
    }
    if s.len() > 1 && s.starts_with('0') {
        return u64::from_str_radix(&s[1..], 8)
            .ok()
            .filter(|_| !s[1..].starts_with('+'));
    }
    s.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| s.parse().ok())
        .flatten()
}

/// An integer no larger than `max`.
pub(super) fn uint_max(s: &str, max: u64) -> Result<u64, String> {
    match uint(s) {
        Some(v) if v <= max => Ok(v),
        Some(_) => Err(format!("value {s} is out of range (at most {max})")),
        None => Err(format!("{s}: bad syntax for an integer")),
    }
}

/// `value[/mask]`, both within `max`; no mask = `max` (all bits).
pub(super) fn uint_masked(s: &str, max: u64) -> Result<(u64, u64), String> {
    match s.split_once('/') {
        Some((v, m)) => Ok((uint_max(v, max)?, uint_max(m, max)?)),
        None => Ok((uint_max(s, max)?, max)),
    }
}

/// `xx:xx:xx:xx:xx:xx`, one or two hex digits per byte.
pub(super) fn mac(s: &str) -> Result<[u8; 6], String> {
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for b in out.iter_mut() {
        let p = parts.next().unwrap_or("");
        if p.is_empty() || p.len() > 2 {
            return Err(format!("{s}: invalid Ethernet address"));
        }
        *b = u8::from_str_radix(p, 16).map_err(|_| format!("{s}: invalid Ethernet address"))?;
    }
    if parts.next().is_some() {
        return Err(format!("{s}: invalid Ethernet address"));
    }
    Ok(out)
}

/// `mac[/mac]`.
pub(super) fn mac_masked(s: &str) -> Result<([u8; 6], [u8; 6]), String> {
    match s.split_once('/') {
        Some((v, m)) => Ok((mac(v)?, mac(m)?)),
        None => Ok((mac(s)?, [0xff; 6])),
    }
}

pub(super) fn ipv4(s: &str) -> Result<u32, String> {
    s.parse::<Ipv4Addr>()
        .map(u32::from)
        .map_err(|_| format!("{s}: could not convert to IP address"))
}

/// `a.b.c.d[/N | /a.b.c.d]`.
pub(super) fn ipv4_masked(s: &str) -> Result<(u32, u32), String> {
    let Some((addr, mask)) = s.split_once('/') else {
        return Ok((ipv4(s)?, !0));
    };
    let addr = ipv4(addr)?;
    if mask.contains('.') {
        return Ok((addr, ipv4(mask)?));
    }
    match mask.parse::<u32>() {
        Ok(n) if n <= 32 => Ok((addr, if n == 0 { 0 } else { !0u32 << (32 - n) })),
        _ => Err(format!(
            "{s}: IPv4 network prefix bits not between 0 and 32, inclusive"
        )),
    }
}

pub(super) fn ipv6(s: &str) -> Result<u128, String> {
    s.parse::<Ipv6Addr>()
        .map(u128::from)
        .map_err(|_| format!("{s}: could not convert to IPv6 address"))
}

/// `addr[/N | /mask]`.
pub(super) fn ipv6_masked(s: &str) -> Result<(u128, u128), String> {
    let Some((addr, mask)) = s.split_once('/') else {
        return Ok((ipv6(s)?, !0));
    };
    let addr = ipv6(addr)?;
    if mask.contains(':') {
        return Ok((addr, ipv6(mask)?));
    }
    match mask.parse::<u32>() {
        Ok(n) if n <= 128 => Ok((addr, if n == 0 { 0 } else { !0u128 << (128 - n) })),
        _ => Err(format!(
            "{s}: IPv6 network prefix bits not between 0 and 128, inclusive"
        )),
    }
}

/// The text of a double-quoted string, unescaped (`\"`, `\\`).
pub(super) fn unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// A port: a decimal number (OpenFlow 1.0 reserved numbers 0xff00-0xffff
/// map to their 1.1+ values, as ovs-ofctl does), a reserved name in any
/// case (`LOCAL`, `in_port`, `NONE`), or a port name, plain or quoted,
/// looked up with `names`.
pub(super) fn port(s: &str, names: &dyn Fn(&str) -> Option<u32>) -> Option<PortNo> {
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
        let n: u32 = s.parse().ok()?;
        return Some(PortNo(if (0xff00..=0xffff).contains(&n) {
            n + 0xffff_0000
        } else {
            n
        }));
    }
    if let Some(p) = PortNo::from_reserved_name(s) {
        return Some(p);
    }
    if s.starts_with('"') {
        return names(&unquote(s)?).map(PortNo);
    }
    names(s).map(PortNo)
}

/// How a port name is written so that [`port`] reads it back: bare when
/// it is made of letters, digits, `-`, `_`, `.` and is neither a number
/// nor a reserved name; otherwise quoted.
pub(super) fn port_name(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c))
        && !name.bytes().all(|c| c.is_ascii_digit())
        && PortNo::from_reserved_name(name).is_none();
    if plain {
        return name.to_string();
    }
    let mut out = String::from("\"");
    for c in name.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_like_strtoull_base_0() {
        assert_eq!(uint("100"), Some(100));
        assert_eq!(uint("0x1F"), Some(31));
        assert_eq!(uint("010"), Some(8));
        assert_eq!(uint("0"), Some(0));
        assert_eq!(uint("080"), None);
        assert_eq!(uint("0x"), None);
        assert_eq!(uint("-1"), None);
        assert_eq!(uint("+1"), None);
        assert_eq!(uint("1a"), None);
        assert_eq!(uint_masked("0x400/0xfc00", 0xffff), Ok((0x400, 0xfc00)));
        assert!(uint_max("65536", 0xffff).is_err());
    }

    #[test]
    fn addresses_and_masks() {
        assert_eq!(mac("0:1:22:33:44:ff"), Ok([0, 1, 0x22, 0x33, 0x44, 0xff]));
        assert!(mac("00:11:22:33:44").is_err());
        assert!(mac("00:11:22:33:44:55:66").is_err());
        assert_eq!(ipv4_masked("10.0.0.0/24"), Ok((0x0a00_0000, 0xffff_ff00)));
        assert_eq!(ipv4_masked("10.0.0.1/0"), Ok((0x0a00_0001, 0)));
        assert_eq!(
            ipv4_masked("10.0.0.1/255.0.255.0"),
            Ok((0x0a00_0001, 0xff00_ff00))
        );
        assert!(ipv4_masked("10.0.0.1/33")
            .unwrap_err()
            .contains("between 0 and 32"));
        assert!(ipv4("1.2.3").is_err());
        assert_eq!(ipv6_masked("2001:db8::/32").map(|x| x.1), Ok(!0u128 << 96));
    }

    #[test]
    fn ports_numbers_names_and_quotes() {
        let names = |n: &str| (n == "p 1" || n == "eth0").then_some(7);
        assert_eq!(port("2", &names), Some(PortNo(2)));
        assert_eq!(port("65534", &names), Some(PortNo::LOCAL));
        assert_eq!(port("local", &names), Some(PortNo::LOCAL));
        assert_eq!(port("eth0", &names), Some(PortNo(7)));
        assert_eq!(port("\"p 1\"", &names), Some(PortNo(7)));
        assert_eq!(port("-1", &names), None);
        assert_eq!(port("", &names), None);
        assert_eq!(port_name("eth0"), "eth0");
        assert_eq!(port_name("p 1"), "\"p 1\"");
        assert_eq!(port_name("42"), "\"42\"");
        assert_eq!(port_name("local"), "\"local\"");
    }
}
