//! An RFC 6962 / RFC 9162 Merkle tree: leaf and node hashing with domain separation, the tree
//! hash of `n` leaves, inclusion proofs (audit paths) and consistency proofs, and their
//! verification. Pure: no I/O.
//!
//! Functions that build proofs take the leaf *hashes* of the whole tree (see [`leaf_hash`]);
//! verifiers take only hashes and sizes, so that an outside party can check a proof offline.
//!
//! Longer than most modules on purpose: the tree, its proofs and their verification are one
//! algorithm that must agree with itself, and its tests against the RFC's published vectors (at
//! sizes that are not powers of two) belong next to it.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The hash of a leaf: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two smaller than `n` (`n` > 1): where RFC 6962 splits a tree.
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The Merkle tree hash (root) of the tree whose leaf hashes are `leaves`.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The inclusion proof (audit path) of leaf `index` in the tree of `leaves`, or `None` if
/// `index` is out of range.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut proof = Vec::new();
    path(index, leaves, &mut proof);
    Some(proof)
}

fn path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, &leaves[..k], out);
        out.push(root(&leaves[k..]));
    } else {
        path(m - k, &leaves[k..], out);
        out.push(root(&leaves[..k]));
    }
}

/// A tree with the root of every complete, aligned power-of-two subtree computed once (`2n`
/// hashes): its root and each inclusion proof then cost O(log² n) instead of O(n), for
/// exporting many proofs against one tree.
pub struct Tree {
    /// `levels[l][i]` is the root of leaves `i * 2^l .. (i + 1) * 2^l`; `levels[0]` the leaves.
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    pub fn new(leaves: Vec<Hash>) -> Tree {
        let mut levels = vec![leaves];
        while let Some(last) = levels.last().filter(|l| l.len() > 1) {
            let next = last
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
            levels.push(next);
        }
        Tree { levels }
    }

    pub fn size(&self) -> usize {
        self.levels.first().map_or(0, Vec::len)
    }

    /// The root of leaves `start .. start + len`, where `start` is a multiple of the largest
    /// power of two below `len` (true of every subtree RFC 6962 recursion visits).
    fn range_root(&self, start: usize, len: usize) -> Hash {
        if len == 0 {
            return empty_root();
        }
        if len.is_power_of_two() && start.is_multiple_of(len) {
            let level = len.trailing_zeros() as usize;
            if let Some(h) = self.levels.get(level).and_then(|l| l.get(start >> level)) {
                return *h;
            }
        }
        if len == 1 {
            return self.levels[0][start];
        }
        let k = split(len);
        node_hash(
            &self.range_root(start, k),
            &self.range_root(start + k, len - k),
        )
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        self.range_root(0, self.size())
    }

    /// As [`inclusion_proof`].
    pub fn inclusion_proof(&self, index: usize) -> Option<Vec<Hash>> {
        if index >= self.size() {
            return None;
        }
        let mut siblings = Vec::new();
        let (mut start, mut len, mut m) = (0, self.size(), index);
        while len > 1 {
            let k = split(len);
            if m < k {
                siblings.push(self.range_root(start + k, len - k));
                len = k;
            } else {
                siblings.push(self.range_root(start, k));
                start += k;
                m -= k;
                len -= k;
            }
        }
        siblings.reverse();
        Some(siblings)
    }
}

/// Whether `proof` shows that `leaf` (a leaf hash) is at `index` in the tree of `size` leaves
/// whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && &r == root
}

/// The consistency proof between the tree of the first `m` leaves and the tree of all
/// `leaves` (RFC 6962 §2.1.2), or `None` unless `m <= leaves.len()`. Empty when `m` is 0 or
/// equals the size.
pub fn consistency_proof(leaves: &[Hash], m: usize) -> Option<Vec<Hash>> {
    if m > leaves.len() {
        return None;
    }
    let mut proof = Vec::new();
    if m > 0 && m < leaves.len() {
        subproof(m, leaves, true, &mut proof);
    }
    Some(proof)
}

fn subproof(m: usize, leaves: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            out.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], complete, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

/// Whether `proof` shows that the tree of `m` leaves with root `first` is a prefix of the tree
/// of `n` leaves with root `second` (RFC 9162 §2.1.4.2). The empty tree is a prefix of every
/// tree (with an empty proof); a tree is consistent with itself only with an empty proof.
pub fn verify_consistency(m: u64, n: u64, first: &Hash, second: &Hash, proof: &[Hash]) -> bool {
    if m > n {
        return false;
    }
    if m == 0 {
        return proof.is_empty() && (n > 0 || second == &empty_root()) && first == &empty_root();
    }
    if m == n {
        return proof.is_empty() && first == second;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if m.is_power_of_two() {
        path.push(*first);
    }
    path.extend_from_slice(proof);
    let Some((start, rest)) = path.split_first() else {
        return false;
    };
    let (mut f, mut s) = (m - 1, n - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*start, *start);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && &fr == first && &sr == second
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Hash {
        let mut out = [0u8; 32];
        let bytes = hex::decode(s).unwrap_or_default();
        out.copy_from_slice(&bytes);
        out
    }

    /// The Certificate Transparency reference leaves (google/certificate-transparency-go
    /// `merkletree` tests, transparency-dev/merkle `testonly`).
    fn ct_leaves() -> Vec<Hash> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|d| leaf_hash(&hex::decode(d).unwrap_or_default()))
        .collect()
    }

    /// Their published roots for sizes 0..=8.
    const CT_ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn roots_match_the_published_vectors() {
        let leaves = ct_leaves();
        for (n, want) in CT_ROOTS.iter().enumerate() {
            assert_eq!(hex::encode(root(&leaves[..n])), *want, "size {n}");
        }
    }

    #[test]
    fn inclusion_proofs_match_the_published_vectors() {
        let leaves = ct_leaves();
        let cases: [(usize, &[&str]); 2] = [
            (
                0,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        for (index, want) in cases {
            let proof = inclusion_proof(&leaves, index).unwrap_or_default();
            let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
            assert_eq!(proof, want, "leaf {index}");
            assert!(verify_inclusion(
                &leaves[index],
                index as u64,
                8,
                &want,
                &h(CT_ROOTS[8])
            ));
        }
    }

    #[test]
    fn consistency_proofs_match_the_published_vectors() {
        let leaves = ct_leaves();
        let cases: [(usize, usize, &[&str]); 3] = [
            (
                2,
                8,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (m, n, want) in cases {
            let proof = consistency_proof(&leaves[..n], m).unwrap_or_default();
            let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
            assert_eq!(proof, want, "{m} -> {n}");
            assert!(verify_consistency(
                m as u64,
                n as u64,
                &h(CT_ROOTS[m]),
                &h(CT_ROOTS[n]),
                &want
            ));
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("leaf-{i}").as_bytes()))
            .collect()
    }

    fn flip(mut x: Hash) -> Hash {
        x[7] ^= 1;
        x
    }

    #[test]
    fn every_inclusion_proof_verifies_and_tampering_fails() {
        let all = leaves(40);
        for n in 1..=40usize {
            let tree = &all[..n];
            let r = root(tree);
            for i in 0..n {
                let proof = inclusion_proof(tree, i).unwrap_or_default();
                let (i64_, n64) = (i as u64, n as u64);
                assert!(verify_inclusion(&tree[i], i64_, n64, &proof, &r), "{i}/{n}");
                assert!(!verify_inclusion(&flip(tree[i]), i64_, n64, &proof, &r));
                assert!(!verify_inclusion(&tree[i], i64_, n64, &proof, &flip(r)));
                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[j] = flip(bad[j]);
                    assert!(
                        !verify_inclusion(&tree[i], i64_, n64, &bad, &r),
                        "{i}/{n} #{j}"
                    );
                }
                if !proof.is_empty() {
                    assert!(!verify_inclusion(
                        &tree[i],
                        i64_,
                        n64,
                        &proof[..proof.len() - 1],
                        &r
                    ));
                }
                let mut longer = proof.clone();
                longer.push([0xab; 32]);
                assert!(!verify_inclusion(&tree[i], i64_, n64, &longer, &r));
                if n > 1 {
                    let other = (i + 1) % n;
                    assert!(!verify_inclusion(&tree[other], i64_, n64, &proof, &r));
                }
            }
            assert!(inclusion_proof(tree, n).is_none());
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_tampering_fails() {
        let all = leaves(40);
        for n in 1..=40usize {
            let tree = &all[..n];
            let rn = root(tree);
            for m in 1..=n {
                let rm = root(&tree[..m]);
                let proof = consistency_proof(tree, m).unwrap_or_default();
                let (m64, n64) = (m as u64, n as u64);
                assert!(verify_consistency(m64, n64, &rm, &rn, &proof), "{m}->{n}");
                assert!(!verify_consistency(m64, n64, &flip(rm), &rn, &proof));
                assert!(!verify_consistency(m64, n64, &rm, &flip(rn), &proof));
                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[j] = flip(bad[j]);
                    assert!(
                        !verify_consistency(m64, n64, &rm, &rn, &bad),
                        "{m}->{n} #{j}"
                    );
                }
                if m < n {
                    // A rewritten log: one earlier leaf changed, the later root differs.
                    let mut rewritten = tree.to_vec();
                    rewritten[m - 1] = flip(rewritten[m - 1]);
                    let rr = root(&rewritten);
                    let p2 = consistency_proof(&rewritten, m).unwrap_or_default();
                    assert!(
                        !verify_consistency(m64, n64, &rm, &rr, &p2),
                        "{m}->{n} rewritten"
                    );
                    assert!(!verify_consistency(m64, n64, &rm, &rn, &[]));
                }
            }
            assert!(consistency_proof(tree, n + 1).is_none());
            assert!(verify_consistency(0, n as u64, &empty_root(), &rn, &[]));
        }
    }

    #[test]
    fn the_precomputed_tree_gives_the_same_root_and_proofs() {
        for n in 0..70usize {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let tree = Tree::new(leaves.clone());
            assert_eq!(tree.root(), root(&leaves), "root of {n}");
            for i in 0..=n {
                assert_eq!(
                    tree.inclusion_proof(i),
                    inclusion_proof(&leaves, i),
                    "proof of {i} in {n}"
                );
            }
        }
    }

    #[test]
    fn odd_sizes_split_at_the_largest_power_of_two() {
        for (n, k) in [
            (2, 1),
            (3, 2),
            (5, 4),
            (6, 4),
            (7, 4),
            (9, 8),
            (16, 8),
            (17, 16),
        ] {
            assert_eq!(split(n), k, "{n}");
        }
    }
}
