//! Lab state under `/run/vnet/LAB/`: a lock, the lab as last applied, and
//! the journal.
//!
//! The journal is the promise behind `vnet down`: every namespace a lab owns
//! is appended to it *before* it is created, so after a crash or `kill -9`
//! of `vnet up` the journal still names everything that may exist. All of a
//! lab's kernel objects (links, addresses, routes, TAP/TUN devices) live
//! inside its namespaces, so deleting the journaled namespaces removes the
//! whole lab; nothing is ever found by guessing names.
//!
//! A reconcile also journals the interfaces it is about to make in
//! namespaces that already exist (`link NS IFACE`): if it is killed, the
//! next `vnet up` deletes those the applied lab does not have, so a
//! half-made link never blocks the lab. The journal is compacted to the
//! lab's namespaces after every finished run.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::lab::Lab;

/// Root of all lab state; root-only.
pub const STATE_ROOT: &str = "/run/vnet";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("lab {lab}: {op} {path}: {source}")]
    Io {
        lab: String,
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("lab {lab}: state file {path} is damaged: {reason}")]
    Corrupt {
        lab: String,
        path: PathBuf,
        reason: String,
    },
    #[error("lab {lab} is being changed by another vnet process; try again when it has finished")]
    Busy { lab: String },
}

/// What `up` leaves behind for later commands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Applied {
    /// The lab file it came from (absolute), if any.
    pub source: Option<PathBuf>,
    pub lab: Lab,
}

/// An exclusively locked lab state directory.
#[derive(Debug)]
pub struct LabState {
    lab: String,
    dir: PathBuf,
    _lock: Flock<File>,
}

pub fn lab_dir(lab: &str) -> PathBuf {
    Path::new(STATE_ROOT).join(lab)
}

/// Names of all labs with state on this host.
pub fn list_labs() -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(STATE_ROOT)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().join("journal").exists() || e.path().join("lab.json").exists())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Reads a lab's applied state without locking (for status and graph).
pub fn read_applied(lab: &str) -> Result<Option<Applied>, StateError> {
    read_applied_in(lab, &lab_dir(lab))
}

fn read_applied_in(lab: &str, dir: &Path) -> Result<Option<Applied>, StateError> {
    let path = dir.join("lab.json");
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StateError::Corrupt {
                lab: lab.to_string(),
                path,
                reason: e.to_string(),
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StateError::Io {
            lab: lab.to_string(),
            op: "read",
            path,
            source: e,
        }),
    }
}

impl LabState {
    /// Locks the lab's state directory, creating it. When another process
    /// holds the lock: waits if `wait` (calling `on_wait` once first), else
    /// fails with `Busy`.
    pub fn lock(lab: &str, wait: bool, on_wait: impl FnOnce()) -> Result<LabState, StateError> {
        let dir = lab_dir(lab);
        let io = |op, path: &Path| {
            let lab = lab.to_string();
            let path = path.to_path_buf();
            move |source| StateError::Io {
                lab,
                op,
                path,
                source,
            }
        };
        fs::create_dir_all(STATE_ROOT).map_err(io("create", Path::new(STATE_ROOT)))?;
        let _ = fs::set_permissions(
            STATE_ROOT,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        );
        let lock_path = dir.join("lock");
        let mut on_wait = Some(on_wait);
        loop {
            fs::create_dir_all(&dir).map_err(io("create", &dir))?;
            let file = match OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
            {
                Ok(f) => f,
                // The directory was just removed by a finishing `down`.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io("open", &lock_path)(e)),
            };
            let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(l) => l,
                Err((file, nix::Error::EWOULDBLOCK)) => {
                    if !wait {
                        return Err(StateError::Busy {
                            lab: lab.to_string(),
                        });
                    }
                    if let Some(f) = on_wait.take() {
                        f();
                    }
                    Flock::lock(file, FlockArg::LockExclusive)
                        .map_err(|(_, e)| io("lock", &lock_path)(e.into()))?
                }
                Err((_, e)) => return Err(io("lock", &lock_path)(e.into())),
            };
            // While we waited, the holder may have removed the lab (`down`,
            // or a failed first `up`): then our lock is on a deleted file
            // and the next process would lock a new one. Start over.
            if same_file(&lock, &lock_path) {
                return Ok(LabState {
                    lab: lab.to_string(),
                    dir,
                    _lock: lock,
                });
            }
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn applied(&self) -> Result<Option<Applied>, StateError> {
        read_applied_in(&self.lab, &self.dir)
    }

    /// Replaces the applied state atomically (write, fsync, rename).
    pub fn save(&self, applied: &Applied) -> Result<(), StateError> {
        let path = self.dir.join("lab.json");
        let tmp = self.dir.join("lab.json.tmp");
        let bytes = serde_json::to_vec_pretty(applied).map_err(|e| StateError::Corrupt {
            lab: self.lab.clone(),
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let write = || -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|source| StateError::Io {
            lab: self.lab.clone(),
            op: "write",
            path,
            source,
        })
    }

    /// Appends namespace names to the journal and syncs it, before they are created.
    pub fn journal_namespaces(&self, names: &[String]) -> Result<(), StateError> {
        let text: String = names.iter().map(|n| format!("netns {n}\n")).collect();
        self.journal(&text)
    }

    /// Appends interfaces about to be created — `(namespace, name)` — to
    /// the journal and syncs it: if the run is killed, the next `up`
    /// removes those that are not part of the applied lab from namespaces
    /// that survive (links in the lab's new namespaces go with them).
    pub fn journal_links(&self, ends: &[(String, String)]) -> Result<(), StateError> {
        let text: String = ends
            .iter()
            .map(|(ns, iface)| format!("link {ns} {iface}\n"))
            .collect();
        self.journal(&text)
    }

    /// Every interface journaled since the journal was last compacted
    /// (deduplicated, in order).
    pub fn journaled_links(&self) -> Result<Vec<(String, String)>, StateError> {
        let mut out: Vec<(String, String)> = Vec::new();
        for line in self.journal_text()?.lines() {
            if let Some((ns, iface)) = line.strip_prefix("link ").and_then(|r| r.split_once(' ')) {
                let e = (ns.to_string(), iface.to_string());
                if !ns.is_empty() && !iface.is_empty() && !out.contains(&e) {
                    out.push(e);
                }
            }
        }
        Ok(out)
    }

    fn journal_text(&self) -> Result<String, StateError> {
        let path = self.dir.join("journal");
        match fs::read_to_string(&path) {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
            Err(source) => Err(StateError::Io {
                lab: self.lab.clone(),
                op: "read",
                path,
                source,
            }),
        }
    }

    /// Appends `text` (whole lines) to the journal and syncs it.
    fn journal(&self, text: &str) -> Result<(), StateError> {
        if text.is_empty() {
            return Ok(());
        }
        let path = self.dir.join("journal");
        let write = || -> io::Result<()> {
            let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
            f.write_all(text.as_bytes())?;
            f.sync_data()
        };
        write().map_err(|source| StateError::Io {
            lab: self.lab.clone(),
            op: "append to",
            path,
            source,
        })
    }

    /// Every namespace ever journaled for this lab (deduplicated, in order).
    pub fn journaled_namespaces(&self) -> Result<Vec<String>, StateError> {
        let text = self.journal_text()?;
        let mut out: Vec<String> = Vec::new();
        for line in text.lines() {
            if let Some(ns) = line.strip_prefix("netns ") {
                if !ns.is_empty() && !out.iter().any(|o| o == ns) {
                    out.push(ns.to_string());
                }
            }
        }
        Ok(out)
    }

    /// Rewrites the journal to exactly `names` (after a successful change).
    pub fn compact_journal(&self, names: &[String]) -> Result<(), StateError> {
        let path = self.dir.join("journal");
        let tmp = self.dir.join("journal.tmp");
        let text: String = names.iter().map(|n| format!("netns {n}\n")).collect();
        let write = || -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|source| StateError::Io {
            lab: self.lab.clone(),
            op: "write",
            path,
            source,
        })
    }

    /// Removes the state directory (the lab is gone). The lock file goes last.
    pub fn remove(self) -> Result<(), StateError> {
        // Everything in the directory (the switch daemon keeps its socket,
        // log, port numbers and flows here too); the lock file last.
        if let Ok(rd) = fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                if e.file_name() != "lock" {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let _ = fs::remove_file(self.dir.join("lock"));
        match fs::remove_dir(&self.dir) {
            // Another vnet has started on this lab since the lock file went.
            Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => Ok(()),
            r => r.map_err(|source| StateError::Io {
                lab: self.lab.clone(),
                op: "remove",
                path: self.dir.clone(),
                source,
            }),
        }
    }
}

/// Whether the open `file` is the file at `path` (same device and inode).
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
