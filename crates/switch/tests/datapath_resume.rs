//! Later tables after an apply-action the flow key cannot follow (MPLS and
//! PBB push/pop, VLAN pop, copy_ttl_out): the walk resumes from the frame
//! extracted again, so they match the packet as it then is; write-actions,
//! metadata and the packet-in's flow carry across; and the caches (the
//! first part's megaflow, each continuation's own) never answer a frame
//! differently from the full pipeline.

mod support;

use std::net::Ipv4Addr;

use support::{Sw, A, B};
use vnet_switch::datapath::PacketInReason;
use vnet_wire::{build, MplsLse};

fn lse(label: u32, bos: bool, ttl: u8) -> MplsLse {
    MplsLse::new(label, 0, bos, ttl)
}

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, last)
}

fn udp(dst: u8, vlan: Option<u16>) -> Vec<u8> {
    build::udp4(A, B, vlan, ip(1), ip(dst), 1000, 2000, b"resume")
}

#[test]
fn tables_after_pop_mpls_match_the_inner_ip_header() {
    let mut s = Sw::new(3);
    s.flows(&[
        "table=0,mpls,actions=pop_mpls:0x0800,goto_table:1",
        "table=1,ip,nw_dst=10.0.0.2,actions=output:2",
        "table=1,ip,nw_dst=10.0.0.3,actions=output:3",
    ]);
    // Same outer headers (one megaflow for table 0), different inner.
    for round in 0..3 {
        for (dst, port) in [(2, 2), (3, 3), (2, 2)] {
            let inner = udp(dst, None);
            s.send(1, &build::mpls(&inner, 0x8847, &[lse(16, true, 64)]));
            assert_eq!(s.out(port), vec![inner], "round {round} dst {dst}");
            assert!(s.out(5 - port).is_empty());
        }
    }
    let st = s.dp.stats;
    assert!(
        st.upcalls <= 3 && st.megaflow_hits + st.emc_hits >= 8,
        "{st:?}"
    );
}

#[test]
fn tables_after_pop_vlan_see_the_inner_tag() {
    let mut s = Sw::new(3);
    s.flows(&[
        "table=0,dl_vlan=100,actions=pop_vlan,goto_table:1",
        "table=1,dl_vlan=10,actions=output:2",
        "table=1,dl_vlan=20,actions=output:3",
    ]);
    for (inner, port) in [(10u16, 2), (20, 3)] {
        let c = udp(2, Some(inner));
        // 802.1ad outer tag 100 in front of the 802.1Q tag.
        let mut f = c[..12].to_vec();
        f.extend_from_slice(&[0x88, 0xa8, 0x00, 100]);
        f.extend_from_slice(&c[12..]);
        s.send(1, &f);
        assert_eq!(s.out(port), vec![c]);
    }
}

#[test]
fn tables_after_push_mpls_and_pbb_match_the_new_headers() {
    let mut s = Sw::new(3);
    s.flows(&[
        "table=0,ip,nw_dst=10.0.0.2,actions=push_mpls:0x8847,goto_table:1",
        "table=0,ip,nw_dst=10.0.0.3,actions=push_pbb:0x88e7,goto_table:2",
        "table=1,mpls,mpls_label=0,mpls_ttl=64,mpls_bos=1,actions=output:2",
        "table=2,dl_type=0x88e7,actions=set_field:0x99->pbb_isid,output:3",
    ]);
    let f = udp(2, None);
    s.send(1, &f);
    assert_eq!(s.out(2), vec![build::mpls(&f, 0x8847, &[lse(0, true, 64)])]);
    let g = udp(3, None);
    s.send(1, &g);
    assert_eq!(s.out(3), vec![build::pbb(A, B, None, 0x99, &g)]);
}

#[test]
fn tables_after_pop_pbb_match_the_customer_frame() {
    let mut s = Sw::new(3);
    s.flows(&[
        "table=0,dl_type=0x88e7,actions=pop_pbb,goto_table:1",
        "table=1,dl_dst=02:00:00:00:00:0b,ip,actions=output:2",
        "table=1,priority=0,actions=output:3",
    ]);
    let c = udp(2, None);
    s.send(1, &build::pbb([9; 6], [8; 6], None, 0x42, &c));
    assert_eq!(s.out(2), vec![c.clone()]);
    let other = build::udp4(A, [0x02, 0, 0, 0, 0, 0x0c], None, ip(1), ip(2), 1, 2, b"x");
    s.send(1, &build::pbb([9; 6], [8; 6], None, 0x42, &other));
    assert_eq!(s.out(3), vec![other]);
}

#[test]
fn tables_after_copy_ttl_out_see_the_copied_ttl() {
    let mut s = Sw::new(3);
    s.flows(&[
        "table=0,mpls,actions=copy_ttl_out,goto_table:1",
        "table=1,mpls,mpls_ttl=64,actions=output:2",
        "table=1,priority=0,actions=output:3",
    ]);
    let f = build::mpls(&udp(2, None), 0x8847, &[lse(5, true, 3)]);
    s.send(1, &f);
    assert_eq!(
        s.out(2),
        vec![build::mpls(&udp(2, None), 0x8847, &[lse(5, true, 64)])]
    );
}

#[test]
fn the_action_set_metadata_and_the_packet_in_flow_carry_across() {
    let mut s = Sw::new(3);
    s.flows(&[
        "table=0,cookie=0x77,mpls,actions=pop_mpls:0x0800,write_actions(output:3),write_metadata:0x5,goto_table:1",
        "table=1,metadata=0x5,ip,nw_dst=10.0.0.2,actions=write_actions(set_field:10.0.0.9->ip_dst)",
        "table=1,metadata=0x5,ip,nw_dst=10.0.0.4,actions=write_actions(CONTROLLER:65535)",
    ]);
    // Set from table 0 (output:3) and table 1 (the set-field) run at the end.
    s.send(1, &build::mpls(&udp(2, None), 0x8847, &[lse(1, true, 9)]));
    let want = build::udp4(A, B, None, ip(1), ip(9), 1000, 2000, b"resume");
    assert_eq!(s.out(3), vec![want]);
    // The controller output was written in table 1 by a flow of cookie 0.
    s.send(1, &build::mpls(&udp(4, None), 0x8847, &[lse(1, true, 9)]));
    let pins = s.packet_ins();
    assert_eq!(pins.len(), 1);
    assert_eq!(
        (pins[0].reason, pins[0].table_id, pins[0].cookie),
        (PacketInReason::Action, 1, 0)
    );
    assert_eq!(pins[0].data, udp(4, None));
}

#[test]
fn a_packet_in_from_the_set_written_before_the_resume_names_its_flow() {
    let mut s = Sw::new(2);
    s.flows(&[
        "table=0,cookie=0x77,mpls,actions=pop_mpls:0x0800,write_actions(CONTROLLER:65535),goto_table:1",
        "table=1,ip,actions=dec_ttl",
    ]);
    s.send(1, &build::mpls(&udp(2, None), 0x8847, &[lse(1, true, 9)]));
    let pins = s.packet_ins();
    assert_eq!(pins.len(), 1);
    assert_eq!((pins[0].table_id, pins[0].cookie), (0, 0x77));
    let mut want = udp(2, None);
    want[22] = 63;
    let want = support::recompute(&want);
    assert_eq!(pins[0].data, want);
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn random_frame(r: &mut Rng) -> Vec<u8> {
    let dst = 2 + (r.next() % 3) as u8;
    let vlan = [None, Some(10u16), Some(0x2014)][(r.next() % 3) as usize];
    let base = udp(dst, vlan);
    let ttl = [1u8, 2, 64][(r.next() % 3) as usize];
    match r.next() % 5 {
        0 => base,
        1 => {
            let label = [16, 19][(r.next() % 2) as usize];
            build::mpls(&base, 0x8847, &[lse(label, true, ttl)])
        }
        2 => build::mpls(&base, 0x8847, &[lse(17, false, ttl), lse(18, true, 5)]),
        3 => build::pbb(A, B, None, (r.next() % 2) as u32, &base),
        _ => {
            let mut f = base[..12].to_vec();
            f.extend_from_slice(&[0x88, 0xa8, 0x00, 100]);
            f.extend_from_slice(&base[12..]);
            f
        }
    }
}

#[test]
fn cached_decisions_with_restructuring_actions_equal_uncached_ones() {
    let flows = [
        "table=0,priority=25,mpls,mpls_label=19,actions=dec_mpls_ttl,goto_table:4",
        "table=4,priority=10,mpls,mpls_ttl=1,actions=output:3",
        "table=4,priority=5,actions=output:2",
        "table=0,priority=20,mpls,mpls_bos=1,actions=dec_mpls_ttl,pop_mpls:0x0800,goto_table:1",
        "table=0,priority=20,mpls,mpls_bos=0,actions=pop_mpls:0x8847,goto_table:2",
        "table=0,priority=15,dl_type=0x88e7,actions=pop_pbb,goto_table:1",
        "table=0,priority=10,dl_vlan=100,actions=pop_vlan,goto_table:1",
        "table=0,priority=5,ip,actions=push_mpls:0x8847,set_field:7->mpls_label,goto_table:2",
        "table=1,priority=10,ip,nw_dst=10.0.0.2,actions=output:2",
        "table=1,priority=10,dl_vlan=10,actions=output:3",
        "table=1,priority=5,ip,actions=dec_ttl,push_pbb:0x88e7,goto_table:3",
        "table=2,priority=10,mpls,mpls_label=7,actions=output:4",
        "table=2,priority=5,mpls,mpls_label=18,actions=copy_ttl_in,pop_mpls:0x0800,goto_table:3",
        "table=3,priority=10,ip,nw_dst=10.0.0.3,nw_ttl=5,actions=output:3",
        "table=3,priority=5,actions=output:2",
    ];
    let mut cached = Sw::new(4);
    cached.flows(&flows);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..3000 {
        let f = random_frame(&mut rng);
        let inp = 1 + (rng.next() % 4) as u32;
        // The reference: a fresh switch (empty caches) for every frame.
        let mut fresh = Sw::new(4);
        fresh.flows(&flows);
        cached.send(inp, &f);
        fresh.send(inp, &f);
        for p in 1..=4 {
            assert_eq!(
                cached.out(p),
                fresh.out(p),
                "frame {i} in on {inp}, port {p}: {f:02x?}"
            );
        }
        let (a, b) = (cached.packet_ins(), fresh.packet_ins());
        assert_eq!(a.len(), b.len(), "frame {i}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((&x.data, x.reason), (&y.data, y.reason), "frame {i}");
        }
    }
    let st = cached.dp.stats;
    assert!(
        st.emc_hits + st.megaflow_hits > 2000,
        "the caches were used: {st:?}"
    );
}
