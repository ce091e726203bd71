//! A fast 64-bit checksum of a stored model, computed while its bytes stream past, so a
//! cache entry damaged or edited between two visits is noticed before it is trusted.
//! It guards against accidents (disk errors, a truncated write, a flipped byte), not
//! against an attacker who can also rewrite the stored checksum.

/// Four independent lanes keep the multiplier pipelines busy (~8 bytes per cycle).
const LANES: usize = 4;
const BLOCK: usize = LANES * 8;
const MUL: u64 = 0x9E37_79B9_7F4A_7C15;
const SEEDS: [u64; LANES] = [0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89];

#[derive(Clone)]
pub struct Digest {
    lanes: [u64; LANES],
    /// Bytes of an unfinished block.
    tail: [u8; BLOCK],
    tail_len: usize,
    total: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Self { lanes: SEEDS, tail: [0; BLOCK], tail_len: 0, total: 0 }
    }
}

fn mix(lane: u64, word: u64) -> u64 {
    (lane ^ word).wrapping_mul(MUL).rotate_left(29)
}

impl Digest {
    fn block(&mut self, b: &[u8]) {
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            let w = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            *lane = mix(*lane, w);
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.tail_len > 0 {
            let take = (BLOCK - self.tail_len).min(data.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&data[..take]);
            self.tail_len += take;
            data = &data[take..];
            if self.tail_len < BLOCK {
                return;
            }
            let tail = self.tail;
            self.block(&tail);
            self.tail_len = 0;
        }
        let mut blocks = data.chunks_exact(BLOCK);
        for b in &mut blocks {
            self.block(b);
        }
        let rest = blocks.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len = rest.len();
    }

    /// 16 hex digits; depends on every byte, their order and the length.
    pub fn finish(&self) -> String {
        let mut padded = [0u8; BLOCK];
        padded[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        let mut d = self.clone();
        d.block(&padded);
        let mut h = self.total.wrapping_mul(MUL);
        for lane in d.lanes {
            h = mix(h, lane);
        }
        // Final avalanche so lanes that differ in one bit change the whole result.
        h ^= h >> 31;
        h = h.wrapping_mul(MUL);
        h ^= h >> 29;
        format!("{h:016x}")
    }

    pub fn of(data: &[u8]) -> String {
        let mut d = Digest::default();
        d.update(data);
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn chunking_does_not_matter() {
        let data = sample(1000);
        let whole = Digest::of(&data);
        for split in [1, 7, 31, 32, 33, 500, 999] {
            let mut d = Digest::default();
            for c in data.chunks(split) {
                d.update(c);
            }
            assert_eq!(d.finish(), whole, "chunks of {split}");
        }
    }

    #[test]
    fn any_change_is_seen() {
        let data = sample(4096);
        let base = Digest::of(&data);
        for pos in [0, 1, 100, 2047, 4095] {
            let mut bad = data.clone();
            bad[pos] ^= 0x01;
            assert_ne!(Digest::of(&bad), base, "flipped bit at {pos}");
        }
        assert_ne!(Digest::of(&data[..4095]), base, "truncated");
        let mut longer = data.clone();
        longer.push(0);
        assert_ne!(Digest::of(&longer), base, "a zero byte appended");
        let mut swapped = data.clone();
        swapped.swap(0, 8);
        assert_ne!(Digest::of(&swapped), base, "two words swapped");
        assert_ne!(Digest::of(b""), Digest::of(&[0]));
    }
}
