//! `vnet pingall LAB`: every host and router pings every other.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use vnet_topo::pingall::{pingall, summary, PingOptions};

use crate::output::{applied, need_root, print_json};

/// Every pair of hosts and routers pings each other over IPv4 (and IPv6
/// when the lab has it), all in parallel, with ICMP sockets opened inside
/// the namespaces — no `ping` processes. Prints a loss summary (the full
/// matrix with --json) and exits non-zero on any loss.
#[derive(clap::Args)]
pub struct Args {
    lab: String,
    #[arg(long)]
    json: bool,
    /// How long to wait for replies, in seconds.
    #[arg(long, default_value_t = 1.0)]
    timeout: f64,
}

pub fn run(args: Args) -> Result<ExitCode> {
    need_root("vnet pingall")?;
    let a = applied(&args.lab)?;
    let opts = PingOptions {
        timeout: Duration::from_secs_f64(args.timeout.max(0.05)),
        ..PingOptions::default()
    };
    let report = pingall(&a.lab, &opts)?;
    if args.json {
        print_json(&report)?;
    } else {
        println!("{}", summary(&report));
    }
    Ok(if report.lost_pairs == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
