//! Byte-pair encoding of one pre-tokenized piece: start from one token per byte and keep
//! merging the adjacent pair whose merge rule comes first (the leftmost such pair on a tie)
//! until no rule applies.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Merge rules by the ids of the pair: `(rank, id of the merged token)`.
pub type MergeTable = HashMap<(u32, u32), (u32, u32)>;

/// One token of the word being merged, in a doubly linked list over a `Vec`.
struct Symbol {
    id: u32,
    prev: Option<usize>,
    next: Option<usize>,
    /// Bumped whenever the symbol changes or is merged away, so queued pairs that
    /// mention its old state are recognised as stale.
    version: u32,
}

/// A possible merge of the symbols at `left` and `right`, ordered by rank then position.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    rank: u32,
    left: usize,
    right: usize,
    left_version: u32,
    right_version: u32,
    merged: u32,
}

/// Merges the byte tokens `ids` (one per byte of the piece) into the final tokens.
/// A heap of candidate pairs keeps a long piece (a 10,000-letter "word") at n log n.
pub fn merge(ids: &[u32], merges: &MergeTable) -> Vec<u32> {
    if ids.len() < 2 {
        return ids.to_vec();
    }
    let mut symbols: Vec<Symbol> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| Symbol {
            id,
            prev: i.checked_sub(1),
            next: (i + 1 < ids.len()).then_some(i + 1),
            version: 0,
        })
        .collect();
    let mut queue = BinaryHeap::new();
    let candidate = |symbols: &[Symbol], left: usize, right: usize| {
        merges.get(&(symbols[left].id, symbols[right].id)).map(|&(rank, merged)| {
            Reverse(Candidate {
                rank,
                left,
                right,
                left_version: symbols[left].version,
                right_version: symbols[right].version,
                merged,
            })
        })
    };
    for i in 0..symbols.len() - 1 {
        queue.extend(candidate(&symbols, i, i + 1));
    }
    while let Some(Reverse(c)) = queue.pop() {
        if symbols[c.left].version != c.left_version || symbols[c.right].version != c.right_version {
            continue; // one side changed since this pair was queued
        }
        // The right symbol joins the left one and leaves the list.
        let after = symbols[c.right].next;
        symbols[c.right].version += 1;
        let left = &mut symbols[c.left];
        left.id = c.merged;
        left.next = after;
        left.version += 1;
        if let Some(a) = after {
            symbols[a].prev = Some(c.left);
        }
        if let Some(p) = symbols[c.left].prev {
            queue.extend(candidate(&symbols, p, c.left));
        }
        if let Some(a) = after {
            queue.extend(candidate(&symbols, c.left, a));
        }
    }
    let mut out = Vec::new();
    let mut at = Some(0);
    while let Some(i) = at {
        out.push(symbols[i].id);
        at = symbols[i].next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_rank_first_and_leftmost_on_ties() {
        // Tokens: 0 a, 1 b, 2 c, 3 ab, 4 bc, 5 abc, 6 aa
        let mut m = MergeTable::new();
        m.insert((1, 2), (0, 4)); // b c -> bc comes before a b
        m.insert((0, 1), (1, 3));
        m.insert((0, 4), (2, 5)); // a bc -> abc
        m.insert((0, 0), (3, 6));
        assert_eq!(merge(&[0, 1, 2], &m), vec![5]);
        assert_eq!(merge(&[0, 1, 0, 1], &m), vec![3, 3]);
        // a a a: the leftmost pair merges, the last a stays.
        assert_eq!(merge(&[0, 0, 0], &m), vec![6, 0]);
        assert_eq!(merge(&[2], &m), vec![2]);
        assert_eq!(merge(&[], &m), Vec::<u32>::new());
    }
}
