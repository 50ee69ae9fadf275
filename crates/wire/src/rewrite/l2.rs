//! Link-layer actions: Ethernet addresses and VLAN tags.

use super::{need, rd16, wr16, Result, RewriteError};
use crate::eth::{Mac, HEADER_LEN};
use crate::extract::Layout;
use crate::vlan::{self, PCP_SHIFT, TAG_LEN, VID_MASK};

/// Sets the Ethernet source address.
pub fn set_eth_src(frame: &mut [u8], mac: Mac) -> Result<()> {
    need(frame, 0, HEADER_LEN)?;
    frame[6..12].copy_from_slice(&mac);
    Ok(())
}

/// Sets the Ethernet destination address.
pub fn set_eth_dst(frame: &mut [u8], mac: Mac) -> Result<()> {
    need(frame, 0, HEADER_LEN)?;
    frame[0..6].copy_from_slice(&mac);
    Ok(())
}

/// Pushes a new outermost VLAN tag with TPID `tpid` (0x8100 or 0x88a8),
/// right after the MAC addresses, and moves every later header of
/// `layout` by 4 bytes.
///
/// The new tag's TCI is `tci` when given. With `None` it follows OpenFlow
/// 1.3 (§7.2.4, "push VLAN header"): the VID and PCP are copied from the
/// existing outer tag if there is one, else both are 0 (DEI 0 either way);
/// a following set-field `vlan_vid` / `vlan_pcp` ([`set_vlan_vid`],
/// [`set_vlan_pcp`]) then changes the new outer tag. Allocates only if
/// `frame` has no room for 4 more bytes.
pub fn push_vlan(
    frame: &mut Vec<u8>,
    layout: &mut Layout,
    tpid: u16,
    tci: Option<u16>,
) -> Result<()> {
    if !vlan::is_tpid(tpid) {
        return Err(RewriteError::BadTpid(tpid));
    }
    need(frame, 0, HEADER_LEN)?;
    let tci = match tci {
        Some(t) => t,
        None if layout.vlans > 0 => {
            need(frame, 0, HEADER_LEN + TAG_LEN)?;
            rd16(frame, 14) & !vlan::DEI
        }
        None => 0,
    };
    let len = frame.len();
    frame.resize(len + TAG_LEN, 0);
    frame.copy_within(12..len, 12 + TAG_LEN);
    wr16(frame, 12, tpid);
    wr16(frame, 14, tci);
    shift(layout, TAG_LEN as isize);
    layout.vlans = layout.vlans.saturating_add(1);
    Ok(())
}

/// Removes the outermost VLAN tag and moves every later header of
/// `layout` back by 4 bytes.
pub fn pop_vlan(frame: &mut Vec<u8>, layout: &mut Layout) -> Result<()> {
    if layout.vlans == 0 {
        return Err(RewriteError::NoVlan);
    }
    need(frame, 0, HEADER_LEN + TAG_LEN)?;
    frame.drain(12..12 + TAG_LEN);
    shift(layout, -(TAG_LEN as isize));
    layout.vlans -= 1;
    Ok(())
}

/// Sets the VID (low 12 bits of `vid`) of the outermost tag.
pub fn set_vlan_vid(frame: &mut [u8], layout: &Layout, vid: u16) -> Result<()> {
    let tci = outer_tci(frame, layout)?;
    wr16(frame, 14, tci & !VID_MASK | (vid & VID_MASK));
    Ok(())
}

/// Sets the PCP (low 3 bits of `pcp`) of the outermost tag.
pub fn set_vlan_pcp(frame: &mut [u8], layout: &Layout, pcp: u8) -> Result<()> {
    let tci = outer_tci(frame, layout)?;
    wr16(
        frame,
        14,
        tci & !(7 << PCP_SHIFT) | ((pcp as u16 & 7) << PCP_SHIFT),
    );
    Ok(())
}

fn outer_tci(frame: &[u8], layout: &Layout) -> Result<u16> {
    if layout.vlans == 0 {
        return Err(RewriteError::NoVlan);
    }
    need(frame, 0, HEADER_LEN + TAG_LEN)?;
    Ok(rd16(frame, 14))
}

fn shift(layout: &mut Layout, by: isize) {
    let mv = |x: usize| x.saturating_add_signed(by);
    layout.l2_len = mv(layout.l2_len);
    layout.l3 = layout.l3.map(mv);
    layout.l4 = layout.l4.map(mv);
    layout.end = mv(layout.end);
}
