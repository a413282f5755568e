//! The strongly connected components of a dependency graph and a topological order of them
//! (Pearce-Kelly on the condensation), shared by the class graph and the instance graph.
//!
//! A path `a ->* b` between two components follows the order, so when `b`'s component is
//! ordered before `a`'s no such path exists and the strong-path search is skipped. This keeps
//! working through cycles (weak ones, through recursive readers, are legal and stay in the
//! graphs): an edge that closes one merges the components on it, and the order keeps holding
//! between the components.
//!
//! While nodes are only added, the components are exactly the classes of mutual reachability.
//! Removing a node (an instance whose lock is dropped) keeps the rest of its component as one
//! component: the components then over-approximate mutual reachability (two nodes of one
//! component may no longer reach each other, and [`may_reach`](SccOrder::may_reach) answers
//! "maybe" for them), while the order stays valid, since removing nodes and edges adds no path.

/// The edges the order is kept for, walked by node id in both directions.
pub(crate) trait Links {
    /// Calls `f(to)` for each edge `node -> to`.
    fn for_each_succ(&self, node: u32, f: impl FnMut(u32));
    /// Calls `f(from)` for each edge `from -> node`.
    fn for_each_pred(&self, node: u32, f: impl FnMut(u32));
}

/// The component entry of a removed node (whose id may be reused by a new node).
const REMOVED: u32 = u32::MAX;

/// The components of a graph's nodes and their topological order.
#[derive(Default)]
pub(crate) struct SccOrder {
    /// The component of each node, named by its representative node (a representative is its
    /// own component); [`REMOVED`] for a removed node. Nodes of two components never reach
    /// each other both ways (a new edge that closes a cycle merges every component on it).
    comp: Vec<u32>,
    /// The members of each component with more than one node, indexed by its representative
    /// (empty for a single node, and for a node that is no representative).
    members: Vec<Vec<u32>>,
    /// The topological order of the components, indexed by representative: an edge between
    /// two components goes from the lower `ord` to the higher. The values of the components
    /// are distinct, at least `low` and below `next`; a merge or a removal leaves gaps, which
    /// are fine. The entries of nodes that are no representative are stale and never read.
    ord: Vec<u32>,
    /// The order value of the next node added after every other: above every value in use,
    /// so that a new node (or a reused id) never shares a value with a component (a merged
    /// component may hold the old value of a node it absorbed). Equal to the node count while
    /// no node is removed or added first.
    next: u32,
    /// The lowest value in use or handed out: a node added before every other takes the value
    /// below it. 0 (none below) until then.
    low: u32,
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
    /// Adds node `n`, a component of its own ordered after every other: `n` is the node count
    /// (a new id) or a removed node's id (reused).
    pub(crate) fn add_node(&mut self, n: u32) {
        let ord = self.fresh_ord();
        self.place(n, ord);
    }

    /// Adds node `n` as [`add_node`](Self::add_node) does, ordered before every other: for a
    /// node whose first edge leaves it, which then agrees with the order with no reordering.
    pub(crate) fn add_node_first(&mut self, n: u32) {
        if self.low == 0 {
            self.renumber();
        }
        self.low -= 1;
        self.place(n, self.low);
    }

    /// Makes new node `n` a component of its own at order value `ord`.
    fn place(&mut self, n: u32, ord: u32) {
        if n as usize == self.comp.len() {
            self.comp.push(n);
            self.members.push(Vec::new());
            self.ord.push(ord);
        } else {
            debug_assert_eq!(self.comp[n as usize], REMOVED, "{n} is reused after its removal");
            self.comp[n as usize] = n;
            self.ord[n as usize] = ord;
        }
    }

    /// An order value above every value in use.
    fn fresh_ord(&mut self) -> u32 {
        if self.next == u32::MAX {
            self.renumber();
        }
        self.next += 1;
        self.next - 1
    }

    /// Gives the components consecutive values in their order, in the middle of the range of
    /// `u32`, closing the gaps: when a value is wanted below `0` or at `u32::MAX` (after many
    /// nodes added first, or many removals).
    fn renumber(&mut self) {
        let mut reps: Vec<u32> =
            (0..self.comp.len() as u32).filter(|&c| self.comp[c as usize] == c).collect();
        reps.sort_unstable_by_key(|&c| self.ord[c as usize]);
        self.low = (u32::MAX - reps.len() as u32) / 2;
        for (value, &c) in (self.low..).zip(&reps) {
            self.ord[c as usize] = value;
        }
        self.next = self.low + reps.len() as u32;
    }

    /// Removes node `n` (its edges are gone, or going: removing edges keeps the order valid).
    /// The rest of its component stays one component; when `n` represented it, another member
    /// takes its place (component entries, member list and order value).
    pub(crate) fn remove(&mut self, n: u32) {
        let c = self.comp[n as usize];
        let mut rest = std::mem::take(&mut self.members[c as usize]);
        rest.retain(|&m| m != n);
        self.comp[n as usize] = REMOVED;
        let Some(&first) = rest.first() else { return };
        let rep = if c == n { first } else { c };
        if rep != c {
            for &m in &rest {
                self.comp[m as usize] = rep;
            }
            self.ord[rep as usize] = self.ord[c as usize];
        }
        // A single node keeps no member list.
        if rest.len() > 1 {
            self.members[rep as usize] = rest;
        }
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

#[cfg(test)]
impl SccOrder {
    /// Asserts that the components and their order are sound for the graph of nodes `live`
    /// and edges `edges` (between live nodes): every live node is in a component that lists
    /// it and whose representative is live, removed nodes are in none, the order values of
    /// the components are distinct, at least `low` and below `next`, every edge between two
    /// components agrees with the order, and whenever `may_reach(a, b)` is false there is no
    /// path `a ->* b`.
    pub(crate) fn assert_sound(&self, live: &[u32], edges: &[(u32, u32)]) {
        let is_live = |n: u32| live.contains(&n);
        let mut values = std::collections::HashSet::new();
        for &v in live {
            let c = self.comp(v);
            assert!(c != REMOVED && is_live(c), "{v} is in the live component {c}");
            assert_eq!(self.comp(c), c, "{c} represents itself");
            assert!(self.members(c).contains(&v), "{v} among the members of {c}");
            if c == v {
                let within = (self.low..self.next).contains(&self.ord(c));
                assert!(within, "{c}'s order value is between low and next");
                assert!(values.insert(self.ord(c)), "order values are distinct");
                assert!(self.member_list(c).iter().all(|&m| is_live(m) && self.comp(m) == c));
            } else {
                assert!(self.member_list(v).is_empty(), "{v} represents nothing");
            }
        }
        for n in (0..self.comp.len() as u32).filter(|&n| !is_live(n)) {
            assert_eq!(self.comp(n), REMOVED, "{n} is removed");
            assert!(self.member_list(n).is_empty(), "removed {n} represents nothing");
        }
        for &(a, b) in edges {
            let (ca, cb) = (self.comp(a), self.comp(b));
            assert!(ca == cb || self.ord(ca) < self.ord(cb), "{a} -> {b} against the order");
        }
        for &a in live {
            let seen = reached(self.comp.len(), edges, a);
            for &b in live.iter().filter(|&&b| seen[b as usize]) {
                assert!(self.may_reach(a, b), "the order hides the path {a} ->* {b}");
            }
        }
    }
}

/// The nodes reached from `start` along `edges` (`start` included), of nodes `0..n`.
#[cfg(test)]
fn reached(n: usize, edges: &[(u32, u32)], start: u32) -> Vec<bool> {
    let mut seen = vec![false; n];
    seen[start as usize] = true;
    let mut stack = vec![start];
    while let Some(x) = stack.pop() {
        for &(_, b) in edges.iter().filter(|&&(a, _)| a == x) {
            if !std::mem::replace(&mut seen[b as usize], true) {
                stack.push(b);
            }
        }
    }
    seen
}

/// The random graphs' generator of this module's tests and the class and instance graphs':
/// a xorshift, `rnd(n)` is below `n`.
#[cfg(test)]
pub(crate) fn rng(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Out- and in-lists by node id.
    #[derive(Default)]
    struct Lists {
        out: Vec<Vec<u32>>,
        inn: Vec<Vec<u32>>,
    }

    impl Links for Lists {
        fn for_each_succ(&self, node: u32, f: impl FnMut(u32)) {
            self.out[node as usize].iter().copied().for_each(f);
        }

        fn for_each_pred(&self, node: u32, f: impl FnMut(u32)) {
            self.inn[node as usize].iter().copied().for_each(f);
        }
    }

    /// A graph whose nodes are removed and whose ids are reused, as the instance graph's.
    #[derive(Default)]
    struct Net {
        lists: Lists,
        live: Vec<u32>,
        free: Vec<u32>,
        order: SccOrder,
    }

    impl Net {
        /// A new node, ordered after every other, or before (`first`).
        fn add_node_at(&mut self, first: bool) -> u32 {
            let n = self.free.pop().unwrap_or_else(|| {
                self.lists.out.push(Vec::new());
                self.lists.inn.push(Vec::new());
                self.lists.out.len() as u32 - 1
            });
            match first {
                true => self.order.add_node_first(n),
                false => self.order.add_node(n),
            }
            self.live.push(n);
            n
        }

        fn add_node(&mut self) -> u32 {
            self.add_node_at(false)
        }

        fn add_edge(&mut self, a: u32, b: u32) {
            if !self.lists.out[a as usize].contains(&b) {
                self.lists.out[a as usize].push(b);
                self.lists.inn[b as usize].push(a);
                self.order.keep_order(&self.lists, a, b);
            }
        }

        fn remove(&mut self, n: u32) {
            for m in std::mem::take(&mut self.lists.out[n as usize]) {
                self.lists.inn[m as usize].retain(|&x| x != n);
            }
            for m in std::mem::take(&mut self.lists.inn[n as usize]) {
                self.lists.out[m as usize].retain(|&x| x != n);
            }
            self.order.remove(n);
            self.live.retain(|&x| x != n);
            self.free.push(n);
        }

        fn edges(&self) -> Vec<(u32, u32)> {
            let out = self.lists.out.iter().enumerate();
            out.flat_map(|(a, bs)| bs.iter().map(move |&b| (a as u32, b))).collect()
        }

        fn check(&self) {
            self.order.assert_sound(&self.live, &self.edges());
        }
    }

    /// A path around nodes `ns`, closed back to the first.
    fn ring(net: &mut Net, ns: &[u32]) {
        for (i, &a) in ns.iter().enumerate() {
            net.add_edge(a, ns[(i + 1) % ns.len()]);
        }
    }

    #[test]
    fn a_removed_representative_hands_its_component_over() {
        let mut net = Net::default();
        let ns: Vec<u32> = (0..5).map(|_| net.add_node()).collect();
        ring(&mut net, &ns[..3]);
        net.add_edge(ns[3], ns[0]);
        net.add_edge(ns[2], ns[4]);
        let c = net.order.comp(ns[0]);
        assert_eq!(net.order.members(c).len(), 3);
        let ord = net.order.ord(c);
        net.remove(c);
        net.check();
        let rest: Vec<u32> = ns[..3].iter().copied().filter(|&n| n != c).collect();
        let rep = net.order.comp(rest[0]);
        assert_eq!(net.order.comp(rest[1]), rep, "the rest stays one component");
        assert_eq!((net.order.ord(rep), net.order.members(rep).len()), (ord, 2));
        // Down to one node: a component of its own, with no member list.
        let other = rest.iter().copied().find(|&n| n != rep).unwrap();
        net.remove(other);
        net.check();
        assert_eq!((net.order.comp(rep), net.order.member_list(rep)), (rep, &[][..]));
        // The reused ids come after every component.
        let (a, b) = (net.add_node(), net.add_node());
        assert!([a, b].iter().all(|&n| net.order.ord(n) > net.order.ord(ns[4])));
        net.check();
        // Added first, before every component, the values renumbered to make room below.
        let first = net.add_node_at(true);
        assert!(net.live.iter().all(|&n| n == first || net.order.ord(first) < net.order.ord(n)));
        net.check();
    }

    #[test]
    fn removals_and_reused_ids_keep_the_order_valid() {
        // Random graphs whose nodes come and go (ids reused, some added before every other),
        // from all edges along the order the nodes were made in to 90% random ones, so that
        // cycles form, merge and lose nodes; some rounds start next to the overflow of the
        // order values, to renumber them.
        let mut rnd = rng(0x2545_f491_4f6c_dd1d);
        for round in 0..if cfg!(miri) { 2 } else { 40 } {
            let mut net = Net::default();
            let mut made = Vec::new();
            if round % 4 == 3 {
                net.order.next = u32::MAX - 20;
            }
            for step in 0..300 {
                match rnd(10) {
                    0 if net.live.len() > 2 => {
                        let n = net.live[rnd(net.live.len() as u64) as usize];
                        net.remove(n);
                    }
                    1 | 2 if net.live.len() < 30 => made.push(net.add_node_at(rnd(3) == 0)),
                    _ if net.live.len() >= 2 => {
                        let len = net.live.len() as u64;
                        let (a, b) = (net.live[rnd(len) as usize], net.live[rnd(len) as usize]);
                        let rank = |n: u32| made.iter().rposition(|&m| m == n);
                        let along = rnd(10) >= round % 10 || rank(a) < rank(b);
                        let (a, b) = if along { (a, b) } else { (b, a) };
                        if a != b {
                            net.add_edge(a, b);
                        }
                    }
                    _ => made.push(net.add_node()),
                }
                if !cfg!(miri) || step % 30 == 0 {
                    net.check();
                }
            }
        }
    }
}
