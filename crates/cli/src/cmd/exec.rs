//! `vnet exec LAB NODE -- CMD...`: run a command inside a node.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use vnet_sys::Netns;

use crate::output::{applied, need_root};

/// Run a command inside a node's network namespace. Standard input, output
/// and error pass through, and so does the exit code.
///
/// Example: vnet exec demo h1 -- ping -c1 10.0.0.2
#[derive(clap::Args)]
pub struct Args {
    lab: String,
    node: String,
    /// The command and its arguments (after `--`).
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    need_root("vnet exec")?;
    let a = applied(&args.lab)?;
    let Some(node) = a.lab.node(&args.node) else {
        let names: Vec<&str> = a.lab.nodes.iter().map(|n| n.name.as_str()).collect();
        bail!(
            "lab {}: no node {} (nodes: {})",
            args.lab,
            args.node,
            names.join(", ")
        );
    };
    let Some(ns) = &node.netns else {
        let host = a
            .lab
            .links
            .iter()
            .find(|l| l.device_of.as_deref() == Some(&node.name))
            .map(|l| l.a.node.clone());
        bail!(
            "lab {}: node {} is a device living in node {}'s namespace; run the command there",
            args.lab,
            args.node,
            host.unwrap_or_default()
        );
    };
    let netns = Netns::open(ns)?;
    let status = netns
        .command(&args.command[0])
        .args(&args.command[1..])
        .status()
        .with_context(|| format!("node {}: run {}", args.node, args.command[0]))?;
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}
