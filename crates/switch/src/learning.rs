//! MAC learning for the NORMAL action: (VLAN, MAC) → port, with ageing and
//! a hard bound on size.
//!
//! A flood of random source MACs must neither grow memory nor stop
//! forwarding: when the table is full the least recently *refreshed* entry
//! is evicted. Recency is tracked in a queue with lazy deletion: an entry is
//! re-queued when it is seen again `REFRESH` after its last queueing, or
//! once half a table's worth of records were queued after it — so a busy
//! flow costs one hash update per packet, the queue stays within a small
//! multiple of the table's size, and a host that keeps talking is never
//! evicted by a flood of new addresses however fast the flood is (with a
//! time-based refresh alone, more than a table of new MACs a second pushed
//! active hosts out, and traffic to them was flooded to the attacker).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Default ageing time (as Open vSwitch).
pub const DEFAULT_AGEING: Duration = Duration::from_secs(300);
/// Default bound on entries.
pub const DEFAULT_CAPACITY: usize = 8192;
/// Granularity of recency updates, in milliseconds.
const REFRESH_MS: u64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacKey {
    pub vlan: u16,
    pub mac: [u8; 6],
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    port: u32,
    /// Milliseconds since the table's epoch when last seen.
    seen: u64,
    /// Sequence number of the queue record that is authoritative for this
    /// entry.
    queued: u64,
    /// When that record was queued (ms).
    queued_ms: u64,
}

/// One learned entry, for `fdb` listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learned {
    pub vlan: u16,
    pub mac: [u8; 6],
    pub port: u32,
    pub age_ms: u64,
}

#[derive(Debug)]
pub struct MacTable {
    entries: HashMap<MacKey, Entry>,
    /// (key, sequence number) in queueing order.
    queue: VecDeque<(MacKey, u64)>,
    /// Records queued so far: the next record's sequence number.
    pushes: u64,
    capacity: usize,
    ageing_ms: u64,
    /// Entries evicted because the table was full (for statistics).
    pub evictions: u64,
}

impl MacTable {
    pub fn new(capacity: usize, ageing: Duration) -> MacTable {
        MacTable {
            entries: HashMap::with_capacity(capacity.min(1 << 16)),
            queue: VecDeque::new(),
            pushes: 0,
            capacity: capacity.max(1),
            ageing_ms: ageing.as_millis() as u64,
            evictions: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Learns that `mac` in `vlan` lives behind `port`, at time `now_ms`.
    /// Returns true when the entry is new or moved to another port.
    pub fn learn(&mut self, vlan: u16, mac: [u8; 6], port: u32, now_ms: u64) -> bool {
        if mac[0] & 1 != 0 {
            return false; // never learn group addresses
        }
        let key = MacKey { vlan, mac };
        if let Some(e) = self.entries.get_mut(&key) {
            let moved = e.port != port;
            e.port = port;
            e.seen = now_ms;
            let behind = self.pushes - e.queued;
            if now_ms >= e.queued_ms + REFRESH_MS || behind >= (self.capacity as u64).div_ceil(2) {
                e.queued = self.pushes;
                e.queued_ms = now_ms;
                self.queue.push_back((key, self.pushes));
                self.pushes += 1;
                self.compact();
            }
            return moved;
        }
        while self.entries.len() >= self.capacity {
            if !self.evict_oldest() {
                break;
            }
            self.evictions += 1;
        }
        self.entries.insert(
            key,
            Entry {
                port,
                seen: now_ms,
                queued: self.pushes,
                queued_ms: now_ms,
            },
        );
        self.queue.push_back((key, self.pushes));
        self.pushes += 1;
        true
    }

    /// The port `mac` in `vlan` was learned on, if fresh.
    pub fn lookup(&self, vlan: u16, mac: [u8; 6], now_ms: u64) -> Option<u32> {
        let e = self.entries.get(&MacKey { vlan, mac })?;
        (now_ms.saturating_sub(e.seen) < self.ageing_ms).then_some(e.port)
    }

    /// Removes entries older than the ageing time.
    pub fn expire(&mut self, now_ms: u64) {
        while let Some(&(key, stamp)) = self.queue.front() {
            match self.entries.get(&key) {
                Some(e) if e.queued == stamp => {
                    if now_ms.saturating_sub(e.seen) < self.ageing_ms {
                        break;
                    }
                    self.entries.remove(&key);
                    self.queue.pop_front();
                }
                _ => {
                    self.queue.pop_front();
                }
            }
        }
    }

    /// Forgets everything learned on `port` (port removed or down).
    pub fn flush_port(&mut self, port: u32) {
        self.entries.retain(|_, e| e.port != port);
    }

    pub fn entries(&self, now_ms: u64) -> Vec<Learned> {
        let mut v: Vec<Learned> = self
            .entries
            .iter()
            .filter(|(_, e)| now_ms.saturating_sub(e.seen) < self.ageing_ms)
            .map(|(k, e)| Learned {
                vlan: k.vlan,
                mac: k.mac,
                port: e.port,
                age_ms: now_ms.saturating_sub(e.seen),
            })
            .collect();
        v.sort_by_key(|l| (l.port, l.vlan, l.mac));
        v
    }

    fn evict_oldest(&mut self) -> bool {
        while let Some((key, stamp)) = self.queue.pop_front() {
            if self.entries.get(&key).is_some_and(|e| e.queued == stamp) {
                self.entries.remove(&key);
                return true;
            }
        }
        false
    }

    /// Drops stale queue records when the queue grows past twice the table.
    fn compact(&mut self) {
        if self.queue.len() > 2 * self.capacity + 64 {
            let entries = &self.entries;
            self.queue
                .retain(|(k, s)| entries.get(k).is_some_and(|e| e.queued == *s));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(i: u32) -> [u8; 6] {
        let b = i.to_be_bytes();
        [0x02, 0, b[0], b[1], b[2], b[3]]
    }

    #[test]
    fn learns_per_vlan_and_ages_out() {
        let mut t = MacTable::new(16, Duration::from_secs(300));
        assert!(t.learn(10, mac(1), 1, 0));
        assert!(!t.learn(10, mac(1), 1, 10));
        assert_eq!(t.lookup(10, mac(1), 20), Some(1));
        assert_eq!(t.lookup(20, mac(1), 20), None, "VLANs are separate");
        assert!(t.learn(10, mac(1), 2, 30), "moved");
        assert_eq!(t.lookup(10, mac(1), 300_029), Some(2));
        assert_eq!(t.lookup(10, mac(1), 300_031), None);
        t.expire(400_000);
        assert!(t.is_empty());
    }

    #[test]
    fn multicast_sources_are_not_learned() {
        let mut t = MacTable::new(16, DEFAULT_AGEING);
        assert!(!t.learn(0, [0x01, 0, 0x5e, 0, 0, 1], 1, 0));
        assert!(t.is_empty());
    }

    #[test]
    fn a_flood_of_random_macs_stays_bounded_and_evicts_the_oldest() {
        let mut t = MacTable::new(100, DEFAULT_AGEING);
        t.learn(0, mac(0), 9, 0);
        for i in 1..100 {
            t.learn(0, mac(i), 1, 1);
        }
        // mac(0) is refreshed late: it must survive the flood below longer.
        t.learn(0, mac(0), 9, 5000);
        for i in 1000..1099 {
            t.learn(0, mac(i), 1, 6000);
        }
        assert_eq!(t.len(), 100);
        assert_eq!(t.lookup(0, mac(0), 6000), Some(9));
        for i in 0..1_000_000 {
            t.learn(0, mac(2_000_000 + i), 3, 7000 + u64::from(i));
        }
        assert_eq!(t.len(), 100);
        assert!(t.queue.len() <= 2 * 100 + 64 + 1);
        assert!(t.evictions > 0);
    }
}
