//! METER_MOD and the meter bands it shares with the METER_CONFIG
//! multipart reply, and their translation to and from the switch's
//! meters ([`vnet_switch::meter`]): experimenter bands are refused with
//! OFPMMFC_BAD_BAND; values are kept exactly (a burst size of 0 stays 0).
//!
//! What it must never do: panic on input; an unknown band type or a band
//! of the wrong length is OFPMMFC_BAD_BAND.

use vnet_switch::meter as sw;

use crate::buf::{Put, Reader};
use crate::error::*;

/// Meter numbers (`ofp_meter`).
pub const OFPM_MAX: u32 = 0xffff_0000;
pub const OFPM_SLOWPATH: u32 = 0xffff_fffd;
pub const OFPM_CONTROLLER: u32 = 0xffff_fffe;
pub const OFPM_ALL: u32 = 0xffff_ffff;

/// `ofp_meter_flags`.
pub const OFPMF_KBPS: u16 = 1 << 0;
pub const OFPMF_PKTPS: u16 = 1 << 1;
pub const OFPMF_BURST: u16 = 1 << 2;
pub const OFPMF_STATS: u16 = 1 << 3;

/// `ofp_meter_band_type`.
pub const OFPMBT_DROP: u16 = 1;
pub const OFPMBT_DSCP_REMARK: u16 = 2;
pub const OFPMBT_EXPERIMENTER: u16 = 0xffff;

/// A meter band. Rates are in kb/s or packets/s as the meter's flags say.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MeterBand {
    Drop {
        rate: u32,
        burst_size: u32,
    },
    DscpRemark {
        rate: u32,
        burst_size: u32,
        prec_level: u8,
    },
    Experimenter {
        rate: u32,
        burst_size: u32,
        experimenter: u32,
        /// Bytes after the experimenter id (a multiple of 8 long).
        data: Vec<u8>,
    },
}

impl MeterBand {
    /// The switch's band; OFPMMFC_BAD_BAND for an experimenter band.
    pub fn to_switch(&self) -> Result<sw::Band, DecodeError> {
        match *self {
            MeterBand::Drop { rate, burst_size } => Ok(sw::Band {
                band_type: sw::BandType::Drop,
                rate,
                burst_size,
            }),
            MeterBand::DscpRemark {
                rate,
                burst_size,
                prec_level,
            } => Ok(sw::Band {
                band_type: sw::BandType::DscpRemark { prec_level },
                rate,
                burst_size,
            }),
            MeterBand::Experimenter { experimenter, .. } => Err(DecodeError::new(
                OFPMMFC_BAD_BAND,
                format!("experimenter meter band {experimenter:#010x} is not supported"),
            )),
        }
    }

    pub fn from_switch(b: &sw::Band) -> MeterBand {
        match b.band_type {
            sw::BandType::Drop => MeterBand::Drop {
                rate: b.rate,
                burst_size: b.burst_size,
            },
            sw::BandType::DscpRemark { prec_level } => MeterBand::DscpRemark {
                rate: b.rate,
                burst_size: b.burst_size,
                prec_level,
            },
        }
    }
}

/// `ofp_meter_mod_command`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MeterModCommand {
    Add = 0,
    Modify = 1,
    Delete = 2,
}

pub(crate) fn encode_bands(bands: &[MeterBand], out: &mut Vec<u8>) {
    for b in bands {
        match b {
            MeterBand::Drop { rate, burst_size } => {
                out.put_u16(OFPMBT_DROP);
                out.put_u16(16);
                out.put_u32(*rate);
                out.put_u32(*burst_size);
                out.put_zeros(4);
            }
            MeterBand::DscpRemark {
                rate,
                burst_size,
                prec_level,
            } => {
                out.put_u16(OFPMBT_DSCP_REMARK);
                out.put_u16(16);
                out.put_u32(*rate);
                out.put_u32(*burst_size);
                out.put_u8(*prec_level);
                out.put_zeros(3);
            }
            MeterBand::Experimenter {
                rate,
                burst_size,
                experimenter,
                data,
            } => {
                out.put_u16(OFPMBT_EXPERIMENTER);
                out.put_u16((16 + data.len()) as u16);
                out.put_u32(*rate);
                out.put_u32(*burst_size);
                out.put_u32(*experimenter);
                out.extend_from_slice(data);
            }
        }
    }
}

pub(crate) fn bands_len(bands: &[MeterBand]) -> usize {
    bands
        .iter()
        .map(|b| match b {
            MeterBand::Experimenter { data, .. } => 16 + data.len(),
            _ => 16,
        })
        .sum()
}

pub(crate) fn decode_bands(bytes: &[u8]) -> Result<Vec<MeterBand>, DecodeError> {
    let mut r = Reader::new(bytes, OFPMMFC_BAD_BAND, "meter band");
    let mut out = Vec::new();
    while !r.is_empty() {
        let btype = r.u16()?;
        let len = usize::from(r.u16()?);
        if len < 16 || len % 8 != 0 || (btype != OFPMBT_EXPERIMENTER && len != 16) {
            return Err(r.error(format!("meter band type {btype} has length {len}")));
        }
        let mut b = r.sub(len - 4, "meter band")?;
        let rate = b.u32()?;
        let burst_size = b.u32()?;
        out.push(match btype {
            OFPMBT_DROP => MeterBand::Drop { rate, burst_size },
            OFPMBT_DSCP_REMARK => MeterBand::DscpRemark {
                rate,
                burst_size,
                prec_level: b.u8()?,
            },
            OFPMBT_EXPERIMENTER => MeterBand::Experimenter {
                rate,
                burst_size,
                experimenter: b.u32()?,
                data: b.rest().to_vec(),
            },
            t => return Err(r.error(format!("unknown meter band type {t}"))),
        });
    }
    Ok(out)
}

/// METER_MOD.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MeterMod {
    pub command: MeterModCommand,
    pub flags: u16,
    pub meter_id: u32,
    pub bands: Vec<MeterBand>,
}

impl MeterMod {
    /// The switch's meter-mod (experimenter bands are refused).
    pub fn to_switch(&self) -> Result<sw::MeterMod, DecodeError> {
        Ok(sw::MeterMod {
            command: match self.command {
                MeterModCommand::Add => sw::MeterModCommand::Add,
                MeterModCommand::Modify => sw::MeterModCommand::Modify,
                MeterModCommand::Delete => sw::MeterModCommand::Delete,
            },
            meter: sw::Meter {
                id: self.meter_id,
                flags: sw::MeterFlags(self.flags),
                bands: self
                    .bands
                    .iter()
                    .map(MeterBand::to_switch)
                    .collect::<Result<_, _>>()?,
            },
        })
    }

    /// The wire form of the switch's meter-mod.
    pub fn from_switch(mm: &sw::MeterMod) -> MeterMod {
        MeterMod {
            command: match mm.command {
                sw::MeterModCommand::Add => MeterModCommand::Add,
                sw::MeterModCommand::Modify => MeterModCommand::Modify,
                sw::MeterModCommand::Delete => MeterModCommand::Delete,
            },
            flags: mm.meter.flags.0,
            meter_id: mm.meter.id,
            bands: mm.meter.bands.iter().map(MeterBand::from_switch).collect(),
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16(self.command as u16);
        out.put_u16(self.flags);
        out.put_u32(self.meter_id);
        encode_bands(&self.bands, out);
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<MeterMod, DecodeError> {
        let c = r.u16()?;
        let command = match c {
            0 => MeterModCommand::Add,
            1 => MeterModCommand::Modify,
            2 => MeterModCommand::Delete,
            _ => {
                return Err(DecodeError::new(
                    OFPMMFC_BAD_COMMAND,
                    format!("meter_mod command {c}"),
                ))
            }
        };
        let flags = r.u16()?;
        if flags & !0xf != 0 {
            return Err(DecodeError::new(
                OFPMMFC_BAD_FLAGS,
                format!("meter_mod flags {flags:#x} has unknown bits"),
            ));
        }
        let meter_id = r.u32()?;
        let bands = decode_bands(r.rest())?;
        Ok(MeterMod {
            command,
            flags,
            meter_id,
            bands,
        })
    }
}
