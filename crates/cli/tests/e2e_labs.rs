//! End-to-end tests of labs that work: the real `vnet` binary, run as root,
//! checked against iproute2. Failure handling (rollback, crashes, bad input,
//! concurrency) is in `e2e_failures.rs`.

mod common;

use common::*;
use serde_json::Value;

/// Finds an element of a JSON array by a string field.
fn find<'a>(v: &'a Value, key: &str, value: &str) -> Option<&'a Value> {
    v.as_array()?.iter().find(|x| x[key] == value)
}

/// Global addresses of an interface (`ip -j addr`), as `ADDR/PREFIX`.
fn addrs_of(ns: &str, iface: &str) -> Vec<String> {
    let v = ip_json(Some(ns), &["addr", "show", "dev", iface]);
    v[0]["addr_info"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|a| a["scope"] == "global")
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap_or(""), a["prefixlen"]))
        .collect()
}

#[test]
fn demo_lab_up_status_pingall_down() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("demo");
    let file = lab.write("demo.yaml", &demo_yaml(&lab.name));

    // up --json
    let up = vnet(&["up", "--json", &file]).ok();
    let j = up.json();
    assert_eq!(j["lab"], lab.name.as_str());
    assert_eq!(j["created"], true);
    assert_eq!(j["changed"], true);
    assert_eq!(j["namespaces_created"], 4);
    assert_eq!(j["links_created"], 3);
    assert_eq!(j["addresses_added"], 3);
    assert!(j["seconds"].is_number());

    // Namespaces, as `ip netns list` sees them.
    let mut want: Vec<String> = ["h1", "h2", "r1", "s1"].iter().map(|n| lab.ns(n)).collect();
    want.sort();
    assert_eq!(lab.namespaces(), want);

    // The bridge and its ports live in the bridge's namespace.
    let s1 = ip_json(Some(&lab.ns("s1")), &["-d", "link", "show"]);
    let br = find(&s1, "ifname", "s1").expect("bridge s1");
    assert_eq!(br["linkinfo"]["info_kind"], "bridge");
    assert!(br["flags"].as_array().unwrap().iter().any(|f| f == "UP"));
    for port in ["h1", "h2", "r1"] {
        let p = find(&s1, "ifname", port).unwrap_or_else(|| panic!("bridge port {port}: {s1}"));
        assert_eq!(p["linkinfo"]["info_kind"], "veth", "{p}");
        assert_eq!(p["master"], "s1", "{p}");
        assert_eq!(p["operstate"], "UP", "{p}");
    }

    // Hosts and router: eth0 up with the automatic addresses.
    for (node, addr) in [
        ("r1", "10.100.0.1/24"),
        ("h1", "10.100.0.2/24"),
        ("h2", "10.100.0.3/24"),
    ] {
        let ns = lab.ns(node);
        let links = ip_json(Some(&ns), &["-d", "link", "show"]);
        let eth0 = find(&links, "ifname", "eth0").unwrap_or_else(|| panic!("{node} eth0"));
        assert_eq!(eth0["linkinfo"]["info_kind"], "veth");
        assert_eq!(eth0["operstate"], "UP", "{node}: {eth0}");
        let lo = find(&links, "ifname", "lo").expect("lo");
        assert!(lo["flags"].as_array().unwrap().iter().any(|f| f == "UP"));
        assert_eq!(links.as_array().unwrap().len(), 2, "{node}: {links}");
        assert_eq!(addrs_of(&ns, "eth0"), vec![addr.to_string()], "{node}");
    }
    // Hosts: default route via the router; the router has none but forwards.
    for h in ["h1", "h2"] {
        let r = ip_json(Some(&lab.ns(h)), &["route", "show", "default"]);
        assert_eq!(r[0]["gateway"], "10.100.0.1", "{h}: {r}");
        assert_eq!(r[0]["dev"], "eth0", "{h}: {r}");
    }
    let r = ip_json(Some(&lab.ns("r1")), &["route", "show", "default"]);
    assert_eq!(r.as_array().unwrap().len(), 0, "r1: {r}");
    let fwd = sh(
        "ip",
        &[
            "netns",
            "exec",
            &lab.ns("r1"),
            "cat",
            "/proc/sys/net/ipv4/ip_forward",
        ],
    );
    assert_eq!(fwd.trim(), "1");
    let fwd = sh(
        "ip",
        &[
            "netns",
            "exec",
            &lab.ns("h1"),
            "cat",
            "/proc/sys/net/ipv4/ip_forward",
        ],
    );
    assert_eq!(fwd.trim(), "0");

    // pingall
    let p = vnet(&["pingall", &lab.name]).ok();
    assert!(
        p.stdout.contains(&lab.name) && p.stdout.contains("6/6") && p.stdout.contains("0% loss"),
        "{p:#?}"
    );
    let pj = vnet(&["pingall", "--json", &lab.name]).ok().json();
    assert_eq!(pj["lab"], lab.name.as_str());
    assert_eq!(pj["sent_pairs"], 6);
    assert_eq!(pj["lost_pairs"], 0);
    let results = pj["results"].as_array().expect("results");
    assert_eq!(results.len(), 6);
    for r in results {
        assert_eq!(r["ok"], true, "{r}");
        assert!(r["source"].is_string() && r["target"].is_string() && r["address"].is_string());
        assert!(r["rtt_ms"].is_number(), "{r}");
    }

    // status --json, with LAB and without.
    let sj = vnet(&["status", "--json", &lab.name]).ok().json();
    assert_eq!(sj["lab"], lab.name.as_str());
    assert_eq!(sj["source"], file.as_str());
    let nodes = &sj["nodes"];
    assert_eq!(nodes.as_array().unwrap().len(), 4);
    for n in nodes.as_array().unwrap() {
        assert_eq!(n["present"], true, "{n}");
    }
    let h1 = find(nodes, "name", "h1").expect("h1");
    assert_eq!(h1["kind"], "host");
    assert_eq!(h1["netns"], lab.ns("h1").as_str());
    let eth0 = find(&h1["interfaces"], "name", "eth0").expect("h1 eth0");
    assert_eq!(eth0["state"], "up");
    assert_eq!(eth0["addresses"], serde_json::json!(["10.100.0.2/24"]));
    let s1n = find(nodes, "name", "s1").expect("s1");
    assert_eq!(s1n["kind"], "bridge");
    assert!(find(&s1n["interfaces"], "name", "s1").is_some());
    let all = vnet(&["status", "--json"]).ok().json();
    let row = find(&all, "lab", &lab.name).unwrap_or_else(|| panic!("{all}"));
    assert_eq!(row["nodes"], 4);
    assert_eq!(row["links"], 3);
    let text = vnet(&["status", &lab.name]).ok();
    assert!(text.stdout.contains("10.100.0.2/24"), "{}", text.stdout);

    // exec sees the namespace.
    let route = vnet(&["exec", &lab.name, "h1", "--", "ip", "route"]).ok();
    assert!(
        route.stdout.contains("default via 10.100.0.1"),
        "{route:#?}"
    );

    // down
    let d = vnet(&["down", &lab.name]).ok();
    assert!(
        d.stdout.contains("removed 4 namespace"),
        "down should report what it removed: {d:#?}"
    );
    lab.assert_gone();
    // Again: nothing to do, still exit 0.
    let d = vnet(&["down", "--json", &lab.name]).ok().json();
    assert_eq!(d["removed_namespaces"], serde_json::json!([]));
    // Reading commands on a lab that is gone fail clearly.
    let s = vnet(&["status", &lab.name]).fails();
    assert!(s.stderr.contains("not up"), "{s:#?}");
}

#[test]
fn down_json_and_down_by_file() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("downf");
    let file = lab.write("lab.yaml", &demo_yaml(&lab.name));
    vnet(&["up", &file]).ok();
    let d = vnet(&["down", "--json", &file]).ok().json();
    assert_eq!(d["lab"], lab.name.as_str());
    let mut removed: Vec<String> = d["removed_namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    removed.sort();
    let mut want: Vec<String> = ["h1", "h2", "r1", "s1"].iter().map(|n| lab.ns(n)).collect();
    want.sort();
    assert_eq!(removed, want);
    assert_eq!(d["failures"], serde_json::json!([]));
    lab.assert_gone();
}

#[test]
fn reconcile_keeps_untouched_objects() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("recon");
    let base = demo_yaml(&lab.name);
    let file = lab.write("lab.yaml", &base);
    vnet(&["up", &file]).ok();
    let before = ifindexes(&lab);
    let snap_before = lab.snapshot();
    assert_eq!(before.len(), 5 + 2 + 2 + 2, "{before:?}");

    // Add a link: only it appears, everything else keeps its ifindex.
    let with_link = format!("{base}  - endpoints: [h1:eth1, h2:eth1]\n");
    lab.write("lab.yaml", &with_link);
    let up = vnet(&["up", "--json", &file]).ok().json();
    assert_eq!(up["created"], false);
    assert_eq!(up["changed"], true);
    assert_eq!(up["links_created"], 1);
    assert_eq!(up["namespaces_created"], 0);
    let after = ifindexes(&lab);
    for (k, idx) in &before {
        assert_eq!(after.get(k), Some(idx), "{k:?} changed or vanished");
    }
    let new: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    assert_eq!(
        new,
        vec![
            &(lab.ns("h1"), "eth1".to_string()),
            &(lab.ns("h2"), "eth1".to_string())
        ]
    );
    let h1 = ip_json(Some(&lab.ns("h1")), &["-d", "link", "show", "eth1"]);
    assert_eq!(h1[0]["linkinfo"]["info_kind"], "veth");
    assert_eq!(h1[0]["operstate"], "UP");
    let a1 = ip_json(Some(&lab.ns("h1")), &["addr", "show", "eth1"]);
    let a2 = ip_json(Some(&lab.ns("h2")), &["addr", "show", "eth1"]);
    let local = |v: &Value| {
        v[0]["addr_info"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["family"] == "inet")
            .map(|a| a["local"].as_str().unwrap().to_string())
    };
    let (l1, l2) = (
        local(&a1).expect("h1 eth1 addr"),
        local(&a2).expect("h2 eth1 addr"),
    );
    // The new point-to-point link works.
    vnet(&["exec", &lab.name, "h1", "--", "ping", "-c1", "-W2", &l2]).ok();
    vnet(&["exec", &lab.name, "h2", "--", "ping", "-c1", "-W2", &l1]).ok();
    vnet(&["pingall", &lab.name]).ok();

    // Unchanged file: up to date, nothing touched.
    let snap_mid = lab.snapshot();
    let again = vnet(&["up", &file]).ok();
    assert!(again.stdout.contains("up to date"), "{again:#?}");
    assert_eq!(lab.snapshot(), snap_mid);
    assert_eq!(ifindexes(&lab), after);

    // Remove the link: it is gone, the rest unchanged.
    lab.write("lab.yaml", &base);
    let up = vnet(&["up", "--json", &file]).ok().json();
    assert_eq!(up["links_deleted"], 1);
    assert_eq!(ifindexes(&lab), before);
    assert_eq!(lab.snapshot(), snap_before);
    vnet(&["pingall", &lab.name]).ok();
}

#[test]
fn reconcile_adds_and_removes_nodes() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("recn");
    let base = demo_yaml(&lab.name);
    let file = lab.write("lab.yaml", &base);
    vnet(&["up", &file]).ok();
    let before = ifindexes(&lab);
    let more = base.replace(
        "  h2: { kind: host }\n",
        "  h2: { kind: host }\n  h3: { kind: host }\n",
    ) + "  - endpoints: [h3, s1]\n";
    lab.write("lab.yaml", &more);
    let up = vnet(&["up", "--json", &file]).ok().json();
    assert_eq!(up["namespaces_created"], 1);
    assert!(lab.namespaces().contains(&lab.ns("h3")));
    let after = ifindexes(&lab);
    for (k, idx) in &before {
        assert_eq!(after.get(k), Some(idx), "{k:?} changed or vanished");
    }
    assert_eq!(
        addrs_of(&lab.ns("h3"), "eth0"),
        vec!["10.100.0.4/24".to_string()]
    );
    vnet(&["pingall", &lab.name]).ok();
    // And back.
    lab.write("lab.yaml", &base);
    let up = vnet(&["up", "--json", &file]).ok().json();
    assert_eq!(up["namespaces_deleted"], 1);
    assert!(!lab.namespaces().contains(&lab.ns("h3")));
    assert_eq!(ifindexes(&lab), before);
}

#[test]
fn reconcile_changes_node_kind() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("kind");
    let base = demo_yaml(&lab.name);
    let file = lab.write("lab.yaml", &base);
    vnet(&["up", &file]).ok();
    // h2 becomes a router: its namespace is replaced, the rest stays.
    let changed = base.replace("h2: { kind: host }", "h2: { kind: router }");
    lab.write("lab.yaml", &changed);
    let up = vnet(&["up", &file]).ok();
    assert!(up.stdout.contains("updated"), "{up:#?}");
    let fwd = sh(
        "ip",
        &[
            "netns",
            "exec",
            &lab.ns("h2"),
            "cat",
            "/proc/sys/net/ipv4/ip_forward",
        ],
    );
    assert_eq!(fwd.trim(), "1");
    let sj = vnet(&["status", "--json", &lab.name]).ok().json();
    assert_eq!(find(&sj["nodes"], "name", "h2").unwrap()["kind"], "router");
    vnet(&["pingall", &lab.name]).ok();
    assert!(vnet(&["up", &file]).ok().stdout.contains("up to date"));
}

#[test]
fn exec_passes_streams_and_exit_code() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("exec");
    let file = lab.write("lab.yaml", &demo_yaml(&lab.name));
    vnet(&["up", &file]).ok();

    let r = vnet(&[
        "exec",
        &lab.name,
        "h1",
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 7",
    ]);
    assert_eq!(r.code, Some(7), "{r:#?}");
    assert_eq!(r.stdout, "out\n");
    assert_eq!(r.stderr, "err\n");

    // stdin passes through.
    let mut child = vnet_cmd()
        .args(["exec", &lab.name, "h1", "--", "cat"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn exec");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"hi\nthere\n").expect("write stdin");
    }
    let r = wait(child, "vnet exec cat").ok();
    assert_eq!(r.stdout, "hi\nthere\n");

    // It runs inside the node's namespace.
    let r = vnet(&["exec", &lab.name, "h2", "--", "ip", "-j", "link"]).ok();
    let links: Value = serde_json::from_str(&r.stdout).expect("ip -j link JSON");
    let mut names: Vec<&str> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ifname"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["eth0", "lo"]);
    let own = ip_json(Some(&lab.ns("h2")), &["link", "show", "eth0"]);
    assert_eq!(
        find(&links, "ifname", "eth0").unwrap()["ifindex"],
        own[0]["ifindex"]
    );
    let r = vnet(&["exec", &lab.name, "s1", "--", "ip", "-br", "link"]).ok();
    assert!(r.stdout.contains("s1 "), "{r:#?}");

    // Death by signal: 128 + signal.
    let r = vnet(&["exec", &lab.name, "h1", "--", "sh", "-c", "kill -9 $$"]);
    assert_eq!(r.code, Some(137), "{r:#?}");

    // Unknown node: a clear error listing the nodes.
    let r = vnet(&["exec", &lab.name, "nosuch", "--", "true"]).fails();
    assert!(r.stderr.contains("nosuch"), "{r:#?}");
    for n in ["s1", "r1", "h1", "h2"] {
        assert!(r.stderr.contains(n), "{r:#?}");
    }
    // Unknown command: an error, not a hang.
    let r = vnet(&["exec", &lab.name, "h1", "--", "/nonexistent-cmd"]).fails();
    assert!(r.stderr.contains("nonexistent-cmd"), "{r:#?}");
    // Unknown lab.
    let r = vnet(&["exec", &format!("{}x", lab.name), "h1", "--", "true"]).fails();
    assert!(r.stderr.contains("not up"), "{r:#?}");
}

#[test]
fn pingall_detects_loss() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("loss");
    let file = lab.write("lab.yaml", &demo_yaml(&lab.name));
    vnet(&["up", &file]).ok();
    vnet(&["pingall", &lab.name]).ok();
    sh("ip", &["-n", &lab.ns("h2"), "link", "set", "eth0", "down"]);

    let r = vnet(&["pingall", "--timeout", "0.5", &lab.name]).fails();
    assert!(r.stdout.contains("h2"), "summary should name h2: {r:#?}");
    assert!(r.stdout.contains("loss"), "{r:#?}");
    // r1 <-> h1 still work, so it is not total loss.
    assert!(!r.stdout.contains("100% loss"), "{r:#?}");

    let r = vnet(&["pingall", "--json", "--timeout", "0.5", &lab.name]).fails();
    let j = r.json();
    assert_eq!(j["sent_pairs"], 6);
    assert_eq!(j["lost_pairs"], 4, "{j}");
    let results = j["results"].as_array().unwrap();
    let mut failing: Vec<(String, String)> = results
        .iter()
        .filter(|x| x["ok"] == false)
        .map(|x| {
            (
                x["source"].as_str().unwrap().to_string(),
                x["target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    failing.sort();
    let want: Vec<(String, String)> = [("h1", "h2"), ("h2", "h1"), ("h2", "r1"), ("r1", "h2")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(failing, want);
    for x in results.iter().filter(|x| x["ok"] == true) {
        assert!(x["source"] != "h2" && x["target"] != "h2", "{x}");
    }
}

#[test]
fn routed_line_of_four_routers() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("route");
    let file = lab.write(
        "lab.yaml",
        &format!(
            "name: {}
routes: auto
nodes:
  r1: {{ kind: router }}
  r2: {{ kind: router }}
  r3: {{ kind: router }}
  r4: {{ kind: router }}
  ha: {{ kind: host }}
  hb: {{ kind: host }}
links:
  - endpoints: [ha, r1]
  - endpoints: [r1, r2]
  - endpoints: [r2, r3]
  - endpoints: [r3, r4]
  - endpoints: [r4, hb]
",
            lab.name
        ),
    );
    vnet(&["up", &file]).ok();
    let p = vnet(&["pingall", "--json", &lab.name]).ok().json();
    assert_eq!(p["lost_pairs"], 0, "{p}");
    assert_eq!(p["sent_pairs"], 30);
    // End to end: ha reaches hb through all four routers (TTL 64 - 4).
    let hb = ip_json(Some(&lab.ns("hb")), &["-4", "addr", "show", "eth0"]);
    let hb_addr = hb[0]["addr_info"][0]["local"].as_str().expect("hb address");
    let r = vnet(&["exec", &lab.name, "ha", "--", "ping", "-c1", "-W2", hb_addr]).ok();
    assert!(r.stdout.contains("ttl=60"), "{r:#?}");
    // Every router has a route to every subnet (none missing: 5 subnets).
    for rt in ["r1", "r2", "r3", "r4"] {
        let routes = ip_json(Some(&lab.ns(rt)), &["-4", "route", "show"]);
        assert_eq!(routes.as_array().unwrap().len(), 5, "{rt}: {routes}");
    }
}

#[test]
fn tap_and_tun_devices() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("tap");
    // Device names are node names: make them unique to this process, so
    // the root-namespace check below cannot see someone else's device.
    let tag = std::process::id() % 100_000;
    let (tap, tun) = (format!("vm{tag}"), format!("tn{tag}"));
    let file = lab.write(
        "lab.yaml",
        &format!(
            "name: {}
nodes:
  s1: {{ kind: bridge }}
  h1: {{ kind: host }}
  {tap}: {{ kind: tap, owner: 4242, group: 4343 }}
  {tun}: {{ kind: tun, owner: 4242 }}
links:
  - endpoints: [h1, s1]
  - endpoints: [{tap}, s1]
",
            lab.name
        ),
    );
    vnet(&["up", &file]).ok();
    let mut want = vec![lab.ns("h1"), lab.ns("s1"), lab.ns(&tun)];
    want.sort();
    assert_eq!(lab.namespaces(), want, "the tap lives in s1's namespace");

    let id = |v: &Value| match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let d = ip_json(Some(&lab.ns("s1")), &["-d", "link", "show", &tap]);
    let d = &d[0];
    assert_eq!(d["linkinfo"]["info_kind"], "tun", "{d}");
    assert_eq!(d["linkinfo"]["info_data"]["type"], "tap", "{d}");
    assert_eq!(id(&d["linkinfo"]["info_data"]["user"]), "4242", "{d}");
    assert_eq!(id(&d["linkinfo"]["info_data"]["group"]), "4343", "{d}");
    assert_eq!(d["master"], "s1", "{d}");

    let t = ip_json(Some(&lab.ns(&tun)), &["-d", "link", "show", &tun]);
    let t = &t[0];
    assert_eq!(t["linkinfo"]["info_kind"], "tun", "{t}");
    assert_eq!(t["linkinfo"]["info_data"]["type"], "tun", "{t}");
    assert_eq!(id(&t["linkinfo"]["info_data"]["user"]), "4242", "{t}");

    // Neither is in the root namespace, now or after down.
    let root_names = || -> Vec<String> {
        ip_json(None, &["link", "show"])
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["ifname"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert!(!root_names().contains(&tap) && !root_names().contains(&tun));
    vnet(&["pingall", &lab.name]).ok();
    vnet(&["down", &lab.name]).ok();
    lab.assert_gone();
    assert!(
        !root_names().contains(&tap) && !root_names().contains(&tun),
        "a persistent tap/tun device escaped to the root namespace"
    );
}

#[test]
fn graph_dot_and_mermaid() {
    // Graph of a file needs no root.
    let lab = TestLab::new("graph");
    let file = lab.write(
        "lab.yaml",
        &format!(
            "name: {}
routes: auto
nodes:
  s1: {{ kind: bridge }}
  r1: {{ kind: router }}
  r2: {{ kind: router }}
  h1: {{ kind: host }}
  h2: {{ kind: host }}
  vm1: {{ kind: tap }}
links:
  - endpoints: [h1, s1]
  - endpoints: [r1, s1]
  - endpoints: [r1, r2]
  - endpoints: [r2, h2]
  - endpoints: [vm1, s1]
",
            lab.name
        ),
    );
    let nodes = ["s1", "r1", "r2", "h1", "h2", "vm1"];
    let links = [
        ("h1", "s1"),
        ("r1", "s1"),
        ("r1", "r2"),
        ("r2", "h2"),
        ("vm1", "s1"),
    ];

    let dot = vnet(&["graph", &file, "--format", "dot"]).ok().stdout;
    assert!(dot.trim_start().starts_with("graph"), "{dot}");
    for n in nodes {
        assert!(
            dot.contains(&format!("\"{n}\" [")),
            "node {n} missing: {dot}"
        );
    }
    for (a, b) in links {
        assert!(
            dot.contains(&format!("\"{a}\" -- \"{b}\"")),
            "link {a}-{b} missing: {dot}"
        );
    }
    assert_eq!(dot.matches(" -- ").count(), links.len(), "{dot}");
    // The default format is dot.
    assert_eq!(vnet(&["graph", &file]).ok().stdout, dot);

    let mm = vnet(&["graph", &file, "--format", "mermaid"]).ok().stdout;
    assert!(mm.trim_start().starts_with("graph"), "{mm}");
    // Mermaid ids are n0..; map each node name to its id.
    let mut ids = std::collections::HashMap::new();
    for n in nodes {
        let line = mm
            .lines()
            .find(|l| l.contains(&format!("\"{n} (")))
            .unwrap_or_else(|| panic!("node {n} missing: {mm}"));
        let id = line
            .trim()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap();
        ids.insert(n, id.to_string());
    }
    for (a, b) in links {
        let found = mm.lines().any(|l| {
            let l = l.trim();
            l.starts_with(&format!("{} ", ids[a])) && l.ends_with(&format!(" {}", ids[b]))
        });
        assert!(found, "link {a}-{b} missing: {mm}");
    }
    assert_eq!(mm.matches("---").count(), links.len(), "{mm}");

    let bad = vnet(&["graph", &file, "--format", "png"]).fails();
    assert!(bad.stderr.contains("png"), "{bad:#?}");
    for args in [
        &["--help"][..],
        &["up", "--help"],
        &["down", "--help"],
        &["status", "--help"],
        &["exec", "--help"],
        &["pingall", "--help"],
        &["graph", "--help"],
        &["--version"],
    ] {
        let r = vnet(args).ok();
        assert!(!r.stdout.is_empty(), "{r:#?}");
    }
    let r = vnet(&["up", "--help"]).ok();
    assert!(
        r.stdout.contains("--no-wait") && r.stdout.contains("FILE"),
        "{r:#?}"
    );
    vnet(&["no-such-verb"]).fails();
}

#[test]
fn graph_of_a_running_lab() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("graphup");
    let file = lab.write("lab.yaml", &demo_yaml(&lab.name));
    vnet(&["up", &file]).ok();
    let from_lab = vnet(&["graph", &lab.name, "--format", "mermaid"])
        .ok()
        .stdout;
    let from_file = vnet(&["graph", &file, "--format", "mermaid"]).ok().stdout;
    assert_eq!(from_lab, from_file);
}

/// The root namespace as iproute2 shows it, without volatile fields.
fn root_view() -> (NsSnapshot, String) {
    let snap = snapshot(None);
    // Plus the raw link list without counters and lifetimes.
    let mut links = ip_json(None, &["link", "show"]);
    for l in links.as_array_mut().unwrap() {
        if let Some(o) = l.as_object_mut() {
            o.remove("operstate");
            o.remove("flags");
            o.remove("qdisc");
        }
    }
    (snap, links.to_string())
}

#[test]
fn lab_never_touches_the_root_namespace() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("root");
    let file = lab.write("lab.yaml", &demo_yaml(&lab.name));
    // Other tests may run at the same time; they must not touch the root
    // namespace either, but a retry keeps an unrelated change (a DHCP
    // renewal, say) from failing this test.
    let mut last = None;
    for _ in 0..3 {
        let before = root_view();
        vnet(&["up", &file]).ok();
        let during = root_view();
        vnet(&["pingall", &lab.name]).ok();
        vnet(&["down", &lab.name]).ok();
        let after = root_view();
        lab.assert_gone();
        if before == during && before == after {
            return;
        }
        last = Some((before, during, after));
    }
    let (before, during, after) = last.unwrap();
    panic!("root namespace changed:\nbefore {before:#?}\nduring {during:#?}\nafter {after:#?}");
}

#[test]
fn reconcile_keeps_automatic_addresses_when_a_segment_goes() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("stky");
    let three = format!(
        "name: {}
nodes:
  b1: {{ kind: bridge }}
  b2: {{ kind: bridge }}
  b3: {{ kind: bridge }}
  h1: {{ kind: host }}
  h2: {{ kind: host }}
  h3: {{ kind: host }}
  h4: {{ kind: host }}
links:
  - endpoints: [h1, b1]
  - endpoints: [h2, b2]
  - endpoints: [h3, b2]
  - endpoints: [h4, b3]
",
        lab.name
    );
    let file = lab.write("lab.yaml", &three);
    vnet(&["up", &file]).ok();
    let before = lab.snapshot();
    assert_eq!(addrs_of(&lab.ns("h2"), "eth0"), ["10.100.1.1/24"]);
    // The first segment goes: the others keep subnets, addresses, routes
    // and interfaces (a fresh allocation would move them all down).
    let two = three
        .replace("  b1: { kind: bridge }\n", "")
        .replace("  h1: { kind: host }\n", "")
        .replace("  - endpoints: [h1, b1]\n", "");
    lab.write("lab.yaml", &two);
    let dry = vnet(&["up", "--dry-run", "--json", &file]).ok().json();
    let up = vnet(&["up", "--json", &file]).ok().json();
    assert_eq!(up["namespaces_deleted"], 2, "{up:#}\ndry run: {dry:#}");
    let after = lab.snapshot();
    for n in ["b2", "b3", "h2", "h3", "h4"] {
        let ns = lab.ns(n);
        assert_eq!(after.get(&ns), before.get(&ns), "{n} changed");
    }
    // (Separate LANs without a router: only neighbours reach each other.)
    vnet(&[
        "exec",
        &lab.name,
        "h2",
        "--",
        "ping",
        "-c1",
        "-W2",
        "10.100.1.2",
    ])
    .ok();
    // Unchanged file: nothing to do.
    let again = vnet(&["up", &file]).ok();
    assert!(again.stdout.contains("up to date"), "{again:#?}");
}
