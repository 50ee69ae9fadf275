//! The datapath's caches of decisions: the megaflow cache (tuple space
//! over masked keys) here; the exact-match cache is a plain [`KeyMap`].

use std::collections::HashMap;
use std::sync::Arc;

use vnet_wire::FlowKey;

use super::Decision;

/// Hash maps keyed by flow keys: a fast non-cryptographic hash (SipHash over
/// the 144-byte key cost ~130 ns per exact-match-cache probe).
pub(super) type KeyMap<V> = HashMap<FlowKey, V, foldhash::fast::RandomState>;

/// The wildcard cache: decisions keyed by masked flow keys, one hash table
/// per distinct mask (tuple space), all of one rules version.
#[derive(Default)]
pub(super) struct MegaflowCache {
    version: u64,
    tables: Vec<(FlowKey, KeyMap<Arc<Decision>>)>,
    len: usize,
}

/// Bound on megaflow entries; the cache is cleared when full.
const MEGAFLOW_CAPACITY: usize = 65536;

impl MegaflowCache {
    pub(super) fn lookup(&self, version: u64, key: &FlowKey) -> Option<&Arc<Decision>> {
        if self.version != version {
            return None;
        }
        self.tables
            .iter()
            .find_map(|(mask, t)| t.get(&key.masked(mask)))
    }

    pub(super) fn insert(&mut self, version: u64, key: &FlowKey, mask: FlowKey, d: Arc<Decision>) {
        if self.version != version || self.len >= MEGAFLOW_CAPACITY {
            self.tables.clear();
            self.len = 0;
            self.version = version;
        }
        let masked = key.masked(&mask);
        let t = match self.tables.iter_mut().position(|(m, _)| *m == mask) {
            Some(i) => &mut self.tables[i].1,
            None => {
                self.tables.push((mask, KeyMap::default()));
                &mut self.tables.last_mut().expect("just pushed").1
            }
        };
        if t.insert(masked, d).is_none() {
            self.len += 1;
        }
    }
}
