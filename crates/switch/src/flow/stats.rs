//! Per-flow packet and byte counters with creation and last-use times,
//! updated by datapath threads without locks.

use std::sync::atomic::{AtomicU64, Ordering};

/// Per-flow counters, shared (through an `Arc`) between the control plane
/// and the datapath threads that update them. Times are `now` values.
#[derive(Debug, Default)]
pub struct FlowStats {
    packets: AtomicU64,
    bytes: AtomicU64,
    created: u64,
    last_used: AtomicU64,
}

impl FlowStats {
    pub fn new(now: u64) -> FlowStats {
        FlowStats {
            created: now,
            last_used: AtomicU64::new(now),
            ..FlowStats::default()
        }
    }

    /// Counters carried over (OpenFlow's add-replace without RESET_COUNTS)
    /// into a new entry created at `now`.
    pub fn carried_over(&self, now: u64) -> FlowStats {
        FlowStats {
            packets: AtomicU64::new(self.packets()),
            bytes: AtomicU64::new(self.bytes()),
            created: now,
            last_used: AtomicU64::new(self.last_used().max(now)),
        }
    }

    /// Counts `packets` packets of `bytes` bytes in total, seen at `now`.
    #[inline]
    pub fn record(&self, packets: u64, bytes: u64, now: u64) {
        self.packets.fetch_add(packets, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.last_used.fetch_max(now, Ordering::Relaxed);
    }

    pub fn packets(&self) -> u64 {
        self.packets.load(Ordering::Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub fn created(&self) -> u64 {
        self.created
    }

    pub fn last_used(&self) -> u64 {
        self.last_used.load(Ordering::Relaxed)
    }
}

impl Clone for FlowStats {
    /// A copy of the current values.
    fn clone(&self) -> FlowStats {
        FlowStats {
            packets: AtomicU64::new(self.packets()),
            bytes: AtomicU64::new(self.bytes()),
            created: self.created,
            last_used: AtomicU64::new(self.last_used()),
        }
    }
}

impl PartialEq for FlowStats {
    fn eq(&self, o: &FlowStats) -> bool {
        (self.packets(), self.bytes(), self.created, self.last_used())
            == (o.packets(), o.bytes(), o.created, o.last_used())
    }
}

/// A packet and byte counter updated by datapath threads without locks
/// (groups, buckets, meters and meter bands).
#[derive(Debug, Default)]
pub struct Counter {
    packets: AtomicU64,
    bytes: AtomicU64,
}

impl Counter {
    /// Counts one packet of `bytes` bytes.
    #[inline]
    pub fn record(&self, bytes: u64) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn packets(&self) -> u64 {
        self.packets.load(Ordering::Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}
