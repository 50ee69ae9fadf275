//! `vnet up` repairs what was removed behind its back: it plans against the
//! kernel as observed, not against the lab as recorded.

mod common;

use common::{demo_yaml, ifindexes, root_or_skip, sh, vnet, TestLab};

#[test]
fn up_recreates_a_deleted_link_and_a_deleted_namespace_and_touches_nothing_else() {
    if !root_or_skip() {
        return;
    }
    let lab = TestLab::new("drift");
    let file = lab.write("lab.yaml", &demo_yaml(&lab.name));
    vnet(&["up", &file]).ok();
    let before = ifindexes(&lab);
    // Behind vnet's back: the bridge port of h2 (both veth ends go) and r1's
    // whole namespace.
    sh("ip", &["-n", &lab.ns("s1"), "link", "del", "h2"]);
    sh("ip", &["netns", "del", &lab.ns("r1")]);
    let run = vnet(&["up", &file]).ok();
    assert!(
        run.stderr
            .contains("recreating what was removed outside vnet"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nodes [r1]"), "{}", run.stderr);
    vnet(&["pingall", &lab.name]).ok();
    // h1's interface was never touched: same ifindex.
    let after = ifindexes(&lab);
    let key = (lab.ns("h1"), "eth0".to_string());
    assert_eq!(before.get(&key), after.get(&key), "h1:eth0 was recreated");
    assert!(after.contains_key(&(lab.ns("h2"), "eth0".to_string())));
    assert!(after.contains_key(&(lab.ns("r1"), "eth0".to_string())));
    // And now nothing is missing any more.
    let run = vnet(&["up", &file]).ok();
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);
    vnet(&["down", &lab.name]).ok();
    lab.assert_gone();
}
