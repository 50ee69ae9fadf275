//! The OpenFlow fuzz targets (`fuzz/`, see its README) on stable Rust:
//! each target's logic — `fuzz/src/lib.rs`, included here, the same code
//! the cargo-fuzz binaries run — over every file of its minimized corpus
//! `fuzz/corpus-min/<target>/` (crash inputs included) and deterministic
//! mutants of them.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

use std::collections::BTreeMap;
use std::path::PathBuf;

use vnet_wire::fuzzing::replay_and_mutate;

/// The files of `fuzz/<dir>/<target>`, in name order.
fn files(dir: &str, target: &str) -> Vec<Vec<u8>> {
    let mut path = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    path.extend(["fuzz", dir, target]);
    let mut by_name = BTreeMap::new();
    for entry in std::fs::read_dir(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
        let file = entry.expect("directory entry").path();
        let bytes = std::fs::read(&file).expect("corpus file");
        by_name.insert(file, bytes);
    }
    by_name.into_values().collect()
}

/// The minimized corpus of `target`.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let s = files("corpus-min", target);
    assert!(s.len() >= 10, "corpus-min/{target} holds too few files");
    s
}

/// Both message corpora (`decode` and `roundtrip` take the same input).
fn messages() -> Vec<Vec<u8>> {
    let mut m = seeds("decode");
    m.extend(seeds("roundtrip"));
    m
}

#[test]
fn decode() {
    replay_and_mutate(&messages(), 0xdec0de, 20_000, 4096, targets::decode);
}

#[test]
fn roundtrip() {
    replay_and_mutate(&messages(), 0x2017, 20_000, 4096, targets::roundtrip);
}

#[test]
fn conn() {
    replay_and_mutate(&seeds("conn"), 0xc0_4417, 20_000, 4096, targets::conn);
}
