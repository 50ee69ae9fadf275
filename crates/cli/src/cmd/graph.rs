//! `vnet graph LAB|FILE`: the topology as DOT or Mermaid.

use std::process::ExitCode;

use anyhow::Result;
use vnet_topo::graph::{render, GraphFormat};

use crate::output::applied;

/// Print the topology as a picture description: Graphviz DOT (pipe it into
/// `dot -Tsvg`) or Mermaid (paste it into Markdown).
#[derive(clap::Args)]
pub struct Args {
    /// A lab that is up, or a lab file.
    lab: String,
    #[arg(long, value_enum, default_value = "dot")]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Dot,
    Mermaid,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let path = std::path::Path::new(&args.lab);
    let lab = if path.is_file() {
        vnet_topo::load::load_file(path).map_err(|e| anyhow::anyhow!("{e}"))?
    } else {
        applied(&args.lab)?.lab
    };
    let format = match args.format {
        Format::Dot => GraphFormat::Dot,
        Format::Mermaid => GraphFormat::Mermaid,
    };
    print!("{}", render(&lab, format));
    Ok(ExitCode::SUCCESS)
}
