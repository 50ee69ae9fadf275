//! `vnet vswitch VERB`: standalone switches outside labs, in the words of
//! ovs-vsctl — for VMs' TAP devices and existing veth ends.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use serde_json::json;
use vnet_switch::control::Request;
use vnet_switch::datapath::VlanMode;
use vnet_topo::lab::{NodeKind, IFNAME_MAX};
use vnet_topo::state::{list_labs, read_applied, LabState};

use crate::output::{need_root, print_json};
use crate::standalone::{in_netns, ns_label, Config, VPort, VSwitch, DIR_NAME};
use crate::switchd;

/// Standalone userspace switches, outside any lab: create a switch, add
/// existing interfaces (TAP devices of VMs, veth ends) as its ports. A
/// port's interface may be in any namespace (`--netns`; by default the
/// switch's). Program and inspect a switch with the flow verbs of
/// `vnet switch`, giving `@` for the lab:
///
/// Examples:
///   vnet vswitch add-br br0                    # internal port br0 in the root namespace
///   vnet vswitch add-port br0 tap-vm1 --vlan 10
///   vnet vswitch add-port br0 veth2 --netns ns2 --trunk 10,20 --native 10
///   vnet vswitch list-ports br0
///   vnet switch @ br0 add-flow 'priority=100,ip,nw_dst=10.0.0.2,actions=drop'
///   vnet switch @ br0 dump-flows
///   vnet vswitch del-port br0 tap-vm1
///   vnet vswitch del-br br0                    # the last one stops the daemon
///
/// The switches are served by a switch daemon like a lab's, with its state
/// under /run/vnet/@switches/ (switches.json, flows-SWITCH.txt); it is
/// restarted if it dies and comes back with the same ports and flows.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(clap::Subcommand)]
enum Verb {
    /// Create a switch, with an internal port (a TAP device) named after it
    /// in its namespace.
    AddBr {
        /// Up to 15 characters of A-Z, a-z, 0-9, `_` and `-`.
        name: String,
        /// The switch's namespace (default: the root namespace): where its
        /// internal port is created, and the default namespace of its ports.
        #[arg(long)]
        netns: Option<String>,
        /// Succeed when the switch exists already.
        #[arg(long)]
        may_exist: bool,
    },
    /// Delete a switch (its ports' interfaces stay; its flows go).
    DelBr {
        name: String,
        /// Succeed when there is no such switch.
        #[arg(long)]
        if_exists: bool,
    },
    /// Print the switches.
    ListBr {
        #[arg(long)]
        json: bool,
    },
    /// Add an existing interface (TAP, veth end, ...) as a port.
    AddPort {
        /// The switch.
        name: String,
        /// The interface; its name is the port's name on the switch.
        iface: String,
        /// The interface's namespace (default: the switch's).
        #[arg(long)]
        netns: Option<String>,
        /// Access port of VLAN N (untagged frames belong to it).
        #[arg(long, value_name = "N", conflicts_with = "trunk")]
        vlan: Option<u16>,
        /// Trunk port carrying these VLANs tagged, e.g. `10,20`.
        #[arg(long, value_name = "VLANS", value_delimiter = ',')]
        trunk: Option<Vec<u16>>,
        /// With --trunk: untagged frames belong to VLAN N (and leave untagged).
        #[arg(long, value_name = "N", requires = "trunk")]
        native: Option<u16>,
        /// Succeed when the interface is a port of this switch already.
        #[arg(long)]
        may_exist: bool,
    },
    /// Remove a port (the interface stays).
    DelPort {
        /// The switch.
        name: String,
        /// The port's interface.
        iface: String,
        /// Succeed when there is no such port.
        #[arg(long)]
        if_exists: bool,
    },
    /// Print a switch's ports.
    ListPorts {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> Result<ExitCode> {
    need_root("vnet vswitch")?;
    match args.verb {
        Verb::AddBr {
            name,
            netns,
            may_exist,
        } => add_br(&name, netns, may_exist)?,
        Verb::DelBr { name, if_exists } => {
            change(
                |cfg| match cfg.switches.iter().position(|s| s.name == name) {
                    Some(i) => {
                        cfg.switches.remove(i);
                        Ok(true)
                    }
                    None if if_exists => Ok(false),
                    None => Err(no_switch(cfg, &name)),
                },
                || Ok(()),
            )?;
        }
        Verb::ListBr { json } => {
            let cfg = Config::load()?;
            if json {
                let rows: Vec<_> = cfg
                    .switches
                    .iter()
                    .map(|s| json!({ "name": s.name, "netns": s.netns, "ports": s.ports.len() }))
                    .collect();
                print_json(&rows)?;
            } else {
                for s in &cfg.switches {
                    println!("{}", s.name);
                }
            }
        }
        Verb::AddPort {
            name,
            iface,
            netns,
            vlan,
            trunk,
            native,
            may_exist,
        } => {
            let mode = match (vlan, trunk) {
                (Some(v), _) => VlanMode::Access(check_vid(v)?),
                (None, Some(allowed)) => VlanMode::Trunk {
                    allowed: allowed.into_iter().map(check_vid).collect::<Result<_>>()?,
                    native: native.map(check_vid).transpose()?,
                },
                (None, None) => VlanMode::Unaware,
            };
            add_port(&name, &iface, netns, mode, may_exist)?;
        }
        Verb::DelPort {
            name,
            iface,
            if_exists,
        } => {
            change(
                |cfg| {
                    let Some(sw) = cfg.switch_mut(&name) else {
                        return Err(no_switch(cfg, &name));
                    };
                    match sw.ports.iter().position(|p| p.iface == iface) {
                        Some(i) => {
                            sw.ports.remove(i);
                            Ok(true)
                        }
                        None if if_exists => Ok(false),
                        None => bail!("switch {name} has no port {iface}"),
                    }
                },
                || Ok(()),
            )?;
        }
        Verb::ListPorts { name, json } => {
            let cfg = Config::load()?;
            let sw = cfg.switch(&name).ok_or_else(|| no_switch(&cfg, &name))?;
            if json {
                print_json(&sw.ports)?;
            } else {
                for p in &sw.ports {
                    println!("{}", p.iface);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn no_switch(cfg: &Config, name: &str) -> anyhow::Error {
    if cfg.switches.is_empty() {
        anyhow!("no switch {name} (there are no standalone switches; `vnet vswitch add-br {name}` creates it)")
    } else {
        anyhow!("no switch {name} (switches: {})", cfg.names().join(", "))
    }
}

fn check_vid(v: u16) -> Result<u16> {
    if !(1..=4094).contains(&v) {
        bail!("VLAN {v} is out of range (1-4094)");
    }
    Ok(v)
}

fn check_switch_name(name: &str) -> Result<()> {
    if name.is_empty() {
        bail!("a switch needs a name");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        bail!("switch name {name:?}: {c:?} is not allowed (only A-Z, a-z, 0-9, `_` and `-`)");
    }
    if name.len() > IFNAME_MAX {
        bail!(
            "switch name {name} is too long: at most {IFNAME_MAX} characters \
             (it also names the switch's internal port, an interface)"
        );
    }
    Ok(())
}

fn check_iface_name(name: &str) -> Result<()> {
    if name.len() > IFNAME_MAX {
        bail!("interface name {name} is too long: at most {IFNAME_MAX} characters");
    }
    vnet_sys::tuntap::validate_name(name).map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// Whether namespace `ns` exists (the root namespace always does).
fn check_netns(ns: Option<&str>) -> Result<()> {
    if let Some(n) = ns {
        if !vnet_sys::Netns::exists(n) {
            bail!("namespace {n} not found (see `ip netns list`)");
        }
    }
    Ok(())
}

/// Whether an interface called `name` exists in namespace `ns`.
fn iface_exists(ns: Option<&str>, name: &str) -> Result<bool> {
    let name = name.to_string();
    in_netns(ns, move || -> Result<bool, String> {
        let mut nl = vnet_sys::Netlink::open().map_err(|e| e.to_string())?;
        nl.link(&name)
            .map(|l| l.is_some())
            .map_err(|e| e.to_string())
    })
    .and_then(|r| r)
    .map_err(|e| anyhow!("{}: {e}", ns_label(ns)))
}

fn add_br(name: &str, netns: Option<String>, may_exist: bool) -> Result<()> {
    check_switch_name(name)?;
    check_netns(netns.as_deref())?;
    change(
        |cfg| {
            if let Some(s) = cfg.switch(name) {
                if may_exist {
                    return Ok(false);
                }
                bail!(
                    "switch {name} already exists (in {})",
                    ns_label(s.netns.as_deref())
                );
            }
            if iface_exists(netns.as_deref(), name)? {
                bail!(
                    "an interface named {name} already exists in {}: the switch's internal \
                     port would take that name",
                    ns_label(netns.as_deref())
                );
            }
            cfg.switches.push(VSwitch {
                name: name.to_string(),
                netns: netns.clone(),
                ports: vec![],
                next_port: 1,
            });
            Ok(true)
        },
        || {
            let r = switchd::request(
                DIR_NAME,
                &Request::Show {
                    switch: name.to_string(),
                },
                TIMEOUT,
            )?;
            if !r.ok {
                bail!("{}", r.error.unwrap_or_default());
            }
            Ok(())
        },
    )
}

fn add_port(
    name: &str,
    iface: &str,
    netns: Option<String>,
    vlan: VlanMode,
    may_exist: bool,
) -> Result<()> {
    check_iface_name(iface)?;
    change(
        |cfg| {
            let Some(sw) = cfg.switch(name) else {
                return Err(no_switch(cfg, name));
            };
            let ns = netns.clone().or_else(|| sw.netns.clone());
            let here = ns_label(ns.as_deref());
            if let Some(p) = sw.ports.iter().find(|p| p.iface == iface) {
                if may_exist && p.netns == ns {
                    return Ok(false);
                }
                bail!(
                    "{iface} is a port of switch {name} already (interface {iface} in {})",
                    ns_label(p.netns.as_deref())
                );
            }
            if iface == name {
                bail!("{iface} is the name of switch {name}'s internal port");
            }
            for s in &cfg.switches {
                if s.name == iface && s.netns == ns {
                    bail!(
                        "{iface} in {here} is the internal port of switch {}",
                        s.name
                    );
                }
                if s.ports.iter().any(|p| p.iface == iface && p.netns == ns) {
                    bail!("{iface} in {here} is a port of switch {} already", s.name);
                }
            }
            if let Some(ns) = &ns {
                lab_port_check(ns, iface)?;
            }
            check_netns(ns.as_deref())?;
            if !iface_exists(ns.as_deref(), iface)? {
                bail!("interface {iface} not found in {here}");
            }
            let sw = cfg.switch_mut(name).expect("checked above");
            let ofport = sw.next_port.max(1);
            sw.next_port = ofport + 1;
            sw.ports.push(VPort {
                iface: iface.to_string(),
                netns: ns,
                ofport,
                vlan: vlan.clone(),
            });
            Ok(true)
        },
        || {
            let r = switchd::request(
                DIR_NAME,
                &Request::Show {
                    switch: name.to_string(),
                },
                TIMEOUT,
            )?;
            let present = r.data["ports"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == iface));
            if !present {
                bail!("switch {name}: port {iface} did not come up");
            }
            Ok(())
        },
    )
}

/// Refuses an interface that is a port of a lab's switch.
fn lab_port_check(ns: &str, iface: &str) -> Result<()> {
    for lab in list_labs() {
        let Ok(Some(a)) = read_applied(&lab) else {
            continue;
        };
        for n in &a.lab.nodes {
            if n.kind == NodeKind::Switch
                && n.netns.as_deref() == Some(ns)
                && n.interfaces.iter().any(|i| i.name == iface)
            {
                bail!(
                    "{iface} in namespace {ns} is a port of switch {} of lab {lab}",
                    n.name
                );
            }
        }
    }
    Ok(())
}

const TIMEOUT: Duration = Duration::from_secs(30);

/// Changes `switches.json` under the state lock and has the daemon apply
/// it: `edit` returns whether it changed anything; `check` confirms the
/// daemon runs the change. A change the daemon could not apply is undone.
/// Without switches, the daemon is stopped and the directory removed.
fn change(
    edit: impl FnOnce(&mut Config) -> Result<bool>,
    check: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let state = LabState::lock(DIR_NAME, true, || {
        eprintln!("vnet: the standalone switches are being changed by another vnet; waiting")
    })?;
    let before = Config::load()?;
    let mut cfg = before.clone();
    let edited = edit(&mut cfg);
    if !matches!(edited, Ok(true)) || cfg.switches.is_empty() {
        if cfg.switches.is_empty() {
            switchd::stop(DIR_NAME);
            state.remove()?;
        }
        return edited.map(drop);
    }
    cfg.save()?;
    let reload = switchd::ensure_running(DIR_NAME);
    match check() {
        Ok(()) => {
            if let Err(e) = reload {
                // Another switch's trouble (a port whose interface went).
                eprintln!("vnet: warning: {}", crate::error_chain(&e));
            }
            Ok(())
        }
        Err(e) => {
            let e = reload.err().unwrap_or(e);
            if before.switches.is_empty() {
                switchd::stop(DIR_NAME);
                state.remove()?;
            } else {
                before.save()?;
                let _ = switchd::request(DIR_NAME, &Request::Reload, TIMEOUT);
            }
            Err(e)
        }
    }
}
