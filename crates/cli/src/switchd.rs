//! The lab's switch daemon: one process per lab hosting all its switches
//! (as ovs-vswitchd hosts many bridges).
//!
//! Layout under `/run/vnet/LAB/`: `switchd.sock` (control socket, mode
//! 0600), `switchd.pid` (the supervisor), `switchd.log`, and per switch
//! `flows-SWITCH.txt` (the switch's flows as last installed, in ovs-ofctl
//! syntax) and `ports.json` (port numbers, kept stable across restarts).
//!
//! `vnet switchd LAB` is a supervisor: it runs the worker (`--worker`) and
//! restarts it with backoff if it dies; the worker rebuilds every switch
//! from the lab state and the flow files, so a crash loses no port and no
//! flow. A `shutdown` request ends both.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use vnet_switch::control::{Reply, Request};
use vnet_switch::datapath::VlanMode;
use vnet_switch::runtime::{PortConfig, SwitchConfig};
use vnet_topo::lab::{Lab, NodeKind, PortVlan};
use vnet_topo::state::lab_dir;

use crate::switchset::SwitchSet;

pub fn socket_path(lab: &str) -> PathBuf {
    lab_dir(lab).join("switchd.sock")
}

fn pid_path(lab: &str) -> PathBuf {
    lab_dir(lab).join("switchd.pid")
}

/// Sends one request to a lab's daemon and returns its reply (a
/// [`Request`], or a [`crate::openflow::ControlRequest`]).
pub fn request(lab: &str, req: &impl serde::Serialize, timeout: Duration) -> Result<Reply> {
    let path = socket_path(lab);
    let mut s = UnixStream::connect(&path).with_context(|| {
        format!(
            "lab {lab}: switch daemon not reachable at {}",
            path.display()
        )
    })?;
    s.set_read_timeout(Some(timeout))?;
    let mut line = serde_json::to_string(req)?;
    line.push('\n');
    s.write_all(line.as_bytes())?;
    let mut reply = String::new();
    BufReader::new(&s)
        .read_line(&mut reply)
        .with_context(|| format!("lab {lab}: switch daemon did not answer"))?;
    serde_json::from_str(&reply)
        .with_context(|| format!("lab {lab}: bad reply from the switch daemon: {reply}"))
}

/// Whether the lab's daemon answers.
pub fn alive(lab: &str) -> bool {
    request(lab, &Request::Ping, Duration::from_secs(2)).is_ok_and(|r| r.ok)
}

/// Starts the daemon if it is not running, then asks it to reload the lab;
/// waits until it has.
pub fn ensure_running(lab: &str) -> Result<()> {
    // A supervisor restarting its worker is not answering for a moment:
    // wait for it rather than start a second one.
    if !alive(lab) && !supervisor_running(lab) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(lab_dir(lab).join("switchd.log"))?;
        let exe = std::env::current_exe().context("locate the vnet binary")?;
        std::os::unix::process::CommandExt::process_group(
            Command::new(exe)
                .args(["switchd", lab])
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log),
            0,
        )
        .spawn()
        .context("start the switch daemon")?;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !alive(lab) {
        if Instant::now() > deadline {
            bail!(
                "lab {lab}: the switch daemon did not start; see {}",
                lab_dir(lab).join("switchd.log").display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = request(lab, &Request::Reload, Duration::from_secs(30))?;
    if !r.ok {
        bail!("lab {lab}: switch daemon: {}", r.error.unwrap_or_default());
    }
    Ok(())
}

/// Stops the daemon: politely over the socket, then by PID.
pub fn stop(lab: &str) {
    let _ = request(lab, &Request::Shutdown, Duration::from_secs(5));
    let deadline = Instant::now() + Duration::from_secs(5);
    if let Ok(text) = std::fs::read_to_string(pid_path(lab)) {
        if let Ok(pid) = text.trim().parse::<i32>() {
            let pid = nix::unistd::Pid::from_raw(pid);
            while nix::sys::signal::kill(pid, None).is_ok() && is_switchd(pid) {
                if Instant::now() > deadline {
                    let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    let _ = std::fs::remove_file(pid_path(lab));
    let _ = std::fs::remove_file(socket_path(lab));
}

/// Whether the lab's supervisor (`vnet switchd LAB`, from its PID file)
/// runs.
fn supervisor_running(lab: &str) -> bool {
    let Some(pid) = std::fs::read_to_string(pid_path(lab))
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
    else {
        return false;
    };
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
        let args: Vec<&[u8]> = c.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
        args.len() == 3 && args[1] == b"switchd" && args[2] == lab.as_bytes()
    })
}

/// Guards against PID reuse: only a process running `vnet switchd` counts.
fn is_switchd(pid: nix::unistd::Pid) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
        let args: Vec<&[u8]> = c.split(|b| *b == 0).collect();
        args.get(1).is_some_and(|a| *a == b"switchd")
    })
}

/// The switches of a lab as the daemon should run them. Port numbers are
/// kept from `previous` for ports that still exist; new ports get the next
/// free numbers in interface order.
pub fn switch_configs(
    lab: &Lab,
    previous: &BTreeMap<String, BTreeMap<String, u32>>,
) -> Vec<SwitchConfig> {
    lab.nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Switch)
        .filter_map(|n| {
            let netns = n.netns.clone()?;
            let prev = previous.get(&n.name).cloned().unwrap_or_default();
            let mut next = prev.values().copied().max().unwrap_or(0) + 1;
            let ports = n
                .interfaces
                .iter()
                .map(|i| {
                    let ofport = match prev.get(&i.name) {
                        Some(p) => *p,
                        None => {
                            next += 1;
                            next - 1
                        }
                    };
                    let vlan = match &i.vlan {
                        None => VlanMode::Unaware,
                        Some(PortVlan::Access(v)) => VlanMode::Access(*v),
                        Some(PortVlan::Trunk { allowed, native }) => VlanMode::Trunk {
                            allowed: allowed.clone(),
                            native: *native,
                        },
                    };
                    PortConfig {
                        name: i.name.clone(),
                        ofport,
                        vlan,
                    }
                })
                .collect();
            Some(SwitchConfig {
                name: n.name.clone(),
                netns,
                ports,
            })
        })
        .collect()
}

/// `vnet switchd LAB [--worker]`.
pub fn run(lab: &str, worker: bool) -> Result<ExitCode> {
    crate::output::need_root("vnet switchd")?;
    if worker {
        return run_worker(lab);
    }
    std::fs::write(pid_path(lab), format!("{}\n", std::process::id()))?;
    let exe = std::env::current_exe()?;
    let mut backoff = Duration::from_millis(100);
    loop {
        let started = Instant::now();
        let status = Command::new(&exe)
            .args(["switchd", lab, "--worker"])
            .status()?;
        if status.success() {
            let _ = std::fs::remove_file(pid_path(lab));
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("vnet switchd {lab}: worker exited ({status}); restarting");
        if started.elapsed() > Duration::from_secs(30) {
            backoff = Duration::from_millis(100);
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_secs(5));
        if !lab_dir(lab).exists() {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

fn run_worker(lab: &str) -> Result<ExitCode> {
    let path = socket_path(lab);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).with_context(|| format!("bind {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let set = SwitchSet::shared(lab);
    if let Err(e) = set.lock().expect("switch set").reload() {
        eprintln!("vnet switchd {lab}: initial load: {e:#}");
    }
    {
        // Flow timeouts (idle/hard) are enforced once a second.
        let set = Arc::downgrade(&set);
        std::thread::spawn(move || {
            while let Some(set) = set.upgrade() {
                if let Ok(mut s) = set.lock() {
                    s.expire();
                }
                drop(set);
                std::thread::sleep(Duration::from_secs(1));
            }
        });
    }
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let set = set.clone();
        let mut reader = BufReader::new(match conn.try_clone() {
            Ok(c) => c,
            Err(_) => continue,
        });
        let mut writer = conn;
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() {
            continue;
        }
        let req: Request = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                if let Ok(of) = serde_json::from_str::<crate::openflow::ControlRequest>(&line) {
                    let reply = set.lock().expect("switch set").handle_control(of);
                    let _ = writeln!(writer, "{}", serde_json::to_string(&reply)?);
                    continue;
                }
                let _ = writeln!(
                    writer,
                    "{}",
                    serde_json::to_string(&Reply::err(format!("bad request: {e}")))?
                );
                continue;
            }
        };
        if req == Request::Shutdown {
            let _ = writeln!(
                writer,
                "{}",
                serde_json::to_string(&Reply::ok("", serde_json::Value::Null))?
            );
            set.lock().expect("switch set").stop_all();
            let _ = std::fs::remove_file(&path);
            return Ok(ExitCode::SUCCESS);
        }
        let reply = set.lock().expect("switch set").handle(req);
        let _ = writeln!(writer, "{}", serde_json::to_string(&reply)?);
    }
    Ok(ExitCode::SUCCESS)
}
