//! A frame buffer as the datapath holds it: headroom, an optional
//! virtio_net_hdr, then the Ethernet frame.
//!
//! The headroom lets a VLAN tag be pushed by moving 12 (+10) bytes instead
//! of the whole frame. The virtio_net_hdr carries the offload state from the
//! receiving socket to the sending one (checksum still to be filled in, GSO
//! segment size); when a tag is pushed or popped, its header offsets move
//! by 4 bytes so the kernel still finds the L4 checksum.

/// Bytes reserved in front of every frame for VLAN pushes.
pub const HEADROOM: usize = 8;
/// virtio_net_hdr (legacy layout) length.
pub const VNET_HDR_LEN: usize = 10;
const VNET_F_NEEDS_CSUM: u8 = 1;
const VNET_GSO_NONE: u8 = 0;

#[derive(Debug, Clone)]
pub struct Frame {
    pub buf: Box<[u8]>,
    /// Start of the vnet header (or of the Ethernet frame without one).
    pub start: usize,
    /// Length from `start`.
    pub len: usize,
    /// Whether a virtio_net_hdr precedes the Ethernet frame.
    pub vnet: bool,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn put_le16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

impl Frame {
    /// An empty frame with room for `capacity` bytes after the headroom.
    pub fn with_capacity(capacity: usize, vnet: bool) -> Frame {
        Frame {
            buf: vec![0; HEADROOM + capacity].into_boxed_slice(),
            start: HEADROOM,
            len: 0,
            vnet,
        }
    }

    /// A frame holding `eth` (and a zero vnet header when `vnet`).
    pub fn from_eth(eth: &[u8], vnet: bool) -> Frame {
        let hdr = if vnet { VNET_HDR_LEN } else { 0 };
        let mut f = Frame::with_capacity(hdr + eth.len(), vnet);
        f.buf[HEADROOM + hdr..HEADROOM + hdr + eth.len()].copy_from_slice(eth);
        f.len = hdr + eth.len();
        f
    }

    fn hdr_len(&self) -> usize {
        if self.vnet {
            VNET_HDR_LEN
        } else {
            0
        }
    }

    /// The receive area: where a socket should write (vnet header + frame).
    pub fn recv_area(&mut self) -> &mut [u8] {
        self.start = HEADROOM;
        &mut self.buf[HEADROOM..]
    }

    /// Everything to hand to a socket: vnet header (if any) and frame.
    pub fn wire(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }

    pub fn eth(&self) -> &[u8] {
        let h = self.hdr_len().min(self.len);
        &self.buf[self.start + h..self.start + self.len]
    }

    pub fn eth_mut(&mut self) -> &mut [u8] {
        let h = self.hdr_len().min(self.len);
        let end = self.start + self.len;
        &mut self.buf[self.start + h..end]
    }

    /// The virtio_net_hdr, if present.
    pub fn vnet_hdr(&self) -> Option<&[u8]> {
        (self.vnet && self.len >= VNET_HDR_LEN)
            .then(|| &self.buf[self.start..self.start + VNET_HDR_LEN])
    }

    /// Re-expresses the frame for a socket without vnet headers: completes
    /// a checksum the header says is pending (a veth with offloads on
    /// leaves TCP/UDP checksums to the next hop), then drops the header.
    /// Segmentation offload (GSO) must have been dealt with before.
    pub fn strip_vnet(&mut self) {
        self.complete_checksum();
        if self.vnet && self.len >= VNET_HDR_LEN {
            self.start += VNET_HDR_LEN;
            self.len -= VNET_HDR_LEN;
        }
        self.vnet = false;
    }

    /// The pending checksum (`NEEDS_CSUM`, with `csum_start` and
    /// `csum_offset` counted from the Ethernet header), if any.
    fn pending_checksum(&self) -> Option<(usize, usize)> {
        let h = self.vnet_hdr()?;
        (h[0] & VNET_F_NEEDS_CSUM != 0).then(|| (usize::from(le16(h, 6)), usize::from(le16(h, 8))))
    }

    /// Fills in the checksum the vnet header says is pending, in place,
    /// and clears the flag (a no-op without one).
    pub fn complete_checksum(&mut self) {
        let Some((start, offset)) = self.pending_checksum() else {
            return;
        };
        let s = self.start;
        let eth = &mut self.buf[s + VNET_HDR_LEN..s + self.len];
        if vnet_wire::checksum::complete_partial(eth, start, offset).is_ok() {
            self.buf[s] &= !VNET_F_NEEDS_CSUM;
        }
    }

    /// The first `n` bytes of the Ethernet frame, with a pending checksum
    /// completed: what a reader without vnet headers (a controller's
    /// packet-in) must see.
    pub fn eth_completed(&self, n: usize) -> Vec<u8> {
        let mut data = self.eth().to_vec();
        if let Some((start, offset)) = self.pending_checksum() {
            let _ = vnet_wire::checksum::complete_partial(&mut data, start, offset);
        }
        data.truncate(n);
        data
    }

    /// Adds a zero vnet header (no offloads pending).
    pub fn add_vnet(&mut self) -> bool {
        if self.vnet {
            return true;
        }
        if self.start < VNET_HDR_LEN {
            // The headroom (HEADROOM < VNET_HDR_LEN) cannot hold the header:
            // move the frame into a buffer that keeps the full headroom in
            // front of it.
            let at = HEADROOM + VNET_HDR_LEN;
            let mut buf = vec![0; at + self.len].into_boxed_slice();
            buf[at..].copy_from_slice(self.wire());
            self.buf = buf;
            self.start = at;
        }
        self.start -= VNET_HDR_LEN;
        self.len += VNET_HDR_LEN;
        self.buf[self.start..self.start + VNET_HDR_LEN].fill(0);
        self.vnet = true;
        true
    }

    /// The outer VLAN tag's TCI, if the frame is tagged (802.1Q or 802.1ad).
    pub fn vlan_tci(&self) -> Option<u16> {
        let e = self.eth();
        if e.len() >= 18 && matches!(u16::from_be_bytes([e[12], e[13]]), 0x8100 | 0x88a8) {
            Some(u16::from_be_bytes([e[14], e[15]]))
        } else {
            None
        }
    }

    fn shift_offsets(&mut self, delta: i32) {
        if !self.vnet || self.len < VNET_HDR_LEN {
            return;
        }
        let s = self.start;
        let b = &mut self.buf;
        if b[s] & VNET_F_NEEDS_CSUM != 0 {
            let v = le16(b, s + 6) as i32 + delta;
            put_le16(b, s + 6, v.max(0) as u16);
        }
        if b[s + 1] != VNET_GSO_NONE {
            let v = le16(b, s + 2) as i32 + delta;
            put_le16(b, s + 2, v.max(0) as u16);
        }
    }

    /// Inserts a VLAN tag after the MAC addresses. False when the frame is
    /// too short or there is no headroom left.
    pub fn push_vlan(&mut self, tpid: u16, tci: u16) -> bool {
        let h = self.hdr_len();
        if self.len < h + 12 || self.start < 4 {
            return false;
        }
        let s = self.start;
        // Move [vnet hdr][dst][src] back by 4 bytes, then write the tag.
        self.buf.copy_within(s..s + h + 12, s - 4);
        self.start -= 4;
        self.len += 4;
        let t = self.start + h + 12;
        self.buf[t..t + 2].copy_from_slice(&tpid.to_be_bytes());
        self.buf[t + 2..t + 4].copy_from_slice(&tci.to_be_bytes());
        self.shift_offsets(4);
        true
    }

    /// Removes the outer VLAN tag; false when untagged.
    pub fn pop_vlan(&mut self) -> bool {
        if self.vlan_tci().is_none() {
            return false;
        }
        let h = self.hdr_len();
        let s = self.start;
        self.buf.copy_within(s..s + h + 12, s + 4);
        self.start += 4;
        self.len -= 4;
        self.shift_offsets(-4);
        true
    }

    /// Rewrites the outer tag's VID (keeps PCP); false when untagged.
    pub fn set_vlan_vid(&mut self, vid: u16) -> bool {
        let Some(tci) = self.vlan_tci() else {
            return false;
        };
        let tci = (tci & 0xf000) | (vid & 0x0fff);
        let e = self.eth_mut();
        e[14..16].copy_from_slice(&tci.to_be_bytes());
        true
    }

    /// Rewrites the outer tag's PCP; false when untagged.
    pub fn set_vlan_pcp(&mut self, pcp: u8) -> bool {
        let Some(tci) = self.vlan_tci() else {
            return false;
        };
        let tci = (tci & 0x1fff) | (u16::from(pcp & 7) << 13);
        let e = self.eth_mut();
        e[14..16].copy_from_slice(&tci.to_be_bytes());
        true
    }
}

/// MPLS and PBB pushes and pops grow or shrink the frame behind its
/// first bytes: the bytes in front of the gap move (into the headroom when
/// it is large enough), else those after it (when the buffer has room),
/// else the frame moves to a larger buffer. Every such gap lies before the
/// transport header, so the vnet header's offsets move with it.
impl vnet_wire::rewrite::Resize for Frame {
    fn bytes(&self) -> &[u8] {
        self.eth()
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self.eth_mut()
    }

    fn insert_gap(&mut self, at: usize, n: usize) {
        let eth0 = self.start + self.hdr_len();
        let end = self.start + self.len;
        if self.start >= n {
            self.buf.copy_within(self.start..eth0 + at, self.start - n);
            self.start -= n;
        } else if self.buf.len() - end >= n {
            self.buf.copy_within(eth0 + at..end, eth0 + at + n);
        } else {
            let mut buf = vec![0; HEADROOM + self.len + n].into_boxed_slice();
            let front = eth0 + at - self.start;
            buf[HEADROOM..HEADROOM + front].copy_from_slice(&self.buf[self.start..eth0 + at]);
            buf[HEADROOM + front + n..].copy_from_slice(&self.buf[eth0 + at..end]);
            self.buf = buf;
            self.start = HEADROOM;
        }
        self.len += n;
        self.shift_offsets(n as i32);
    }

    fn remove_range(&mut self, at: usize, n: usize) {
        let eth0 = self.start + self.hdr_len();
        self.buf.copy_within(self.start..eth0 + at, self.start + n);
        self.start += n;
        self.len -= n;
        self.shift_offsets(-(n as i32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth() -> Vec<u8> {
        let mut f = vec![0xaa; 6];
        f.extend([0xbb; 6]);
        f.extend([0x08, 0x00]);
        f.extend([0x45; 20]);
        f
    }

    #[test]
    fn push_and_pop_vlan_keep_the_rest_and_move_offload_offsets() {
        let mut f = Frame::from_eth(&eth(), true);
        // NEEDS_CSUM, GSO TCPv4, hdr_len 54, gso_size 1448, csum_start 34, csum_offset 16
        let hdr = [1u8, 1, 54, 0, 0xa8, 0x05, 34, 0, 16, 0];
        let s = f.start;
        f.buf[s..s + 10].copy_from_slice(&hdr);
        assert!(f.push_vlan(0x8100, 0x2005));
        assert_eq!(f.vlan_tci(), Some(0x2005));
        let e = f.eth();
        assert_eq!(&e[..12], &[[0xaa; 6], [0xbb; 6]].concat()[..]);
        assert_eq!(&e[12..18], &[0x81, 0x00, 0x20, 0x05, 0x08, 0x00]);
        assert_eq!(
            f.vnet_hdr().unwrap(),
            &[1, 1, 58, 0, 0xa8, 0x05, 38, 0, 16, 0]
        );
        assert!(f.set_vlan_vid(7));
        assert!(f.set_vlan_pcp(3));
        assert_eq!(f.vlan_tci(), Some(0x6007));
        assert!(f.pop_vlan());
        assert_eq!(f.eth(), &eth()[..]);
        assert_eq!(f.vnet_hdr().unwrap(), &hdr);
        assert!(!f.pop_vlan());
    }

    #[test]
    fn vnet_header_can_be_removed_and_added() {
        let mut f = Frame::from_eth(&eth(), true);
        f.strip_vnet();
        assert_eq!(f.wire(), &eth()[..]);
        assert!(f.add_vnet());
        assert_eq!(f.vnet_hdr().unwrap(), &[0; 10]);
        assert_eq!(f.eth(), &eth()[..]);
        // A frame that never had a header has only HEADROOM in front.
        let mut g = Frame::from_eth(&eth(), false);
        assert!(g.add_vnet());
        assert_eq!(g.vnet_hdr().unwrap(), &[0; 10]);
        assert_eq!(g.eth(), &eth()[..]);
        assert!(g.push_vlan(0x8100, 5), "headroom kept for a tag");
    }

    #[test]
    fn gaps_open_and_close_in_every_buffer_state() {
        use vnet_wire::rewrite::Resize;
        let want = |at: usize, n: usize| {
            let mut v = eth();
            v.splice(at..at, std::iter::repeat_n(0xee, n));
            v
        };
        // Headroom (8) fits 4; 18 takes the tail room or a new buffer.
        for (n, vnet, spare) in [(4, false, 0), (18, true, 64), (18, false, 0), (4, true, 0)] {
            let mut f = Frame::from_eth(&eth(), vnet);
            if spare > 0 {
                let mut g = Frame::with_capacity(f.len + spare, vnet);
                let s = g.start;
                g.buf[s..s + f.len].copy_from_slice(f.wire());
                g.len = f.len;
                f = g;
            }
            if vnet {
                let s = f.start;
                f.buf[s] = 1; // NEEDS_CSUM, csum_start 34
                f.buf[s + 6] = 34;
            }
            f.insert_gap(12, n);
            f.bytes_mut()[12..12 + n].fill(0xee);
            assert_eq!(f.eth(), &want(12, n)[..], "n {n} vnet {vnet} spare {spare}");
            if vnet {
                assert_eq!(f.vnet_hdr().unwrap()[6], 34 + n as u8);
            }
            f.remove_range(12, n);
            assert_eq!(f.eth(), &eth()[..]);
            if vnet {
                assert_eq!(f.vnet_hdr().unwrap()[6], 34);
            }
        }
    }
}
