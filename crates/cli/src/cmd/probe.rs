//! `vnet probe`: which kernel features this host has.

use std::process::ExitCode;

use anyhow::Result;
use vnet_sys::probe::probe_all;

use crate::output::{need_root, print_json};

/// Report which kernel features vnet can use on this host (veth, bridge,
/// VLAN filtering, TUN/TAP, VXLAN, ...), each with the reason when missing.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Row {
    feature: String,
    available: bool,
    reason: String,
}

pub fn run(args: Args) -> Result<ExitCode> {
    need_root("vnet probe")?;
    let rows: Vec<Row> = probe_all()
        .into_iter()
        .map(|p| Row {
            feature: p.feature.to_string(),
            available: p.available,
            reason: p.reason,
        })
        .collect();
    if args.json {
        print_json(&rows)?;
    } else {
        for r in rows {
            println!("{:4} {}", if r.available { "yes" } else { "no" }, r.reason);
        }
    }
    Ok(ExitCode::SUCCESS)
}
