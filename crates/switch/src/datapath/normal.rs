//! NORMAL: a MAC-learning switch per VLAN with Open vSwitch's port
//! semantics (see the parent module's docs).

use super::{ofpp, Datapath, Frame, Variant, VlanMode};

impl Datapath {
    /// The NORMAL action: VLAN admission, learning, forwarding or flooding
    /// within the VLAN, never back out of the ingress port. A frame from
    /// the controller (`pi` None) is VLAN-unaware and teaches nothing.
    pub(super) fn normal(
        &mut self,
        pi: Option<usize>,
        rx: &mut [Frame],
        i: usize,
        refs: &mut Vec<(usize, usize)>,
        now_ms: u64,
    ) -> bool {
        let tci = rx[i].vlan_tci();
        let ingress = pi.map_or(&VlanMode::Unaware, |pi| &self.ports[pi].vlan);
        let Some(vlan) = ingress.ingress_vlan(tci) else {
            if let Some(pi) = pi {
                self.ports[pi].stats.rx_dropped += 1;
            }
            return false;
        };
        let eth = rx[i].eth();
        if eth.len() < 14 {
            return false;
        }
        let dst: [u8; 6] = eth[0..6].try_into().unwrap_or([0; 6]);
        let src: [u8; 6] = eth[6..12].try_into().unwrap_or([0; 6]);
        let in_ofport = pi.map_or(ofpp::CONTROLLER, |pi| self.ports[pi].ofport);
        if pi.is_some() {
            self.macs.learn(vlan, src, in_ofport, now_ms);
        }
        let pcp = tci.map(|t| t >> 13).unwrap_or(0);
        let known = if dst[0] & 1 == 0 {
            self.macs.lookup(vlan, dst, now_ms)
        } else {
            None
        };
        match known {
            Some(p) if p == in_ofport => false,
            Some(p) => match self.port_index(p) {
                Some(q) => self.normal_to(q, vlan, pcp, rx, i, refs),
                None => false,
            },
            None => {
                let mut any = false;
                for q in 0..self.ports.len() {
                    if Some(q) != pi {
                        any |= self.normal_to(q, vlan, pcp, rx, i, refs);
                    }
                }
                any
            }
        }
    }

    fn normal_to(
        &mut self,
        q: usize,
        vlan: u16,
        pcp: u16,
        rx: &mut [Frame],
        i: usize,
        refs: &mut Vec<(usize, usize)>,
    ) -> bool {
        let Some(tagged) = self.ports[q].vlan.egress_tagged(vlan) else {
            return false;
        };
        let is_tagged = rx[i].vlan_tci().is_some();
        let variant = match (tagged, is_tagged) {
            (true, true) => Some(Variant::Retag(vlan)),
            (false, false) => None,
            (true, false) => Some(Variant::Push((pcp << 13) | vlan)),
            (false, true) => Some(Variant::Pop),
        };
        // A retag to the same VID is no change.
        let variant = match variant {
            Some(Variant::Retag(v)) if rx[i].vlan_tci().map(|t| t & 0x0fff) == Some(v) => None,
            v => v,
        };
        self.enqueue(q, rx, i, refs, variant);
        true
    }
}
