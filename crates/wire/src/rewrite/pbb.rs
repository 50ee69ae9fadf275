//! PBB (IEEE 802.1ah) actions: OpenFlow 1.3 PUSH_PBB, POP_PBB and
//! SET_FIELD on PBB_ISID.
//!
//! A PBB frame is a customer frame behind a backbone header:
//!
//! ```text
//! B-DA(6) B-SA(6) [B-TAG] 0x88e7 I-TAG(4) C-DA(6) C-SA(6) customer type/tags/payload
//! ```
//!
//! The I-TAG is PCP (3) | DEI (1) | UCA (1) | reserved (3) | I-SID (24).
//! [`push_pbb`] puts the whole frame (addresses, tags, payload) behind a
//! new I-TAG right after the outer MAC addresses, as OpenFlow 1.3 places a
//! pushed tag (outermost, after the Ethernet addresses): the customer
//! addresses are copies of the frame's own, which stay in front as the
//! backbone addresses (OpenFlow 1.3.5, table 7: PBB C-DA ← ETH_DST, C-SA ←
//! ETH_SRC), and the I-TAG takes the I-SID of the frame's PBB header if it
//! already has one and the PCP of its outer VLAN tag if it has one
//! (I-SID ← PBB I-SID, I-PCP ← VLAN PCP), every other bit 0. A later
//! push_vlan adds the B-TAG in front of the I-TAG.

use super::{need, Resize, Result, RewriteError};
use crate::eth::ethertype;
use crate::extract::{extract, Layout};
use crate::field::be32;
use crate::flow::FlowKey;
use crate::mpls::{ISID_MASK, ITAG_LEN};

/// Bytes a PBB push inserts: ethertype, I-TAG, customer addresses.
pub const PBB_ENCAP_LEN: usize = 2 + ITAG_LEN + 12;

/// The frame's layout as a fresh extraction gives it (a push or pop moves
/// the Ethernet header itself, so nothing of the old layout holds).
fn relayout(frame: &[u8], layout: &mut Layout) {
    let mut scratch = FlowKey::default();
    *layout = extract(frame, 0, &mut scratch);
}

/// Offset of the I-TAG, checked to be announced by ethertype 0x88e7 and
/// to be followed by the customer addresses.
fn itag_at(frame: &[u8], layout: &Layout) -> Result<usize> {
    let at = layout.l2_len;
    let et = at
        .checked_sub(2)
        .filter(|&e| e >= 12)
        .ok_or(RewriteError::NotPbb)?;
    need(frame, et, 2).map_err(|_| RewriteError::NotPbb)?;
    if u16::from_be_bytes([frame[et], frame[et + 1]]) != ethertype::PBB {
        return Err(RewriteError::NotPbb);
    }
    need(frame, at, ITAG_LEN + 12)?;
    Ok(at)
}

/// Pushes a PBB encapsulation with ethertype `pbb_type` (0x88e7 only; see
/// the module docs for where it goes and what the I-TAG holds).
pub fn push_pbb<B: Resize + ?Sized>(buf: &mut B, layout: &mut Layout, pbb_type: u16) -> Result<()> {
    if pbb_type != ethertype::PBB {
        return Err(RewriteError::BadPbbEthertype(pbb_type));
    }
    let frame = buf.bytes();
    need(frame, 0, crate::eth::HEADER_LEN)?;
    let pcp = if layout.vlans > 0 {
        need(frame, 0, crate::eth::HEADER_LEN + 4)?;
        u32::from(frame[14] >> 5)
    } else {
        0
    };
    let isid = itag_at(frame, layout).map_or(0, |at| be32(frame, at) & ISID_MASK);
    let itag = pcp << 29 | isid;
    let mut addrs = [0u8; 12];
    addrs.copy_from_slice(&frame[..12]);
    buf.insert_gap(12, PBB_ENCAP_LEN);
    let frame = buf.bytes_mut();
    frame[12..14].copy_from_slice(&ethertype::PBB.to_be_bytes());
    frame[14..18].copy_from_slice(&itag.to_be_bytes());
    frame[18..30].copy_from_slice(&addrs);
    relayout(frame, layout);
    Ok(())
}

/// Pops the PBB encapsulation: the backbone addresses, any backbone tag
/// and the I-TAG go, the customer frame (from its addresses on) remains.
pub fn pop_pbb<B: Resize + ?Sized>(buf: &mut B, layout: &mut Layout) -> Result<()> {
    let at = itag_at(buf.bytes(), layout)?;
    buf.remove_range(0, at + ITAG_LEN);
    relayout(buf.bytes(), layout);
    Ok(())
}

/// Sets the I-SID (low 24 bits of `isid`) of the outermost I-TAG.
pub fn set_pbb_isid(frame: &mut [u8], layout: &Layout, isid: u32) -> Result<()> {
    let at = itag_at(frame, layout)?;
    let tag = be32(frame, at) & !ISID_MASK | isid & ISID_MASK;
    frame[at..at + 4].copy_from_slice(&tag.to_be_bytes());
    Ok(())
}
