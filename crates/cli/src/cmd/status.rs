//! `vnet status [LAB]`: labs, nodes, interfaces, addresses, state.

use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;
use vnet_sys::netlink::format_mac;
use vnet_sys::Netns;
use vnet_topo::state::list_labs;

use crate::output::{applied, need_root, print_json};

/// Without LAB: the labs that are up. With LAB: its nodes and their
/// interfaces as the kernel reports them now (state, MAC, addresses).
#[derive(clap::Args)]
pub struct Args {
    lab: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct LabRow {
    lab: String,
    nodes: usize,
    links: usize,
    source: Option<String>,
}

#[derive(Serialize)]
struct NodeStatus {
    name: String,
    kind: String,
    netns: Option<String>,
    /// False when the node's namespace has disappeared.
    present: bool,
    interfaces: Vec<IfaceStatus>,
}

#[derive(Serialize)]
struct IfaceStatus {
    name: String,
    kind: Option<String>,
    state: &'static str,
    mac: Option<String>,
    mtu: u32,
    addresses: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let Some(name) = args.lab else {
        let rows: Vec<LabRow> = list_labs()
            .into_iter()
            .filter_map(|l| {
                let a = vnet_topo::state::read_applied(&l).ok().flatten()?;
                Some(LabRow {
                    lab: l,
                    nodes: a.lab.nodes.len(),
                    links: a.lab.links.len(),
                    source: a.source.map(|p| p.display().to_string()),
                })
            })
            .collect();
        if args.json {
            print_json(&rows)?;
        } else if rows.is_empty() {
            println!("no labs are up");
        } else {
            println!("{:<20} {:>6} {:>6}  SOURCE", "LAB", "NODES", "LINKS");
            for r in rows {
                println!(
                    "{:<20} {:>6} {:>6}  {}",
                    r.lab,
                    r.nodes,
                    r.links,
                    r.source.unwrap_or_default()
                );
            }
        }
        if !args.json {
            // Not labs: listed apart (`vnet vswitch list-br` has them all).
            let standalone = crate::standalone::Config::load().unwrap_or_default();
            if !standalone.switches.is_empty() {
                println!(
                    "standalone switches (vnet vswitch): {}",
                    standalone.names().join(", ")
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    need_root("vnet status LAB")?;
    let a = applied(&name)?;
    let mut nodes = Vec::new();
    for n in &a.lab.nodes {
        let mut st = NodeStatus {
            name: n.name.clone(),
            kind: format!("{:?}", n.kind).to_lowercase(),
            netns: n.netns.clone(),
            present: false,
            interfaces: vec![],
        };
        if let Some(ns) = &n.netns {
            if let Ok(mut nl) = Netns::open(ns).and_then(|ns| ns.netlink()) {
                st.present = true;
                let links = nl.links().unwrap_or_default();
                let addrs = nl.addrs(None).unwrap_or_default();
                for l in links.iter().filter(|l| l.name != "lo") {
                    st.interfaces.push(IfaceStatus {
                        name: l.name.clone(),
                        kind: l.kind.clone(),
                        state: match (l.up, l.lower_up) {
                            (true, true) => "up",
                            (true, false) => "no-carrier",
                            _ => "down",
                        },
                        mac: l.mac.as_ref().map(format_mac),
                        mtu: l.mtu,
                        addresses: addrs
                            .iter()
                            .filter(|x| {
                                x.index == l.index
                                    && x.scope == vnet_sys::netlink::AddrScope::Global
                            })
                            .map(|x| format!("{}/{}", x.address, x.prefix_len))
                            .collect(),
                    });
                }
            }
        } else {
            st.present = true;
        }
        nodes.push(st);
    }
    if args.json {
        print_json(&serde_json::json!({ "lab": name, "source": a.source, "nodes": nodes }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "lab {name}{}",
        a.source
            .map(|p| format!(" ({})", p.display()))
            .unwrap_or_default()
    );
    for n in nodes {
        let missing = if n.present {
            ""
        } else {
            "  [namespace missing]"
        };
        println!("  {} ({}){missing}", n.name, n.kind);
        for i in n.interfaces {
            println!(
                "    {:<15} {:<10} {:<17} mtu {:<5} {}",
                i.name,
                i.state,
                i.mac.unwrap_or_default(),
                i.mtu,
                i.addresses.join(" ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
