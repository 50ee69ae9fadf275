//! OpenFlow 1.3 meters: the model a METER_MOD translates to, its checks,
//! and the rate limiter the datapath runs ([`MeterEntry::run`]). The meter
//! table lives in the pipeline (`pipeline::groups`) beside the flows whose
//! `meter` instruction names a meter.
//!
//! Each band is a token bucket: it fills at the band's rate up to its
//! burst size; a packet takes its cost (1 packet with `pktps`, its bits
//! with `kbps`) from every band that holds enough, and exceeds the others.
//! Of the bands a packet exceeds, the one with the highest rate applies
//! (OpenFlow 1.3.5, 5.7): DROP drops the packet, DSCP_REMARK raises its
//! drop precedence by `prec_level`. Without the BURST flag a band holds
//! [`DEFAULT_BURST_MS`] of its rate (at least one full-size packet); the
//! configuration still reads back exactly as given (burst 0).
//!
//! Time is the caller's `now` in milliseconds (the datapath's clock, which
//! tests inject): nothing here reads a clock.

use std::sync::{Arc, Mutex};

use crate::flow::Counter;

/// Largest ordinary meter number (`OFPM_MAX`).
pub const MAX_METER: u32 = 0xffff_0000;
/// The reserved meters (`OFPM_SLOWPATH`, `OFPM_CONTROLLER`): not supported.
pub const SLOWPATH_METER: u32 = 0xffff_fffd;
pub const CONTROLLER_METER: u32 = 0xffff_fffe;
/// "Every meter" in a delete or a stats request (`OFPM_ALL`).
pub const ALL_METERS: u32 = 0xffff_ffff;
/// Meters a switch holds at most.
pub const MAX_METERS: usize = 65_536;
/// Bands a meter holds at most.
pub const MAX_BANDS: usize = 8;
/// How much traffic a band without a configured burst lets through at
/// once, in milliseconds of its rate.
pub const DEFAULT_BURST_MS: u64 = 100;

/// `ofp_meter_flags`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MeterFlags(pub u16);

impl MeterFlags {
    pub const KBPS: MeterFlags = MeterFlags(1 << 0);
    pub const PKTPS: MeterFlags = MeterFlags(1 << 1);
    pub const BURST: MeterFlags = MeterFlags(1 << 2);
    pub const STATS: MeterFlags = MeterFlags(1 << 3);
    /// Each flag with its ovs-ofctl keyword, in printing order.
    pub const NAMES: [(MeterFlags, &'static str); 4] = [
        (Self::KBPS, "kbps"),
        (Self::PKTPS, "pktps"),
        (Self::BURST, "burst"),
        (Self::STATS, "stats"),
    ];

    pub fn contains(self, o: MeterFlags) -> bool {
        self.0 & o.0 == o.0
    }
}

impl std::ops::BitOr for MeterFlags {
    type Output = MeterFlags;
    fn bitor(self, o: MeterFlags) -> MeterFlags {
        MeterFlags(self.0 | o.0)
    }
}

/// What a band does to a packet that exceeds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BandType {
    Drop,
    /// Raise the DSCP drop precedence by this many levels.
    DscpRemark {
        prec_level: u8,
    },
}

/// A meter band: kb/s or packets/s as the meter's flags say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Band {
    pub band_type: BandType,
    pub rate: u32,
    /// Kilobits or packets; as given (0 when the BURST flag is not set).
    pub burst_size: u32,
}

/// A meter as a METER_MOD states it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Meter {
    pub id: u32,
    pub flags: MeterFlags,
    pub bands: Vec<Band>,
}

/// `ofp_meter_mod_command`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MeterModCommand {
    Add = 0,
    Modify = 1,
    Delete = 2,
}

/// A METER_MOD; a delete uses only `meter.id` ([`ALL_METERS`]: all).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MeterMod {
    pub command: MeterModCommand,
    pub meter: Meter,
}

/// Why a METER_MOD (or a flow naming a meter) is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MeterError {
    #[error("meter {0} already exists")]
    Exists(u32),
    #[error("meter {0:#x}: not a meter number this switch supports")]
    Invalid(u32),
    #[error("meter {0} does not exist")]
    Unknown(u32),
    #[error("meter {id}: {reason}")]
    BadFlags { id: u32, reason: &'static str },
    #[error("meter {id}, band {band}: the rate must not be 0")]
    BadRate { id: u32, band: usize },
    #[error("meter {id}, band {band}: burst_size must not be 0 with the burst flag")]
    BadBurst { id: u32, band: usize },
    #[error("meter {id}, band {band}: {reason}")]
    BadBand {
        id: u32,
        band: usize,
        reason: &'static str,
    },
    #[error("meter {id}, band {band}: prec_level must be 1 or more")]
    BadBandValue { id: u32, band: usize },
    #[error("the meter table is full ({MAX_METERS} meters)")]
    OutOfMeters,
    #[error("meter {0}: more than {MAX_BANDS} bands")]
    OutOfBands(u32),
}

impl MeterError {
    /// The OpenFlow 1.3 error (`type`, `code`): METER_MOD_FAILED and its
    /// code.
    pub fn ofp_error(&self) -> (u16, u16) {
        let code = match self {
            MeterError::Exists(_) => 1,
            MeterError::Invalid(_) => 2,
            MeterError::Unknown(_) => 3,
            MeterError::BadFlags { .. } => 5,
            MeterError::BadRate { .. } => 6,
            MeterError::BadBurst { .. } => 7,
            MeterError::BadBand { .. } => 8,
            MeterError::BadBandValue { .. } => 9,
            MeterError::OutOfMeters => 10,
            MeterError::OutOfBands(_) => 11,
        };
        (12, code)
    }
}

impl Meter {
    /// Whether rates count packets (else kilobits).
    pub fn pktps(&self) -> bool {
        self.flags.contains(MeterFlags::PKTPS)
    }

    /// The checks a meter passes on its own.
    pub fn validate(&self) -> Result<(), MeterError> {
        let id = self.id;
        if id == 0 || id > MAX_METER {
            return Err(MeterError::Invalid(id));
        }
        if self.flags.0 & !0xf != 0 {
            return Err(MeterError::BadFlags {
                id,
                reason: "unknown flag bits",
            });
        }
        if self.flags.contains(MeterFlags::KBPS | MeterFlags::PKTPS) {
            return Err(MeterError::BadFlags {
                id,
                reason: "kbps and pktps exclude each other",
            });
        }
        if self.bands.len() > MAX_BANDS {
            return Err(MeterError::OutOfBands(id));
        }
        for (band, b) in self.bands.iter().enumerate() {
            if b.rate == 0 {
                return Err(MeterError::BadRate { id, band });
            }
            if self.flags.contains(MeterFlags::BURST) && b.burst_size == 0 {
                return Err(MeterError::BadBurst { id, band });
            }
            if let BandType::DscpRemark { prec_level: 0 } = b.band_type {
                return Err(MeterError::BadBandValue { id, band });
            }
        }
        Ok(())
    }
}

/// What a meter does with one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeterVerdict {
    Pass,
    Drop,
    /// Raise the DSCP drop precedence by this many levels.
    Remark(u8),
}

/// The DSCP after raising its drop precedence by `levels`: only Assured
/// Forwarding code points (AFxy, class x 1..=4, precedence y 1..=3) have
/// one; y saturates at 3. Other code points are left as they are.
pub fn remark_dscp(dscp: u8, levels: u8) -> u8 {
    let class = dscp >> 3;
    let prec = (dscp >> 1) & 3;
    if !(1..=4).contains(&class) || prec == 0 || dscp & 1 != 0 {
        return dscp;
    }
    let prec = prec.saturating_add(levels).min(3);
    (class << 3) | (prec << 1)
}

/// One band's token bucket: tokens in thousandths of a packet (pktps) or
/// in bits (kbps), so a rate fills `rate` tokens per millisecond. Full
/// until the first packet, whose `now` starts its clock (the datapath's
/// clock need not be the one the meter was created by).
#[derive(Debug, Clone)]
struct TokenBucket {
    tokens: u64,
    capacity: u64,
    rate: u64,
    last: Option<u64>,
}

/// A meter in the table: what was stated, since when, counters, and the
/// token buckets.
pub struct MeterEntry {
    pub meter: Meter,
    /// `now` of the add (a modify keeps it).
    pub created: u64,
    /// Packets and bytes that reached the meter (kept by a modify).
    pub counter: Arc<Counter>,
    /// Packets and bytes each band applied to.
    pub band_counters: Vec<Counter>,
    buckets: Mutex<Vec<TokenBucket>>,
}

impl std::fmt::Debug for MeterEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeterEntry")
            .field("meter", &self.meter)
            .field("created", &self.created)
            .finish()
    }
}

impl PartialEq for MeterEntry {
    fn eq(&self, o: &MeterEntry) -> bool {
        self.meter == o.meter && self.created == o.created
    }
}

impl MeterEntry {
    /// A new entry for a valid meter made at `now` (what its duration
    /// counts from), its buckets full (counters from `previous` when it
    /// replaces one).
    pub fn new(meter: Meter, now: u64, previous: Option<&MeterEntry>) -> MeterEntry {
        let (created, counter) = match previous {
            Some(p) => (p.created, Arc::clone(&p.counter)),
            None => (now, Arc::new(Counter::default())),
        };
        let pktps = meter.pktps();
        let burst = meter.flags.contains(MeterFlags::BURST);
        // One full-size packet: 1 packet, or 1518 bytes in bits.
        let one_packet: u64 = if pktps { 1000 } else { 1518 * 8 };
        let buckets = meter
            .bands
            .iter()
            .map(|b| {
                let rate = u64::from(b.rate);
                let capacity = if burst {
                    u64::from(b.burst_size) * 1000
                } else {
                    (rate * DEFAULT_BURST_MS).max(one_packet)
                };
                TokenBucket {
                    tokens: capacity,
                    capacity,
                    rate,
                    last: None,
                }
            })
            .collect();
        MeterEntry {
            band_counters: meter.bands.iter().map(|_| Counter::default()).collect(),
            meter,
            created,
            counter,
            buckets: Mutex::new(buckets),
        }
    }

    /// Meters one packet of `len` bytes at `now` (ms).
    pub fn run(&self, now: u64, len: u64) -> MeterVerdict {
        self.counter.record(len);
        let cost = if self.meter.pktps() { 1000 } else { len * 8 };
        let mut applied: Option<usize> = None;
        {
            let Ok(mut buckets) = self.buckets.lock() else {
                return MeterVerdict::Pass;
            };
            for (i, b) in buckets.iter_mut().enumerate() {
                let last = b.last.unwrap_or(now);
                let elapsed = now.saturating_sub(last);
                b.last = Some(last.max(now));
                b.tokens = b
                    .tokens
                    .saturating_add(b.rate.saturating_mul(elapsed))
                    .min(b.capacity);
                if b.tokens >= cost {
                    b.tokens -= cost;
                } else if applied
                    .is_none_or(|a| self.meter.bands[a].rate < self.meter.bands[i].rate)
                {
                    applied = Some(i);
                }
            }
        }
        let Some(i) = applied else {
            return MeterVerdict::Pass;
        };
        self.band_counters[i].record(len);
        match self.meter.bands[i].band_type {
            BandType::Drop => MeterVerdict::Drop,
            BandType::DscpRemark { prec_level } => MeterVerdict::Remark(prec_level),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dscp_remark_raises_af_drop_precedence_only() {
        assert_eq!(remark_dscp(10, 1), 12); // AF11 -> AF12
        assert_eq!(remark_dscp(10, 2), 14); // AF11 -> AF13
        assert_eq!(remark_dscp(14, 1), 14); // AF13 stays
        assert_eq!(remark_dscp(34, 1), 36); // AF41 -> AF42
        assert_eq!(remark_dscp(0, 1), 0); // best effort
        assert_eq!(remark_dscp(46, 1), 46); // EF
        assert_eq!(remark_dscp(48, 1), 48); // CS6
    }

    #[test]
    fn pktps_band_passes_burst_then_rate() {
        let m = Meter {
            id: 1,
            flags: MeterFlags::PKTPS | MeterFlags::BURST,
            bands: vec![Band {
                band_type: BandType::Drop,
                rate: 100,
                burst_size: 10,
            }],
        };
        let e = MeterEntry::new(m, 0, None);
        // 1000 packets in one second, one per millisecond.
        let passed = (0..1000)
            .filter(|t| e.run(*t, 60) == MeterVerdict::Pass)
            .count();
        assert!((109..=111).contains(&passed), "{passed}");
        assert_eq!(e.counter.packets(), 1000);
        assert_eq!(e.band_counters[0].packets(), 1000 - passed as u64);
    }

    #[test]
    fn the_datapath_clock_drives_the_buckets_whatever_the_creation_clock() {
        let m = Meter {
            id: 1,
            flags: MeterFlags::PKTPS | MeterFlags::BURST,
            bands: vec![Band {
                band_type: BandType::Drop,
                rate: 1000,
                burst_size: 1,
            }],
        };
        // Made at 1,000,000 ms of the control plane's clock; the datapath's
        // clock reads far less.
        let e = MeterEntry::new(m, 1_000_000, None);
        let passed = (0..100u64)
            .filter(|t| e.run(5 + t, 60) == MeterVerdict::Pass)
            .count();
        assert_eq!(passed, 100, "one packet per ms at 1000 packets/s");
    }
}
