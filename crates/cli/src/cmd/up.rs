//! `vnet up FILE`: create a lab, or reconcile it with its file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use vnet_topo::apply::{apply, ApplyReport};
use vnet_topo::load::load_file;
use vnet_topo::plan::plan;
use vnet_topo::state::{Applied, LabState};

use crate::output::{need_root, print_json, Progress};

/// Create the lab described by FILE, or bring an existing lab in line with
/// it: only the differences are applied, untouched objects stay untouched.
/// A failure halfway rolls back what this run did.
#[derive(clap::Args)]
pub struct Args {
    /// The lab file (YAML; see docs/lab-format.md).
    file: PathBuf,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Fail at once if another vnet is changing the same lab, instead of waiting.
    #[arg(long)]
    no_wait: bool,
    /// Show what would change, and change nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(serde::Serialize)]
struct UpResult<'a> {
    lab: &'a str,
    created: bool,
    changed: bool,
    #[serde(flatten)]
    report: ApplyReport,
    seconds: f64,
}

/// Line and column of the `name:` key's value in the file (for the
/// "already exists" error), or 1:1.
fn name_location(text: &str) -> (usize, usize) {
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("name:") {
            let col = 6 + rest.len() - rest.trim_start().len();
            return (i + 1, col);
        }
    }
    (1, 1)
}

pub fn run(args: Args) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let lab = load_file(&args.file).map_err(|e| anyhow::anyhow!("{e}"))?;
    let source = std::fs::canonicalize(&args.file).ok();
    let p0;
    if args.dry_run {
        let old = vnet_topo::state::read_applied(&lab.name)?;
        p0 = plan(old.as_ref().map(|a| &a.lab), &lab);
        return if args.json {
            print_json(&p0).map(|()| ExitCode::SUCCESS)
        } else {
            println!("lab {}: {} change(s) planned", lab.name, p0.operations());
            Ok(ExitCode::SUCCESS)
        };
    }
    need_root("vnet up")?;
    let state = LabState::lock(&lab.name, !args.no_wait, || {
        eprintln!(
            "vnet: lab {} is being changed by another vnet; waiting for it to finish",
            lab.name
        )
    })?;
    let old = state.applied()?;
    if let Some(o) = &old {
        if o.source.is_some() && source.is_some() && o.source != source {
            let text = std::fs::read_to_string(&args.file).unwrap_or_default();
            let (line, col) = name_location(&text);
            bail!(
                "{}:{line}:{col}: lab {} already exists, created from {}; \
                 bring it down first (vnet down {}) or choose another name",
                args.file.display(),
                lab.name,
                o.source
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                lab.name
            );
        }
    }
    let p = plan(old.as_ref().map(|a| &a.lab), &lab);
    let progress = Progress::new(p.operations(), 50);
    let update = |phase: &str, done: usize, total: usize| progress.update(phase, done, total);
    let result = apply(old.as_ref().map(|a| &a.lab), &lab, &p, &state, &update);
    progress.finish();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            if old.is_none() {
                let _ = state.remove();
            } else if let Some(o) = &old {
                let names: Vec<String> =
                    o.lab.nodes.iter().filter_map(|n| n.netns.clone()).collect();
                let _ = state.compact_journal(&names);
            }
            return Err(anyhow::Error::new(e)).with_context(|| {
                format!(
                    "lab {}: nothing was changed (this run's changes were rolled back)",
                    lab.name
                )
            });
        }
    };
    state.save(&Applied {
        source: source.clone(),
        lab: lab.clone(),
    })?;
    let names: Vec<String> = lab.nodes.iter().filter_map(|n| n.netns.clone()).collect();
    state.compact_journal(&names)?;
    let out = UpResult {
        lab: &lab.name,
        created: old.is_none(),
        changed: !p.is_empty(),
        report,
        seconds: started.elapsed().as_secs_f64(),
    };
    if args.json {
        print_json(&out)?;
    } else if !out.changed {
        println!("lab {} is up to date", lab.name);
    } else {
        let r = &out.report;
        println!(
            "lab {} {} in {:.2}s: {} node(s), {} link(s) (+{} namespaces, -{}; +{} links, -{}; +{} addresses, -{}; +{} routes, -{})",
            lab.name,
            if out.created { "created" } else { "updated" },
            out.seconds,
            lab.nodes.len(),
            lab.links.len(),
            r.namespaces_created,
            r.namespaces_deleted,
            r.links_created,
            r.links_deleted,
            r.addresses_added,
            r.addresses_deleted,
            r.routes_added,
            r.routes_deleted
        );
    }
    Ok(ExitCode::SUCCESS)
}
