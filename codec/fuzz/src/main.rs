//! Mutation fuzzing of the pickle machine, with overflow checks and debug assertions on.
//!
//! `cd codec/fuzz && cargo run --release -- [SEED] [ROUNDS]`: mutates the CPython vectors of
//! `codec/src/tests/vectors.txt` (flips, opcode insertions, splices of other vectors, cuts),
//! decodes each through windows of 1 byte to 1 MiB under random encodings and limits, and stops
//! at the first panic, non-terminating decode or `MORE` that makes no progress, printing the
//! input.

use lazyscribe_codec::{Decoder, Encoding, Limits, Status};
use std::panic;

/// Every opcode byte of protocols 0–5, to insert where it hurts.
const OPCODES: &[u8] = b"(.012FIJKLMNPQRSTUVXabcd}eghijl]opqrstu)GBC\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98";

struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    include_str!("../../src/tests/vectors.txt")
        .lines()
        .filter_map(|line| line.split(' ').nth(1))
        .map(|hex| {
            if hex == "-" {
                return Vec::new();
            }
            (0..hex.len() / 2)
                .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
                .collect()
        })
        .collect()
}

fn mutate(random: &mut Xorshift, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[random.below(seeds.len())].clone();
    for _ in 0..1 + random.below(8) {
        let position = random.below(data.len());
        match random.below(6) {
            0 if !data.is_empty() => data[position] = random.next() as u8,
            1 => data.insert(
                position.min(data.len()),
                OPCODES[random.below(OPCODES.len())],
            ),
            2 if !data.is_empty() => {
                data.remove(position);
            }
            3 => {
                let other = &seeds[random.below(seeds.len())];
                let from = random.below(other.len());
                let piece: Vec<u8> = other
                    .iter()
                    .skip(from)
                    .take(1 + random.below(24))
                    .copied()
                    .collect();
                let at = position.min(data.len());
                data.splice(at..at, piece);
            }
            4 if !data.is_empty() => data[position] = OPCODES[random.below(OPCODES.len())],
            _ => data.truncate(position.max(1)),
        }
    }
    data
}

fn decode(data: &[u8], encoding: Encoding, limits: Limits, window: u64) {
    let total = data.len() as u64;
    let mut decoder = Decoder::new(total, encoding, limits);
    let (mut offset, mut need) = (0u64, 0u64);
    for _ in 0..=data.len() + 1 {
        let len = window.max(need).min(total - offset);
        let slice = &data[offset as usize..(offset + len) as usize];
        match decoder.step(slice, offset) {
            Status::More => {
                let next = decoder.next_offset();
                assert!(next > offset || decoder.need > len, "MORE without progress");
                assert!(next <= total, "MORE past the end of the input");
                offset = next;
                need = decoder.need;
            }
            Status::Done | Status::Error => return,
        }
    }
    panic!("more steps than input bytes");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seed = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15u64);
    let rounds: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let seeds = seeds();
    let mut random = Xorshift(seed | 1);
    panic::set_hook(Box::new(|_| {}));
    for round in 0..rounds {
        let data = mutate(&mut random, &seeds);
        let encoding = Encoding::from_abi(random.below(4) as u32).unwrap_or(Encoding::Ascii);
        let limits = if round % 2 == 0 {
            Limits::default()
        } else {
            Limits {
                max_depth: 20,
                max_memo: 50,
                max_int_digits: 50,
                max_nodes: 5000,
            }
        };
        let window = [1u64, 2, 3, 5, 8, 64, 1 << 20][random.below(7)];
        let outcome = panic::catch_unwind(|| decode(&data, encoding, limits, window));
        if let Err(error) = outcome {
            let message = error
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| error.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let hex: String = data.iter().map(|b| format!("{:02x}", b)).collect();
            eprintln!(
                "round {}: {} on {} ({:?}, window {})",
                round, message, hex, encoding, window
            );
            std::process::exit(1);
        }
    }
    println!("{} rounds without a panic (seed {})", rounds, seed);
}
