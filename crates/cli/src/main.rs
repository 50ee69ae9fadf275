//! `vnet`: declarative virtual networks on Linux, in one binary.
//!
//! Thin: argument parsing and output live here, one file per verb under
//! `cmd/`; the work is done by `vnet-topo` and `vnet-sys`.
#![forbid(unsafe_code)]

mod cmd;
mod openflow;
mod output;
mod standalone;
mod switchd;
mod switchset;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Build virtual networks of namespaces, veth pairs, bridges, routers and
/// TAP/TUN devices from one YAML file — fast, transactional, and with
/// nothing left behind.
///
/// Example:
///   vnet up examples/demo.yaml      # create (or update) the lab
///   vnet pingall demo               # every host and router pings every other
///   vnet exec demo h1 -- ip addr    # run a command inside node h1
///   vnet down demo                  # remove everything the lab owns
///
/// The lab file format is described in docs/lab-format.md. Most commands
/// need root (network namespaces and devices are privileged).
#[derive(Parser)]
#[command(name = "vnet", version, about, long_about, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Up(cmd::up::Args),
    Down(cmd::down::Args),
    Status(cmd::status::Args),
    Exec(cmd::exec::Args),
    Pingall(cmd::pingall::Args),
    Graph(cmd::graph::Args),
    Probe(cmd::probe::Args),
    Switch(cmd::switch::Args),
    Vswitch(cmd::vswitch::Args),
    Capture(cmd::capture::Args),
    /// The lab's switch daemon (started by `vnet up`; not for direct use).
    #[command(hide = true)]
    Switchd {
        lab: String,
        #[arg(long)]
        worker: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(a) => cmd::up::run(a),
        Command::Down(a) => cmd::down::run(a),
        Command::Status(a) => cmd::status::run(a),
        Command::Exec(a) => cmd::exec::run(a),
        Command::Pingall(a) => cmd::pingall::run(a),
        Command::Graph(a) => cmd::graph::run(a),
        Command::Probe(a) => cmd::probe::run(a),
        Command::Switch(a) => cmd::switch::run(a),
        Command::Vswitch(a) => cmd::vswitch::run(a),
        Command::Capture(a) => cmd::capture::run(a),
        Command::Switchd { lab, worker } => switchd::run(&lab, worker),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vnet: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `: `-separated like `{:#}`, but without
/// repeating a cause whose text the message before it already includes
/// (library errors put their source in their own message).
fn error_chain(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if msg.is_empty() {
            msg = text;
        } else if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
    }
    msg
}
