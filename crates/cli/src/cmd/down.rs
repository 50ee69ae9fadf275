//! `vnet down LAB|FILE`: remove everything a lab owns.

use std::process::ExitCode;

use anyhow::{bail, Result};
use vnet_topo::apply::destroy;
use vnet_topo::state::{lab_dir, LabState};

use crate::output::{lab_name, need_root, print_json};

/// Remove everything the lab owns — also after a crash or kill -9 of an
/// earlier `vnet up` (the journal under /run/vnet/LAB names it all).
/// Exits 0 when nothing of the lab is left.
#[derive(clap::Args)]
pub struct Args {
    /// Lab name, or the lab file.
    lab: String,
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct DownResult {
    lab: String,
    removed_namespaces: Vec<String>,
    failures: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let name = lab_name(&args.lab)?;
    need_root("vnet down")?;
    if !lab_dir(&name).exists() {
        if args.json {
            print_json(&DownResult {
                lab: name,
                removed_namespaces: vec![],
                failures: vec![],
            })?;
        } else {
            println!("lab {name} is not up; nothing to remove");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let state = LabState::lock(&name, true, || {
        eprintln!("vnet: lab {name} is being changed by another vnet; waiting for it to finish")
    })?;
    // The switch daemon first: its ports live in the namespaces.
    crate::switchd::stop(&name);
    let (removed, failures) = destroy(&state)?;
    if failures.is_empty() {
        state.remove()?;
    }
    let out = DownResult {
        lab: name.clone(),
        removed_namespaces: removed,
        failures,
    };
    if args.json {
        print_json(&out)?;
    } else {
        println!(
            "lab {name}: removed {} namespace(s) and everything in them",
            out.removed_namespaces.len()
        );
    }
    if !out.failures.is_empty() {
        bail!(
            "lab {name}: could not remove:\n  {}",
            out.failures.join("\n  ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
