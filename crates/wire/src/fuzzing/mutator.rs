//! A deterministic stand-in for libFuzzer in the normal test suite: byte
//! mutations of a corpus from a fixed seed (no coverage feedback), so a
//! replay test explores a little around every corpus entry and fails the
//! same way every time.

use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Byte values worth trying (boundaries, version nibbles, lengths).
const BYTES: [u8; 12] = [0, 1, 2, 4, 6, 0x0f, 0x40, 0x45, 0x60, 0x7f, 0x80, 0xff];
/// 16-bit values worth trying (ethertypes, TPIDs, lengths).
const WORDS: [u16; 12] = [
    0, 1, 8, 0x05ff, 0x0600, 0x0800, 0x0806, 0x86dd, 0x8100, 0x88a8, 0x8847, 0xffff,
];

/// A seeded pseudo-random byte mutator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Mutator {
    state: u64,
}

impl Mutator {
    pub fn new(seed: u64) -> Mutator {
        Mutator { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        match n {
            0 => 0,
            _ => (self.next_u64() % n as u64) as usize,
        }
    }

    fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    /// One to four mutations of `data`; `donor` supplies spliced bytes.
    /// The result is cut to `max_len`.
    pub fn mutate(&mut self, data: &mut Vec<u8>, donor: &[u8], max_len: usize) {
        for _ in 0..=self.below(4) {
            self.mutate_once(data, donor);
        }
        data.truncate(max_len);
    }

    fn mutate_once(&mut self, data: &mut Vec<u8>, donor: &[u8]) {
        let len = data.len();
        let at = self.below(len);
        match self.below(11) {
            0 | 1 if len > 0 => data[at] ^= 1 << self.below(8),
            2 if len > 0 => data[at] = self.byte(),
            3 if len > 0 => data[at] = BYTES[self.below(BYTES.len())],
            4 if len > 1 => {
                let w = WORDS[self.below(WORDS.len())].to_be_bytes();
                let at = self.below(len - 1);
                data[at..at + 2].copy_from_slice(&w);
            }
            5 if len > 0 => {
                let delta = self.below(17) as u8;
                data[at] = data[at].wrapping_add(delta).wrapping_sub(8);
            }
            6 => {
                let n = 1 + self.below(8);
                let fill: Vec<u8> = (0..n).map(|_| self.byte()).collect();
                let at = self.below(len + 1);
                data.splice(at..at, fill);
            }
            7 if len > 0 => {
                let n = 1 + self.below((len - at).min(16));
                data.drain(at..at + n);
            }
            8 if len > 0 => {
                let n = 1 + self.below((len - at).min(32));
                let chunk = data[at..at + n].to_vec();
                let to = self.below(len + 1);
                data.splice(to..to, chunk);
            }
            9 if !donor.is_empty() => {
                let from = self.below(donor.len());
                let n = 1 + self.below((donor.len() - from).min(64));
                let to = self.below(len + 1);
                let end = if self.below(2) == 0 {
                    to
                } else {
                    (to + n).min(len)
                };
                data.splice(to..end, donor[from..from + n].iter().copied());
            }
            _ => data.truncate(at),
        }
    }
}

fn hex(data: &[u8]) -> String {
    data.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Runs `target` on every seed, then on `iterations` mutants, each made
/// from a seed or from an earlier mutant (a small pool of recent ones) by
/// a [`Mutator`] seeded with `seed`. A failing input is reported in hex
/// (and the panic message above it names the broken invariant).
pub fn replay_and_mutate(
    seeds: &[Vec<u8>],
    seed: u64,
    iterations: usize,
    max_len: usize,
    target: impl Fn(&[u8]),
) {
    let run = |what: &str, input: &[u8]| {
        if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
            panic!("fuzz target failed on {what}: input {}", hex(input));
        }
    };
    for (i, s) in seeds.iter().enumerate() {
        run(&format!("corpus entry {i}"), s);
    }
    if seeds.is_empty() {
        return;
    }
    let mut m = Mutator::new(seed);
    let mut pool: Vec<Vec<u8>> = Vec::new();
    for i in 0..iterations {
        let base = match self_or_pool(&mut m, pool.len()) {
            Some(p) => pool[p].clone(),
            None => seeds[m.below(seeds.len())].clone(),
        };
        let mut input = base;
        let donor = &seeds[m.below(seeds.len())];
        m.mutate(&mut input, donor, max_len);
        run(&format!("mutant {i} (seed {seed})"), &input);
        if pool.len() < 64 {
            pool.push(input);
        } else {
            let slot = m.below(pool.len());
            pool[slot] = input;
        }
    }
}

/// Half the time a mutant from the pool, else a seed.
fn self_or_pool(m: &mut Mutator, pool: usize) -> Option<usize> {
    (pool > 0 && m.below(2) == 0).then(|| m.below(pool))
}
