//! Helpers for the end-to-end tests: they drive the real `vnet` binary as
//! root and check the results against iproute2 (`ip -j ...`), never against
//! vnet's own output alone.
//!
//! Tests run in parallel (nextest: one process per test), so every test uses
//! a lab name unique to its process and its tag, writes its lab files into
//! its own temporary directory, and holds a [`TestLab`] guard that brings the
//! lab down on drop — also when the test fails — and, as a last resort,
//! deletes any `vnet.LAB.*` namespace and `/run/vnet/LAB` left behind.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod openflow;
mod switch;

// Every test binary uses some of these, none all (see `dead_code` above).
#[allow(unused_imports)]
pub use openflow::*;
#[allow(unused_imports)]
pub use switch::*;

/// True when the test can run; prints why not otherwise.
pub fn root_or_skip() -> bool {
    if nix::unistd::geteuid().is_root() {
        true
    } else {
        eprintln!("SKIP: needs root");
        false
    }
}

/// The `vnet` binary under test.
pub fn vnet_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vnet"));
    c.stdin(Stdio::null());
    c
}

/// The result of one command, with its output decoded.
#[derive(Debug)]
pub struct Run {
    pub what: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from_output(what: String, out: Output) -> Run {
        Run {
            what,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Asserts exit 0; returns self for chaining.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert!(self.success(), "{} failed: {self:#?}", self.what);
        self
    }

    /// Asserts a non-zero exit; returns self for chaining.
    #[track_caller]
    pub fn fails(self) -> Run {
        assert!(
            !self.success() && self.code.is_some(),
            "{} should have failed: {self:#?}",
            self.what
        );
        self
    }

    /// Stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{}: stdout is not JSON ({e}): {self:#?}", self.what))
    }
}

/// Runs `vnet ARGS...` and waits for it.
pub fn vnet(args: &[&str]) -> Run {
    let out = vnet_cmd()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run vnet: {e}"));
    Run::from_output(format!("vnet {}", args.join(" ")), out)
}

/// Runs `vnet ARGS...` in the background, output captured.
pub fn vnet_spawn(args: &[&str]) -> Child {
    vnet_cmd()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn vnet: {e}"))
}

/// Waits for a spawned command.
pub fn wait(child: Child, what: &str) -> Run {
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait for {what}: {e}"));
    Run::from_output(what.to_string(), out)
}

/// Runs a program (iproute2 and friends), asserting success; returns stdout.
#[track_caller]
pub fn sh(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ip [-n NS] -j ARGS...` parsed as JSON (an empty output is `[]`).
#[track_caller]
pub fn ip_json(ns: Option<&str>, args: &[&str]) -> Value {
    let mut full = Vec::new();
    if let Some(ns) = ns {
        full.extend_from_slice(&["-n", ns]);
    }
    full.push("-j");
    full.extend_from_slice(args);
    let text = sh("ip", &full);
    if text.trim().is_empty() {
        return Value::Array(vec![]);
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("ip {full:?}: not JSON ({e}): {text}"))
}

/// All named namespaces (`ip netns list`). Tolerates the transient
/// "Peer netns reference is invalid" noise of namespaces being created.
pub fn all_netns() -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("run ip netns list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The state directory of a lab.
pub fn state_dir(lab: &str) -> PathBuf {
    Path::new("/run/vnet").join(lab)
}

/// A lab name unique to this test process and tag, its temporary directory,
/// and the cleanup guard.
pub struct TestLab {
    pub name: String,
    pub dir: PathBuf,
    /// Extra namespaces made by hand by the test, deleted on drop.
    pub extra_netns: Vec<String>,
}

impl TestLab {
    /// `tag`: a few characters naming the test (the lab name must stay
    /// within 32 characters of `[A-Za-z0-9_-]`).
    pub fn new(tag: &str) -> TestLab {
        let name = format!("t{}{tag}", std::process::id());
        assert!(name.len() <= 32, "lab name {name} too long");
        let dir = std::env::temp_dir().join(format!("vnet-e2e-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create test dir");
        TestLab {
            name,
            dir,
            extra_netns: Vec::new(),
        }
    }

    /// The namespace of a node.
    pub fn ns(&self, node: &str) -> String {
        format!("vnet.{}.{node}", self.name)
    }

    /// Writes a lab file (relative to the test's directory); returns its path.
    pub fn write(&self, file: &str, text: &str) -> String {
        let path = self.dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(&path, text).expect("write lab file");
        path.display().to_string()
    }

    /// This lab's namespaces that exist now (`vnet.LAB.*`).
    pub fn namespaces(&self) -> Vec<String> {
        let prefix = format!("vnet.{}.", self.name);
        let mut v: Vec<String> = all_netns()
            .into_iter()
            .filter(|n| n.starts_with(&prefix))
            .collect();
        v.sort();
        v
    }

    /// Asserts that nothing of the lab is left: no namespace, no state.
    #[track_caller]
    pub fn assert_gone(&self) {
        let left = self.namespaces();
        assert!(
            left.is_empty(),
            "lab {}: namespaces left: {left:?}",
            self.name
        );
        assert!(
            !state_dir(&self.name).exists(),
            "lab {}: {} still exists",
            self.name,
            state_dir(&self.name).display()
        );
    }

    /// Snapshot of the lab as iproute2 sees it (see [`snapshot`]).
    pub fn snapshot(&self) -> BTreeMap<String, NsSnapshot> {
        self.namespaces()
            .into_iter()
            .map(|ns| {
                let s = snapshot(Some(&ns));
                (ns, s)
            })
            .collect()
    }
}

impl Drop for TestLab {
    fn drop(&mut self) {
        let _ = vnet_cmd()
            .args(["down", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // Last resort: whatever is still there.
        for ns in self
            .namespaces()
            .into_iter()
            .chain(self.extra_netns.clone())
        {
            let _ = Command::new("ip")
                .args(["netns", "del", &ns])
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(state_dir(&self.name));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One interface as iproute2 reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IfaceSnap {
    pub name: String,
    pub index: u64,
    pub kind: String,
    pub master: Option<String>,
    pub mtu: u64,
    /// `ADDR/PREFIX` of global-scope addresses, sorted.
    pub addrs: Vec<String>,
}

/// A namespace as iproute2 reports it: interfaces by name and the main
/// routing table (IPv4 and IPv6, without kernel-made link-local routes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsSnapshot {
    pub ifaces: BTreeMap<String, IfaceSnap>,
    pub routes: Vec<String>,
}

impl NsSnapshot {
    /// Same interfaces, addresses and routes, ignoring ifindexes (for
    /// interfaces that were legitimately re-created).
    pub fn same_but_indexes(&self, other: &NsSnapshot) -> bool {
        let strip = |s: &NsSnapshot| {
            s.ifaces
                .values()
                .map(|i| IfaceSnap {
                    index: 0,
                    ..i.clone()
                })
                .collect::<Vec<_>>()
        };
        strip(self) == strip(other) && self.routes == other.routes
    }
}

/// Snapshot of a namespace (`None`: the root namespace).
pub fn snapshot(ns: Option<&str>) -> NsSnapshot {
    let links = ip_json(ns, &["-d", "link", "show"]);
    let addrs = ip_json(ns, &["addr", "show"]);
    let mut ifaces = BTreeMap::new();
    for l in links.as_array().expect("links") {
        let name = l["ifname"].as_str().unwrap_or_default().to_string();
        let mut a: Vec<String> = addrs
            .as_array()
            .expect("addrs")
            .iter()
            .filter(|x| x["ifname"] == l["ifname"])
            .flat_map(|x| x["addr_info"].as_array().cloned().unwrap_or_default())
            .filter(|ai| ai["scope"] == "global")
            .map(|ai| format!("{}/{}", ai["local"].as_str().unwrap_or(""), ai["prefixlen"]))
            .collect();
        a.sort();
        ifaces.insert(
            name.clone(),
            IfaceSnap {
                name,
                index: l["ifindex"].as_u64().unwrap_or_default(),
                kind: l["linkinfo"]["info_kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                master: l["master"].as_str().map(str::to_string),
                mtu: l["mtu"].as_u64().unwrap_or_default(),
                addrs: a,
            },
        );
    }
    let mut routes = Vec::new();
    for fam in ["-4", "-6"] {
        let mut args = vec![fam, "route", "show"];
        if fam == "-6" {
            args.extend_from_slice(&["table", "main"]);
        }
        let r = route_list(ns, &args);
        routes.extend(
            r.into_iter()
                .filter(|s| !s.starts_with("fe80::") && !s.starts_with("multicast")),
        );
    }
    routes.sort();
    NsSnapshot { ifaces, routes }
}

/// Routes as stable one-line descriptions (dst, gateway, dev, metric).
fn route_list(ns: Option<&str>, args: &[&str]) -> Vec<String> {
    let mut full = Vec::new();
    if let Some(ns) = ns {
        full.extend_from_slice(&["-n", ns]);
    }
    full.push("-j");
    full.extend_from_slice(args);
    let out = Command::new("ip")
        .args(&full)
        .stdin(Stdio::null())
        .output()
        .expect("run ip route");
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || text.trim().is_empty() {
        return vec![];
    }
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Array(vec![]));
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            format!(
                "{} via {} dev {} metric {} proto {}",
                r["dst"].as_str().unwrap_or("?"),
                r["gateway"].as_str().unwrap_or("-"),
                r["dev"].as_str().unwrap_or("-"),
                r["metric"].as_u64().unwrap_or(0),
                r["protocol"].as_str().unwrap_or("-"),
            )
        })
        .collect()
}

/// Ifindex of every interface of every namespace: (ns, ifname) → ifindex.
pub fn ifindexes(lab: &TestLab) -> BTreeMap<(String, String), u64> {
    let mut m = BTreeMap::new();
    for ns in lab.namespaces() {
        for l in ip_json(Some(&ns), &["link", "show"])
            .as_array()
            .expect("links")
        {
            m.insert(
                (ns.clone(), l["ifname"].as_str().unwrap_or("").to_string()),
                l["ifindex"].as_u64().unwrap_or(0),
            );
        }
    }
    m
}

/// Polls `cond` every few milliseconds until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, cond: impl FnMut() -> bool) -> bool {
    poll(timeout, Duration::from_millis(2), cond)
}

/// Polls `cond` every 100 ms until it holds or `timeout` passes: for
/// conditions that run commands.
pub fn wait_for(timeout: Duration, cond: impl FnMut() -> bool) -> bool {
    poll(timeout, Duration::from_millis(100), cond)
}

/// Polls `cond` every `every` until it holds or `timeout` passes; a last
/// try at the end.
fn poll(timeout: Duration, every: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return true;
        }
        std::thread::sleep(every);
    }
    cond()
}

/// Asserts that `stderr` has a `FILE:LINE:COL:` location for `file`.
#[track_caller]
pub fn assert_located(stderr: &str, file: &str) {
    let needle = format!("{file}:");
    let found = stderr.match_indices(&needle).any(|(i, _)| {
        let rest = &stderr[i + needle.len()..];
        let mut parts = rest.splitn(3, ':');
        let line = parts.next().unwrap_or("");
        let col = parts.next().unwrap_or("");
        !line.is_empty()
            && line.bytes().all(|b| b.is_ascii_digit())
            && !col.is_empty()
            && col.bytes().all(|b| b.is_ascii_digit())
            && parts.next().is_some()
    });
    assert!(found, "no `{file}:LINE:COL:` in stderr: {stderr}");
}

/// A star lab: one bridge `s1` and `n` hosts `h0..`, in a /16 pool with
/// subnets large enough for all of them.
pub fn star_yaml(name: &str, n: usize) -> String {
    let mut s = format!(
        "name: {name}\naddressing: {{ ipv4: 10.0.0.0/16, ipv4_prefix: 20 }}\nnodes:\n  s1: {{ kind: bridge }}\n"
    );
    for i in 0..n {
        s.push_str(&format!("  h{i}: {{ kind: host }}\n"));
    }
    s.push_str("links:\n");
    for i in 0..n {
        s.push_str(&format!("  - endpoints: [h{i}, s1]\n"));
    }
    s
}

/// The demo-like lab: a bridge, a router and two hosts.
pub fn demo_yaml(name: &str) -> String {
    format!(
        "name: {name}
nodes:
  s1: {{ kind: bridge }}
  r1: {{ kind: router }}
  h1: {{ kind: host }}
  h2: {{ kind: host }}
links:
  - endpoints: [h1:eth0, s1]
  - endpoints: [h2, s1]
  - endpoints: [r1:eth0, s1]
"
    )
}
