//! Ports on the wire: the port description (`ofp_port`, [`PortDesc`]) the
//! switch fills for FEATURES/PORT_DESC/PORT_STATUS, port statistics
//! (`ofp_port_stats`, [`PortStats`]), PORT_MOD ([`PortMod`]), and the
//! `OFPPC_*`/`OFPPS_*`/`OFPPF_*` bits.
//!
//! What it must never do: panic on a name longer than the 16-byte field
//! (it is truncated to 15 bytes and a NUL).

use crate::buf::{Put, Reader};
use crate::error::DecodeError;

/// `ofp_port` size.
pub const PORT_DESC_LEN: usize = 64;
/// `ofp_port_stats` size.
pub const PORT_STATS_LEN: usize = 112;
/// `OFP_MAX_PORT_NAME_LEN`.
pub const MAX_PORT_NAME_LEN: usize = 16;

/// `ofp_port_config` bits.
pub const OFPPC_PORT_DOWN: u32 = 1 << 0;
pub const OFPPC_NO_RECV: u32 = 1 << 2;
pub const OFPPC_NO_FWD: u32 = 1 << 5;
pub const OFPPC_NO_PACKET_IN: u32 = 1 << 6;
/// `ofp_port_state` bits.
pub const OFPPS_LINK_DOWN: u32 = 1 << 0;
pub const OFPPS_BLOCKED: u32 = 1 << 1;
pub const OFPPS_LIVE: u32 = 1 << 2;
/// `ofp_port_features` bits.
pub const OFPPF_10MB_HD: u32 = 1 << 0;
pub const OFPPF_10MB_FD: u32 = 1 << 1;
pub const OFPPF_100MB_HD: u32 = 1 << 2;
pub const OFPPF_100MB_FD: u32 = 1 << 3;
pub const OFPPF_1GB_HD: u32 = 1 << 4;
pub const OFPPF_1GB_FD: u32 = 1 << 5;
pub const OFPPF_10GB_FD: u32 = 1 << 6;
pub const OFPPF_40GB_FD: u32 = 1 << 7;
pub const OFPPF_100GB_FD: u32 = 1 << 8;
pub const OFPPF_1TB_FD: u32 = 1 << 9;
pub const OFPPF_OTHER: u32 = 1 << 10;
pub const OFPPF_COPPER: u32 = 1 << 11;
pub const OFPPF_FIBER: u32 = 1 << 12;
pub const OFPPF_AUTONEG: u32 = 1 << 13;
pub const OFPPF_PAUSE: u32 = 1 << 14;
pub const OFPPF_PAUSE_ASYM: u32 = 1 << 15;

/// A port as OpenFlow describes it (`ofp_port`). Speeds are in kbps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortDesc {
    pub port_no: u32,
    pub hw_addr: [u8; 6],
    /// At most 15 bytes go on the wire.
    pub name: String,
    pub config: u32,
    pub state: u32,
    pub curr: u32,
    pub advertised: u32,
    pub supported: u32,
    pub peer: u32,
    pub curr_speed: u32,
    pub max_speed: u32,
}

impl PortDesc {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32(self.port_no);
        out.put_zeros(4);
        out.extend_from_slice(&self.hw_addr);
        out.put_zeros(2);
        out.put_string(&self.name, MAX_PORT_NAME_LEN);
        for v in [
            self.config,
            self.state,
            self.curr,
            self.advertised,
            self.supported,
            self.peer,
            self.curr_speed,
            self.max_speed,
        ] {
            out.put_u32(v);
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<PortDesc, DecodeError> {
        let port_no = r.u32()?;
        r.skip(4)?;
        let hw_addr = r.array()?;
        r.skip(2)?;
        Ok(PortDesc {
            port_no,
            hw_addr,
            name: r.string(MAX_PORT_NAME_LEN)?,
            config: r.u32()?,
            state: r.u32()?,
            curr: r.u32()?,
            advertised: r.u32()?,
            supported: r.u32()?,
            peer: r.u32()?,
            curr_speed: r.u32()?,
            max_speed: r.u32()?,
        })
    }
}

/// Counters of one port (`ofp_port_stats`); `u64::MAX` = unavailable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortStats {
    pub port_no: u32,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_frame_err: u64,
    pub rx_over_err: u64,
    pub rx_crc_err: u64,
    pub collisions: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
}

impl PortStats {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32(self.port_no);
        out.put_zeros(4);
        for v in [
            self.rx_packets,
            self.tx_packets,
            self.rx_bytes,
            self.tx_bytes,
            self.rx_dropped,
            self.tx_dropped,
            self.rx_errors,
            self.tx_errors,
            self.rx_frame_err,
            self.rx_over_err,
            self.rx_crc_err,
            self.collisions,
        ] {
            out.put_u64(v);
        }
        out.put_u32(self.duration_sec);
        out.put_u32(self.duration_nsec);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<PortStats, DecodeError> {
        let port_no = r.u32()?;
        r.skip(4)?;
        Ok(PortStats {
            port_no,
            rx_packets: r.u64()?,
            tx_packets: r.u64()?,
            rx_bytes: r.u64()?,
            tx_bytes: r.u64()?,
            rx_dropped: r.u64()?,
            tx_dropped: r.u64()?,
            rx_errors: r.u64()?,
            tx_errors: r.u64()?,
            rx_frame_err: r.u64()?,
            rx_over_err: r.u64()?,
            rx_crc_err: r.u64()?,
            collisions: r.u64()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
        })
    }
}

/// PORT_MOD: change the `config` bits selected by `mask`; `advertise` 0 =
/// leave the advertised features alone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortMod {
    pub port_no: u32,
    /// Must be the port's address (a sanity check, spec 7.3.4.3).
    pub hw_addr: [u8; 6],
    pub config: u32,
    pub mask: u32,
    pub advertise: u32,
}

impl PortMod {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32(self.port_no);
        out.put_zeros(4);
        out.extend_from_slice(&self.hw_addr);
        out.put_zeros(2);
        out.put_u32(self.config);
        out.put_u32(self.mask);
        out.put_u32(self.advertise);
        out.put_zeros(4);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<PortMod, DecodeError> {
        let port_no = r.u32()?;
        r.skip(4)?;
        let hw_addr = r.array()?;
        r.skip(2)?;
        let m = PortMod {
            port_no,
            hw_addr,
            config: r.u32()?,
            mask: r.u32()?,
            advertise: r.u32()?,
        };
        r.skip(4)?;
        Ok(m)
    }
}
