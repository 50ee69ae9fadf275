//! Helpers for the OpenFlow tests: the real `ovs-ofctl -O OpenFlow13` on
//! sw1's passive listener, and what its dumps print.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::{restart_worker, root_or_skip, saved, show, sw, wait_for, Run, TestLab};

/// Whether `program` is on the PATH.
pub fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Root and every program in `programs`, or SKIP.
pub fn ready(programs: &[&str]) -> bool {
    if !root_or_skip() {
        return false;
    }
    for p in programs {
        if !installed(p) {
            eprintln!("SKIP: {p} is not installed");
            return false;
        }
    }
    true
}

/// `ovs-ofctl -O OpenFlow13 ARGS...`, bounded in time.
pub fn ofctl(args: &[&str]) -> Run {
    let out = Command::new("timeout")
        .args(["120", "ovs-ofctl", "-O", "OpenFlow13"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ovs-ofctl");
    Run::from_output(format!("ovs-ofctl {}", args.join(" ")), out)
}

/// `tcp:127.0.0.1:PORT` of sw1's (first) listener.
pub fn listener(lab: &TestLab) -> String {
    let mut bound = None;
    wait_for(Duration::from_secs(10), || {
        bound = show(lab)["openflow"]["listeners"][0]["bound"]
            .as_str()
            .map(str::to_string);
        bound.is_some()
    });
    format!("tcp:{}", bound.expect("sw1 has a bound listener"))
}

/// Waits (5 s) for sw1's flows file to hold `flows` flows, kills the
/// switch daemon's worker, and returns the listener of its successor.
pub fn restart_when_saved(lab: &TestLab, flows: usize) -> String {
    assert!(
        wait_for(Duration::from_secs(5), || saved(
            lab,
            "flows-sw1.txt",
            flows
        )),
        "{flows} flows not saved"
    );
    restart_worker(lab);
    listener(lab)
}

/// A dump-flows line without what changes (counters, durations) and what
/// most flows of the tests have (cookie 0, table 0).
fn strip(line: &str) -> String {
    line.trim()
        .split(", ")
        .filter(|f| {
            ![
                "duration=",
                "n_packets=",
                "n_bytes=",
                "cookie=0x0",
                "table=0",
                "idle_age=",
            ]
            .iter()
            .any(|p| f.starts_with(p))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The flows of `ovs-ofctl dump-flows` as they went in: stripped (see
/// [`strip`]) and sorted.
pub fn dumped(target: &str) -> Vec<String> {
    let r = ofctl(&["dump-flows", target]).ok();
    let mut v: Vec<String> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with(' '))
        .map(strip)
        .collect();
    v.sort();
    v
}

/// sw1's own `dump-flows --json`, in ovs-ofctl's `MATCH actions=` form,
/// sorted.
pub fn own_flows(lab: &TestLab) -> Vec<String> {
    let j = sw(lab, "sw1", &["dump-flows", "--json"]).ok().json();
    let mut v: Vec<String> = j
        .as_array()
        .expect("dump-flows --json")
        .iter()
        .map(|f| {
            f["flow"]
                .as_str()
                .expect("flow")
                .replacen(",actions=", " actions=", 1)
        })
        .collect();
    v.sort();
    v
}

/// `flows` as owned strings, sorted.
pub fn sorted(flows: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = flows.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// An Ethernet frame of ethertype 0x88b5 (local experimental) from
/// 02:00:00:00:00:99 to `dst`, as hex.
pub fn frame_hex(dst: &str) -> String {
    let mut s = dst.replace(':', "");
    s.push_str("020000000099");
    s.push_str("88b5");
    s.push_str(&"42".repeat(46));
    s
}
