//! Named network namespaces, compatible with iproute2's `ip netns`.
//!
//! A named namespace is a bind mount of a namespace file on
//! `/run/netns/NAME`, exactly as `ip netns add` makes it, so `ip netns list`
//! and `ip netns exec` see ours and we see theirs.
//!
//! `setns(2)` and `unshare(2)` change only the calling thread. This module
//! never leaves a thread in a foreign namespace: namespaces are created on
//! a throwaway thread, [`Netns::run`] runs a closure on a scoped thread, and
//! [`NetnsGuard`] switches the current thread and switches it back on drop,
//! also when the closure panics. Sockets opened inside a namespace stay bound
//! to it and may then be used from any thread ([`Netns::netlink`],
//! [`Netns::run`]).
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::netlink::Netlink;

/// Where named namespaces live (iproute2's NETNS_RUN_DIR).
pub const NETNS_RUN_DIR: &str = "/run/netns";

#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("{op} netns {name}: {source}")]
    Io {
        op: &'static str,
        name: String,
        source: io::Error,
    },
    #[error("netns {name}: invalid name ({reason})")]
    InvalidName { name: String, reason: &'static str },
    #[error("netns {name} already exists")]
    Exists { name: String },
    #[error("netns {name} does not exist")]
    NotFound { name: String },
    #[error("netns {name}: {source}")]
    Netlink {
        name: String,
        source: crate::error::NetlinkError,
    },
    #[error("netns {name}: the worker thread panicked")]
    Panicked { name: String },
}

fn io_err<'a>(op: &'static str, name: &'a str) -> impl FnOnce(nix::Error) -> NetnsError + 'a {
    move |e| NetnsError::Io {
        op,
        name: name.to_string(),
        source: io::Error::from(e),
    }
}

/// An open named network namespace. Holding it keeps the namespace alive
/// even after `delete`, until it is dropped.
#[derive(Debug)]
pub struct Netns {
    name: String,
    file: File,
}

impl AsFd for Netns {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

fn check_name(name: &str) -> Result<(), NetnsError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name.len() > 200 {
        "longer than 200 bytes"
    } else if name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        "contains '/' or is '.' or '..'"
    } else {
        return Ok(());
    };
    Err(NetnsError::InvalidName {
        name: name.to_string(),
        reason,
    })
}

/// The path of a named namespace: `/run/netns/NAME`.
pub fn path_of(name: &str) -> PathBuf {
    Path::new(NETNS_RUN_DIR).join(name)
}

/// Makes /run/netns a shared mount point, once per process, as iproute2 does,
/// so that unmounting a namespace file anywhere unmounts it everywhere and
/// the namespace is freed promptly.
fn prepare_run_dir() -> Result<(), NetnsError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    let r = DONE.get_or_init(|| {
        let fail = |what: &str, e: &dyn std::fmt::Display| format!("{what} {NETNS_RUN_DIR}: {e}");
        fs::create_dir_all(NETNS_RUN_DIR).map_err(|e| fail("create", &e))?;
        let dir = File::open(NETNS_RUN_DIR).map_err(|e| fail("open", &e))?;
        // Serialise with concurrent `ip netns add` and other vnet processes.
        let _lock = nix::fcntl::Flock::lock(dir, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| fail("lock", &e))?;
        let none: Option<&str> = None;
        loop {
            match mount(
                Some(""),
                NETNS_RUN_DIR,
                Some("none"),
                MsFlags::MS_SHARED | MsFlags::MS_REC,
                none,
            ) {
                Ok(()) => return Ok(()),
                Err(nix::Error::EINVAL) if dir_is_empty() && !on_tmpfs() => {
                    // Not a mount point, nothing in it, and on a disk file
                    // system (where creating each namespace file costs ~0.5 ms
                    // of journalling): give it a tmpfs, as /run is on most
                    // hosts, then retry MS_SHARED.
                    mount(
                        Some("tmpfs"),
                        NETNS_RUN_DIR,
                        Some("tmpfs"),
                        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                        Some("mode=0755"),
                    )
                    .map_err(|e| fail("mount tmpfs on", &e))?;
                }
                Err(nix::Error::EINVAL) => {
                    // Not a mount point yet: bind it onto itself, make it
                    // private (a new peer group), then retry MS_SHARED.
                    mount(
                        Some(NETNS_RUN_DIR),
                        NETNS_RUN_DIR,
                        Some("none"),
                        MsFlags::MS_BIND | MsFlags::MS_REC,
                        none,
                    )
                    .map_err(|e| fail("bind-mount", &e))?;
                    mount(
                        Some(""),
                        NETNS_RUN_DIR,
                        Some("none"),
                        MsFlags::MS_PRIVATE | MsFlags::MS_REC,
                        none,
                    )
                    .map_err(|e| fail("make private", &e))?;
                }
                Err(e) => return Err(fail("make shared", &e)),
            }
        }
    });
    r.clone().map_err(|reason| NetnsError::Io {
        op: "prepare",
        name: NETNS_RUN_DIR.to_string(),
        source: io::Error::other(reason),
    })
}

fn dir_is_empty() -> bool {
    fs::read_dir(NETNS_RUN_DIR).is_ok_and(|mut d| d.next().is_none())
}

fn on_tmpfs() -> bool {
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    nix::sys::statfs::statfs(NETNS_RUN_DIR).is_ok_and(|s| s.filesystem_type().0 == TMPFS_MAGIC)
}

/// Creates one named namespace from the calling thread: the thread is left
/// *inside* the new namespace. Only for use on throwaway threads.
fn create_here(name: &str) -> Result<Netns, NetnsError> {
    let path = path_of(name);
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o000)
        .open(&path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(NetnsError::Exists {
                name: name.to_string(),
            })
        }
        Err(e) => {
            return Err(NetnsError::Io {
                op: "create",
                name: name.to_string(),
                source: e,
            })
        }
    }
    let made = (|| {
        unshare(CloneFlags::CLONE_NEWNET).map_err(io_err("unshare", name))?;
        let none: Option<&str> = None;
        // /proc/thread-self, not /proc/self: the latter names the
        // thread-group leader's namespace.
        mount(
            Some("/proc/thread-self/ns/net"),
            &path,
            Some("none"),
            MsFlags::MS_BIND,
            none,
        )
        .map_err(io_err("bind-mount", name))?;
        Netns::open(name)
    })();
    if made.is_err() {
        let _ = umount2(&path, MntFlags::MNT_DETACH);
        let _ = fs::remove_file(&path);
    }
    made
}

impl Netns {
    /// Creates a named namespace, like `ip netns add NAME`.
    pub fn create(name: &str) -> Result<Netns, NetnsError> {
        Self::create_many(&[name], |_, _| Ok(()))
            .pop()
            .map(|r| r.map(|(ns, _)| ns))
            .unwrap_or_else(|| {
                Err(NetnsError::Panicked {
                    name: name.to_string(),
                })
            })
    }

    /// Creates many namespaces on one worker thread and runs `setup` inside
    /// each new namespace (with a netlink socket opened there) before moving
    /// on — the cheap way to build hundreds of namespaces. One result per
    /// name, in order; a failure does not stop the others. The namespace is
    /// kept when `setup` fails; the caller decides whether to delete it.
    pub fn create_many<S>(
        names: &[S],
        setup: impl Fn(&Netns, &mut Netlink) -> Result<(), NetnsError> + Sync,
    ) -> Vec<Result<(Netns, Netlink), NetnsError>>
    where
        S: AsRef<str> + Sync,
    {
        let checked: Vec<Result<(), NetnsError>> =
            names.iter().map(|n| check_name(n.as_ref())).collect();
        if let Err(e) = prepare_run_dir() {
            let msg = e.to_string();
            return names
                .iter()
                .map(|n| {
                    Err(NetnsError::Io {
                        op: "create",
                        name: n.as_ref().to_string(),
                        source: io::Error::other(msg.clone()),
                    })
                })
                .collect();
        }
        let run = || {
            names
                .iter()
                .zip(checked)
                .map(|(name, ok)| {
                    let name = name.as_ref();
                    ok?;
                    let ns = create_here(name)?;
                    let mut nl = Netlink::open().map_err(|e| NetnsError::Netlink {
                        name: name.to_string(),
                        source: e,
                    })?;
                    setup(&ns, &mut nl)?;
                    Ok((ns, nl))
                })
                .collect::<Vec<_>>()
        };
        // A scoped thread: its namespace changes die with it.
        std::thread::scope(|s| {
            s.spawn(run).join().unwrap_or_else(|_| {
                names
                    .iter()
                    .map(|n| {
                        Err(NetnsError::Panicked {
                            name: n.as_ref().to_string(),
                        })
                    })
                    .collect()
            })
        })
    }

    /// Opens an existing named namespace.
    pub fn open(name: &str) -> Result<Netns, NetnsError> {
        check_name(name)?;
        match File::open(path_of(name)) {
            Ok(file) => Ok(Netns {
                name: name.to_string(),
                file,
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(NetnsError::NotFound {
                name: name.to_string(),
            }),
            Err(e) => Err(NetnsError::Io {
                op: "open",
                name: name.to_string(),
                source: e,
            }),
        }
    }

    /// Whether a named namespace exists.
    pub fn exists(name: &str) -> bool {
        check_name(name).is_ok() && path_of(name).exists()
    }

    /// Deletes a named namespace, like `ip netns del NAME`. The kernel frees
    /// it (and its interfaces) asynchronously once nothing holds it.
    pub fn delete(name: &str) -> Result<(), NetnsError> {
        check_name(name)?;
        let path = path_of(name);
        if !path.exists() {
            return Err(NetnsError::NotFound {
                name: name.to_string(),
            });
        }
        match umount2(&path, MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::Error::EINVAL) => {}
            Err(e) => return Err(io_err("unmount", name)(e)),
        }
        fs::remove_file(&path).map_err(|e| NetnsError::Io {
            op: "delete",
            name: name.to_string(),
            source: e,
        })
    }

    /// Names of all named namespaces (ours and anyone else's), sorted.
    pub fn list() -> Result<Vec<String>, NetnsError> {
        let mut out = Vec::new();
        match fs::read_dir(NETNS_RUN_DIR) {
            Ok(rd) => {
                for e in rd.flatten() {
                    out.push(e.file_name().to_string_lossy().into_owned());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(NetnsError::Io {
                    op: "list",
                    name: NETNS_RUN_DIR.to_string(),
                    source: e,
                })
            }
        }
        out.sort();
        Ok(out)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Switches the current thread into this namespace until the guard drops.
    pub fn enter(&self) -> Result<NetnsGuard, NetnsError> {
        NetnsGuard::enter(self)
    }

    /// Runs `f` inside this namespace on a scoped thread and returns its
    /// result. Sockets and fds `f` opens stay in this namespace.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T, NetnsError> {
        std::thread::scope(|s| {
            s.spawn(|| {
                setns(self.file.as_fd(), CloneFlags::CLONE_NEWNET)
                    .map_err(io_err("enter", &self.name))?;
                Ok(f())
            })
            .join()
            .unwrap_or_else(|_| {
                Err(NetnsError::Panicked {
                    name: self.name.clone(),
                })
            })
        })
    }

    /// A netlink socket that acts on this namespace, usable from any thread.
    pub fn netlink(&self) -> Result<Netlink, NetnsError> {
        let name = self.name.clone();
        self.run(Netlink::open)?
            .map_err(|source| NetnsError::Netlink { name, source })
    }

    /// A command that runs inside this namespace, like `ip netns exec`: the
    /// child joins the namespace, gets its own mount namespace and a fresh
    /// /sys, so `/sys/class/net` shows this namespace's interfaces.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        self.prepare_command(&mut cmd);
        cmd
    }

    /// Makes an existing `Command` run inside this namespace.
    pub fn prepare_command(&self, cmd: &mut Command) {
        let fd = self.file.as_raw_fd();
        // SAFETY: the closure runs in the forked child before exec and only
        // makes raw system calls on a descriptor that stays open in the child
        // (no allocation, no locks), which is what pre_exec requires.
        unsafe {
            cmd.pre_exec(move || enter_in_child(fd));
        }
    }
}

/// Runs in a forked child: only async-signal-safe system calls.
fn enter_in_child(fd: i32) -> io::Result<()> {
    fn check(r: libc::c_int) -> io::Result<()> {
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
    const ROOT: &CStr = c"/";
    const SYS: &CStr = c"/sys";
    const SYSFS: &CStr = c"sysfs";
    const NONE: &CStr = c"none";
    // SAFETY: plain system calls on valid, NUL-terminated static strings and
    // a descriptor owned by the parent's `Netns`, inherited by the child.
    unsafe {
        check(libc::setns(fd, libc::CLONE_NEWNET))?;
        check(libc::unshare(libc::CLONE_NEWNS))?;
        // Keep our mount changes out of the parent's mount namespace.
        check(libc::mount(
            NONE.as_ptr(),
            ROOT.as_ptr(),
            std::ptr::null(),
            libc::MS_SLAVE | libc::MS_REC,
            std::ptr::null(),
        ))?;
        // A sysfs mounted now reflects the new network namespace.
        if libc::umount2(SYS.as_ptr(), libc::MNT_DETACH) == 0 {
            check(libc::mount(
                SYSFS.as_ptr(),
                SYS.as_ptr(),
                SYSFS.as_ptr(),
                0,
                std::ptr::null(),
            ))?;
        }
    }
    Ok(())
}

/// Keeps the current thread inside a namespace; restores the thread's
/// original namespace when dropped (also during a panic unwind).
///
/// Not `Send`: it must be dropped on the thread that created it.
#[derive(Debug)]
pub struct NetnsGuard {
    original: File,
    _not_send: PhantomData<*const ()>,
}

impl NetnsGuard {
    pub fn enter(ns: &Netns) -> Result<NetnsGuard, NetnsError> {
        let original = File::open("/proc/thread-self/ns/net").map_err(|e| NetnsError::Io {
            op: "save current",
            name: ns.name.clone(),
            source: e,
        })?;
        setns(ns.file.as_fd(), CloneFlags::CLONE_NEWNET).map_err(io_err("enter", &ns.name))?;
        Ok(NetnsGuard {
            original,
            _not_send: PhantomData,
        })
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        if let Err(e) = setns(self.original.as_fd(), CloneFlags::CLONE_NEWNET) {
            // A thread stranded in the wrong namespace would silently act on
            // the wrong network: stopping is the only safe outcome.
            eprintln!("vnet: cannot restore the thread's network namespace: {e}; aborting");
            std::process::abort();
        }
    }
}

/// Writes a sysctl of the calling thread's network namespace, e.g.
/// `set_sysctl("net/ipv4/ip_forward", "1")`.
pub fn set_sysctl(key: &str, value: &str) -> io::Result<()> {
    // /proc/sys/net resolves against the opening thread's namespace.
    fs::write(Path::new("/proc/sys").join(key), value)
        .map_err(|e| io::Error::new(e.kind(), format!("sysctl {key}={value}: {e}")))
}

/// Reads a sysctl of the calling thread's network namespace.
pub fn get_sysctl(key: &str) -> io::Result<String> {
    fs::read_to_string(Path::new("/proc/sys").join(key)).map(|s| s.trim().to_string())
}
