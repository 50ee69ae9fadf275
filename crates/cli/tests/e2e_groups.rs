//! End-to-end tests of groups and meters: the real `ovs-ofctl -O
//! OpenFlow13` on the switch's passive listener (add-group, dump-groups
//! printed back as given, dump-group-stats, add-meter, dump-meters with
//! the burst read back exactly, meter-stats, flows using `group:N` and
//! `meter:N`, del-groups, del-meters), real traffic through ALL, SELECT
//! and FAST_FAILOVER groups between lab hosts (failover on a real link
//! going down), the `vnet switch` verbs, and groups and meters surviving a
//! daemon restart. Each test holds a [`TestLab`] guard (its namespaces are
//! removed even when it fails); tests without ovs-ofctl print SKIP.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

// ---------------------------------------------------------------- helpers

/// Hosts h1..hn at 10.79.0.I/24.
const HOSTS: Hosts = Hosts(79);

/// The lines of an ovs-ofctl dump after its header, trimmed.
fn body(r: &Run) -> Vec<String> {
    r.stdout
        .lines()
        .skip(1)
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// `key=N` (or `key:N`) in `text` after `after`.
fn number(text: &str, after: &str, key: &str) -> u64 {
    let at = text
        .find(after)
        .unwrap_or_else(|| panic!("{after} in {text}"));
    let rest = &text[at..];
    let k = rest.find(key).unwrap_or_else(|| panic!("{key} in {rest}"));
    rest[k + key.len()..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("{key} in {rest}"))
}

fn port_tx(lab: &TestLab, port: u64) -> u64 {
    port_stats(lab, port)["tx_packets"].as_u64().unwrap_or(0)
}

// ------------------------------------------------------------------ tests

/// ovs-ofctl programs groups, meters and flows using them; dumps print
/// them back as given; real traffic goes through an ALL group and a
/// SELECT group and is counted; all of it survives a daemon restart; and
/// del-groups / del-meters take their flows with them.
#[test]
fn ovs_ofctl_groups_meters_and_traffic() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    let lab = HOSTS.secure_lab("ofgrp", 3);
    let t = listener(&lab);

    // Group 0 chains to group 3: saved after it, so a restart can load it.
    let groups = [
        "group_id=0,type=indirect,bucket=actions=group:3",
        "group_id=1,type=all,bucket=actions=output:2,bucket=actions=output:3",
        "group_id=2,type=select,bucket=weight:60,actions=output:1,bucket=weight:40,actions=output:1",
        "group_id=3,type=ff,bucket=watch_port:2,actions=output:2,bucket=watch_port:3,actions=output:3",
    ];
    for g in groups.iter().skip(1).chain(&groups[..1]) {
        ofctl(&["add-group", &t, g]).ok();
    }
    let dump = ofctl(&["dump-groups", &t]).ok();
    let mut got = body(&dump);
    got.sort();
    assert_eq!(got, groups, "{}", dump.stdout);
    // Refused with the spec's errors, as ovs-ofctl reports them.
    let r = ofctl(&["add-group", &t, "group_id=1,type=all,bucket=output:2"]);
    assert!(r.stderr.contains("OFPGMFC_GROUP_EXISTS"), "{r:#?}");
    let r = ofctl(&["mod-group", &t, "group_id=9,type=all,bucket=output:2"]);
    assert!(r.stderr.contains("OFPGMFC_UNKNOWN_GROUP"), "{r:#?}");
    let r = ofctl(&[
        "add-group",
        &t,
        "group_id=4,type=ff,bucket=watch_group:77,actions=output:2",
    ]);
    assert!(r.stderr.contains("OFPGMFC_BAD_WATCH"), "{r:#?}");
    let r = ofctl(&[
        "add-group",
        &t,
        "group_id=4,type=all,bucket=output:2,output:3",
    ]);
    assert!(r.stderr.contains("OFPGMFC_BAD_BUCKET"), "{r:#?}");
    let r = ofctl(&["add-flow", &t, "actions=group:99"]);
    assert!(r.stderr.contains("OFPBAC_BAD_OUT_GROUP"), "{r:#?}");

    ofctl(&[
        "add-meter",
        &t,
        "meter=1,pktps,burst,stats,bands=type=drop,rate=1000,burst_size=100",
    ])
    .ok();
    ofctl(&["add-meter", &t, "meter=2,kbps,bands=type=drop,rate=100000"]).ok();
    let meters = ofctl(&["dump-meters", &t]).ok();
    let m = &meters.stdout;
    assert!(
        m.contains("meter=1 pktps burst stats bands=\ntype=drop rate=1000 burst_size=100\n"),
        "{m}"
    );
    assert!(
        m.contains("meter=2 kbps bands=\ntype=drop rate=100000\n"),
        "{m}"
    );
    // Burst read back exactly: 0 when not given (our own dump prints it
    // whenever it is not 0).
    let ours = sw(&lab, "sw1", &["dump-meters"]).ok();
    assert_eq!(
        ours.stdout,
        "meter=1,pktps,burst,stats,bands=type=drop,rate=1000,burst_size=100\n\
         meter=2,kbps,bands=type=drop,rate=100000\n"
    );
    let r = ofctl(&["add-flow", &t, "actions=meter:7,output:1"]);
    assert!(r.stderr.contains("OFPMMFC_UNKNOWN_METER"), "{r:#?}");
    let r = ofctl(&["add-meter", &t, "meter=1,pktps,bands=type=drop,rate=5"]);
    assert!(r.stderr.contains("OFPMMFC_METER_EXISTS"), "{r:#?}");

    // h1's traffic goes through meter 1 to group 1 (h2 and h3 both get
    // it); the answers come back through the SELECT group 2.
    let flows = [
        "priority=10,in_port=1 actions=meter:1,group:1",
        "priority=10,in_port=2 actions=meter:2,group:2",
        "priority=10,in_port=3 actions=group:2",
    ];
    for f in flows {
        ofctl(&["add-flow", &t, &f.replace(' ', ",")]).ok();
    }
    HOSTS.assert_reaches(&lab, 1, 2);
    HOSTS.assert_reaches(&lab, 1, 3);

    let stats = ofctl(&["dump-group-stats", &t]).ok().stdout;
    let g1 = number(&stats, "group_id=1,", "packet_count=");
    assert!(g1 >= 4, "{stats}");
    assert_eq!(number(&stats, "group_id=1,", "ref_count="), 1, "{stats}");
    assert_eq!(number(&stats, "group_id=2,", "ref_count="), 2, "{stats}");
    // ALL: each bucket saw every packet of the group.
    assert_eq!(number(&stats, "group_id=1,", "bucket0:packet_count="), g1);
    assert_eq!(number(&stats, "group_id=1,", "bucket1:packet_count="), g1);
    // SELECT: the buckets share the group's packets.
    let g2 = number(&stats, "group_id=2,", "packet_count=");
    let b0 = number(&stats, "group_id=2,", "bucket0:packet_count=");
    let b1 = number(&stats, "group_id=2,", "bucket1:packet_count=");
    assert!(g2 >= 4 && b0 + b1 == g2, "{stats}");
    let ms = ofctl(&["meter-stats", &t]).ok().stdout;
    assert_eq!(number(&ms, "meter:1 ", "flow_count:"), 1, "{ms}");
    assert!(number(&ms, "meter:1 ", "packet_in_count:") >= g1, "{ms}");
    assert_eq!(number(&ms, "meter:1 ", "0: packet_count:"), 0, "{ms}");
    let features = ofctl(&["dump-group-features", &t]).ok().stdout;
    assert!(features.contains("Types:  0xf"), "{features}");
    assert!(features.contains("Capabilities:  0x7"), "{features}");
    let features = ofctl(&["meter-features", &t]).ok().stdout;
    assert!(
        features.contains("band_types: drop dscp_remark"),
        "{features}"
    );

    // Saved beside the flows; a restarted daemon has them all.
    let dir = state_dir(&lab.name);
    assert!(wait_for(Duration::from_secs(5), || {
        saved(&lab, "groups-sw1.txt", 4) && saved(&lab, "meters-sw1.txt", 2)
    }));
    restart_worker(&lab);
    let t = listener(&lab);
    let mut after = body(&ofctl(&["dump-groups", &t]).ok());
    after.sort();
    assert_eq!(after, groups, "groups after the restart");
    let meters_after = ofctl(&["dump-meters", &t]).ok();
    assert_eq!(
        body(&meters_after),
        body(&meters),
        "meters after the restart"
    );
    let flows_after = ofctl(&["dump-flows", &t]).ok().stdout;
    assert!(
        flows_after.contains("actions=meter:1,group:1"),
        "{flows_after}"
    );
    HOSTS.assert_reaches(&lab, 1, 3);

    // del-groups: every group, and the flows that sent to one.
    ofctl(&["del-groups", &t]).ok();
    assert!(body(&ofctl(&["dump-groups", &t]).ok()).is_empty());
    assert!(body(&ofctl(&["dump-flows", &t]).ok()).is_empty());
    HOSTS.assert_unreachable(&lab, 1, 2);
    ofctl(&["add-flow", &t, "in_port=1,actions=meter:2,output:2"]).ok();
    ofctl(&["del-meters", &t, "meter=2"]).ok();
    assert!(body(&ofctl(&["dump-flows", &t]).ok()).is_empty());
    assert_eq!(
        body(&ofctl(&["dump-meters", &t]).ok()).len(),
        2,
        "meter 1 left"
    );
    assert!(wait_for(Duration::from_secs(5), || !dir
        .join("groups-sw1.txt")
        .exists()));
}

/// A FAST_FAILOVER group follows a real link: h1's traffic goes to h2
/// while the switch's port to h2 is up, to h3 once it goes down, and back.
#[test]
fn fast_failover_follows_a_real_link() {
    if !ready(&["ovs-ofctl"]) {
        return;
    }
    let lab = HOSTS.secure_lab("offf", 3);
    let t = listener(&lab);
    ofctl(&[
        "add-group",
        &t,
        "group_id=1,type=ff,bucket=watch_port:2,actions=output:2,bucket=watch_port:3,actions=output:3",
    ])
    .ok();
    for f in [
        "in_port=1,actions=group:1",
        "in_port=2,actions=output:1",
        "in_port=3,actions=output:1",
    ] {
        ofctl(&["add-flow", &t, f]).ok();
    }
    // Everything from h1 reaches h2 only: h3 never hears h1's ARP.
    HOSTS.assert_reaches(&lab, 1, 2);
    HOSTS.assert_unreachable(&lab, 1, 3);
    let sw_ns = lab.ns("sw1");
    sh("ip", &["-n", &sw_ns, "link", "set", "h2", "down"]);
    // The switch's link monitor sees it at once (polled: pings take time).
    assert!(
        wait_for(Duration::from_secs(10), || HOSTS.ping_once(&lab, 1, 3)),
        "h1 should reach h3 once port 2 is down"
    );
    let tx3 = port_tx(&lab, 3);
    HOSTS.assert_reaches(&lab, 1, 3);
    assert!(port_tx(&lab, 3) > tx3);
    // A daemon that starts while port 2 is down reads the link state when
    // it opens its ports: it fails over from the start.
    restart_worker(&lab);
    HOSTS.assert_reaches(&lab, 1, 3);
    sh("ip", &["-n", &sw_ns, "link", "set", "h2", "up"]);
    assert!(
        wait_for(Duration::from_secs(15), || HOSTS.ping_once(&lab, 1, 2)),
        "back to h2 once its port is up"
    );
    HOSTS.assert_unreachable(&lab, 1, 3);
}

/// The `vnet switch` verbs: add-group, dump-groups (JSON with counters),
/// add-meter, dump-meters, flows using them, del-groups, del-meters, and
/// errors in plain words.
#[test]
fn vnet_switch_group_and_meter_verbs() {
    if !root_or_skip() {
        return;
    }
    let lab = HOSTS.secure_lab("swgrp", 2);
    sw(
        &lab,
        "sw1",
        &[
            "add-group",
            "group_id=5,type=indirect,bucket=actions=output:h2",
        ],
    )
    .ok();
    sw(
        &lab,
        "sw1",
        &[
            "add-meter",
            "meter=3,pktps,burst,bands=type=drop,rate=500,burst_size=50",
        ],
    )
    .ok();
    sw(
        &lab,
        "sw1",
        &["add-flow", "in_port=h1,actions=meter:3,group:5"],
    )
    .ok();
    sw(&lab, "sw1", &["add-flow", "in_port=h2,actions=output:h1"]).ok();
    let text = sw(&lab, "sw1", &["dump-groups"]).ok().stdout;
    assert_eq!(text, " group_id=5,type=indirect,bucket=actions=output:h2\n");
    HOSTS.assert_reaches(&lab, 1, 2);
    let j: Value = sw(&lab, "sw1", &["dump-groups", "--json"]).ok().json();
    assert_eq!(j[0]["group_id"], 5);
    assert_eq!(j[0]["ref_count"], 1);
    assert!(j[0]["packet_count"].as_u64().unwrap() > 0, "{j}");
    let j: Value = sw(&lab, "sw1", &["dump-meters", "--json"]).ok().json();
    assert_eq!(j[0]["flow_count"], 1);
    assert!(j[0]["packet_in_count"].as_u64().unwrap() > 0, "{j}");
    let e = sw(&lab, "sw1", &["add-group", "group_id=5,type=all"]).fails();
    assert!(e.stderr.contains("group 5 already exists"), "{e:#?}");
    let e = sw(&lab, "sw1", &["add-flow", "actions=group:77"]).fails();
    assert!(e.stderr.contains("group 77 does not exist"), "{e:#?}");
    sw(&lab, "sw1", &["del-groups", "group_id=5"]).ok();
    assert_eq!(sw(&lab, "sw1", &["dump-groups"]).ok().stdout, "");
    let flows = sw(&lab, "sw1", &["dump-flows"]).ok().stdout;
    assert_eq!(flows.lines().count(), 1, "{flows}");
    sw(&lab, "sw1", &["del-meters"]).ok();
    assert_eq!(sw(&lab, "sw1", &["dump-meters"]).ok().stdout, "");
}

/// A lab file whose switch has `meters:`, `groups:` and `flows:` naming
/// them, and three hosts.
fn lab_file_with(lab: &TestLab, meters: &[&str], groups: &[&str], flows: &[&str]) -> String {
    let text = HOSTS.lab_yaml(
        &lab.name,
        "",
        &[("meters", meters), ("groups", groups), ("flows", flows)],
        3,
    );
    lab.write("lab.yaml", &text)
}

#[test]
fn lab_file_groups_and_meters() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("labgm");
    // h1's frames go to group 1 (all: h2 and h3) through meter 2; the
    // others answer h1 directly.
    let flows = [
        "priority=10,in_port=h1,actions=meter:2,group:1",
        "priority=10,in_port=h2,actions=output:h1",
        "priority=10,in_port=h3,actions=output:h1",
    ];
    let file = lab_file_with(
        &lab,
        &["meter=2,pktps,burst,bands=type=drop,rate=1000,burst_size=100"],
        &["group_id=1,type=all,bucket=actions=output:h2,bucket=actions=output:h3"],
        &flows,
    );
    vnet(&["up", &file]).ok();
    assert_eq!(
        sw(&lab, "sw1", &["dump-groups"]).ok().stdout,
        " group_id=1,type=all,bucket=actions=output:h2,bucket=actions=output:h3\n"
    );
    let meters = sw(&lab, "sw1", &["dump-meters"]).ok().stdout;
    assert!(
        meters.contains("meter=2") && meters.contains("burst_size=100"),
        "{meters}"
    );
    HOSTS.assert_reaches(&lab, 1, 2);
    HOSTS.assert_reaches(&lab, 1, 3);

    // The file changes the group to reach h2 only: modified in place
    // (the flow naming it stays), h3 no longer gets h1's frames.
    let file = lab_file_with(
        &lab,
        &["meter=2,pktps,burst,bands=type=drop,rate=1000,burst_size=100"],
        &["group_id=1,type=indirect,bucket=actions=output:h2"],
        &flows,
    );
    vnet(&["up", &file]).ok();
    assert_eq!(
        sw(&lab, "sw1", &["dump-groups"]).ok().stdout,
        " group_id=1,type=indirect,bucket=actions=output:h2\n"
    );
    assert_eq!(
        sw(&lab, "sw1", &["dump-flows"]).ok().stdout.lines().count(),
        3
    );
    HOSTS.assert_reaches(&lab, 1, 2);
    HOSTS.assert_unreachable(&lab, 1, 3);

    // A group added with the CLI is not the file's: a later `up` keeps it.
    sw(
        &lab,
        "sw1",
        &[
            "add-group",
            "group_id=9,type=indirect,bucket=actions=output:h3",
        ],
    )
    .ok();

    // The file drops the meter and the flow using it, and uses group 1
    // straight: the meter is deleted, the CLI's group stays.
    let flows2 = [
        "priority=10,in_port=h1,actions=group:1",
        "priority=10,in_port=h2,actions=output:h1",
        "priority=10,in_port=h3,actions=output:h1",
    ];
    let file = lab_file_with(
        &lab,
        &[],
        &["group_id=1,type=indirect,bucket=actions=output:h2"],
        &flows2,
    );
    vnet(&["up", &file]).ok();
    assert_eq!(sw(&lab, "sw1", &["dump-meters"]).ok().stdout, "");
    let groups = sw(&lab, "sw1", &["dump-groups"]).ok().stdout;
    assert!(groups.contains("group_id=9"), "{groups}");
    let dumped = sw(&lab, "sw1", &["dump-flows"]).ok().stdout;
    assert!(
        dumped.contains("actions=group:1") && !dumped.contains("meter"),
        "{dumped}"
    );
    HOSTS.assert_reaches(&lab, 1, 2);

    // A daemon restart brings back exactly this state (saved state wins
    // over the file's lists).
    restart_worker(&lab);
    assert_eq!(sw(&lab, "sw1", &["dump-groups"]).ok().stdout, groups);
    assert_eq!(sw(&lab, "sw1", &["dump-meters"]).ok().stdout, "");

    // A bad group in the file: `up` fails naming it; nothing changes.
    let file = lab_file_with(
        &lab,
        &[],
        &["group_id=1,type=bogus,bucket=actions=output:h2"],
        &flows2,
    );
    let e = vnet(&["up", &file]).fails();
    assert!(e.stderr.contains("group_id=1,type=bogus"), "{e:#?}");
    assert_eq!(sw(&lab, "sw1", &["dump-groups"]).ok().stdout, groups);

    // `groups` on a host is refused where it is written.
    let bad = format!(
        "name: {}x\nnodes:\n  h1:\n    kind: host\n    groups: [\"group_id=1,type=all\"]\n",
        lab.name
    );
    let path = lab.write("bad.yaml", &bad);
    let e = vnet(&["up", &path]).fails();
    assert!(e.stderr.contains("bad.yaml:5:"), "{e:#?}");
    assert!(
        e.stderr.contains("`groups` apply only to switch nodes"),
        "{e:#?}"
    );
}
