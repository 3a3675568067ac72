//! A fixed-size four-way segment tree over hosts with a per-node summary,
//! searched with pruning. Leaves are hosts in id order, so a left-to-right
//! search breaks ties by the lowest id.
//!
//! Four-way because a search descends by reading all of a node's children:
//! each node's four children sit together in one block aligned to a cache
//! line, so a level costs one line (for 16-byte summaries) and a tree over
//! 10,000 hosts is 7 levels deep instead of 14. Past the caches, each level
//! is a miss; halving the levels halves the misses.

/// How many children an inner node has.
pub const ARITY: usize = 4;

/// `merge` must be a join (commutative, associative, idempotent; e.g. a
/// componentwise max or min), which [`SegmentTree::set`] relies on.
pub trait Summary: Copy + PartialEq {
    /// The summary of an empty slot (padding, or an ineligible host).
    const EMPTY: Self;
    fn merge(a: &Self, b: &Self) -> Self;
}

/// One node's children, together on their own cache line(s).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Siblings<S>([S; ARITY]);

/// Nodes are numbered from the root, 0, level by level: node `i`'s children
/// are `ARITY * i + 1 ..= ARITY * i + ARITY`. Node `n` is stored at position
/// `n + ARITY - 1`, which puts each node's children at the start of a block.
pub struct SegmentTree<S: Summary> {
    /// Number of the first leaf node.
    first_leaf: usize,
    blocks: Vec<Siblings<S>>,
}

impl<S: Summary> SegmentTree<S> {
    pub fn new(values: &[S]) -> Self {
        let mut leaves = 1;
        let mut first_leaf = 0;
        while leaves < values.len() {
            first_leaf += leaves;
            leaves *= ARITY;
        }
        let nodes = first_leaf + leaves;
        let blocks = (nodes + ARITY - 1).div_ceil(ARITY);
        let mut tree = SegmentTree {
            first_leaf,
            blocks: vec![Siblings([S::EMPTY; ARITY]); blocks],
        };
        for (leaf, value) in values.iter().enumerate() {
            *tree.slot_mut(first_leaf + leaf) = *value;
        }
        for i in (0..first_leaf).rev() {
            let merged = tree.merge_children(i);
            *tree.slot_mut(i) = merged;
        }
        tree
    }

    pub fn set(&mut self, leaf: usize, value: S) {
        let mut i = self.first_leaf + leaf;
        let old = std::mem::replace(self.slot_mut(i), value);
        // The leaf only grew (a VM left): each ancestor is its old summary
        // joined with `value`, so siblings need not be read.
        let grew = S::merge(&old, &value) == value;
        while i > 0 {
            i = self.parent(i);
            let merged = if grew {
                S::merge(self.node(i), &value)
            } else {
                // The leaf shrank: recompute from the children, which share
                // the line of the node just written.
                self.merge_children(i)
            };
            // Ancestors summarise this node only: an unchanged node leaves
            // them unchanged too.
            if *self.node(i) == merged {
                break;
            }
            *self.slot_mut(i) = merged;
        }
    }

    /// Starts loading `leaf`'s block and its parent's, the nodes an update
    /// of it reads and writes that are unlikely to be cached in a big tree
    /// (the top levels are touched by every search and stay cached).
    pub fn prefetch_path(&self, leaf: usize) {
        let mut i = self.first_leaf + leaf;
        for _ in 0..2 {
            if let Some(block) = self.blocks.get(Self::position(i) / ARITY) {
                crate::hint::prefetch_all(block);
            }
            if i == 0 {
                break;
            }
            i = self.parent(i);
        }
    }

    pub fn root(&self) -> usize {
        0
    }

    pub fn node(&self, i: usize) -> &S {
        let p = Self::position(i);
        &self.blocks[p / ARITY].0[p % ARITY]
    }

    /// The number of node `i`'s first child, and the summaries of all its
    /// children (`i` must not be a leaf).
    pub fn children(&self, i: usize) -> (usize, &[S; ARITY]) {
        // Node i's children start block i + 1 (see the layout above).
        (ARITY * i + 1, &self.blocks[i + 1].0)
    }

    pub fn is_leaf(&self, i: usize) -> bool {
        i >= self.first_leaf
    }

    /// The parent of node `i` (not the root).
    pub fn parent(&self, i: usize) -> usize {
        (i - 1) / ARITY
    }

    /// The host index of leaf node `i`.
    pub fn leaf_index(&self, i: usize) -> usize {
        i - self.first_leaf
    }

    /// Smallest host index under node `i`.
    pub fn first_leaf(&self, mut i: usize) -> usize {
        while !self.is_leaf(i) {
            i = ARITY * i + 1;
        }
        self.leaf_index(i)
    }

    fn position(i: usize) -> usize {
        i + ARITY - 1
    }

    fn slot_mut(&mut self, i: usize) -> &mut S {
        let p = Self::position(i);
        &mut self.blocks[p / ARITY].0[p % ARITY]
    }

    fn merge_children(&self, i: usize) -> S {
        let (_, children) = self.children(i);
        children[1..]
            .iter()
            .fold(children[0], |acc, c| S::merge(&acc, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, PartialEq, Debug)]
    struct Max(u32);

    impl Summary for Max {
        const EMPTY: Self = Max(0);
        fn merge(a: &Self, b: &Self) -> Self {
            Max(a.0.max(b.0))
        }
    }

    /// Every inner node is the join of its children, after any sequence of
    /// updates (growing and shrinking leaves).
    fn assert_consistent(tree: &SegmentTree<Max>) {
        for i in 0..tree.first_leaf {
            assert_eq!(*tree.node(i), tree.merge_children(i), "node {i}");
        }
    }

    #[test]
    fn inner_nodes_stay_the_join_of_their_children() {
        for hosts in [1, 2, 4, 5, 16, 17, 70] {
            let values: Vec<Max> = (0..hosts).map(|h| Max(h as u32 * 7 % 13)).collect();
            let mut tree = SegmentTree::new(&values);
            assert_consistent(&tree);
            for step in 0..200u32 {
                let leaf = (step as usize * 31) % hosts;
                tree.set(leaf, Max(step * 17 % 23));
                assert_consistent(&tree);
            }
            let top = (0..hosts)
                .map(|h| tree.node(tree.first_leaf + h).0)
                .max()
                .unwrap();
            assert_eq!(tree.node(tree.root()).0, top);
        }
    }

    #[test]
    fn leaves_are_hosts_in_order_under_their_ancestors() {
        let tree = SegmentTree::new(&[Max(1); 70]);
        assert_eq!(tree.first_leaf(tree.root()), 0);
        let (first, _) = tree.children(tree.root());
        // Four children of the root over 256 leaf slots: 64 each.
        assert_eq!(tree.first_leaf(first + 2), 128);
        assert_eq!(tree.parent(first + 3), tree.root());
        assert_eq!(tree.parent(tree.children(first + 1).0), first + 1);
    }
}
