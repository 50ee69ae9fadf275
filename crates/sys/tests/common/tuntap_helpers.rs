//! Helpers for the TUN/TAP and probe kernel tests: a root check, a fresh
//! network namespace per test body (on its own thread, gone when the thread
//! ends), and iproute2 as an independent oracle.
//!
//! Included with `#[path = "common/tuntap_helpers.rs"] mod helpers;`.
#![allow(dead_code)]

use std::process::{Command, Output};

/// True when the test can run; prints `SKIP: <reason>` otherwise.
pub fn root_or_skip() -> bool {
    if nix::unistd::geteuid().is_root() {
        true
    } else {
        eprintln!("SKIP: kernel tests need root (CI runs them as root)");
        false
    }
}

/// Run `f` on a new thread inside a new, empty network namespace with `lo`
/// up. The namespace (and every device in it) disappears when the thread
/// ends. Commands spawned from `f` inherit the namespace. Panics in `f` are
/// propagated.
pub fn in_fresh_netns<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let handle = std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .expect("unshare(CLONE_NEWNET) for the test namespace");
        must("ip", &["link", "set", "lo", "up"]);
        f()
    });
    match handle.join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Run a command; a missing program fails the test with a clear message.
pub fn cmd(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{program}` ({e}); the kernel tests need iproute2 (ip, tc) \
             installed — CI installs it"
            )
        })
}

/// Run a command that must succeed; returns its stdout.
pub fn must(program: &str, args: &[&str]) -> String {
    let out = cmd(program, args);
    assert!(
        out.status.success(),
        "`{program} {}` failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether a command succeeds, plus its stderr (for messages).
pub fn succeeds(program: &str, args: &[&str]) -> (bool, String) {
    let out = cmd(program, args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    )
}

/// `ip -j ARGS...` parsed as JSON (an empty array for empty output).
pub fn ip_json(args: &[&str]) -> serde_json::Value {
    let mut full = vec!["-j"];
    full.extend_from_slice(args);
    let text = must("ip", &full);
    if text.trim().is_empty() {
        return serde_json::Value::Array(vec![]);
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("ip -j {args:?}: bad JSON ({e}): {text}"))
}

/// `ip -j -d link show DEV` → the single link object, or None if absent.
pub fn link_details(dev: &str) -> Option<serde_json::Value> {
    let out = cmd("ip", &["-j", "-d", "link", "show", "dev", dev]);
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ip -j link JSON");
    v.as_array().and_then(|a| a.first().cloned())
}

/// Names of all links in the current thread's namespace.
pub fn link_names() -> Vec<String> {
    ip_json(&["link", "show"])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ifname"].as_str().unwrap().to_owned())
        .collect()
}
