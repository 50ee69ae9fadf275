//! The `extract` fuzz target (`fuzz/`, see its README) on stable Rust:
//! every file of the minimized corpus `fuzz/corpus-min/extract` (crash
//! inputs included), the builders' sample frames, and 20,000
//! deterministic mutants of them. The checks are
//! `vnet_wire::fuzzing::extract_target`, the fuzz target itself.

mod common;

use std::path::Path;

use vnet_wire::fuzzing::{extract_target, replay_and_mutate, CONTROL_LEN};

fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus-min/extract");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus directory entry").path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("corpus file"))
        .collect()
}

#[test]
fn corpus_and_mutants() {
    let mut seeds = corpus();
    assert!(seeds.len() >= 10, "corpus-min/extract is missing");
    for (i, (_, frame)) in common::samples().into_iter().enumerate() {
        // Control bytes: recompute checksums (and every other sample in
        // CHECKSUM_PARTIAL form), then six operations picked by index.
        let mut input = vec![0u8; CONTROL_LEN];
        input[0] = 1 | (i as u8 & 1) << 1;
        for (n, op) in input[1..].chunks_exact_mut(3).enumerate() {
            op.copy_from_slice(&[(i * 7 + n * 11) as u8, n as u8, 0x40 + i as u8]);
        }
        input.extend_from_slice(&frame);
        seeds.push(input);
    }
    replay_and_mutate(&seeds, 0x5eed_f00d, 20_000, 2048, extract_target);
}
