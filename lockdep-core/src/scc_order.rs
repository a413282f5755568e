//! The strongly connected components of a dependency graph and a topological order of them
//! (Pearce-Kelly on the condensation), shared by the class graph and the instance graph.
//!
//! A path `a ->* b` between two components follows the order, so when `b`'s component is
//! ordered before `a`'s no such path exists and the strong-path search is skipped. This keeps
//! working through cycles (weak ones, through recursive readers, are legal and stay in the
//! graphs): an edge that closes one merges the components on it, and the order keeps holding
//! between the components.
//!
//! Nodes are only added, so the components are exactly the classes of mutual reachability.

/// The edges the order is kept for, walked by node id in both directions.
pub(crate) trait Links {
    /// Calls `f(to)` for each edge `node -> to`.
    fn for_each_succ(&self, node: u32, f: impl FnMut(u32));
    /// Calls `f(from)` for each edge `from -> node`.
    fn for_each_pred(&self, node: u32, f: impl FnMut(u32));
}

/// The components of a graph's nodes and their topological order.
#[derive(Default)]
pub(crate) struct SccOrder {
    /// The component of each node, named by its representative node (a representative is its
    /// own component). Nodes of two components never reach each other both ways (a new edge
    /// that closes a cycle merges every component on it).
    comp: Vec<u32>,
    /// The members of each component with more than one node, indexed by its representative
    /// (empty for a single node, and for a node that is no representative).
    members: Vec<Vec<u32>>,
    /// The topological order of the components, indexed by representative: an edge between
    /// two components goes from the lower `ord` to the higher. The values are distinct and
    /// below the node count; a merge leaves gaps, which are fine. The entries of nodes that are
    /// no representative are stale and never read.
    ord: Vec<u32>,
    /// Reusable bookkeeping of `keep_order`.
    scratch: OrderScratch,
}

/// Generation-stamped marks and buffers of the order maintenance: no allocation once grown.
#[derive(Default)]
struct OrderScratch {
    /// Components reached forward from the new edge's target in this generation.
    fwd: Vec<u32>,
    /// Components reached backward from the new edge's source in this generation.
    bwd: Vec<u32>,
    generation: u32,
    stack: Vec<u32>,
    forward: Vec<u32>,
    backward: Vec<u32>,
    merged: Vec<u32>,
    slots: Vec<u32>,
}

impl OrderScratch {
    fn begin(&mut self, nodes: usize) -> u32 {
        if self.fwd.len() < nodes {
            self.fwd.resize(nodes, 0);
            self.bwd.resize(nodes, 0);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.fwd.iter_mut().chain(self.bwd.iter_mut()).for_each(|g| *g = 0);
            self.generation = 1;
        }
        self.generation
    }
}

impl SccOrder {
    /// Adds node `n` (the node count), a component of its own ordered after every other
    /// (every order value in use is below the node count).
    pub(crate) fn add_node(&mut self, n: u32) {
        debug_assert_eq!(n as usize, self.comp.len(), "{n} is the next node");
        self.comp.push(n);
        self.members.push(Vec::new());
        self.ord.push(n);
    }

    /// The component of node `n` (its representative).
    pub(crate) fn comp(&self, n: u32) -> u32 {
        self.comp[n as usize]
    }

    /// The order value of component `c` (a representative).
    pub(crate) fn ord(&self, c: u32) -> u32 {
        self.ord[c as usize]
    }

    /// The nodes of component `c` (a representative).
    pub(crate) fn members(&self, c: u32) -> &[u32] {
        match &self.members[c as usize] {
            m if m.is_empty() => std::slice::from_ref(&self.comp[c as usize]),
            m => m,
        }
    }

    /// The member list kept at node `n`: empty unless `n` represents more than one node.
    #[cfg(test)]
    pub(crate) fn member_list(&self, n: u32) -> &[u32] {
        &self.members[n as usize]
    }

    /// Whether a path `start ->* goal` may exist: false when the two are in different
    /// components and the order puts `goal`'s before `start`'s (a path would go against it).
    pub(crate) fn may_reach(&self, start: u32, goal: u32) -> bool {
        let (cs, cg) = (self.comp(start), self.comp(goal));
        cs == cg || self.ord(cs) < self.ord(cg)
    }

    /// Restores the topological order of the components after adding edge `x -> y` of `links`
    /// (Pearce-Kelly on the condensation): only the components whose order lies between
    /// `ord(y)` and `ord(x)` are visited. When the edge closes a cycle (`x` is reached from
    /// `y`), the components on a path `y ->* x` (reached forward from `y` and backward from
    /// `x`) become one component, placed between the ones that reach it and the ones it
    /// reaches.
    pub(crate) fn keep_order(&mut self, links: &impl Links, x: u32, y: u32) {
        let (cx, cy) = (self.comp(x), self.comp(y));
        if cx == cy {
            return;
        }
        let (lb, ub) = (self.ord(cy), self.ord(cx));
        if lb > ub {
            return;
        }
        let mut s = std::mem::take(&mut self.scratch);
        let generation = s.begin(self.comp.len());
        // Forward from y's component, within ord <= ub; backward from x's, within ord >= lb.
        self.reach(links, &mut s, cy, true, ub);
        self.reach(links, &mut s, cx, false, lb);
        // The components on a path y ->* x (none unless x was reached) leave both lists.
        s.merged.clear();
        if s.fwd[cx as usize] == generation {
            s.merged.extend(s.forward.iter().copied().filter(|&c| s.bwd[c as usize] == generation));
            s.forward.retain(|&c| s.bwd[c as usize] != generation);
            s.backward.retain(|&c| s.fwd[c as usize] != generation);
        }
        self.reorder(&mut s);
        if !s.merged.is_empty() {
            let slot = s.slots[s.backward.len()];
            self.merge(&s.merged, slot);
        }
        self.scratch = s;
    }

    /// Gives the components of `keep_order`'s backward list the lowest of the lists' order
    /// values (in `s.slots`, sorted) and those of its forward list the highest, each list in
    /// its old order; the merged components' values lie in between (the first of them goes to
    /// the merged component, the rest become gaps). The backward components only move down and
    /// the forward ones only up, so the edges from and to the components left alone keep
    /// agreeing with the order.
    fn reorder(&mut self, s: &mut OrderScratch) {
        let ord = &mut self.ord;
        s.backward.sort_unstable_by_key(|&c| ord[c as usize]);
        s.forward.sort_unstable_by_key(|&c| ord[c as usize]);
        s.slots.clear();
        s.slots
            .extend(s.backward.iter().chain(&s.forward).chain(&s.merged).map(|&c| ord[c as usize]));
        s.slots.sort_unstable();
        for (&c, &slot) in s.backward.iter().zip(&s.slots) {
            ord[c as usize] = slot;
        }
        let top = s.slots.len() - s.forward.len();
        for (&c, &slot) in s.forward.iter().zip(&s.slots[top..]) {
            ord[c as usize] = slot;
        }
    }

    /// Pearce-Kelly's bounded search of [`keep_order`](Self::keep_order): the components
    /// reached from component `start` along the edges (`forward`) or against them, keeping to
    /// those ordered at most `bound` (forward) or at least `bound` (backward); marked with the
    /// scratch's generation and listed in its `forward` or `backward` list.
    fn reach(
        &self,
        links: &impl Links,
        s: &mut OrderScratch,
        start: u32,
        forward: bool,
        bound: u32,
    ) {
        let OrderScratch { fwd, bwd, generation, stack, forward: fl, backward: bl, .. } = s;
        let generation = *generation;
        let (marks, found) = if forward { (fwd, fl) } else { (bwd, bl) };
        found.clear();
        stack.clear();
        stack.push(start);
        marks[start as usize] = generation;
        while let Some(c) = stack.pop() {
            found.push(c);
            for &m in self.members(c) {
                let mut visit = |w: u32| {
                    let w = self.comp[w as usize];
                    let within = match forward {
                        true => self.ord[w as usize] <= bound,
                        false => self.ord[w as usize] >= bound,
                    };
                    if marks[w as usize] != generation && within {
                        marks[w as usize] = generation;
                        stack.push(w);
                    }
                };
                match forward {
                    true => links.for_each_succ(m, &mut visit),
                    false => links.for_each_pred(m, &mut visit),
                }
            }
        }
    }

    /// Makes components `comps` one, at order value `slot`: the largest one absorbs the others.
    fn merge(&mut self, comps: &[u32], slot: u32) {
        let rep = *comps.iter().max_by_key(|&&c| self.members(c).len()).expect("a component");
        let mut all = std::mem::take(&mut self.members[rep as usize]);
        if all.is_empty() {
            all.push(rep);
        }
        for &c in comps.iter().filter(|&&c| c != rep) {
            let nodes = std::mem::take(&mut self.members[c as usize]);
            if nodes.is_empty() {
                self.comp[c as usize] = rep;
                all.push(c);
            } else {
                for m in nodes {
                    self.comp[m as usize] = rep;
                    all.push(m);
                }
            }
        }
        self.members[rep as usize] = all;
        self.ord[rep as usize] = slot;
    }
}
