//! Meters in the datapath, driven through in-memory ports on an injected
//! clock (the `now` handed to `poll_port`; no wall-clock timing): a DROP
//! band in packets/s and in kb/s lets through its burst plus its rate over
//! a measured interval, a DSCP_REMARK band raises the drop precedence and
//! fixes the IPv4 checksum, the band with the highest exceeded rate
//! applies, a meter runs where its instruction stands in the pipeline; the
//! configuration reads back exactly as given; METER_MOD checks with the
//! spec's errors; deleting a meter deletes its flows.

mod support;

use support::{Sw, A, B, IP_A, IP_B};
use vnet_switch::flow::{FlowMod, RemovedReason};
use vnet_switch::meter::{Band, BandType, Meter, MeterFlags, MeterMod, MeterModCommand};
use vnet_switch::ofctl::{self, no_port_names};
use vnet_switch::pipeline::{Pipeline, PipelineError};
use vnet_wire::{build, checksum};

fn udp(payload: usize) -> Vec<u8> {
    build::udp4(A, B, None, IP_A, IP_B, 1000, 2000, &vec![0x5a; payload])
}

/// Offers one frame per millisecond for `ms` milliseconds from `start`;
/// returns how many left on port 2.
fn offer(sw: &mut Sw, frame: &[u8], start: u64, ms: u64) -> usize {
    for t in start..start + ms {
        sw.send_at(1, frame, t);
    }
    sw.out(2).len()
}

#[test]
fn pktps_drop_band_lets_burst_plus_rate_through() {
    let mut sw = Sw::new(2);
    sw.meter(
        "meter=1,pktps,burst,stats,bands=type=drop,rate=100,burst_size=10",
        0,
    );
    sw.flow("in_port=1,actions=meter:1,output:2");
    let f = udp(18);
    // 1000 frames/s offered for one second: 10 (burst) + 100 (rate).
    let passed = offer(&mut sw, &f, 0, 1000);
    assert!((109..=111).contains(&passed), "passed {passed}");
    // The next second, with the bucket drained: the rate only.
    let passed = offer(&mut sw, &f, 1000, 1000);
    assert!((99..=101).contains(&passed), "passed {passed}");
    // Idle for a second refills the burst, no more.
    let passed = offer(&mut sw, &f, 3000, 50);
    assert!((14..=16).contains(&passed), "passed {passed}");
    // Counters: every frame reached the meter; the band dropped the rest.
    let m = sw.pipeline.meter(1).unwrap();
    assert_eq!(m.counter.packets(), 2050);
    assert_eq!(m.counter.bytes(), 2050 * f.len() as u64);
    let dropped = m.band_counters[0].packets();
    assert!((1810..=1830).contains(&dropped), "dropped {dropped}");
    assert_eq!(sw.pipeline.meter_flow_counts().get(&1), Some(&1));
}

#[test]
fn kbps_drop_band_counts_bits() {
    let mut sw = Sw::new(2);
    // 800 kb/s = 100,000 bytes/s; burst 80 kbit = 10,000 bytes.
    sw.meter(
        "meter=2,kbps,burst,bands=type=drop,rate=800,burst_size=80",
        0,
    );
    sw.flow("actions=meter:2,output:2");
    let f = udp(1000 - 42);
    assert_eq!(f.len(), 1000);
    // 1 MB/s offered for a second: (10,000 + 100,000) / 1000 frames.
    let passed = offer(&mut sw, &f, 0, 1000);
    assert!((109..=111).contains(&passed), "passed {passed}");
    // Small frames take fewer bits: 100-byte frames at 1000/s = 800 kb/s
    // exactly fit the rate after a refill.
    let small = udp(100 - 42);
    let passed = offer(&mut sw, &small, 5000, 1000);
    assert!(passed >= 995, "passed {passed}");
}

#[test]
fn without_the_burst_flag_a_default_burst_applies_but_reads_back_as_zero() {
    let mut sw = Sw::new(2);
    sw.meter("meter=3,pktps,bands=type=drop,rate=100", 0);
    sw.flow("actions=meter:3,output:2");
    let m = &sw.pipeline.meter(3).unwrap().meter;
    assert_eq!(m.bands[0].burst_size, 0, "read back as given");
    assert_eq!(
        ofctl::format_meter(m),
        "meter=3,pktps,bands=type=drop,rate=100"
    );
    // 100 ms of the rate by default: 10 + 100 over a second.
    let passed = offer(&mut sw, &udp(18), 0, 1000);
    assert!((109..=111).contains(&passed), "passed {passed}");
}

/// `frame` (untagged IPv4) with its TOS byte set and the header checksum
/// recomputed from scratch.
fn with_tos(frame: &[u8], tos: u8) -> Vec<u8> {
    let mut f = frame.to_vec();
    f[15] = tos;
    f[24] = 0;
    f[25] = 0;
    let c = checksum::checksum(&f[14..34]);
    f[24..26].copy_from_slice(&c.to_be_bytes());
    f
}

#[test]
fn dscp_remark_raises_drop_precedence_and_fixes_the_checksum() {
    let mut sw = Sw::new(2);
    sw.meter(
        "meter=4,pktps,burst,bands=type=dscp_remark,rate=1,burst_size=1,prec_level=1",
        0,
    );
    sw.flow("actions=meter:4,output:2");
    let af11 = with_tos(&udp(30), 10 << 2);
    let af12 = with_tos(&udp(30), 12 << 2);
    for _ in 0..3 {
        sw.send_at(1, &af11, 0);
    }
    // The first conforms; the others exceed the band and are remarked.
    let out = sw.out(2);
    assert_eq!(out, vec![af11.clone(), af12.clone(), af12]);
    for f in &out {
        assert_eq!(checksum::checksum(&f[14..34]), 0, "IPv4 header checksum");
    }
    assert_eq!(sw.pipeline.meter(4).unwrap().band_counters[0].packets(), 2);
    // A code point without a drop precedence (best effort) is left alone.
    let be = udp(30);
    sw.send_at(1, &be, 0);
    assert_eq!(sw.out(2), vec![be]);
}

#[test]
fn the_band_with_the_highest_exceeded_rate_applies() {
    let mut sw = Sw::new(2);
    sw.meter(
        "meter=5,pktps,burst,bands=type=dscp_remark,rate=100,burst_size=1,prec_level=2,\
         type=drop,rate=200,burst_size=1",
        0,
    );
    sw.flow("actions=meter:5,output:2");
    let af21 = with_tos(&udp(30), 18 << 2);
    let af23 = with_tos(&udp(30), 22 << 2);
    // 1 frame every 10 ms (100/s): conforms to both.
    for t in 0..10 {
        sw.send_at(1, &af21, 1000 + t * 10);
    }
    assert!(sw.out(2).iter().all(|f| *f == af21));
    // 1 every 6 ms (~167/s): exceeds the 100 band only, remarked mostly.
    for t in 0..100 {
        sw.send_at(1, &af21, 2000 + t * 6);
    }
    let out = sw.out(2);
    assert_eq!(out.len(), 100, "nothing dropped under 200/s");
    assert!(out.iter().filter(|f| **f == af23).count() > 30);
    // Two frames per millisecond (2000/s): beyond both, the drop band
    // (the higher rate) decides.
    for t in 0..100 {
        sw.send_at(1, &af21, 4000 + t);
        sw.send_at(1, &af21, 4000 + t);
    }
    let out = sw.out(2);
    assert!(out.len() < 40, "{} passed", out.len());
}

#[test]
fn a_meter_runs_where_its_instruction_stands() {
    let mut sw = Sw::new(3);
    sw.meter("meter=6,pktps,burst,bands=type=drop,rate=1,burst_size=1", 0);
    // Table 0 outputs to port 3 before the meter in table 1 drops.
    sw.flow("actions=output:3,goto_table:1");
    sw.flow("table=1,actions=meter:6,output:2");
    let f = udp(10);
    for _ in 0..5 {
        sw.send_at(1, &f, 0);
    }
    assert_eq!(sw.out(3).len(), 5);
    assert_eq!(sw.out(2).len(), 1);
}

fn meter_mod(command: MeterModCommand, id: u32, flags: MeterFlags, bands: Vec<Band>) -> MeterMod {
    MeterMod {
        command,
        meter: Meter { id, flags, bands },
    }
}

fn drop_band(rate: u32, burst_size: u32) -> Band {
    Band {
        band_type: BandType::Drop,
        rate,
        burst_size,
    }
}

#[test]
fn meter_mods_are_checked_with_the_spec_errors() {
    use MeterModCommand::*;
    let mut p = Pipeline::new(2);
    let pk = MeterFlags::PKTPS;
    let err = |p: &mut Pipeline, m: MeterMod| p.apply_meter_mod(&m, 0).unwrap_err().ofp_error();
    p.apply_meter_mod(&meter_mod(Add, 1, pk, vec![drop_band(10, 0)]), 0)
        .unwrap();
    assert_eq!(err(&mut p, meter_mod(Add, 1, pk, vec![])), (12, 1)); // METER_EXISTS
    assert_eq!(err(&mut p, meter_mod(Modify, 2, pk, vec![])), (12, 3)); // UNKNOWN_METER
    assert_eq!(err(&mut p, meter_mod(Add, 0, pk, vec![])), (12, 2)); // INVALID_METER
    assert_eq!(
        err(&mut p, meter_mod(Add, 0xffff_0001, pk, vec![])),
        (12, 2)
    );
    assert_eq!(
        err(&mut p, meter_mod(Add, 0xffff_fffd, pk, vec![])),
        (12, 2)
    ); // SLOWPATH
    let both = MeterFlags::PKTPS | MeterFlags::KBPS;
    assert_eq!(err(&mut p, meter_mod(Add, 2, both, vec![])), (12, 5)); // BAD_FLAGS
    assert_eq!(
        err(&mut p, meter_mod(Add, 2, pk, vec![drop_band(0, 0)])),
        (12, 6) // BAD_RATE
    );
    let burst = MeterFlags::PKTPS | MeterFlags::BURST;
    assert_eq!(
        err(&mut p, meter_mod(Add, 2, burst, vec![drop_band(5, 0)])),
        (12, 7) // BAD_BURST
    );
    let remark0 = Band {
        band_type: BandType::DscpRemark { prec_level: 0 },
        rate: 5,
        burst_size: 0,
    };
    assert_eq!(err(&mut p, meter_mod(Add, 2, pk, vec![remark0])), (12, 9)); // BAD_BAND_VALUE
    assert_eq!(
        err(&mut p, meter_mod(Add, 2, pk, vec![drop_band(5, 0); 9])),
        (12, 11) // OUT_OF_BANDS
    );
    // A flow naming a meter that does not exist.
    let f = ofctl::parse_flow("actions=meter:9,output:1", &no_port_names).unwrap();
    let e = p.apply(&FlowMod::add(f), 0).unwrap_err();
    assert_eq!(e, PipelineError::UnknownMeter(9));
    assert_eq!(e.ofp_error(), (12, 3));
    // A modify keeps counters and the creation time, and reads back.
    let bands = vec![drop_band(20, 7)];
    p.apply_meter_mod(&meter_mod(Modify, 1, burst, bands.clone()), 5)
        .unwrap();
    let m = p.meter(1).unwrap();
    assert_eq!((m.created, &m.meter.bands), (0, &bands));
}

#[test]
fn deleting_a_meter_deletes_the_flows_that_use_it() {
    let mut sw = Sw::new(2);
    sw.meter("meter=1,pktps,bands=type=drop,rate=10", 0);
    sw.meter("meter=2,pktps,bands=type=drop,rate=10", 0);
    sw.flow("priority=9,actions=meter:1,output:2");
    sw.flow("table=1,actions=meter:1,output:2");
    sw.flow("priority=5,in_port=2,actions=meter:2,output:1");
    let del = |id| MeterMod {
        command: MeterModCommand::Delete,
        meter: Meter {
            id,
            flags: MeterFlags::default(),
            bands: vec![],
        },
    };
    let removed = sw.pipeline.apply_meter_mod(&del(1), 0).unwrap();
    assert_eq!(removed.len(), 2);
    assert!(removed
        .iter()
        .all(|r| r.reason == RemovedReason::MeterDelete));
    assert_eq!(sw.pipeline.n_flows(), 1);
    assert!(sw.pipeline.apply_meter_mod(&del(1), 0).unwrap().is_empty());
    let removed = sw.pipeline.apply_meter_mod(&del(0xffff_ffff), 0).unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(sw.pipeline.meters().count(), 0);
}
