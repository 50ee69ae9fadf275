//! Output helpers shared by the verbs: JSON on stdout, progress on stderr.

use std::io::IsTerminal;

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};

pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Fails with a clear message unless running as root.
pub fn need_root(what: &str) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        bail!("{what} needs root: network namespaces and devices are privileged (try sudo)");
    }
    Ok(())
}

/// A progress bar on a terminal, for work of at least `min` items; nothing
/// when stderr is not a terminal (scripts stay quiet and parseable).
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(total: usize, min: usize) -> Progress {
        let bar = (std::io::stderr().is_terminal() && total >= min).then(|| {
            let b = ProgressBar::new(total as u64);
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg:12} [{bar:30}] {pos}/{len} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b
        });
        Progress { bar }
    }

    pub fn update(&self, phase: &str, done: usize, total: usize) {
        if let Some(b) = &self.bar {
            b.set_message(phase.to_string());
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Resolves a LAB|FILE argument to a lab name: a path to an existing file is
/// loaded for its name; anything else is taken as the name.
pub fn lab_name(arg: &str) -> Result<String> {
    let path = std::path::Path::new(arg);
    if path.is_file() {
        match vnet_topo::load::load_file(path) {
            Ok(lab) => return Ok(lab.name),
            Err(e) => bail!("{e}"),
        }
    }
    Ok(arg.to_string())
}

/// The applied lab called `name`, or a clear error.
pub fn applied(name: &str) -> Result<vnet_topo::state::Applied> {
    match vnet_topo::state::read_applied(name)? {
        Some(a) => Ok(a),
        None => {
            if vnet_topo::state::lab_dir(name).join("journal").exists() {
                bail!(
                    "lab {name} is not up: an earlier `vnet up` did not finish; \
                     `vnet down {name}` removes what it left, `vnet up FILE` creates it again"
                )
            }
            let labs: Vec<String> = vnet_topo::state::list_labs()
                .into_iter()
                .filter(|l| vnet_topo::state::lab_dir(l).join("lab.json").exists())
                .collect();
            if labs.is_empty() {
                bail!("lab {name} is not up (no labs are up)")
            }
            bail!(
                "lab {name} is not up (labs that are up: {})",
                labs.join(", ")
            )
        }
    }
}
