//! `graph::render`: DOT and Mermaid text for a resolved lab.

use std::path::PathBuf;

use vnet_topo::graph::{render, GraphFormat};
use vnet_topo::lab::Lab;
use vnet_topo::load::{load_file, load_str};

fn demo() -> Lab {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo.yaml");
    load_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn dot_has_nodes_by_kind_and_labelled_edges() {
    let dot = render(&demo(), GraphFormat::Dot);
    assert!(dot.starts_with("graph \"demo\" {\n"), "{dot}");
    assert!(dot.ends_with("}\n"), "{dot}");
    assert!(
        dot.contains("\"s1\" [shape=hexagon, label=\"s1\\nbridge\"];"),
        "{dot}"
    );
    assert!(
        dot.contains("\"r1\" [shape=circle, label=\"r1\\nrouter\"];"),
        "{dot}"
    );
    assert!(
        dot.contains("\"h1\" [shape=box, label=\"h1\\nhost\"];"),
        "{dot}"
    );
    assert!(dot.contains("\"vm1\" [shape=component"), "{dot}");
    assert!(dot.contains("\"t1\" [shape=cds"), "{dot}");
    assert!(
        dot.contains("\"h1\" -- \"s1\" [taillabel=\"eth0 10.100.0.2/24\", headlabel=\"h1\"];"),
        "{dot}"
    );
    assert!(
        dot.contains("\"r1\" -- \"s1\" [taillabel=\"eth0 10.100.0.1/24\", headlabel=\"r1\"];"),
        "{dot}"
    );
    // The tap edge runs from the tap node to the bridge its device is a port of.
    assert!(
        dot.contains("\"vm1\" -- \"s1\" [taillabel=\"\", headlabel=\"vm1\"];"),
        "{dot}"
    );
    // One edge per drawn link: 4 links; the unlinked tun has none.
    assert_eq!(dot.matches(" -- ").count(), 4, "{dot}");
    // Braces and quotes balance.
    assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    assert_eq!(dot.matches('"').count() % 2, 0);
}

#[test]
fn mermaid_has_nodes_by_kind_and_labelled_edges() {
    let m = render(&demo(), GraphFormat::Mermaid);
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(lines[0], "graph LR");
    assert!(lines.contains(&"  n0{{\"s1 (bridge)\"}}"), "{m}");
    assert!(lines.contains(&"  n1((\"r1 (router)\"))"), "{m}");
    assert!(lines.contains(&"  n2[\"h1 (host)\"]"), "{m}");
    assert!(lines.contains(&"  n4[/\"vm1 (tap)\"/]"), "{m}");
    assert!(lines.contains(&"  n5[\\\"t1 (tun)\"\\]"), "{m}");
    assert!(
        lines.contains(&"  n2 ---|\"eth0 10.100.0.2/24 — h1\"| n0"),
        "{m}"
    );
    assert!(
        lines.contains(&"  n1 ---|\"eth0 10.100.0.1/24 — r1\"| n0"),
        "{m}"
    );
    assert!(lines.contains(&"  n4 ---|\"vm1\"| n0"), "{m}");
    assert_eq!(m.matches("---|").count(), 4, "{m}");
}

#[test]
fn names_that_need_quoting_are_quoted() {
    // `end` is a Mermaid keyword; node ids are positional so it is harmless.
    let lab = load_str(
        "name: q\nnodes:\n  end: { kind: host }\n  graph: { kind: host }\nlinks:\n  - endpoints: [end, graph]\n",
        "q.yaml",
    )
    .unwrap();
    let m = render(&lab, GraphFormat::Mermaid);
    assert!(m.contains("  n0[\"end (host)\"]"), "{m}");
    assert!(
        m.contains("  n0 ---|\"eth0 10.100.0.1/30 — eth0 10.100.0.2/30\"| n1"),
        "{m}"
    );
    let dot = render(&lab, GraphFormat::Dot);
    // DOT keywords are safe as quoted ids.
    assert!(dot.contains("  \"end\" -- \"graph\" ["), "{dot}");
}

#[test]
fn rendering_is_deterministic() {
    let lab = demo();
    assert_eq!(
        render(&lab, GraphFormat::Dot),
        render(&lab, GraphFormat::Dot)
    );
    assert_eq!(
        render(&lab, GraphFormat::Mermaid),
        render(&lab, GraphFormat::Mermaid)
    );
}
