//! `vnet switch LAB SWITCH VERB`: drive a lab's userspace switch, in the
//! words of ovs-ofctl.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use vnet_switch::control::Request;
use vnet_topo::lab::FailMode;

use crate::openflow::ControlRequest;

use crate::output::{applied, need_root, print_json};

/// Program and inspect a userspace switch of a lab. Flows use ovs-ofctl's
/// syntax, e.g. `priority=100,ip,nw_dst=10.0.0.0/24,actions=output:2`;
/// ports may be named by their switch port name or number (see `show`).
/// LAB `@` means the standalone switches of `vnet vswitch`.
///
/// Examples:
///   vnet switch demo sw1 show
///   vnet switch demo sw1 add-flow 'priority=10,arp,actions=flood'
///   vnet switch demo sw1 dump-flows
///   vnet switch demo sw1 del-flows 'ip,nw_dst=10.0.0.2'
///   vnet switch demo sw1 add-group 'group_id=1,type=all,bucket=output:1,bucket=output:2'
///   vnet switch demo sw1 add-meter 'meter=1,pktps,bands=type=drop,rate=100'
///   vnet switch demo sw1 mirror h1 -w h1.pcap   (… mirror h1 --stop)
///   vnet switch demo sw1 set-controller ptcp:6653 tcp:127.0.0.1:6633
///   vnet switch @ br0 dump-flows                (a standalone switch)
///   ovs-ofctl -O OpenFlow13 dump-flows tcp:127.0.0.1:6653
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    lab: String,
    switch: String,
    #[command(subcommand)]
    verb: Verb,
    /// Print structured output as JSON.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum Verb {
    /// Add one flow.
    AddFlow { flow: String },
    /// Add the flows of FILE (one per line, `#` comments), or `-` for stdin.
    AddFlows { file: PathBuf },
    /// Delete the flows matching MATCH (all flows without it).
    DelFlows {
        r#match: Option<String>,
        /// Delete only the flow with exactly this match and priority.
        #[arg(long)]
        strict: bool,
    },
    /// Print the flows with their counters.
    DumpFlows,
    /// Add a group, e.g.
    /// `group_id=1,type=select,bucket=weight:2,actions=output:1,bucket=actions=output:2`.
    AddGroup { group: String },
    /// Replace a group's type and buckets (same syntax as add-group).
    ModGroup { group: String },
    /// Delete the group GROUP (`group_id=N`), or every group; flows that
    /// send to a deleted group are deleted too.
    DelGroups { group: Option<String> },
    /// Print the groups (`--json`: with their counters).
    DumpGroups,
    /// Add a meter, e.g. `meter=1,pktps,burst,bands=type=drop,rate=100,burst_size=10`.
    AddMeter { meter: String },
    /// Replace a meter's flags and bands (same syntax as add-meter).
    ModMeter { meter: String },
    /// Delete the meter METER (`meter=N`), or every meter; flows that use
    /// a deleted meter are deleted too.
    DelMeters { meter: Option<String> },
    /// Print the meters (`--json`: with their counters).
    DumpMeters,
    /// Print per-port counters.
    DumpPorts,
    /// Print the switch's ports and settings.
    Show,
    /// Print the MAC learning table.
    Fdb,
    /// Mirror every frame PORT receives and sends into a pcap file
    /// (readable by tcpdump/Wireshark); `--stop` ends it.
    Mirror {
        port: String,
        #[arg(short = 'w', long = "write", required_unless_present = "stop")]
        file: Option<PathBuf>,
        #[arg(long)]
        stop: bool,
    },
    /// Set the switch's OpenFlow targets, replacing the current ones:
    /// `ptcp:PORT[:ADDR]` listens (on 127.0.0.1 unless ADDR is given),
    /// `tcp:HOST[:PORT]` connects to a controller (port 6653 by default).
    SetController {
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// Remove every OpenFlow target.
    DelController,
    /// Print the OpenFlow targets.
    GetController,
    /// What to do while no controller is connected: `standalone` (act as
    /// a learning switch) or `secure` (only the installed flows).
    SetFailMode {
        #[arg(value_parser = ["standalone", "secure"])]
        mode: String,
    },
}

pub fn run(args: Args) -> Result<ExitCode> {
    need_root("vnet switch")?;
    let daemon = if args.lab == crate::standalone::LAB_ARG {
        let cfg = crate::standalone::Config::load()?;
        if cfg.switch(&args.switch).is_none() {
            if cfg.switches.is_empty() {
                bail!(
                    "no standalone switch {} (there are none; see `vnet vswitch`)",
                    args.switch
                );
            }
            bail!(
                "no standalone switch {} (switches: {})",
                args.switch,
                cfg.names().join(", ")
            );
        }
        crate::standalone::DIR_NAME.to_string()
    } else {
        check_lab_switch(&args)?;
        args.lab.clone()
    };
    let switch = args.switch.clone();
    let control = match &args.verb {
        Verb::SetController { targets } => Some(ControlRequest::SetController {
            switch: switch.clone(),
            targets: targets.clone(),
        }),
        Verb::DelController => Some(ControlRequest::DelController {
            switch: switch.clone(),
        }),
        Verb::GetController => Some(ControlRequest::GetController {
            switch: switch.clone(),
        }),
        Verb::SetFailMode { mode } => Some(ControlRequest::SetFailMode {
            switch: switch.clone(),
            fail_mode: if mode == "secure" {
                FailMode::Secure
            } else {
                FailMode::Standalone
            },
        }),
        _ => None,
    };
    if let Some(c) = control {
        let reply = crate::switchd::request(&daemon, &c, Duration::from_secs(60))?;
        return print_reply(reply, args.json);
    }
    let req = match args.verb {
        Verb::AddFlow { flow } => Request::AddFlow { switch, flow },
        Verb::AddFlows { file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("read {}", file.display()))?
            };
            Request::AddFlows { switch, text }
        }
        Verb::DelFlows { r#match, strict } => Request::DelFlows {
            switch,
            r#match,
            strict,
        },
        Verb::DumpFlows => Request::DumpFlows { switch },
        Verb::AddGroup { group } => Request::AddGroup { switch, group },
        Verb::ModGroup { group } => Request::ModGroup { switch, group },
        Verb::DelGroups { group } => Request::DelGroups { switch, group },
        Verb::DumpGroups => Request::DumpGroups { switch },
        Verb::AddMeter { meter } => Request::AddMeter { switch, meter },
        Verb::ModMeter { meter } => Request::ModMeter { switch, meter },
        Verb::DelMeters { meter } => Request::DelMeters { switch, meter },
        Verb::DumpMeters => Request::DumpMeters { switch },
        Verb::DumpPorts => Request::DumpPorts { switch },
        Verb::Show => Request::Show { switch },
        Verb::Fdb => Request::Fdb { switch },
        Verb::Mirror { port, file, stop } => {
            let file = if stop {
                None
            } else {
                // The daemon writes the file: give it an absolute path.
                let f = file.unwrap_or_default();
                let abs = if f.is_absolute() {
                    f
                } else {
                    std::env::current_dir()?.join(f)
                };
                Some(abs.display().to_string())
            };
            Request::Mirror { switch, port, file }
        }
        Verb::SetController { .. }
        | Verb::DelController
        | Verb::GetController
        | Verb::SetFailMode { .. } => unreachable!("handled above"),
    };
    let reply = crate::switchd::request(&daemon, &req, Duration::from_secs(60))?;
    print_reply(reply, args.json)
}

/// Fails unless SWITCH is a switch of the applied LAB.
fn check_lab_switch(args: &Args) -> Result<()> {
    let a = applied(&args.lab)?;
    match a.lab.node(&args.switch) {
        Some(n) if n.kind == vnet_topo::lab::NodeKind::Switch => {}
        Some(n) => bail!(
            "lab {}: node {} is a {:?}, not a switch",
            args.lab,
            args.switch,
            n.kind
        ),
        None => {
            let switches: Vec<&str> = a
                .lab
                .nodes
                .iter()
                .filter(|n| n.kind == vnet_topo::lab::NodeKind::Switch)
                .map(|n| n.name.as_str())
                .collect();
            bail!(
                "lab {}: no switch {} (switches: {})",
                args.lab,
                args.switch,
                switches.join(", ")
            )
        }
    }
    Ok(())
}

fn print_reply(reply: vnet_switch::control::Reply, json: bool) -> Result<ExitCode> {
    if !reply.ok {
        bail!(
            "{}",
            reply
                .error
                .unwrap_or_else(|| "the switch refused the request".into())
        );
    }
    if json {
        print_json(&reply.data)?;
    } else if !reply.text.is_empty() {
        print!("{}", reply.text);
        if !reply.text.ends_with('\n') {
            println!();
        }
    }
    Ok(ExitCode::SUCCESS)
}
