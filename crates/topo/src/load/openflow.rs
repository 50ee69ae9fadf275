//! A switch's `openflow:` settings: the passive listener
//! (`ptcp:PORT[:ADDR]`), the controllers to connect to
//! (`tcp:HOST[:PORT]`) and the fail mode, checked for syntax and
//! duplicates here and kept as written (the switch daemon resolves host
//! names when it connects).

use std::collections::HashSet;
use std::net::IpAddr;

use serde_saphyr::Spanned;

use super::model::RawOpenFlow;
use super::{fail, Located};
use crate::lab::{FailMode, OpenFlow};

/// The OpenFlow port IANA assigned, the default of `tcp:HOST`.
const DEFAULT_PORT: u16 = 6653;

/// Check a switch's `openflow:` block.
pub(super) fn check(node: &str, raw: RawOpenFlow) -> Result<OpenFlow, Located> {
    let mut of = OpenFlow::default();
    if let Some(l) = raw.listen {
        check_listen(&l.value)
            .or_else(|e| fail(l.referenced, format!("node `{node}`: `listen`: {e}")))?;
        of.listen.push(l.value);
    }
    if let Some(list) = raw.controllers {
        let mut seen = HashSet::new();
        for c in list.value {
            let key = check_controller(&c.value)
                .or_else(|e| fail(c.referenced, format!("node `{node}`: controller: {e}")))?;
            if !seen.insert(key) {
                return fail(
                    c.referenced,
                    format!("node `{node}`: controller `{}` is listed twice", c.value),
                );
            }
            of.controllers.push(c.value);
        }
    }
    if let Some(m) = raw.fail_mode {
        of.fail_mode = parse_fail_mode(&m)?;
    }
    Ok(of)
}

fn parse_fail_mode(m: &Spanned<String>) -> Result<FailMode, Located> {
    match m.value.as_str() {
        "standalone" => Ok(FailMode::Standalone),
        "secure" => Ok(FailMode::Secure),
        other => fail(
            m.referenced,
            format!("`fail_mode`: `{other}` is not a fail mode (standalone or secure)"),
        ),
    }
}

/// `ptcp:PORT[:ADDR]`, ADDR an IP address (IPv6 in brackets).
fn check_listen(s: &str) -> Result<(), String> {
    let rest = s
        .strip_prefix("ptcp:")
        .ok_or_else(|| format!("`{s}` is not a listener; expected `ptcp:PORT[:ADDR]`"))?;
    let (port, addr) = match rest.split_once(':') {
        Some((p, a)) => (p, Some(a)),
        None => (rest, None),
    };
    parse_port(port, true).map_err(|e| format!("`{s}`: {e}"))?;
    if let Some(a) = addr {
        let bare = a
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(a);
        bare.parse::<IpAddr>()
            .map_err(|_| format!("`{s}`: `{a}` is not an IP address"))?;
    }
    Ok(())
}

/// `tcp:HOST[:PORT]`; returns (host, port) to find duplicates.
fn check_controller(s: &str) -> Result<(String, u16), String> {
    let rest = s
        .strip_prefix("tcp:")
        .ok_or_else(|| format!("`{s}` is not a controller; expected `tcp:HOST[:PORT]`"))?;
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("`{s}`: unclosed `[` in the address"))?;
        h.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("`{s}`: `{h}` is not an IPv6 address"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("`{s}`: expected `:PORT` after the address")),
        };
        (h.to_string(), port)
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (rest.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(format!("`{s}`: the host is missing"));
    }
    let hostname_ok = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    if !hostname_ok {
        return Err(format!("`{s}`: `{host}` is not a host name or IP address"));
    }
    let port = match port {
        Some(p) => parse_port(p, false).map_err(|e| format!("`{s}`: {e}"))?,
        None => DEFAULT_PORT,
    };
    Ok((host, port))
}

fn parse_port(p: &str, zero_ok: bool) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(0) if !zero_ok => Err("port 0 cannot be connected to".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{p}` is not a port number (0 to 65535)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners() {
        assert!(check_listen("ptcp:6653").is_ok());
        assert!(check_listen("ptcp:0").is_ok());
        assert!(check_listen("ptcp:6653:127.0.0.1").is_ok());
        assert!(check_listen("ptcp:6653:[::1]").is_ok());
        assert!(check_listen("tcp:6653").is_err());
        assert!(check_listen("ptcp:70000").is_err());
        assert!(check_listen("ptcp:x").is_err());
        assert!(check_listen("ptcp:1:localhost").is_err());
    }

    fn load(openflow: &str) -> Result<OpenFlow, String> {
        let text = format!(
            "name: t\nnodes:\n  sw1:\n    kind: switch\n    openflow: {openflow}\n  h1: {{ kind: host }}\nlinks:\n  - endpoints: [h1, sw1]\n"
        );
        crate::load::load_str(&text, "t.yaml")
            .map(|lab| lab.node("sw1").unwrap().openflow.clone().unwrap())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_lab_file_block() {
        let of = load(
            r#"{ listen: "ptcp:6653", controllers: ["tcp:127.0.0.1:6633", "tcp:c2"], fail_mode: secure }"#,
        )
        .unwrap();
        assert_eq!(of.listen, ["ptcp:6653"]);
        assert_eq!(of.controllers, ["tcp:127.0.0.1:6633", "tcp:c2"]);
        assert_eq!(of.fail_mode, FailMode::Secure);
        assert_eq!(load("{}").unwrap(), OpenFlow::default());
        // Errors are located at the value.
        let e = load(r#"{ listen: "tcp:1" }"#).unwrap_err();
        assert!(e.starts_with("t.yaml:5:25: node `sw1`: `listen`"), "{e}");
        let e = load(r#"{ controllers: ["tcp:a:1", "tcp:a:1"] }"#).unwrap_err();
        assert!(e.contains(":5:42:") && e.contains("listed twice"), "{e}");
        let e = load("{ fail_mode: open }").unwrap_err();
        assert!(
            e.contains(":5:28:") && e.contains("standalone or secure"),
            "{e}"
        );
        let e = load("{ listn: x }").unwrap_err();
        assert!(e.contains("listn"), "{e}");
        let text = "name: t\nnodes:\n  h1: { kind: host, openflow: {} }\n";
        let e = crate::load::load_str(text, "t.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("applies only to switch nodes"), "{e}");
    }

    #[test]
    fn controllers() {
        assert_eq!(
            check_controller("tcp:127.0.0.1:6633").unwrap(),
            ("127.0.0.1".into(), 6633)
        );
        assert_eq!(
            check_controller("tcp:ctl.example").unwrap(),
            ("ctl.example".into(), 6653)
        );
        assert_eq!(check_controller("tcp:[::1]:7").unwrap(), ("::1".into(), 7));
        assert!(check_controller("ptcp:6653").is_err());
        assert!(check_controller("tcp::6653").is_err());
        assert!(check_controller("tcp:h:0").is_err());
        assert!(check_controller("tcp:a b:1").is_err());
        assert!(check_controller("tcp:[::1").is_err());
    }
}
