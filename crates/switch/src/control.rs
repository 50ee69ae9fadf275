//! The switch daemon's control protocol: one JSON object per line over a
//! root-only unix socket (`/run/vnet/LAB/switchd.sock`), a request and its
//! reply. Easy to drive by hand: `socat - UNIX:/run/vnet/demo/switchd.sock`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case")]
pub enum Request {
    /// Liveness check.
    Ping,
    /// Re-read the lab's switches and ports from the lab state and reconcile.
    Reload,
    /// Add one flow (ovs-ofctl syntax).
    AddFlow {
        switch: String,
        flow: String,
    },
    /// Add many flows at once (one per line; `#` comments).
    AddFlows {
        switch: String,
        text: String,
    },
    /// Delete flows matching (ovs-ofctl syntax; all when empty).
    DelFlows {
        switch: String,
        r#match: Option<String>,
        strict: bool,
    },
    DumpFlows {
        switch: String,
    },
    /// Add a group (ovs-ofctl group syntax).
    AddGroup {
        switch: String,
        group: String,
    },
    /// Replace a group's type and buckets.
    ModGroup {
        switch: String,
        group: String,
    },
    /// Delete a group (`group_id=N`); every group when `None`. Flows that
    /// send to a deleted group are deleted with it.
    DelGroups {
        switch: String,
        group: Option<String>,
    },
    DumpGroups {
        switch: String,
    },
    /// Add a meter (ovs-ofctl meter syntax).
    AddMeter {
        switch: String,
        meter: String,
    },
    /// Replace a meter's flags and bands.
    ModMeter {
        switch: String,
        meter: String,
    },
    /// Delete a meter (`meter=N`); every meter when `None`. Flows that
    /// name a deleted meter are deleted with it.
    DelMeters {
        switch: String,
        meter: Option<String>,
    },
    DumpMeters {
        switch: String,
    },
    DumpPorts {
        switch: String,
    },
    Show {
        switch: String,
    },
    Fdb {
        switch: String,
    },
    /// Mirror a port's traffic into a pcap file (`file: None` stops it).
    Mirror {
        switch: String,
        port: String,
        file: Option<String>,
    },
    /// Stop the daemon (used by `vnet down`).
    Shutdown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Human-readable text (ovs-ofctl style output).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Structured data for `--json`.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
}

impl Reply {
    pub fn ok(text: impl Into<String>, data: serde_json::Value) -> Reply {
        Reply {
            ok: true,
            error: None,
            text: text.into(),
            data,
        }
    }

    pub fn err(e: impl std::fmt::Display) -> Reply {
        Reply {
            ok: false,
            error: Some(e.to_string()),
            text: String::new(),
            data: serde_json::Value::Null,
        }
    }
}

/// Port counters as `dump-ports` reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortStats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub rx_dropped: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    pub tx_dropped: u64,
}
