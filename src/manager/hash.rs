//! [`NameHasher`]: a fast hash of key names for the cache's maps.

use std::hash::Hasher;

/// FxHash, the hasher of rustc: a few cycles for a short key name where SipHash takes tens of
/// nanoseconds. It does not resist chosen collisions, which is acceptable here because only names
/// the provider returned a value for are stored, and at most `capacity` of them.
#[derive(Default, Clone, Copy)]
pub(super) struct NameHasher(u64);

impl NameHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    pub(super) fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(NameHasher::SEED);
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // Built in a register: copying into a stack buffer and reading it back as one word
            // stalls store forwarding, which showed as a tenth of the cached read.
            let word = rest
                .iter()
                .enumerate()
                .fold(0, |word, (i, byte)| word | u64::from(*byte) << (8 * i));
            self.add(word);
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, BuildHasherDefault};

    use super::*;

    #[test]
    fn name_hashes_depend_on_every_byte() {
        let hash = |name: &str| BuildHasherDefault::<NameHasher>::default().hash_one(name);
        let names = [
            "",
            "A",
            "B",
            "AB",
            "BA",
            "KEY_0",
            "KEY_1",
            "OPENAI_API_KEY",
            "OPENAI_API_KEZ",
            "OPENAI_API_KE",
            "OPENAI_A",
            "OPENAI_B",
            "OPENAI_A\0",
        ];
        let hashes: HashSet<u64> = names.iter().map(|name| hash(name)).collect();
        assert_eq!(hashes.len(), names.len());
        assert_eq!(
            hash("OPENAI_API_KEY"),
            hash(&String::from("OPENAI_API_KEY"))
        );
    }
}
