//! A switch of in-memory ports for the datapath match tests: flows whose
//! match is given as OXM TLV bytes (hex, spaces allowed) and goes through
//! the codec (FLOW_MOD decode, translation to the switch model), then the
//! pipeline and the datapath. Built on `common` (the test crate declares
//! both).
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Instant;

use crate::common::match_of;
pub use crate::common::unhex;
use vnet_switch::datapath::{Datapath, SwitchPort, VlanMode};
use vnet_switch::flow::{Action, Flow, FlowMod, Instruction, Match, PortNo};
use vnet_switch::learning::{MacTable, DEFAULT_AGEING, DEFAULT_CAPACITY};
use vnet_switch::pipeline::Pipeline;
use vnet_switch::port::MemPort;
use vnet_switch::rules::PipelineRules;
use vnet_wire::Mac;

pub const A: Mac = [0x02, 0, 0, 0, 0, 0x0a];
pub const B: Mac = [0x02, 0, 0, 0, 0, 0x0b];

pub const IN_PORT_1: &str = "80000004 00000001";
pub const ETH_IP: &str = "80000a02 0800";
pub const ETH_IP6: &str = "80000a02 86dd";
pub const ETH_ARP: &str = "80000a02 0806";
pub const ETH_MPLS: &str = "80000a02 8847";
pub const ETH_PBB: &str = "80000a02 88e7";
pub const TCP: &str = "80001401 06";
pub const UDP: &str = "80001401 11";
pub const SCTP: &str = "80001401 84";
pub const ICMP: &str = "80001401 01";
pub const ICMP6: &str = "80001401 3a";

/// Number of ports: 1 and 4 are where frames enter, 2, 3 and 5 where
/// flows send them.
const PORTS: usize = 5;

/// The switch-model match of these OXM TLVs (hex), through a FLOW_MOD's
/// decoding and translation (panics if the codec refuses it).
pub fn oxm(tlvs: &[&str]) -> Match {
    let tlvs = unhex(&tlvs.concat());
    match_of(&tlvs).unwrap_or_else(|e| panic!("{tlvs:02x?}: {e}"))
}

/// Apply-actions output to `port`.
pub fn output(port: u32) -> Vec<Instruction> {
    vec![Instruction::ApplyActions(vec![Action::Output(PortNo(
        port,
    ))])]
}

pub struct Sw {
    dp: Datapath,
    ports: Vec<MemPort>,
    pipeline: Pipeline,
    epoch: Instant,
    now: u64,
}

impl Default for Sw {
    fn default() -> Self {
        Sw::new()
    }
}

impl Sw {
    /// No flows yet; 16 tables, table misses drop.
    pub fn new() -> Sw {
        let mut dp = Datapath::new("t", MacTable::new(DEFAULT_CAPACITY, DEFAULT_AGEING));
        let mut ports = Vec::new();
        for i in 0..PORTS {
            let p = MemPort::new();
            dp.add_port(SwitchPort {
                name: format!("p{}", i + 1),
                ofport: i as u32 + 1,
                vlan: VlanMode::Unaware,
                io: Box::new(p.clone()),
                stats: Default::default(),
            });
            ports.push(p);
        }
        Sw {
            dp,
            ports,
            pipeline: Pipeline::new(16),
            epoch: Instant::now(),
            now: 0,
        }
    }

    /// Adds a flow whose match is the OXM `tlvs`, and publishes it.
    pub fn flow(&mut self, table_id: u8, priority: u16, tlvs: &[&str], insts: Vec<Instruction>) {
        let flow = Flow {
            table_id,
            priority,
            r#match: oxm(tlvs),
            instructions: insts,
            ..Flow::default()
        };
        self.pipeline
            .apply(&FlowMod::add(flow), self.now)
            .unwrap_or_else(|e| panic!("{tlvs:?}: {e}"));
        self.dp.set_rules(Arc::new(PipelineRules::new(
            self.pipeline.snapshot(),
            self.epoch,
        )));
    }

    /// Table 0: the `tlvs` match to port 2 (priority 100), anything else
    /// to port 3 (priority 0).
    pub fn with_field_flow(tlvs: &[&str]) -> Sw {
        let mut s = Sw::new();
        s.flow(0, 100, tlvs, output(2));
        s.flow(0, 0, &[], output(3));
        s
    }

    /// Sends `frame` in on `ofport`; the ports it left by.
    pub fn send_on(&mut self, ofport: u32, frame: &[u8]) -> Vec<u32> {
        self.now += 1;
        let pi = ofport as usize - 1;
        self.ports[pi].inject(frame);
        let got = self.dp.poll_port(pi, self.now).expect("poll");
        assert_eq!(got, 1);
        let mut out = Vec::new();
        for (i, p) in self.ports.iter().enumerate() {
            let sent = p.take_sent();
            for f in &sent {
                assert_eq!(f, frame, "a match-only flow changed the frame");
            }
            if !sent.is_empty() {
                out.push(i as u32 + 1);
            }
        }
        out
    }

    /// With [`Sw::with_field_flow`]: each of `hits` leaves by port 2,
    /// each of `misses` by port 3 (sent in turn, hits first, then again
    /// in the opposite order, so no cached decision decides for another).
    #[track_caller]
    pub fn check(tlvs: &[&str], hits: &[Vec<u8>], misses: &[Vec<u8>]) {
        let mut s = Sw::with_field_flow(tlvs);
        for _ in 0..2 {
            for (i, f) in hits.iter().enumerate() {
                assert_eq!(s.send_on(1, f), [2], "{tlvs:?}: hit #{i} {f:02x?}");
            }
            for (i, f) in misses.iter().enumerate() {
                assert_eq!(s.send_on(1, f), [3], "{tlvs:?}: near miss #{i} {f:02x?}");
            }
        }
        for (i, f) in misses.iter().enumerate().rev() {
            assert_eq!(s.send_on(1, f), [3], "{tlvs:?}: near miss #{i} again");
        }
        for (i, f) in hits.iter().enumerate().rev() {
            assert_eq!(s.send_on(1, f), [2], "{tlvs:?}: hit #{i} again");
        }
    }
}
