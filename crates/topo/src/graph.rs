//! Drawing a resolved lab: Graphviz DOT or Mermaid (`graph LR`) text.
//!
//! One graph node per lab node, shaped by kind (a switch is a 3-D box in DOT
//! and a subroutine box in Mermaid); one edge per link, labelled with the
//! interface names at both ends and each end's first address, and with the
//! VLAN mode of its switch ports (`vlan 10`, `trunk 10,20`). An unlinked
//! tap/tun node is drawn alone. Pure text generation: no I/O, and
//! the same lab always renders to the same bytes.

use std::collections::HashMap;
use std::fmt::Write;

use crate::lab::{Endpoint, Lab, LinkKind, NodeKind, PortVlan};

/// Output syntax of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    /// Graphviz: `dot -Tsvg`.
    Dot,
    /// Mermaid flowchart (`graph LR`), e.g. for Markdown.
    Mermaid,
}

/// Render `lab` as a graph description in `format`.
pub fn render(lab: &Lab, format: GraphFormat) -> String {
    match format {
        GraphFormat::Dot => render_dot(lab),
        GraphFormat::Mermaid => render_mermaid(lab),
    }
}

/// An edge: the two nodes and the label text for each end.
struct Edge {
    from: usize,
    to: usize,
    from_label: String,
    to_label: String,
    /// The VLAN mode of the switch port(s) on the link; empty when none.
    vlan: String,
}

/// A switch port's VLAN mode: `vlan 10`, `trunk 10,20`, `trunk 10,20 native 5`.
fn vlan_text(vlan: &PortVlan) -> String {
    match vlan {
        PortVlan::Access(v) => format!("vlan {v}"),
        PortVlan::Trunk { allowed, native } => {
            let ids: Vec<String> = allowed.iter().map(u16::to_string).collect();
            match native {
                Some(n) => format!("trunk {} native {n}", ids.join(",")),
                None => format!("trunk {}", ids.join(",")),
            }
        }
    }
}

/// The edges of a lab, by node index. Tap/tun links run from the tap/tun
/// node to the node its device lives in; unlinked devices have no edge.
/// End labels read `eth0 10.0.0.1/24`: the interface and its first address.
fn edges(lab: &Lab) -> Vec<Edge> {
    let by_name: HashMap<&str, usize> = lab
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    let index = |name: &str| by_name.get(name).copied();
    let iface = |ep: &Endpoint| {
        index(&ep.node).and_then(|n| lab.nodes[n].interfaces.iter().find(|i| i.name == ep.iface))
    };
    let end_label = |ep: &Endpoint| match iface(ep).and_then(|i| i.addresses.first()) {
        Some(addr) => format!("{} {addr}", ep.iface),
        None => ep.iface.clone(),
    };
    // Both ends' VLAN modes, once when they agree (a trunk between switches).
    let vlan_label = |a: &Endpoint, b: Option<&Endpoint>| {
        let mut modes: Vec<String> = [Some(a), b]
            .into_iter()
            .flatten()
            .filter_map(|ep| iface(ep)?.vlan.as_ref().map(vlan_text))
            .collect();
        modes.dedup();
        modes.join(" / ")
    };
    let mut out = Vec::new();
    for link in &lab.links {
        let (from, to, from_label, to_label) = match (link.kind, &link.b, &link.device_of) {
            (LinkKind::Veth, Some(b), _) => (
                index(&link.a.node),
                index(&b.node),
                end_label(&link.a),
                end_label(b),
            ),
            (LinkKind::Tap | LinkKind::Tun, _, Some(dev)) if *dev != link.a.node => (
                index(dev),
                index(&link.a.node),
                String::new(),
                end_label(&link.a),
            ),
            _ => continue,
        };
        if let (Some(from), Some(to)) = (from, to) {
            out.push(Edge {
                from,
                to,
                from_label,
                to_label,
                vlan: vlan_label(&link.a, link.b.as_ref()),
            });
        }
    }
    out
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Host => "host",
        NodeKind::Router => "router",
        NodeKind::Bridge => "bridge",
        NodeKind::Tap => "tap",
        NodeKind::Tun => "tun",
        NodeKind::Switch => "switch",
    }
}

/// A DOT double-quoted string.
fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn render_dot(lab: &Lab) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "graph {} {{", dot_quote(&lab.name));
    out.push_str("  graph [rankdir=LR, nodesep=0.6, ranksep=1.5];\n");
    out.push_str("  node [fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", labelfontsize=9, labeldistance=3];\n");
    for node in &lab.nodes {
        let shape = match node.kind {
            NodeKind::Host => "box",
            NodeKind::Router => "circle",
            NodeKind::Bridge => "hexagon",
            NodeKind::Tap => "component",
            NodeKind::Tun => "cds",
            NodeKind::Switch => "box3d",
        };
        let label = format!("{}\n{}", node.name, kind_name(node.kind));
        let _ = writeln!(
            out,
            "  {} [shape={shape}, label={}];",
            dot_quote(&node.name),
            dot_quote(&label)
        );
    }
    for e in edges(lab) {
        let vlan = if e.vlan.is_empty() {
            String::new()
        } else {
            format!(", label={}", dot_quote(&e.vlan))
        };
        let _ = writeln!(
            out,
            "  {} -- {} [taillabel={}, headlabel={}{vlan}];",
            dot_quote(&lab.nodes[e.from].name),
            dot_quote(&lab.nodes[e.to].name),
            dot_quote(&e.from_label),
            dot_quote(&e.to_label)
        );
    }
    out.push_str("}\n");
    out
}

/// Text inside a Mermaid `"..."` label: quotes and markup characters become
/// entity codes, which Mermaid decodes.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            c => out.push(c),
        }
    }
    out
}

fn render_mermaid(lab: &Lab) -> String {
    let mut out = String::from("graph LR\n");
    // Ids are positional (`n0`, `n1`, …) so that no node name can collide
    // with Mermaid keywords such as `end`; the name is in the label.
    for (i, node) in lab.nodes.iter().enumerate() {
        let label = mermaid_text(&format!("{} ({})", node.name, kind_name(node.kind)));
        let shape = match node.kind {
            NodeKind::Host => format!("[\"{label}\"]"),
            NodeKind::Router => format!("((\"{label}\"))"),
            NodeKind::Bridge => format!("{{{{\"{label}\"}}}}"),
            NodeKind::Tap => format!("[/\"{label}\"/]"),
            NodeKind::Tun => format!("[\\\"{label}\"\\]"),
            NodeKind::Switch => format!("[[\"{label}\"]]"),
        };
        let _ = writeln!(out, "  n{i}{shape}");
    }
    for e in edges(lab) {
        let mut label = match (e.from_label.is_empty(), e.to_label.is_empty()) {
            (true, _) => e.to_label,
            (_, true) => e.from_label,
            _ => format!("{} — {}", e.from_label, e.to_label),
        };
        if !e.vlan.is_empty() {
            let _ = write!(label, " ({})", e.vlan);
        }
        let _ = writeln!(
            out,
            "  n{} ---|\"{}\"| n{}",
            e.from,
            mermaid_text(&label),
            e.to
        );
    }
    out
}
