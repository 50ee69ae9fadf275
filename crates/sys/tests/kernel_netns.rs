//! Named namespaces against the real kernel, with `ip netns` as the oracle.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;

use common::{ip_json, root_or_skip, TestNs};
use vnet_sys::{Netns, NetnsError};

fn thread_netns_inode() -> u64 {
    fs::metadata("/proc/thread-self/ns/net").unwrap().ino()
}

#[test]
fn created_namespace_is_visible_to_iproute2_and_deleted_cleanly() {
    if !root_or_skip() {
        return;
    }
    let t = TestNs::new("vis");
    let names: Vec<String> = ip_json(None, &["netns", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&t.name().to_string()), "{names:?}");
    assert!(Netns::list().unwrap().contains(&t.name().to_string()));
    assert!(Netns::exists(t.name()));
    // `ip netns exec` works in it and sees only lo.
    let links = t.ip_json(&["link"]);
    assert_eq!(links.as_array().unwrap().len(), 1, "{links}");
    let name = t.name().to_string();
    Netns::delete(&name).unwrap();
    assert!(!Netns::exists(&name));
    assert!(matches!(
        Netns::open(&name),
        Err(NetnsError::NotFound { .. })
    ));
    let names = ip_json(None, &["netns", "list"]).to_string();
    assert!(!names.contains(&format!("\"{name}\"")), "{names}");
}

#[test]
fn duplicate_and_invalid_names_are_refused() {
    if !root_or_skip() {
        return;
    }
    let t = TestNs::new("dup");
    let e = Netns::create(t.name()).unwrap_err();
    assert!(matches!(e, NetnsError::Exists { .. }), "{e}");
    assert_eq!(e.to_string(), format!("netns {} already exists", t.name()));
    assert!(matches!(
        Netns::create("a/b"),
        Err(NetnsError::InvalidName { .. })
    ));
    assert!(matches!(
        Netns::delete("vt-never-existed"),
        Err(NetnsError::NotFound { .. })
    ));
}

#[test]
fn guard_switches_the_thread_and_restores_it_also_on_panic() {
    if !root_or_skip() {
        return;
    }
    let t = TestNs::new("grd");
    let original = thread_netns_inode();
    let target = fs::metadata(vnet_sys::netns::path_of(t.name()))
        .unwrap()
        .ino();
    {
        let _g = t.ns.enter().unwrap();
        assert_eq!(thread_netns_inode(), target);
    }
    assert_eq!(thread_netns_inode(), original);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _g = t.ns.enter().unwrap();
        panic!("boom");
    }));
    assert!(r.is_err());
    assert_eq!(
        thread_netns_inode(),
        original,
        "guard did not restore after panic"
    );
}

#[test]
fn run_and_sockets_opened_inside_stay_in_the_namespace() {
    if !root_or_skip() {
        return;
    }
    let t = TestNs::new("run");
    let target = fs::metadata(vnet_sys::netns::path_of(t.name()))
        .unwrap()
        .ino();
    assert_eq!(t.ns.run(thread_netns_inode).unwrap(), target);
    // A netlink socket opened there lists that namespace's links, from here.
    let mut nl = t.ns.netlink().unwrap();
    let links = nl.links().unwrap();
    assert_eq!(
        links.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["lo"]
    );
    // From another thread too.
    let n = std::thread::spawn(move || nl.links().unwrap().len())
        .join()
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn command_runs_inside_the_namespace_with_its_own_sysfs() {
    if !root_or_skip() {
        return;
    }
    let t = TestNs::new("cmd");
    let mut nl = t.ns.netlink().unwrap();
    nl.create(&vnet_sys::netlink::NewLink::veth("cmdA", "cmdB"))
        .unwrap();
    let out =
        t.ns.command("sh")
            .args(["-c", "ls /sys/class/net | sort | tr '\\n' ' '"])
            .output()
            .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "cmdA cmdB lo ");
    // The exit code passes through.
    let st = t.ns.command("sh").args(["-c", "exit 7"]).status().unwrap();
    assert_eq!(st.code(), Some(7));
}

#[test]
fn create_many_runs_setup_inside_each_new_namespace() {
    if !root_or_skip() {
        return;
    }
    let base = format!("vt{}-many", std::process::id());
    let names: Vec<String> = (0..5).map(|i| format!("{base}{i}")).collect();
    let made = Netns::create_many(&names, |_, nl| {
        let lo = nl.index_of("lo").unwrap();
        nl.set_up(lo, true).unwrap();
        Ok(())
    });
    let guards: Vec<TestNs> = made
        .into_iter()
        .map(|r| TestNs { ns: r.unwrap().0 })
        .collect();
    for g in &guards {
        let lo = g.ip_json(&["link", "show", "lo"]);
        assert!(lo[0]["flags"].to_string().contains("\"UP\""), "{lo}");
    }
}
