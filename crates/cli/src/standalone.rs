//! Standalone switches (`vnet vswitch`): switches outside any lab, whose
//! ports are existing interfaces (TAP devices of VMs, veth ends) in any
//! namespace, the root namespace included.
//!
//! They are served by a switch daemon exactly like a lab's, under the
//! pseudo-lab [`DIR_NAME`] (`/run/vnet/@switches/`; `@` is never part of a
//! lab name). Its source of truth is `switches.json` there ([`Config`]),
//! written by `vnet vswitch` and read by the daemon on every reload; flows
//! persist in `flows-SWITCH.txt` as for labs.
//!
//! A switch's ports may live in different namespaces, so the daemon opens
//! them here rather than through `SwitchHandle::start` (which takes one
//! namespace per switch); the datapath and its thread are the same.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use vnet_switch::datapath::{Datapath, SwitchPort, VlanMode};
use vnet_switch::learning::{MacTable, DEFAULT_AGEING, DEFAULT_CAPACITY};
use vnet_switch::port::{PacketPort, PortIo, TapPort};
use vnet_switch::runtime::{PortConfig, RuntimeError, SwitchConfig, SwitchHandle, LOCAL_PORT};
use vnet_sys::packet::{PacketOptions, PacketSocket};
use vnet_topo::state::lab_dir;

/// The daemon "lab" of the standalone switches: its state directory is
/// `/run/vnet/@switches`.
pub const DIR_NAME: &str = "@switches";

/// What `vnet switch` takes as LAB to mean the standalone switches.
pub const LAB_ARG: &str = "@";

/// Where the root namespace is opened from.
const ROOT_NETNS: &str = "/proc/1/ns/net";

pub fn config_path() -> PathBuf {
    lab_dir(DIR_NAME).join("switches.json")
}

/// `switches.json`: every standalone switch and its ports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub switches: Vec<VSwitch>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VSwitch {
    pub name: String,
    /// The switch's namespace (`None`: the root namespace): where its
    /// internal port (a TAP named after the switch) lives, and where
    /// `add-port` looks for interfaces unless told otherwise.
    pub netns: Option<String>,
    pub ports: Vec<VPort>,
    /// The number the next port gets: numbers are never reused while the
    /// switch exists, so a flow naming a deleted port never matches a new one.
    pub next_port: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VPort {
    /// The interface (and the port's name on the switch).
    pub iface: String,
    /// Its namespace (`None`: the root namespace).
    pub netns: Option<String>,
    /// OpenFlow port number, stable across restarts.
    pub ofport: u32,
    #[serde(default)]
    pub vlan: VlanMode,
}

impl Config {
    /// The configuration (empty when there is none).
    pub fn load() -> Result<Config> {
        let path = config_path();
        match std::fs::read(&path) {
            Ok(b) => {
                serde_json::from_slice(&b).with_context(|| format!("{} is damaged", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e).with_context(|| format!("read {}", path.display())),
        }
    }

    /// Replaces the file atomically.
    pub fn save(&self) -> Result<()> {
        let path = config_path();
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .with_context(|| format!("write {}", path.display()))
    }

    pub fn switch(&self, name: &str) -> Option<&VSwitch> {
        self.switches.iter().find(|s| s.name == name)
    }

    pub fn switch_mut(&mut self, name: &str) -> Option<&mut VSwitch> {
        self.switches.iter_mut().find(|s| s.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.switches.iter().map(|s| s.name.as_str()).collect()
    }
}

/// A namespace for people: its name, or `root`.
pub fn ns_label(ns: Option<&str>) -> String {
    ns.map_or_else(
        || "the root namespace".to_string(),
        |n| format!("namespace {n}"),
    )
}

impl VSwitch {
    /// The switch as the runtime sees it (the namespace field is only
    /// informative: ports carry their own).
    pub fn switch_config(&self) -> SwitchConfig {
        SwitchConfig {
            name: self.name.clone(),
            netns: self.netns.clone().unwrap_or_else(|| ROOT_NETNS.to_string()),
            ports: self
                .ports
                .iter()
                .map(|p| PortConfig {
                    name: p.iface.clone(),
                    ofport: p.ofport,
                    vlan: p.vlan.clone(),
                })
                .collect(),
        }
    }
}

/// Runs `f` on a thread inside namespace `ns` (`None`: the root
/// namespace); sockets it opens stay there.
pub fn in_netns<T: Send>(ns: Option<&str>, f: impl FnOnce() -> T + Send) -> Result<T, String> {
    match ns {
        Some(name) => vnet_sys::Netns::open(name)
            .map_err(|e| e.to_string())?
            .run(f)
            .map_err(|e| e.to_string()),
        None => {
            // Init's namespace; where that is not ours to open (in a
            // container), the one this process runs in.
            let file = std::fs::File::open(ROOT_NETNS)
                .or_else(|_| std::fs::File::open("/proc/self/ns/net"))
                .map_err(|e| format!("open {ROOT_NETNS}: {e}"))?;
            std::thread::scope(|s| {
                s.spawn(|| {
                    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                        .map_err(|e| format!("enter the root namespace: {e}"))?;
                    Ok(f())
                })
                .join()
                .unwrap_or_else(|_| Err("namespace thread panicked".to_string()))
            })
        }
    }
}

/// Opens a port: an AF_PACKET socket on the interface, which is brought up.
/// With `rx_ring`, frames arrive through a receive ring (see
/// `vnet_switch::runtime::use_rx_ring`).
fn open_port(switch: &str, p: &VPort, rx_ring: bool) -> Result<Box<dyn PortIo>, RuntimeError> {
    let fail = |reason: String| RuntimeError::Port {
        switch: switch.to_string(),
        port: p.iface.clone(),
        reason,
    };
    let name = p.iface.clone();
    let where_ = ns_label(p.netns.as_deref());
    let sock = in_netns(
        p.netns.as_deref(),
        move || -> Result<PacketSocket, String> {
            let mut nl = vnet_sys::Netlink::open().map_err(|e| e.to_string())?;
            let idx = match nl.link(&name).map_err(|e| e.to_string())? {
                Some(l) => {
                    if !l.up {
                        nl.set_up(l.index, true).map_err(|e| e.to_string())?;
                    }
                    l.index
                }
                None => return Err(format!("interface {name} not found in {where_}")),
            };
            PacketSocket::open(
                idx,
                PacketOptions {
                    rx_ring,
                    ..PacketOptions::default()
                },
            )
            .map_err(|e| e.to_string())
        },
    )
    .map_err(fail)?
    .map_err(fail)?;
    Ok(Box::new(PacketPort::new(sock)))
}

/// The internal port: a TAP named after the switch in its namespace, tied
/// to the daemon process.
fn open_internal(sw: &VSwitch) -> Result<Box<dyn PortIo>, RuntimeError> {
    let name = sw.name.clone();
    let file = in_netns(sw.netns.as_deref(), move || {
        vnet_switch::runtime::create_internal_tap(name)
    })
    .and_then(|r| r)
    .map_err(|reason| RuntimeError::Switch {
        switch: sw.name.clone(),
        reason: format!("internal port: {reason}"),
    })?;
    Ok(Box::new(TapPort::new(file, true)))
}

fn switch_port(p: &VPort, io: Box<dyn PortIo>) -> SwitchPort {
    SwitchPort {
        name: p.iface.clone(),
        ofport: p.ofport,
        vlan: p.vlan.clone(),
        io,
        stats: Default::default(),
    }
}

/// Starts a standalone switch with its internal port and ports. Ports
/// that cannot be opened are left out and listed in `failed_ports`; the
/// next reload tries them again.
pub fn start(sw: &VSwitch) -> Result<SwitchHandle, RuntimeError> {
    let mut dp = Datapath::new(
        sw.name.clone(),
        MacTable::new(DEFAULT_CAPACITY, DEFAULT_AGEING),
    );
    let internal = open_internal(sw)?;
    dp.add_port(SwitchPort {
        name: sw.name.clone(),
        ofport: LOCAL_PORT,
        vlan: VlanMode::Unaware,
        io: internal,
        stats: Default::default(),
    });
    let mut failed = Vec::new();
    for p in &sw.ports {
        match open_port(
            &sw.name,
            p,
            vnet_switch::runtime::use_rx_ring(sw.ports.len()),
        ) {
            Ok(io) => dp.add_port(switch_port(p, io)),
            Err(e) => failed.push(e),
        }
    }
    let mut handle = SwitchHandle::spawn(sw.switch_config(), dp);
    handle.failed_ports = failed;
    Ok(handle)
}

/// Brings a running switch's ports in line with `sw`: removes ports gone
/// (or renumbered), opens new ones, updates VLAN modes.
pub fn reconfigure(handle: &mut SwitchHandle, sw: &VSwitch) {
    let mut failed = Vec::new();
    {
        let Ok(mut dp) = handle.dp.lock() else {
            return;
        };
        let gone: Vec<String> = dp
            .ports
            .iter()
            .filter(|p| p.ofport != LOCAL_PORT)
            .filter(|p| {
                !sw.ports
                    .iter()
                    .any(|c| c.iface == p.name && c.ofport == p.ofport)
            })
            .map(|p| p.name.clone())
            .collect();
        for g in gone {
            dp.remove_port(&g);
        }
        for c in &sw.ports {
            match dp.ports.iter_mut().find(|p| p.name == c.iface) {
                Some(p) => p.vlan = c.vlan.clone(),
                None => match open_port(
                    &sw.name,
                    c,
                    vnet_switch::runtime::use_rx_ring(sw.ports.len()),
                ) {
                    Ok(io) => dp.add_port(switch_port(c, io)),
                    Err(e) => failed.push(e),
                },
            }
        }
    }
    handle.failed_ports = failed;
    handle.config = sw.switch_config();
    handle.wake();
}
