//! Helpers shared by the kernel tests: a root check that skips with a
//! printed reason, uniquely named throwaway namespaces removed on drop (also
//! when the test fails), and iproute2's JSON output as an independent oracle.
#![allow(dead_code)]

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use vnet_sys::Netns;

/// True when the test can run; prints why not otherwise.
pub fn root_or_skip() -> bool {
    if nix::unistd::geteuid().is_root() {
        true
    } else {
        eprintln!("SKIP: kernel tests need root (CI runs them as root)");
        false
    }
}

/// A uniquely named namespace, deleted when dropped.
pub struct TestNs {
    pub ns: Netns,
}

impl TestNs {
    pub fn new(tag: &str) -> TestNs {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "vt{}-{}-{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let ns = Netns::create(&name).unwrap_or_else(|e| panic!("create test netns: {e}"));
        TestNs { ns }
    }

    pub fn name(&self) -> &str {
        self.ns.name()
    }

    /// `ip -n NS -j ARGS...` parsed as JSON.
    pub fn ip_json(&self, args: &[&str]) -> serde_json::Value {
        ip_json(Some(self.name()), args)
    }

    /// `ip -n NS ARGS...`, asserting success.
    pub fn ip(&self, args: &[&str]) {
        let mut full = vec!["-n", self.name()];
        full.extend_from_slice(args);
        run("ip", &full);
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        let _ = Netns::delete(self.ns.name());
    }
}

pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program} (is it installed? .ci/run installs it): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn ip_json(ns: Option<&str>, args: &[&str]) -> serde_json::Value {
    let mut full = Vec::new();
    if let Some(ns) = ns {
        full.extend_from_slice(&["-n", ns]);
    }
    full.push("-j");
    full.extend_from_slice(args);
    let text = run("ip", &full);
    if text.trim().is_empty() {
        return serde_json::Value::Array(vec![]);
    }
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("ip {full:?} gave bad JSON ({e}): {text}"))
}

/// The object of `ip -j link show DEV` (first element).
pub fn link_json(ns: &TestNs, dev: &str) -> serde_json::Value {
    ns.ip_json(&["-d", "link", "show", "dev", dev])[0].clone()
}
