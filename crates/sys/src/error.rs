//! Error types of the kernel boundary. Messages name the operation and the
//! object, then the kernel's reason: `create veth h1:eth0 <-> s1:p1: File exists`.

use std::fmt;

/// A positive errno value, printed as its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = std::io::Error::from_raw_os_error(self.0).to_string();
        // std appends " (os error N)"; keep only the text.
        let text = text.split(" (os error").next().unwrap_or(&text);
        f.write_str(text)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("{op} {object}: {errno}{}", ext_ack.as_ref().map(|a| format!(" ({a})")).unwrap_or_default())]
    Kernel {
        op: &'static str,
        object: String,
        errno: Errno,
        ext_ack: Option<String>,
    },
    #[error("{op} {object}: {source}")]
    Io {
        op: &'static str,
        object: String,
        source: std::io::Error,
    },
    #[error("{op} {object}: cannot decode the kernel's reply: {reason}")]
    Decode {
        op: &'static str,
        object: String,
        reason: String,
    },
    #[error("{object}: no such interface")]
    NoSuchLink { object: String },
    #[error("{op} {object}: {reason}")]
    Invalid {
        op: &'static str,
        object: String,
        reason: String,
    },
}

impl NetlinkError {
    /// The kernel's errno, when the kernel refused the request.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Kernel { errno, .. } => Some(errno.0),
            NetlinkError::Io { source, .. } => source.raw_os_error(),
            NetlinkError::NoSuchLink { .. } => Some(libc::ENODEV),
            _ => None,
        }
    }

    pub fn is_exists(&self) -> bool {
        self.errno() == Some(libc::EEXIST)
    }

    pub fn is_not_found(&self) -> bool {
        matches!(
            self.errno(),
            Some(libc::ENODEV) | Some(libc::ENOENT) | Some(libc::ESRCH)
        )
    }
}
