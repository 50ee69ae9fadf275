//! Every example lab in examples/, end to end: up, pingall with zero loss,
//! exec, a reconcile after editing the file, and down leaving nothing.
//! Each runs under a unique lab name (the file's `name:` is rewritten) so
//! tests and a user's own `demo` lab never collide.

mod common;

use common::*;
use serde_json::Value;

/// The example's text with its lab name replaced.
fn example(file: &str, lab: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut out = String::new();
    let mut renamed = false;
    for line in text.lines() {
        if !renamed && line.starts_with("name:") {
            out.push_str(&format!("name: {lab}\n"));
            renamed = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(renamed, "{file} has no top-level name");
    out
}

/// Appends a link item at the end of the top-level `links:` section, with
/// the indentation the file's link items use.
fn add_link(text: &str, item: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_end() == "links:")
        .expect("a top-level links: section");
    // The section ends at the next top-level key (or the end of the file);
    // trailing blank and comment lines stay after the new item.
    let mut end = lines[at + 1..]
        .iter()
        .position(|l| !l.is_empty() && !l.starts_with([' ', '#']))
        .map_or(lines.len(), |i| at + 1 + i);
    while end > at + 1 && (lines[end - 1].trim().is_empty() || lines[end - 1].starts_with('#')) {
        end -= 1;
    }
    let indent = lines[at + 1..end]
        .iter()
        .find(|l| l.trim_start().starts_with("- "))
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .unwrap_or("  ");
    let mut out: Vec<String> = lines[..end].iter().map(|s| s.to_string()).collect();
    out.push(format!("{indent}- {item}"));
    out.extend(lines[end..].iter().map(|s| s.to_string()));
    out.join("\n") + "\n"
}

fn run_example(file: &str, tag: &str) {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new(tag);
    let text = example(file, &lab.name);
    let path = lab.write(file, &text);

    let up = vnet(&["up", "--json", &path]).ok().json();
    assert_eq!(up["created"], true);
    let status = vnet(&["status", "--json", &lab.name]).ok().json();
    let nodes = status["nodes"].as_array().expect("nodes").clone();
    // Every node with a namespace has it, as `ip netns` sees it.
    let mut want: Vec<String> = nodes
        .iter()
        .filter_map(|n| n["netns"].as_str().map(str::to_string))
        .collect();
    want.sort();
    assert_eq!(lab.namespaces(), want);
    for n in &nodes {
        assert_eq!(n["present"], true, "{n}");
    }

    let p = vnet(&["pingall", "--json", &lab.name]).ok().json();
    assert_eq!(p["lost_pairs"], 0, "{p}");
    assert!(p["sent_pairs"].as_u64().unwrap() > 0, "{p}");

    // exec in the first host: it sees its own addresses.
    let l3: Vec<&Value> = nodes
        .iter()
        .filter(|n| n["kind"] == "host" || n["kind"] == "router")
        .collect();
    assert!(l3.len() >= 2, "{file}: needs two hosts/routers");
    let first = l3[0]["name"].as_str().unwrap();
    let r = vnet(&["exec", &lab.name, first, "--", "ip", "-j", "addr"]).ok();
    let own = ip_json(Some(&lab.ns(first)), &["addr"]);
    let exec_view: Value = serde_json::from_str(&r.stdout).expect("ip -j addr");
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|l| l["ifname"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(names(&exec_view), names(&own));

    // Reconcile: a new link between the first two hosts/routers.
    let second = l3[1]["name"].as_str().unwrap();
    let before = ifindexes(&lab);
    let edited = add_link(&text, &format!("endpoints: [{first}:e2e0, {second}:e2e0]"));
    lab.write(file, &edited);
    let up = vnet(&["up", "--json", &path]).ok().json();
    assert_eq!(up["links_created"], 1, "{up}");
    assert_eq!(up["namespaces_created"], 0, "{up}");
    let after = ifindexes(&lab);
    for (k, idx) in &before {
        assert_eq!(after.get(k), Some(idx), "{file}: {k:?} changed or vanished");
    }
    for n in [first, second] {
        let l = ip_json(Some(&lab.ns(n)), &["link", "show", "e2e0"]);
        assert_eq!(l[0]["operstate"], "UP", "{n}: {l}");
    }
    let p = vnet(&["pingall", "--json", &lab.name]).ok().json();
    assert_eq!(p["lost_pairs"], 0, "{p}");
    // And back.
    lab.write(file, &text);
    vnet(&["up", &path]).ok();
    assert_eq!(ifindexes(&lab), before);
    assert!(vnet(&["up", &path]).ok().stdout.contains("up to date"));

    let d = vnet(&["down", &lab.name]).ok();
    assert!(d.stdout.contains("removed"), "{d:#?}");
    lab.assert_gone();
}

#[test]
fn example_demo() {
    run_example("demo.yaml", "exdemo");
}

#[test]
fn example_routed() {
    run_example("routed.yaml", "exrouted");
}

#[test]
fn example_tap() {
    run_example("tap.yaml", "extap");
}
