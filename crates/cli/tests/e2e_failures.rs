//! End-to-end tests of what goes wrong: a kernel failure halfway through
//! `up` (rollback), `kill -9` of `up` (crash recovery by `down`), bad lab
//! files (located errors, nothing created), a second lab of the same name,
//! and concurrent runs. The real `vnet` binary, as root, checked against
//! iproute2.

mod common;

use std::time::Duration;

use common::*;

/// The demo lab plus a host h3 on the bridge and a link `h1:IFACE`–`r1:IFACE`.
fn demo_plus(name: &str, iface: &str) -> String {
    demo_yaml(name).replace(
        "  h2: { kind: host }\n",
        "  h2: { kind: host }\n  h3: { kind: host }\n",
    ) + &format!("  - endpoints: [h3, s1]\n  - endpoints: [h1:{iface}, r1:{iface}]\n")
}

#[test]
fn kernel_failure_halfway_rolls_back() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("rollb");
    let file = lab.write("lab.yaml", &demo_yaml(&lab.name));
    vnet(&["up", &file]).ok();
    // An interface the next run wants to create, made by hand.
    sh(
        "ip",
        &[
            "-n",
            &lab.ns("h1"),
            "link",
            "add",
            "eth1",
            "type",
            "veth",
            "peer",
            "name",
            "zz1",
        ],
    );
    let before = lab.snapshot();
    let namespaces = lab.namespaces();

    // h3's namespace and its bridge port are created first, then h1:eth1 fails.
    lab.write("lab.yaml", &demo_plus(&lab.name, "eth1"));
    let r = vnet(&["up", &file]).fails();
    assert!(
        r.stderr.contains("eth1") && r.stderr.contains("File exists"),
        "the error should name the interface and the kernel's reason: {r:#?}"
    );
    assert!(r.stderr.contains("rolled back"), "{r:#?}");
    assert_eq!(lab.namespaces(), namespaces, "h3 must be rolled back");
    assert_eq!(lab.snapshot(), before, "the lab must be exactly as before");

    // The lab's state is the old one: status works, the old file is up to date.
    let s = vnet(&["status", "--json", &lab.name]).ok().json();
    assert_eq!(s["nodes"].as_array().unwrap().len(), 4);
    lab.write("lab.yaml", &demo_yaml(&lab.name));
    let again = vnet(&["up", &file]).ok();
    assert!(again.stdout.contains("up to date"), "{again:#?}");
    vnet(&["pingall", &lab.name]).ok();
    // With the obstacle gone, the change goes through.
    sh("ip", &["-n", &lab.ns("h1"), "link", "del", "eth1"]);
    lab.write("lab.yaml", &demo_plus(&lab.name, "eth1"));
    vnet(&["up", &file]).ok();
    assert!(lab.namespaces().contains(&lab.ns("h3")));
    vnet(&["pingall", &lab.name]).ok();
}

#[test]
fn rollback_restores_deleted_links() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("rollr");
    // Old: the demo lab with a link h1:eth1–r1:eth1.
    let old = demo_yaml(&lab.name) + "  - endpoints: [h1:eth1, r1:eth1]\n";
    let file = lab.write("lab.yaml", &old);
    vnet(&["up", &file]).ok();
    sh(
        "ip",
        &[
            "-n",
            &lab.ns("h1"),
            "link",
            "add",
            "eth2",
            "type",
            "veth",
            "peer",
            "name",
            "zz2",
        ],
    );
    let before = lab.snapshot();
    let idx_before = ifindexes(&lab);
    // New: that link removed (deleted first), h3 added, h1:eth2 fails.
    lab.write("lab.yaml", &demo_plus(&lab.name, "eth2"));
    let r = vnet(&["up", &file]).fails();
    assert!(
        r.stderr.contains("eth2") && r.stderr.contains("File exists"),
        "{r:#?}"
    );
    let after = lab.snapshot();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for (ns, snap) in &before {
        assert!(
            snap.same_but_indexes(&after[ns]),
            "{ns} differs:\nbefore {snap:#?}\nafter {:#?}",
            after[ns]
        );
    }
    // Only the re-created link's ends have new indexes.
    let idx_after = ifindexes(&lab);
    for ((ns, iface), idx) in &idx_before {
        let recreated = iface == "eth1" && (*ns == lab.ns("h1") || *ns == lab.ns("r1"));
        if !recreated {
            assert_eq!(
                idx_after.get(&(ns.clone(), iface.clone())),
                Some(idx),
                "{ns} {iface}"
            );
        }
    }
    vnet(&["pingall", &lab.name]).ok();
    lab.write("lab.yaml", &old);
    assert!(vnet(&["up", &file]).ok().stdout.contains("up to date"));
}

#[test]
fn rollback_restores_a_replaced_node() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("rollk");
    let file = lab.write("lab.yaml", &demo_yaml(&lab.name));
    vnet(&["up", &file]).ok();
    sh(
        "ip",
        &[
            "-n",
            &lab.ns("h1"),
            "link",
            "add",
            "eth1",
            "type",
            "veth",
            "peer",
            "name",
            "zz1",
        ],
    );
    let before = lab.snapshot();
    // h2 becomes a router (its namespace is replaced), then h1:eth1 fails.
    let changed =
        demo_plus(&lab.name, "eth1").replace("h2: { kind: host }", "h2: { kind: router }");
    lab.write("lab.yaml", &changed);
    let r = vnet(&["up", &file]).fails();
    assert!(r.stderr.contains("File exists"), "{r:#?}");
    // h2 is a host again, wired and addressed as before.
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
    assert_eq!(fwd.trim(), "0");
    let after = lab.snapshot();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for (ns, snap) in &before {
        assert!(
            snap.same_but_indexes(&after[ns]),
            "{ns} differs:\nbefore {snap:#?}\nafter {:#?}",
            after[ns]
        );
    }
    vnet(&["pingall", &lab.name]).ok();
    lab.write("lab.yaml", &demo_yaml(&lab.name));
    assert!(vnet(&["up", &file]).ok().stdout.contains("up to date"));
}

#[test]
fn failing_exec_rolls_back() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("execf");
    let bad = demo_yaml(&lab.name).replace(
        "h2: { kind: host }",
        "h2: { kind: host, exec: [\"echo boom; exit 3\"] }",
    );
    let file = lab.write("lab.yaml", &bad);
    let r = vnet(&["up", &file]).fails();
    assert!(
        r.stderr.contains("boom") && r.stderr.contains("h2"),
        "{r:#?}"
    );
    lab.assert_gone();

    // The same on a lab that is up: the new node goes, the rest stays.
    let file = lab.write("lab.yaml", &demo_yaml(&lab.name));
    vnet(&["up", &file]).ok();
    let before = lab.snapshot();
    let plus = demo_plus(&lab.name, "eth1").replace(
        "h3: { kind: host }",
        "h3: { kind: host, exec: [\"exit 4\"] }",
    );
    lab.write("lab.yaml", &plus);
    let r = vnet(&["up", &file]).fails();
    assert!(r.stderr.contains("h3"), "{r:#?}");
    assert_eq!(lab.snapshot(), before);
}

#[test]
fn failed_creation_of_a_new_lab_leaves_nothing() {
    if !root_or_skip() {
        return;
    }
    let mut lab = TestLab::new("fresh");
    let foreign = lab.ns("h2");
    lab.extra_netns.push(foreign.clone());
    sh("ip", &["netns", "add", &foreign]);
    let file = lab.write("lab.yaml", &demo_yaml(&lab.name));
    let r = vnet(&["up", &file]).fails();
    assert!(
        r.stderr.contains(&foreign) && r.stderr.contains("exists"),
        "{r:#?}"
    );
    // Nothing of the lab remains, and the namespace vnet did not make is
    // left alone.
    assert_eq!(lab.namespaces(), vec![foreign.clone()]);
    assert!(!state_dir(&lab.name).exists());
    // `down` must not delete it either: it was never the lab's.
    vnet(&["down", &lab.name]).ok();
    assert_eq!(lab.namespaces(), vec![foreign.clone()]);
    sh("ip", &["netns", "del", &foreign]);
    // Now it works.
    vnet(&["up", &file]).ok();
    assert_eq!(lab.namespaces().len(), 4);
}

/// Starts `vnet up FILE` and kills it with SIGKILL as soon as at least
/// `threshold` of the lab's namespaces exist. Returns how many namespaces
/// exist afterwards and whether `up` had already finished (successfully).
fn kill_mid_up(lab: &TestLab, file: &str, threshold: usize) -> (usize, bool) {
    let mut child = vnet_spawn(&["up", file]);
    let prefix = format!("vnet.{}.", lab.name);
    let mut finished = false;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            finished = status.success();
            break;
        }
        // Reading /run/netns directly is what `ip netns list` does, faster.
        let seen = std::fs::read_dir("/run/netns")
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                    .count()
            })
            .unwrap_or(0);
        if seen >= threshold {
            child.kill().expect("kill -9 vnet up");
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    (lab.namespaces().len(), finished)
}

#[test]
fn kill_9_during_up_then_down_removes_everything() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("crash");
    // Kill while namespaces are being created (a third of them exist), then
    // once they all exist (links and addresses are being made).
    for stage in ["namespaces", "links"] {
        let mut hit_middle = false;
        for n in [150, 300, 400] {
            let file = lab.write("lab.yaml", &star_yaml(&lab.name, n));
            let threshold = if stage == "namespaces" { n / 3 } else { n + 1 };
            let (left, finished) = kill_mid_up(&lab, &file, threshold);
            eprintln!(
                "{stage}, n={n}: killed with {left} of {} namespaces (finished: {finished})",
                n + 1
            );
            if !finished {
                // Not up, and status says what to do.
                let s = vnet(&["status", &lab.name]).fails();
                assert!(s.stderr.contains("vnet down"), "{s:#?}");
            }
            let d = vnet(&["down", &lab.name]).ok();
            assert!(
                d.stdout.contains(&format!("removed {left} namespace")),
                "{d:#?}"
            );
            lab.assert_gone();
            if !finished {
                hit_middle = true;
                break;
            }
        }
        if !hit_middle {
            eprintln!("note: {stage}: vnet up always finished before it could be killed");
        }
    }
}

#[test]
fn up_again_after_kill_9_completes_the_lab() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("crashup");
    let n = 150;
    let file = lab.write("lab.yaml", &star_yaml(&lab.name, n));
    let (left, finished) = kill_mid_up(&lab, &file, n / 2);
    eprintln!(
        "killed with {left} of {} namespaces (finished: {finished})",
        n + 1
    );
    // `up` again brings it up completely, removing the debris first.
    let r = vnet(&["up", &file]).ok();
    if !finished {
        assert!(r.stderr.contains("unfinished"), "{r:#?}");
    }
    assert_eq!(lab.namespaces().len(), n + 1);
    let s = vnet(&["status", "--json", &lab.name]).ok().json();
    for node in s["nodes"].as_array().unwrap() {
        assert_eq!(node["present"], true, "{node}");
    }
    let h = ip_json(Some(&lab.ns("h7")), &["-4", "addr", "show", "eth0"]);
    assert!(h[0]["addr_info"][0]["local"].is_string(), "{h}");
    // A killed reconcile: the new nodes are debris, the old lab stays.
    let more = star_yaml(&lab.name, 2 * n);
    lab.write("lab.yaml", &more);
    let (left, finished) = kill_mid_up(&lab, &file, n + 1 + n / 2);
    eprintln!(
        "reconcile killed with {left} of {} namespaces (finished: {finished})",
        2 * n + 1
    );
    if !finished {
        let s = vnet(&["status", "--json", &lab.name]).ok().json();
        assert_eq!(s["nodes"].as_array().unwrap().len(), n + 1);
    }
    // And `up` again completes the reconcile.
    vnet(&["up", &file]).ok();
    assert_eq!(lab.namespaces().len(), 2 * n + 1);
    let s = vnet(&["status", "--json", &lab.name]).ok().json();
    for node in s["nodes"].as_array().unwrap() {
        assert_eq!(node["present"], true, "{node}");
    }
    let h = ip_json(
        Some(&lab.ns(&format!("h{}", 2 * n - 1))),
        &["-4", "addr", "show", "eth0"],
    );
    assert!(h[0]["addr_info"][0]["local"].is_string(), "{h}");
    let d = vnet(&["down", &lab.name]).ok();
    assert!(
        d.stdout
            .contains(&format!("removed {} namespace", 2 * n + 1)),
        "{d:#?}"
    );
    lab.assert_gone();
}

#[test]
fn bad_input_changes_nothing() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("bad");
    let l = &lab.name;
    // (file, text, words the message must contain)
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "unknown-key.yaml",
            format!("name: {l}\nnodes:\n  h1: {{ kind: host, colour: red }}\n"),
            vec!["unknown field", "colour"],
        ),
        (
            "unknown-top.yaml",
            format!("name: {l}\nnodez:\n  h1: {{ kind: host }}\n"),
            vec!["nodez"],
        ),
        (
            "duplicate-node.yaml",
            format!("name: {l}\nnodes:\n  h1: {{ kind: host }}\n  h1: {{ kind: router }}\n"),
            vec!["duplicate node", "h1"],
        ),
        (
            "missing-node.yaml",
            format!(
                "name: {l}\nnodes:\n  h1: {{ kind: host }}\nlinks:\n  - endpoints: [h1, h9]\n"
            ),
            vec!["h9"],
        ),
        (
            "iface-twice.yaml",
            format!(
                "name: {l}\nnodes:\n  h1: {{ kind: host }}\n  h2: {{ kind: host }}\n  h3: {{ kind: host }}\n\
                 links:\n  - endpoints: [h1:eth0, h2]\n  - endpoints: [h1:eth0, h3]\n"
            ),
            vec!["h1:eth0", "already used"],
        ),
        (
            "long-iface.yaml",
            format!(
                "name: {l}\nnodes:\n  h1: {{ kind: host }}\n  h2: {{ kind: host }}\n\
                 links:\n  - endpoints: [h1:abcdefghijklmnop, h2]\n"
            ),
            vec!["abcdefghijklmnop", "15"],
        ),
        (
            "long-derived.yaml",
            format!(
                "name: {l}\nnodes:\n  averyverylongbridge: {{ kind: bridge }}\n  h1: {{ kind: host }}\n\
                 links:\n  - endpoints: [h1, averyverylongbridge]\n"
            ),
            vec!["averyverylongbridge", "15"],
        ),
        (
            "long-tap.yaml",
            format!("name: {l}\nnodes:\n  averyverylongtapname: {{ kind: tap }}\n"),
            vec!["averyverylongtapname", "15"],
        ),
        (
            "switch.yaml",
            format!("name: {l}\nnodes:\n  sw1: {{ kind: switch }}\n"),
            vec!["switch", "not supported"],
        ),
        (
            "overlap.yaml",
            format!(
                "name: {l}\nnodes:\n  h1: {{ kind: host }}\n  h2: {{ kind: host }}\n  h3: {{ kind: host }}\n\
                 links:\n  - endpoints: [{{ node: h1, addresses: [10.0.0.1/24] }}, h2]\n\
                 \x20 - endpoints: [{{ node: h1, addresses: [10.0.0.5/16] }}, h3]\n"
            ),
            vec!["10.0.0.5/16", "overlaps"],
        ),
        (
            "exhausted.yaml",
            format!(
                "name: {l}\naddressing: {{ ipv4: 10.0.0.0/23 }}\nnodes:\n  s1: {{ kind: bridge }}\n  s2: {{ kind: bridge }}\n  s3: {{ kind: bridge }}\n\
                 \x20 h1: {{ kind: host }}\n  h2: {{ kind: host }}\n  h3: {{ kind: host }}\n\
                 links:\n  - endpoints: [h1, s1]\n  - endpoints: [h2, s2]\n  - endpoints: [h3, s3]\n"
            ),
            vec!["10.0.0.0/23", "exhausted"],
        ),
        (
            "syntax.yaml",
            format!("name: {l}\nnodes:\n  h1: {{ kind: host\n"),
            vec![],
        ),
    ];
    for (file, text, words) in &cases {
        let path = lab.write(file, text);
        if *file == "switch.yaml" && vnet(&["graph", &path]).success() {
            eprintln!("note: kind switch is supported now; not an error case any more");
            continue;
        }
        let r = vnet(&["up", &path]).fails();
        assert_located(&r.stderr, &path);
        for w in words {
            assert!(r.stderr.contains(w), "{file}: no `{w}` in: {}", r.stderr);
        }
        assert!(
            lab.namespaces().is_empty(),
            "{file}: namespaces were created"
        );
        assert!(!state_dir(&lab.name).exists(), "{file}: state was created");
        // `graph` and `down FILE` report the same located error.
        let g = vnet(&["graph", &path]).fails();
        assert_located(&g.stderr, &path);
    }

    // A bad edit of a lab that is up changes nothing either.
    let good = lab.write("good.yaml", &demo_yaml(&lab.name));
    vnet(&["up", &good]).ok();
    let before = lab.snapshot();
    let idx = ifindexes(&lab);
    let edited = demo_yaml(&lab.name) + "  - endpoints: [h1:eth0, h2]\n";
    lab.write("good.yaml", &edited);
    let r = vnet(&["up", &good]).fails();
    assert_located(&r.stderr, &good);
    assert_eq!(lab.snapshot(), before);
    assert_eq!(ifindexes(&lab), idx);
}

#[test]
fn second_lab_of_the_same_name_is_refused() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("dup");
    let first = lab.write("a/lab.yaml", &demo_yaml(&lab.name));
    let other = format!(
        "name: {}\nnodes:\n  x1: {{ kind: host }}\n  x2: {{ kind: host }}\nlinks:\n  - endpoints: [x1, x2]\n",
        lab.name
    );
    let second = lab.write("b/lab.yaml", &other);
    vnet(&["up", &first]).ok();
    let before = lab.snapshot();
    let r = vnet(&["up", &second]).fails();
    assert!(r.stderr.contains("already exists"), "{r:#?}");
    assert!(r.stderr.contains(&format!("{second}:1:7:")), "{r:#?}");
    assert!(
        r.stderr.contains(&first),
        "should name the first file: {r:#?}"
    );
    assert_eq!(lab.snapshot(), before);
    let s = vnet(&["status", "--json", &lab.name]).ok().json();
    assert_eq!(s["source"], first.as_str());
    // The same file again is fine.
    assert!(vnet(&["up", &first]).ok().stdout.contains("up to date"));
}

#[test]
fn two_labs_at_once() {
    if !root_or_skip() {
        return;
    }
    let a = TestLab::new("para");
    let b = TestLab::new("parb");
    let fa = a.write("lab.yaml", &star_yaml(&a.name, 40));
    let fb = b.write("lab.yaml", &star_yaml(&b.name, 40));
    let ca = vnet_spawn(&["up", &fa]);
    let cb = vnet_spawn(&["up", &fb]);
    wait(ca, "vnet up a").ok();
    wait(cb, "vnet up b").ok();
    for lab in [&a, &b] {
        assert_eq!(lab.namespaces().len(), 41);
        let s = vnet(&["status", "--json", &lab.name]).ok().json();
        for node in s["nodes"].as_array().unwrap() {
            assert_eq!(node["present"], true, "{node}");
        }
        // Not pingall: a flat segment of 40 hosts needs 1560 neighbour
        // entries, more than the kernel's table shared by all namespaces
        // (and all tests running in parallel) holds by default.
        ping_pair(lab, "h0", "h39");
    }
    let ca = vnet_spawn(&["down", &a.name]);
    let cb = vnet_spawn(&["down", &b.name]);
    wait(ca, "vnet down a").ok();
    wait(cb, "vnet down b").ok();
    a.assert_gone();
    b.assert_gone();
}

#[test]
fn same_lab_twice_at_once() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("same");
    let file = lab.write("lab.yaml", &star_yaml(&lab.name, 60));
    let c1 = vnet_spawn(&["up", &file]);
    let c2 = vnet_spawn(&["up", &file]);
    let r1 = wait(c1, "vnet up 1").ok();
    let r2 = wait(c2, "vnet up 2").ok();
    let outs = [r1.stdout.as_str(), r2.stdout.as_str()];
    assert_eq!(
        outs.iter().filter(|o| o.contains("created")).count(),
        1,
        "exactly one creates the lab: {r1:#?} {r2:#?}"
    );
    assert_eq!(
        outs.iter().filter(|o| o.contains("up to date")).count(),
        1,
        "the other finds it up to date: {r1:#?} {r2:#?}"
    );
    assert_eq!(lab.namespaces().len(), 61);
    ping_pair(&lab, "h0", "h59");
}

/// `from` pings `to`'s eth0 address once, through the lab.
fn ping_pair(lab: &TestLab, from: &str, to: &str) {
    let a = ip_json(Some(&lab.ns(to)), &["-4", "addr", "show", "eth0"]);
    let addr = a[0]["addr_info"][0]["local"]
        .as_str()
        .unwrap_or_else(|| panic!("{to} has no address: {a}"));
    vnet(&["exec", &lab.name, from, "--", "ping", "-c1", "-W2", addr]).ok();
}

/// A consistent lab: every node present, every host addressed.
fn assert_consistent(lab: &TestLab, n: usize) {
    assert_eq!(lab.namespaces().len(), n + 1);
    let s = vnet(&["status", "--json", &lab.name]).ok().json();
    let nodes = s["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), n + 1);
    for node in nodes {
        assert_eq!(node["present"], true, "{node}");
        if node["kind"] == "host" {
            let eth0 = &node["interfaces"][0];
            assert_eq!(eth0["name"], "eth0", "{node}");
            assert_eq!(eth0["addresses"].as_array().unwrap().len(), 1, "{node}");
        }
    }
}

#[test]
fn no_wait_is_refused_while_the_lab_is_busy() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("nowait");
    let n = 300;
    let file = lab.write("lab.yaml", &star_yaml(&lab.name, n));
    let mut first = vnet_spawn(&["up", &file]);
    // The lock is taken before the first namespace is made.
    let started = wait_until(Duration::from_secs(30), || {
        !lab.namespaces().is_empty() || first.try_wait().ok().flatten().is_some()
    });
    assert!(started);
    let second = vnet(&["up", "--no-wait", &file]);
    if second.success() {
        eprintln!("note: the first `up` finished before the second started");
        assert!(second.stdout.contains("up to date"), "{second:#?}");
    } else {
        assert!(
            second.stderr.contains("being changed by another vnet"),
            "{second:#?}"
        );
    }
    wait(first, "first vnet up").ok();
    assert_consistent(&lab, n);
    assert!(vnet(&["up", "--no-wait", &file])
        .ok()
        .stdout
        .contains("up to date"));
}

#[test]
fn up_and_down_racing() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("race");
    let n = 200;
    let file = lab.write("lab.yaml", &star_yaml(&lab.name, n));
    let mut first = vnet_spawn(&["up", &file]);
    wait_until(Duration::from_secs(30), || {
        !lab.namespaces().is_empty() || first.try_wait().ok().flatten().is_some()
    });
    // A down and another up queue behind the first up, in either order.
    let down = vnet_spawn(&["down", &lab.name]);
    std::thread::sleep(Duration::from_millis(20));
    let second = vnet_spawn(&["up", &file]);
    wait(first, "first vnet up").ok();
    wait(down, "vnet down").ok();
    wait(second, "second vnet up").ok();
    // Either the second up came last (the lab is up) or the down did (gone).
    if state_dir(&lab.name).join("lab.json").exists() {
        assert_consistent(&lab, n);
        vnet(&["down", &lab.name]).ok();
    }
    lab.assert_gone();
}

/// `kill -9` of a reconcile after it made a link between two namespaces
/// that survive: the next `up` removes the half-made link (journaled
/// before it was created) instead of failing with "File exists".
#[test]
fn killed_reconcile_leaves_no_link_in_surviving_namespaces() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("crashlnk");
    let base = demo_yaml(&lab.name);
    let file = lab.write("lab.yaml", &base);
    vnet(&["up", &file]).ok();
    // A new link h1:x9 — r1:x9 between existing nodes, and a new node
    // whose `exec` holds the run in phase E, after the link exists.
    let more = base.replace(
        "  h2: { kind: host }\n",
        "  h2: { kind: host }\n  h9: { kind: host, exec: [\"sleep 3\"] }\n",
    ) + "  - endpoints: [h9, s1]\n  - endpoints: [h1:x9, r1:x9]\n";
    lab.write("lab.yaml", &more);
    let mut child = vnet_spawn(&["up", &file]);
    let made = wait_until(Duration::from_secs(20), || {
        std::process::Command::new("ip")
            .args(["-n", &lab.ns("h1"), "link", "show", "x9"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    child.kill().expect("kill -9 vnet up");
    let status = child.wait().expect("wait");
    assert!(made, "the link never appeared ({status:?})");
    if status.success() {
        eprintln!("note: vnet up finished before it could be killed");
        return;
    }
    // Back to the applied file: the half-made link is debris, removed.
    lab.write("lab.yaml", &base);
    let r = vnet(&["up", &file]).ok();
    assert!(r.stderr.contains("unfinished"), "{r:#?}");
    let links = ip_json(Some(&lab.ns("h1")), &["link", "show"]);
    let names: Vec<&str> = links
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["ifname"].as_str())
        .collect();
    assert!(!names.contains(&"x9"), "{names:?}");
    // And the change itself goes through on the next try.
    lab.write("lab.yaml", &more);
    vnet(&["up", &file]).ok();
    vnet(&["exec", &lab.name, "h1", "--", "ip", "link", "show", "x9"]).ok();
    vnet(&["down", &lab.name]).ok();
    lab.assert_gone();
}
