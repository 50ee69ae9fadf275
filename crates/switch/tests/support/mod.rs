//! Shared by the datapath action tests: a switch of in-memory ports driven
//! by flows in ovs-ofctl syntax, and checksum code written here from the
//! RFCs (ones'-complement sums, CRC32c bit by bit), independent of
//! `vnet_wire`'s, to recompute and verify what the switch wrote.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use vnet_switch::datapath::{ControllerPacket, Datapath, SwitchPort, VlanMode};
use vnet_switch::flow::{FlowMod, RemovedFlow};
use vnet_switch::frame::{Frame, HEADROOM};
use vnet_switch::group::{GroupError, GroupModCommand};
use vnet_switch::learning::{MacTable, DEFAULT_AGEING, DEFAULT_CAPACITY};
use vnet_switch::meter::MeterModCommand;
use vnet_switch::ofctl;
use vnet_switch::pipeline::{Pipeline, PipelineError};
use vnet_switch::port::{MemPort, PortIo};
use vnet_switch::rules::PipelineRules;

pub const A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
pub const B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
pub const IP_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const IP_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// A port carrying a virtio_net_hdr with every frame (offloads).
#[derive(Clone, Default)]
pub struct VnetPort {
    pub inbound: Arc<Mutex<VecDeque<Vec<u8>>>>,
    pub outbound: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl PortIo for VnetPort {
    fn recv(&mut self, frames: &mut [Frame]) -> io::Result<usize> {
        let mut q = self.inbound.lock().unwrap();
        let mut got = 0;
        for f in frames.iter_mut() {
            let Some(bytes) = q.pop_front() else { break };
            f.recv_area()[..bytes.len()].copy_from_slice(&bytes);
            f.start = HEADROOM;
            f.len = bytes.len();
            f.vnet = true;
            got += 1;
        }
        Ok(got)
    }

    fn send(&mut self, frames: &[&Frame]) -> io::Result<usize> {
        let mut q = self.outbound.lock().unwrap();
        for f in frames {
            q.push(f.wire().to_vec());
        }
        Ok(frames.len())
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    fn vnet_hdr(&self) -> bool {
        true
    }
}

/// A switch: ports 1..=n in memory (the last one with vnet headers when
/// asked), flows, groups and meters in ovs-ofctl syntax, packet-ins
/// collected.
pub struct Sw {
    pub dp: Datapath,
    pub ports: Vec<MemPort>,
    pub vnet: Option<VnetPort>,
    pub pipeline: Pipeline,
    pub packet_ins: Arc<Mutex<Vec<ControllerPacket>>>,
    epoch: Instant,
}

impl Sw {
    /// `n` plain in-memory ports.
    pub fn new(n: usize) -> Sw {
        Sw::build(n, false)
    }

    /// `n` plain ports and port `n + 1` with vnet headers.
    pub fn with_vnet_port(n: usize) -> Sw {
        Sw::build(n, true)
    }

    fn build(n: usize, vnet: bool) -> Sw {
        let mut dp = Datapath::new("t", MacTable::new(DEFAULT_CAPACITY, DEFAULT_AGEING));
        let mut ports = Vec::new();
        let add = |dp: &mut Datapath, io: Box<dyn PortIo>, i: usize| {
            dp.add_port(SwitchPort {
                name: format!("p{}", i + 1),
                ofport: i as u32 + 1,
                vlan: VlanMode::Unaware,
                io,
                stats: Default::default(),
            })
        };
        for i in 0..n {
            let p = MemPort::new();
            add(&mut dp, Box::new(p.clone()), i);
            ports.push(p);
        }
        let vnet = vnet.then(|| {
            let v = VnetPort::default();
            add(&mut dp, Box::new(v.clone()), n);
            v
        });
        let packet_ins = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&packet_ins);
        dp.set_controller(Some(Arc::new(move |p: ControllerPacket| {
            sink.lock().unwrap().push(p);
            true
        })));
        Sw {
            dp,
            ports,
            vnet,
            pipeline: Pipeline::new(16),
            packet_ins,
            epoch: Instant::now(),
        }
    }

    /// Adds the internal port (OpenFlow LOCAL) as an in-memory port; its
    /// index in the datapath is the second value.
    pub fn add_local(&mut self) -> (MemPort, usize) {
        let p = MemPort::new();
        self.dp.add_port(SwitchPort {
            name: "local".into(),
            ofport: vnet_switch::datapath::ofpp::LOCAL,
            vlan: VlanMode::Unaware,
            io: Box::new(p.clone()),
            stats: Default::default(),
        });
        (p, self.dp.ports.len() - 1)
    }

    /// Adds flows (ovs-ofctl syntax); panics if one is refused.
    pub fn flows(&mut self, flows: &[&str]) -> &mut Sw {
        for f in flows {
            if let Err(e) = self.try_flow(f) {
                panic!("{f}: {e}");
            }
        }
        self
    }

    /// Adds one flow (ovs-ofctl syntax); panics if it is refused.
    pub fn flow(&mut self, text: &str) -> &mut Sw {
        self.flows(&[text])
    }

    /// Adds one flow; the pipeline's refusal, if any.
    pub fn try_flow(&mut self, text: &str) -> Result<(), PipelineError> {
        let flow = ofctl::parse_flow(text, &ofctl::no_port_names)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        self.pipeline.apply(&FlowMod::add(flow), 0)?;
        self.publish();
        Ok(())
    }

    /// A GROUP_MOD (ovs-ofctl syntax); the flows it removed, or the
    /// pipeline's refusal.
    pub fn try_group(
        &mut self,
        command: GroupModCommand,
        text: &str,
    ) -> Result<Vec<RemovedFlow>, GroupError> {
        let gm = ofctl::parse_group(text, command, &ofctl::no_port_names)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let r = self.pipeline.apply_group_mod(&gm, 0);
        self.publish();
        r
    }

    /// A GROUP_MOD (ovs-ofctl syntax); panics if it is refused.
    pub fn group(&mut self, command: GroupModCommand, text: &str) -> &mut Sw {
        if let Err(e) = self.try_group(command, text) {
            panic!("{text}: {e}");
        }
        self
    }

    /// Adds a meter (ovs-ofctl syntax) at `now` (ms); panics if it is
    /// refused.
    pub fn meter(&mut self, text: &str, now: u64) -> &mut Sw {
        let mm = ofctl::parse_meter(text, MeterModCommand::Add)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        self.pipeline
            .apply_meter_mod(&mm, now)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        self.publish();
        self
    }

    fn publish(&mut self) {
        self.dp.set_rules(Arc::new(PipelineRules::new(
            self.pipeline.snapshot(),
            self.epoch,
        )));
    }

    /// Sends `frame` in on port `ofport` (a plain port).
    pub fn send(&mut self, ofport: u32, frame: &[u8]) {
        self.send_at(ofport, frame, 0);
    }

    /// Sends `frame` in on port `ofport` (a plain port) at `now` (ms, the
    /// datapath's clock).
    pub fn send_at(&mut self, ofport: u32, frame: &[u8], now: u64) {
        let pi = ofport as usize - 1;
        self.ports[pi].inject(frame);
        assert_eq!(self.dp.poll_port(pi, now).expect("poll"), 1);
    }

    /// Sends `wire` (vnet header + frame) in on the vnet port.
    pub fn send_vnet(&mut self, wire: &[u8]) {
        let v = self.vnet.as_ref().expect("a vnet port");
        v.inbound.lock().unwrap().push_back(wire.to_vec());
        let pi = self.ports.len();
        assert_eq!(self.dp.poll_port(pi, 0).expect("poll"), 1);
    }

    /// What plain port `ofport` sent since the last call.
    pub fn out(&self, ofport: u32) -> Vec<Vec<u8>> {
        self.ports[ofport as usize - 1].take_sent()
    }

    /// What each plain port sent since the last call, by ofport - 1.
    pub fn sent(&self) -> Vec<Vec<Vec<u8>>> {
        self.ports.iter().map(|p| p.take_sent()).collect()
    }

    /// The one plain port that sent since the last call (exactly one
    /// frame).
    pub fn one_out(&self) -> u32 {
        let out = self.sent();
        let busy: Vec<usize> = (0..out.len()).filter(|i| !out[*i].is_empty()).collect();
        assert_eq!(busy.len(), 1, "expected one output port: {out:?}");
        assert_eq!(out[busy[0]].len(), 1);
        busy[0] as u32 + 1
    }

    /// What the vnet port sent (header + frame each).
    pub fn out_vnet(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.vnet.as_ref().unwrap().outbound.lock().unwrap())
    }

    /// Sends `frame` in on port 1 and returns the one frame port 2 sent
    /// (asserting nothing else left anywhere).
    pub fn through(&mut self, frame: &[u8]) -> Vec<u8> {
        self.send(1, frame);
        let mut got = self.out(2);
        for p in 3..=self.ports.len() as u32 {
            assert!(self.out(p).is_empty(), "port {p} sent something");
        }
        assert_eq!(got.len(), 1, "port 2 sent {} frames", got.len());
        got.remove(0)
    }

    /// The packet-ins since the last call.
    pub fn packet_ins(&self) -> Vec<ControllerPacket> {
        std::mem::take(&mut *self.packet_ins.lock().unwrap())
    }
}

// ------------------------------------------------------------ checksums

/// RFC 1071 ones'-complement sum of 16-bit words (odd byte padded),
/// folded, not complemented.
pub fn ones_sum(data: &[u8]) -> u16 {
    let mut s: u64 = 0;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        s += u64::from(w);
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// CRC32c (Castagnoli), reflected, bit by bit (RFC 3309 / RFC 4960 B).
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Where the IP packet of a frame starts and which version it is: after
/// the Ethernet header, 802.1Q/802.1ad tags, PBB (whose customer frame is
/// looked into) and MPLS label stacks (the payload's first nibble tells
/// IPv4 from IPv6 after the bottom of the stack).
pub fn find_ip(f: &[u8]) -> Option<(usize, u8)> {
    let mut at = 12;
    loop {
        let et = u16::from_be_bytes([*f.get(at)?, *f.get(at + 1)?]);
        match et {
            0x8100 | 0x88a8 => at += 4,
            0x88e7 => at += 2 + 4 + 12,
            0x0800 => return Some((at + 2, 4)),
            0x86dd => return Some((at + 2, 6)),
            0x8847 | 0x8848 => {
                let mut l = at + 2;
                loop {
                    let bos = f.get(l + 2)? & 1 != 0;
                    l += 4;
                    if bos {
                        break;
                    }
                }
                return match f.get(l)? >> 4 {
                    4 => Some((l, 4)),
                    6 => Some((l, 6)),
                    _ => None,
                };
            }
            _ => return None,
        }
    }
}

/// The transport part of an IP packet at `ip`: (offset, protocol, end).
/// IPv6 extension headers are not walked (the tests use none).
fn transport(f: &[u8], ip: usize, v: u8) -> (usize, u8, usize) {
    if v == 4 {
        let ihl = usize::from(f[ip] & 0xf) * 4;
        let total = usize::from(u16::from_be_bytes([f[ip + 2], f[ip + 3]]));
        (ip + ihl, f[ip + 9], ip + total)
    } else {
        let plen = usize::from(u16::from_be_bytes([f[ip + 4], f[ip + 5]]));
        (ip + 40, f[ip + 6], ip + 40 + plen)
    }
}

fn pseudo(f: &[u8], ip: usize, v: u8, proto: u8, len: usize) -> u16 {
    let mut p = Vec::new();
    if v == 4 {
        p.extend_from_slice(&f[ip + 12..ip + 20]);
        p.extend_from_slice(&[0, proto]);
        p.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        p.extend_from_slice(&f[ip + 8..ip + 40]);
        p.extend_from_slice(&(len as u32).to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, proto]);
    }
    ones_sum(&p)
}

fn add(a: u16, b: u16) -> u16 {
    let s = u32::from(a) + u32::from(b);
    ((s & 0xffff) + (s >> 16)) as u16
}

/// Recomputes, from scratch, the IPv4 header checksum and the TCP, UDP
/// (a zero checksum stays zero), ICMPv4, ICMPv6 or SCTP checksum of the
/// frame's IP packet (found by [`find_ip`]).
pub fn recompute(frame: &[u8]) -> Vec<u8> {
    let mut f = frame.to_vec();
    let Some((ip, v)) = find_ip(&f) else {
        return f;
    };
    if v == 4 {
        let ihl = usize::from(f[ip] & 0xf) * 4;
        f[ip + 10..ip + 12].fill(0);
        let c = !ones_sum(&f[ip..ip + ihl]);
        f[ip + 10..ip + 12].copy_from_slice(&c.to_be_bytes());
    }
    let (l4, proto, end) = transport(&f, ip, v);
    let len = end - l4;
    let off = match proto {
        6 => 16,
        17 => 6,
        1 | 58 => 2,
        132 => {
            f[l4 + 8..l4 + 12].fill(0);
            let c = crc32c(&f[l4..end]);
            f[l4 + 8..l4 + 12].copy_from_slice(&c.to_le_bytes());
            return f;
        }
        _ => return f,
    };
    if proto == 17 && f[l4 + 6..l4 + 8] == [0, 0] {
        return f;
    }
    f[l4 + off..l4 + off + 2].fill(0);
    let ph = if proto == 1 {
        0
    } else {
        pseudo(&f, ip, v, proto, len)
    };
    let mut c = !add(ph, ones_sum(&f[l4..end]));
    if proto == 17 && c == 0 {
        c = 0xffff;
    }
    f[l4 + off..l4 + off + 2].copy_from_slice(&c.to_be_bytes());
    f
}

/// Asserts every checksum of the frame's IP packet verifies (as a
/// receiver checks: the sum over header/segment with the checksum in
/// place is all ones; SCTP's CRC32c equals the one computed with zeros).
#[track_caller]
pub fn assert_checksums(f: &[u8]) {
    let (ip, v) = find_ip(f).expect("an IP packet in the frame");
    if v == 4 {
        let ihl = usize::from(f[ip] & 0xf) * 4;
        assert_eq!(ones_sum(&f[ip..ip + ihl]), 0xffff, "IPv4 header checksum");
    }
    let (l4, proto, end) = transport(f, ip, v);
    match proto {
        6 | 17 | 58 => {
            if proto == 17 && f[l4 + 6..l4 + 8] == [0, 0] {
                return;
            }
            let ph = pseudo(f, ip, v, proto, end - l4);
            assert_eq!(
                add(ph, ones_sum(&f[l4..end])),
                0xffff,
                "proto {proto} checksum"
            );
        }
        1 => assert_eq!(ones_sum(&f[l4..end]), 0xffff, "ICMPv4 checksum"),
        132 => {
            let mut z = f[l4..end].to_vec();
            let got = u32::from_le_bytes([z[8], z[9], z[10], z[11]]);
            z[8..12].fill(0);
            assert_eq!(got, crc32c(&z), "SCTP CRC32c");
        }
        _ => {}
    }
}

/// `frame` as a sender with checksum offload hands it over
/// (CHECKSUM_PARTIAL): its TCP/UDP/ICMPv6 checksum field holds the
/// pseudo-header sum, not complemented. Returns the frame and the virtio
/// net header (NEEDS_CSUM, csum_start, csum_offset) to send it with.
pub fn partial(frame: &[u8]) -> (Vec<u8>, [u8; 10]) {
    let mut f = frame.to_vec();
    let (ip, v) = find_ip(&f).expect("IP");
    let (l4, proto, end) = transport(&f, ip, v);
    let off = match proto {
        6 => 16,
        17 => 6,
        58 => 2,
        p => panic!("no offloadable checksum for protocol {p}"),
    };
    let ph = pseudo(&f, ip, v, proto, end - l4);
    f[l4 + off..l4 + off + 2].copy_from_slice(&ph.to_be_bytes());
    let mut hdr = [0u8; 10];
    hdr[0] = 1; // NEEDS_CSUM
    hdr[6..8].copy_from_slice(&(l4 as u16).to_le_bytes());
    hdr[8..10].copy_from_slice(&(off as u16).to_le_bytes());
    (f, hdr)
}

/// `frame` with `bytes` written at `at`.
pub fn patch(frame: &[u8], at: usize, bytes: &[u8]) -> Vec<u8> {
    let mut f = frame.to_vec();
    f[at..at + bytes.len()].copy_from_slice(bytes);
    f
}

#[test]
fn the_reference_checksums_are_right() {
    // RFC 3720 B.4: 32 bytes of zeros.
    assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
    assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    // RFC 1071's example words.
    assert_eq!(
        ones_sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
        0xddf2
    );
}
