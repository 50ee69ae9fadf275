//! `vnet up FILE`: create a lab, or reconcile it with its file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use vnet_sys::netns::NetnsError;
use vnet_sys::Netns;
use vnet_topo::apply::{apply, ApplyReport};
use vnet_topo::load::{load_file, load_file_with};
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

/// Deletes namespaces journaled by an earlier `up` that was killed before it
/// finished (they are not part of the lab as last applied), so this run
/// starts from the lab's real state.
fn remove_leftovers(
    state: &LabState,
    lab: &str,
    old: Option<&vnet_topo::lab::Lab>,
    old_ns: &[String],
) -> Result<()> {
    remove_leftover_links(state, lab, old)?;
    let leftovers: Vec<String> = state
        .journaled_namespaces()?
        .into_iter()
        .filter(|n| !old_ns.contains(n))
        .collect();
    if leftovers.is_empty() {
        return Ok(());
    }
    let mut removed = 0;
    for ns in &leftovers {
        match Netns::delete(ns) {
            Ok(()) => removed += 1,
            Err(NetnsError::NotFound { .. }) => {}
            Err(e) => bail!("lab {lab}: removing what an unfinished `vnet up` left: {e}"),
        }
    }
    if removed > 0 {
        eprintln!(
            "vnet: lab {lab}: removed {removed} namespace(s) left by an unfinished `vnet up`"
        );
    }
    state.compact_journal(old_ns)?;
    Ok(())
}

/// Deletes interfaces journaled by an earlier `up` that was killed before
/// it finished, in namespaces of the applied lab, that the applied lab does
/// not have (a half-made link in a surviving namespace would otherwise
/// make this run fail with "File exists").
fn remove_leftover_links(
    state: &LabState,
    lab: &str,
    old: Option<&vnet_topo::lab::Lab>,
) -> Result<()> {
    let Some(old) = old else { return Ok(()) };
    let owned = |ns: &str, iface: &str| {
        old.nodes
            .iter()
            .any(|n| n.netns.as_deref() == Some(ns) && n.interfaces.iter().any(|i| i.name == iface))
    };
    let mut removed = Vec::new();
    for (ns, iface) in state.journaled_links()? {
        let in_lab = old
            .nodes
            .iter()
            .any(|n| n.netns.as_deref() == Some(ns.as_str()));
        if !in_lab || owned(&ns, &iface) {
            continue;
        }
        let Ok(handle) = Netns::open(&ns) else {
            continue;
        };
        let mut nl = handle
            .netlink()
            .map_err(|e| anyhow::anyhow!("lab {lab}: netns {ns}: {e}"))?;
        if let Ok(index) = nl.index_of(&iface) {
            nl.delete_index(index).map_err(|e| {
                anyhow::anyhow!(
                    "lab {lab}: removing {ns}:{iface} left by an unfinished `vnet up`: {e}"
                )
            })?;
            removed.push(format!("{ns}:{iface}"));
        }
    }
    if !removed.is_empty() {
        eprintln!(
            "vnet: lab {lab}: removed interface(s) left by an unfinished `vnet up`: {}",
            removed.join(", ")
        );
    }
    Ok(())
}

/// The lab loaded again with the applied lab's addresses as hints, so
/// automatic addresses stay put across changes to the file.
fn sticky(
    file: &std::path::Path,
    lab: vnet_topo::lab::Lab,
    applied: Option<&vnet_topo::state::Applied>,
) -> Result<vnet_topo::lab::Lab> {
    match applied {
        Some(a) => load_file_with(file, Some(&a.lab)).map_err(|e| anyhow::anyhow!("{e}")),
        None => Ok(lab),
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let lab = load_file(&args.file).map_err(|e| anyhow::anyhow!("{e}"))?;
    let source = std::fs::canonicalize(&args.file).ok();
    let p0;
    if args.dry_run {
        let old = vnet_topo::state::read_applied(&lab.name)?;
        let lab = sticky(&args.file, lab, old.as_ref())?;
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
    let lab = sticky(&args.file, lab, old.as_ref())?;
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
    let old_ns: Vec<String> = old
        .iter()
        .flat_map(|o| o.lab.nodes.iter().filter_map(|n| n.netns.clone()))
        .collect();
    remove_leftovers(&state, &lab.name, old.as_ref().map(|a| &a.lab), &old_ns)?;
    // Plan against what still exists: objects deleted behind vnet's back
    // are recreated rather than assumed present.
    let observed = old.as_ref().map(|a| vnet_topo::observe::observe(&a.lab));
    if let Some((_, drift)) = &observed {
        if !drift.is_empty() {
            eprintln!(
                "vnet: lab {}: recreating what was removed outside vnet: nodes [{}], links [{}]",
                lab.name,
                drift.missing_nodes.join(", "),
                drift.missing_links.join(", ")
            );
            vnet_topo::observe::remove_stale_ends(drift).map_err(|e| {
                anyhow::anyhow!(
                    "lab {}: remove what is left of a broken link: {e}",
                    lab.name
                )
            })?;
        }
    }
    let old_lab = observed.as_ref().map(|(l, _)| l);
    let p = plan(old_lab, &lab);
    // Namespaces this run will create that exist already: not the lab's, so
    // they must stay out of its journal when the run fails.
    let new_ns: Vec<String> = p
        .new_nodes
        .iter()
        .filter_map(|&i| lab.nodes[i].netns.clone())
        .collect();
    let foreign: Vec<&String> = new_ns
        .iter()
        .filter(|n| !old_ns.contains(n) && Netns::exists(n))
        .collect();
    let progress = Progress::new(p.operations(), 50);
    let update = |phase: &str, done: usize, total: usize| progress.update(phase, done, total);
    let result = apply(old_lab, &lab, &p, &state, &update);
    progress.finish();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            // The journal keeps the lab's namespaces, and any of this run's
            // that rollback could not delete (so `down` still finds them).
            let mut keep = old_ns.clone();
            for n in &new_ns {
                if !keep.contains(n) && !foreign.contains(&n) && Netns::exists(n) {
                    keep.push(n.clone());
                }
            }
            if old.is_none() && keep.is_empty() {
                let _ = state.remove();
            } else {
                let _ = state.compact_journal(&keep);
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
    // Userspace switches run in the lab's switch daemon.
    if lab
        .nodes
        .iter()
        .any(|n| n.kind == vnet_topo::lab::NodeKind::Switch)
    {
        crate::switchd::ensure_running(&lab.name)?;
    } else if crate::switchd::alive(&lab.name) {
        crate::switchd::stop(&lab.name);
    }
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
