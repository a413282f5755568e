#!/usr/bin/env python3
"""Generates the independent trace corpus (written from design.md alone)."""
import json, os, sys
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
MODES = {"W": "write", "R": "read", "RR": "recursive_read"}

def ev(t, op, lock, cls=None, mode=None, sub=None, nest=None):
    e = {"thread": t, "op": op, "lock": lock, "class": cls or lock}
    if mode: e["mode"] = MODES.get(mode, mode)
    if sub is not None: e["subclass"] = sub
    if nest is not None: e["nest_lock"] = nest
    return e

def acq(t, lock, mode="W", cls=None, sub=None, nest=None): return ev(t, "acquire", lock, cls, mode, sub, nest)
def tryacq(t, lock, mode="W", cls=None, sub=None): return ev(t, "try_acquire", lock, cls, mode, sub)
def rel(t, lock, cls=None): return ev(t, "release", lock, cls)
def dg(t, lock, cls=None): return ev(t, "downgrade", lock, cls)
def free(t, lock, cls=None): return ev(t, "free", lock, cls)

def held(t, lock, hmode):
    """Acquire lock in holder mode W/R/RR/D (D = write then downgrade)."""
    if hmode == "D": return [acq(t, lock, "W"), dg(t, lock)]
    return [acq(t, lock, hmode)]

def nest_seq(t, locks, mode="W"):
    """Acquire locks in order then release in reverse."""
    return [acq(t, l, mode) for l in locks] + [rel(t, l) for l in reversed(locks)]

def pair(t, a, am, b, bm):
    """t holds a in holder mode am, acquires b in waiter mode bm, releases both."""
    return held(t, a, am) + [acq(t, b, bm), rel(t, b), rel(t, a)]

traces = {}
def T(name, events, expect, why=""):
    traces[name] = (events, expect, why)

# ---------------- cycles ----------------
T("cyc2_threads", nest_seq("T1", ["A", "B"]) + nest_seq("T2", ["B", "A"]),
  ["circular_dependency A,B"], "A->B (EN) by T1, B->A (EN) by T2: strong 2-cycle.")
T("cyc2_one_thread", nest_seq("T1", ["A", "B"]) + nest_seq("T1", ["B", "A"]),
  ["circular_dependency A,B"], "Same AB-BA inversion, both orders in one thread at different times.")
T("cyc3_threads", nest_seq("T1", ["A", "B"]) + nest_seq("T2", ["B", "C"]) + nest_seq("T3", ["C", "A"]),
  ["circular_dependency A,B,C"], "A->B, B->C, C->A all EN.")
T("cyc3_one_thread", nest_seq("T1", ["A", "B"]) + nest_seq("T1", ["B", "C"]) + nest_seq("T1", ["C", "A"]),
  ["circular_dependency A,B,C"], "Same 3-cycle, one thread.")
L5 = ["A", "B", "C", "D", "E"]
T("cyc5_threads", sum([nest_seq("T%d" % (i + 1), [L5[i], L5[(i + 1) % 5]]) for i in range(5)], []),
  ["circular_dependency A,B,C,D,E"], "A->B->C->D->E->A, each edge EN from a different thread.")
T("cyc5_one_thread", sum([nest_seq("T1", [L5[i], L5[(i + 1) % 5]]) for i in range(5)], []),
  ["circular_dependency A,B,C,D,E"], "5-cycle in one thread.")
T("interleaved_real_deadlock",
  [acq("T1", "A"), acq("T2", "B"), acq("T1", "B"), acq("T2", "A")],
  ["circular_dependency A,B"],
  "Recorded trace of a real ABBA deadlock: both threads end up blocked, nothing released.\n"
  "Design: replay never blocks, so a trace of a real deadlock can be replayed. Locks still held at\n"
  "end of trace are NOT expected to produce held_at_exit (no thread exit op exists in the trace contract).")
T("interleaved_three_threads",
  [acq("T1", "A"), acq("T2", "B"), acq("T3", "X", "R"), acq("T1", "B"), acq("T2", "C"),
   rel("T3", "X"), rel("T1", "B"), acq("T3", "C"), rel("T2", "C"), rel("T1", "A"),
   rel("T2", "B"), acq("T3", "A"), rel("T3", "A"), rel("T3", "C")],
  ["circular_dependency A,B,C"],
  "Interleaved: T1 A->B, T2 B->C, T3 C->A; X is unrelated noise (nothing taken under X).")
DEEP = ["L%02d" % i for i in range(1, 13)]
T("deep_nesting_none", nest_seq("T1", DEEP) + nest_seq("T2", DEEP),
  ["none"], "12-deep nesting in a consistent order twice: no cycle, depth 12 is reasonable (kernel bound 48).")
T("deep_nesting_cycle", nest_seq("T1", DEEP) + nest_seq("T2", ["L07", "L06"]),
  ["circular_dependency L06,L07"],
  "Edges Li->Lj for all i<j (every held lock). L07->L06 closes exactly one cycle: the only path\n"
  "L06 ~> L07 is the direct edge because all other edges go from lower to higher index.")

# ------------- 12 holder x waiter combos (symmetric two-lock inversion) -------------
# T1 holds A (mode h) and takes B (mode w); T2 holds B (mode h) and takes A (mode w).
for h in ["W", "R", "RR", "D"]:
    for w in ["W", "R", "RR"]:
        shared = h != "W"
        rec = w == "RR"
        dt = ("S" if shared else "E") + ("R" if rec else "N")
        strong = not (shared and rec)
        T("mode_%s_%s" % (h, w), pair("T1", "A", h, "B", w) + pair("T2", "B", h, "A", w),
          ["circular_dependency A,B"] if strong else ["none"],
          "Holder %s = %s holder, waiter %s = %s waiter: both edges -(%s)->.\n"
          "Cycle A-(%s)->B-(%s)->A is %s: %s" % (
              h, "shared" if shared else "exclusive", w, "recursive" if rec else "non-recursive", dt, dt, dt,
              "strong" if strong else "NOT strong",
              "an edge ending in a recursive-read waiter is followed by one starting from a shared holder."
              if not strong else "no (*R) edge followed by an (S*) edge."))

# ------------- asymmetric two-lock inversions -------------
T("asym_Rw_Wrr", pair("T1", "A", "R", "B", "W") + pair("T2", "B", "W", "A", "RR"),
  ["none"], "A-(SN)->B, B-(ER)->A. Pair B-(ER)->A-(SN)->B: ends recursive, next starts shared -> not strong.\n"
  "Reality: T2 rr-reads A while T1 only read-holds A: never blocks.")
T("asym_Wrr_Rw", pair("T1", "A", "W", "B", "RR") + pair("T2", "B", "R", "A", "W"),
  ["none"], "A-(ER)->B, B-(SN)->A: (ER) then (SN) breaks strength.")
T("asym_RRw_Wr", pair("T1", "A", "RR", "B", "W") + pair("T2", "B", "W", "A", "R"),
  ["circular_dependency A,B"], "A-(SN)->B, B-(EN)->A: both end non-recursive -> strong.")
T("asym_Drr_Ww", pair("T1", "A", "D", "B", "RR") + pair("T2", "B", "W", "A", "W"),
  ["circular_dependency A,B"], "A-(SR)->B (D is a shared holder), B-(EN)->A. SR then EN: next starts exclusive, ok;\n"
  "EN then SR: ends non-recursive, ok -> strong. Reality: T1 (A downgraded) waits rr on B held W by T2;\n"
  "T2 waits W on A, which D excludes.")
T("asym_Drr_Rw", pair("T1", "A", "D", "B", "RR") + pair("T2", "B", "R", "A", "W"),
  ["none"], "A-(SR)->B, B-(SN)->A: SR followed by SN -> not strong.")
T("asym_RRrr_Wrr", pair("T1", "A", "RR", "B", "RR") + pair("T2", "B", "W", "A", "RR"),
  ["none"], "A-(SR)->B, B-(ER)->A: ER followed by SR (wrap) -> not strong.")
T("asym_Wr_RRw", pair("T1", "A", "W", "B", "R") + pair("T2", "B", "RR", "A", "W"),
  ["circular_dependency A,B"], "A-(EN)->B, B-(SN)->A: strong (a non-recursive reader waiter can block behind a queued writer).")
T("asym_Wrr_Drr", pair("T1", "A", "W", "B", "RR") + pair("T2", "B", "D", "A", "RR"),
  ["none"], "A-(ER)->B, B-(SR)->A: ER then SR -> not strong.")

# ------------- three-lock strong-path subtleties -------------
T("strong3_wrap_broken",
  pair("T1", "A", "R", "B", "W") + pair("T2", "B", "W", "C", "W") + pair("T3", "C", "R", "A", "RR"),
  ["none"], "A-(SN)->B, B-(EN)->C, C-(SR)->A (closing edge). C-(SR)->A then A-(SN)->B: recursive then shared -> not strong.\n"
  "The break is exactly at the closing edge's waiter vs the first path edge's holder.")
T("strong3_mid_broken",
  pair("T1", "A", "W", "B", "W") + pair("T2", "B", "W", "C", "RR") + pair("T3", "C", "R", "A", "W"),
  ["none"], "A-(EN)->B, B-(ER)->C, C-(SN)->A: ER then SN -> not strong.")
T("strong3_ok",
  pair("T1", "A", "W", "B", "RR") + pair("T2", "B", "W", "C", "W") + pair("T3", "C", "R", "A", "RR"),
  ["circular_dependency A,B,C"], "A-(ER)->B, B-(EN)->C, C-(SR)->A: ER->EN ok (E start), EN->SR ok (N end), SR->ER ok (E start) -> strong.")
T("strong_search_state",
  pair("T1", "A", "W", "B", "W") + pair("T2", "B", "W", "X", "W") + pair("T3", "A", "R", "X", "RR")
  + pair("T4", "X", "R", "Z", "W") + pair("T5", "Z", "W", "A", "W"),
  ["circular_dependency A,B,X,Z"],
  "A-(EN)->B, B-(EN)->X, A-(SR)->X, X-(SN)->Z, Z-(EN)->A (closing).\n"
  "A->X->Z->A is not strong (SR then SN), but A->B->X->Z->A (EN,EN,SN,EN) is strong.\n"
  "A search that marks X visited when first reached via the short SR edge and never revisits it\n"
  "with the non-recursive state would miss this; the design's definition says it is a deadlock.")
T("edge_type_union",
  pair("T1", "A", "W", "B", "RR") + pair("T2", "A", "R", "B", "W") + pair("T3", "B", "R", "A", "W"),
  ["circular_dependency A,B"],
  "A->B carries {ER, SN}; B-(SN)->A. With ER: ER->SN not strong. With SN: SN->SN strong -> deadlock.\n"
  "Design: each edge keeps the set of dependency types seen.")
T("edge_type_added_later",
  pair("T1", "A", "RR", "B", "RR") + pair("T2", "B", "R", "A", "W") + pair("T3", "A", "W", "B", "W"),
  ["circular_dependency A,B"],
  "After T1,T2: A-(SR)->B, B-(SN)->A: not strong (SR->SN), no report yet.\n"
  "T3 adds type EN to the existing edge A->B: A-(EN)->B-(SN)->A is strong -> reported when the type is added.")
T("every_held_direct",
  [acq("T1", "A", "W"), acq("T1", "B", "RR"), acq("T1", "C", "W"), rel("T1", "C"), rel("T1", "B"), rel("T1", "A")]
  + pair("T2", "C", "W", "A", "W"),
  ["circular_dependency A,C"],
  "T1 holds A(W), B(RR), takes C(W): edges A-(ER)->B, B-(SN)->C and (every held lock) A-(EN)->C.\n"
  "C-(EN)->A closes: A->B->C->A not strong (ER then SN); A-(EN)->C-(EN)->A strong.\n"
  "Only found because the edge from the non-nearest held lock A is recorded.")

# ------------- trylock -------------
T("try_first_edge", [acq("T1", "A"), tryacq("T1", "B"), rel("T1", "B"), rel("T1", "A")] + nest_seq("T2", ["B", "A"]),
  ["none"], "Trylock B under A adds no A->B edge; only B->A exists.")
T("try_second_edge", nest_seq("T1", ["A", "B"]) + [acq("T2", "B"), tryacq("T2", "A"), rel("T2", "A"), rel("T2", "B")],
  ["none"], "Only A->B exists; trylock A under B adds no edge.")
T("try_held_cycle", [tryacq("T1", "A"), acq("T1", "B"), rel("T1", "B"), rel("T1", "A")] + nest_seq("T2", ["B", "A"]),
  ["circular_dependency A,B"], "Locks acquired while a trylock-held lock is held get edges from it: A->B; then B->A.")
T("try_no_aa", [acq("T1", "a1", cls="A"), tryacq("T1", "a2", cls="A"), rel("T1", "a2", cls="A"), rel("T1", "a1", cls="A")],
  ["none"], "A successful trylock is not checked for same-class recursion.")
T("try_then_blocking_aa", [tryacq("T1", "a1", cls="A"), acq("T1", "a2", cls="A"), rel("T1", "a2", cls="A"), rel("T1", "a1", cls="A")],
  ["recursive_locking A"], "The held one was trylocked but the new acquisition is blocking: same class, same subclass, writes -> AA.")
T("try_chain_cache",
  [acq("T1", "A"), tryacq("T1", "B"), rel("T1", "B"), acq("T1", "B"), rel("T1", "B"), rel("T1", "A")] + nest_seq("T2", ["B", "A"]),
  ["circular_dependency A,B"],
  "First B under A is a trylock (no edge); the later blocking B under A (same held classes and modes) must add A->B.\n"
  "A chain cache that cached the trylock's chain would skip it and miss the cycle.")
T("try_middle_none",
  [acq("T1", "A"), tryacq("T1", "B"), acq("T1", "C"), rel("T1", "C"), rel("T1", "B"), rel("T1", "A")] + nest_seq("T2", ["B", "A"]),
  ["none"], "T1: A, try B, C: edges A->C, B->C, no A->B. T2 B->A: no path A~>B -> none.")
T("try_middle_edge",
  [acq("T1", "A"), tryacq("T1", "B"), acq("T1", "C"), rel("T1", "C"), rel("T1", "B"), rel("T1", "A")] + nest_seq("T2", ["C", "B"]),
  ["circular_dependency B,C"], "B->C recorded (C taken while trylock-held B held); C->B closes it.")

# ------------- AA (same-class recursion) -------------
def aa(h, w, sub1=None, sub2=None):
    ev_ = held("T1", "a1", h) if h != "D" else [acq("T1", "a1", "W", cls="A"), dg("T1", "a1", cls="A")]
    if h != "D": ev_ = [acq("T1", "a1", h, cls="A", sub=sub1)]
    return ev_ + [acq("T1", "a2", w, cls="A", sub=sub2), rel("T1", "a2", cls="A"), rel("T1", "a1", cls="A")]
T("aa_w_w", aa("W", "W"), ["recursive_locking A"], "Two instances of class A, both write.")
T("aa_same_instance", [acq("T1", "A"), acq("T1", "A"), rel("T1", "A"), rel("T1", "A")], ["recursive_locking A"],
  "Same instance locked twice. Design 'warn: record and go on': the second acquisition is taken to be held, so two releases balance.")
T("aa_r_r", aa("R", "R"), ["recursive_locking A"], "New acquisition is a non-recursive read: reported.")
T("aa_r_rr", aa("R", "RR"), ["none"], "New is recursive read, held is a reader (R).")
T("aa_rr_rr", aa("RR", "RR"), ["none"], "New is recursive read, held is a reader (RR). (A self-edge A-(SR)->A is not a strong cycle.)")
T("aa_w_rr", aa("W", "RR"), ["recursive_locking A"], "Held is a writer: reported even though new is RR.")
T("aa_rr_r", aa("RR", "R"), ["recursive_locking A"], "New is non-recursive read: reported.")
T("aa_rr_w", aa("RR", "W"), ["recursive_locking A"], "New is write: reported.")
T("aa_d_rr", aa("D", "RR"), ["none"], "Held D counts as a reader for this rule (design: 'held one is a reader (R, RR or D)').")
T("aa_d_r", aa("D", "R"), ["recursive_locking A"], "New is non-recursive read under D: reported.")
T("aa_d_w", aa("D", "W"), ["recursive_locking A"], "New is write under D: reported.")
T("aa_subclass_diff", aa("W", "W", 0, 1), ["none"], "Different subclasses (0 and 1): deliberate nesting, not reported.")
T("aa_subclass_same", aa("W", "W", 1, 1), ["recursive_locking A"], "Both subclass 1: reported.")
T("aa_subclass_chain_cache", aa("W", "W", 0, 1) + aa("W", "W", 0, 0), ["recursive_locking A"],
  "First A/0 then A/1 (fine), then A/0 then A/0: must be reported; a chain key that ignored subclasses would wrongly skip it.")
T("aa_mode_chain_cache", aa("R", "RR") + aa("R", "R"), ["recursive_locking A"],
  "R then RR (fine), then R then R: reported; chain key includes modes.")
T("aa_cross_thread", [acq("T1", "a1", cls="A"), acq("T2", "a2", cls="A"), rel("T1", "a1", cls="A"), rel("T2", "a2", cls="A")],
  ["none"], "Held-lock stacks are per thread: two threads each holding one A is not recursion.")
T("shared_read_two_threads", [acq("T1", "A", "R"), acq("T2", "A", "R"), rel("T1", "A"), rel("T2", "A")],
  ["none"], "Two threads read-holding the same instance: no report.")

# ------------- bad unlock -------------
T("unlock_never_acquired", [rel("T1", "A")], ["bad_unlock A"], "Release of a lock never acquired.")
T("unlock_other_thread", [acq("T1", "A"), rel("T2", "A"), rel("T1", "A")], ["bad_unlock A"],
  "T2 releases a lock only T1 holds: T2 does not hold it. T1's own release is fine afterwards.")
T("unlock_double", [acq("T1", "A"), rel("T1", "A"), rel("T1", "A")], ["bad_unlock A"], "Second release of a lock no longer held.")

# ------------- bad downgrade -------------
T("dg_not_held", [dg("T1", "A")], ["bad_downgrade A"], "Downgrade of a lock not held.")
T("dg_read", [acq("T1", "A", "R"), dg("T1", "A"), rel("T1", "A")], ["bad_downgrade A"], "Held for read, not write.")
T("dg_rr", [acq("T1", "A", "RR"), dg("T1", "A"), rel("T1", "A")], ["bad_downgrade A"], "Held for recursive read, not write.")
T("dg_twice", [acq("T1", "A", "W"), dg("T1", "A"), dg("T1", "A"), rel("T1", "A")], ["bad_downgrade A"],
  "Second downgrade: lock is held Downgraded, no longer for write.")
T("dg_other_thread", [acq("T1", "A", "W"), dg("T2", "A"), rel("T1", "A")], ["bad_downgrade A"],
  "T2 does not hold A (T1 does).")
T("dg_ok", [acq("T1", "A", "W"), dg("T1", "A"), rel("T1", "A")], ["none"], "Valid write -> downgrade -> release.")

# ------------- free -------------
T("free_other_thread", [acq("T1", "A"), free("T2", "A"), rel("T1", "A")], ["lock_freed_while_held A"],
  "free while any thread holds it. (T1's later release assumed harmless: free only reports.)")
T("free_same_thread", [acq("T1", "A"), free("T1", "A"), rel("T1", "A")], ["lock_freed_while_held A"], "Holder frees its own held lock.")
T("free_after_release", [acq("T1", "A"), rel("T1", "A"), free("T2", "A")], ["none"], "Not held any more.")
T("free_other_instance", [acq("T1", "a1", cls="A"), free("T2", "a2", cls="A"), rel("T1", "a1", cls="A")], ["none"],
  "free is about the instance: a different instance of the held class is freed.")
T("free_read_held", [acq("T1", "A", "R"), acq("T2", "A", "R"), rel("T1", "A"), free("T1", "A"), rel("T2", "A")],
  ["lock_freed_while_held A"], "T1 released but T2 still read-holds A: 'if any thread holds it'.")

# ------------- nest_lock -------------
T("nest_held",
  [acq("T1", "M", cls="mm"), acq("T1", "v1", cls="vma", nest="M"), acq("T1", "v2", cls="vma", nest="M"),
   acq("T1", "v3", cls="vma", nest="M"), rel("T1", "v3", cls="vma"), rel("T1", "v1", cls="vma"), rel("T1", "v2", cls="vma"),
   rel("T1", "M", cls="mm")],
  ["none"], "Many instances of class vma nested under the held nest lock M: no recursion report.")
T("nest_not_held", [acq("T1", "v1", cls="vma", nest="M"), rel("T1", "v1", cls="vma")],
  ["class_violation vma"], "nest_lock M not held -> class_violation (classes: the acquired class; M was never seen, its class unknown).")
T("nest_other_thread",
  [acq("T1", "M", cls="mm"), acq("T2", "v1", cls="vma", nest="M"), rel("T2", "v1", cls="vma"), rel("T1", "M", cls="mm")],
  ["class_violation vma"], "M held by T1, but the acquiring thread T2 does not hold it.\n"
  "(If the implementation also names the nest lock's class the line would read 'class_violation mm,vma'.)")
T("nest_no_edges",
  [acq("T1", "M", cls="mm"), acq("T1", "v1", cls="vma", nest="M"), rel("T1", "v1", cls="vma"), rel("T1", "M", cls="mm"),
   acq("T2", "v1", cls="vma"), acq("T2", "M", cls="mm"), rel("T2", "M", cls="mm"), rel("T2", "v1", cls="vma")],
  ["none"], "Design: 'such a nested acquisition adds no edges', so no mm->vma edge; T2's vma->mm then closes no cycle.")

# ------------- out of order release -------------
T("ooo_release_none", [acq("T1", "A"), acq("T1", "B"), rel("T1", "A"), rel("T1", "B")] * 2, ["none"],
  "Releasing not in LIFO order is allowed.")
T("ooo_release_reacquire",
  [acq("T1", "a1", cls="A"), acq("T1", "B"), rel("T1", "a1", cls="A"), acq("T1", "a2", cls="A"),
   rel("T1", "a2", cls="A"), rel("T1", "B")],
  ["circular_dependency A,B"], "A released out of order, so taking a2 (class A) is not AA; but B is held: B->A, and A->B exists.")

# ------------- dedup and multiple reports -------------
T("dedup_same_cycle", nest_seq("T1", ["A", "B"]) + nest_seq("T2", ["B", "A"]) + nest_seq("T3", ["B", "A"]) + nest_seq("T2", ["B", "A"]),
  ["circular_dependency A,B"], "Same problem seen several times: reported once (dedup by classes).")
T("multi_reports",
  nest_seq("T1", ["A", "B"]) + nest_seq("T2", ["B", "A"]) + [rel("T3", "C")]
  + [acq("T4", "d1", cls="D"), acq("T4", "d2", cls="D"), rel("T4", "d2", cls="D"), rel("T4", "d1", cls="D")],
  ["circular_dependency A,B", "bad_unlock C", "recursive_locking D"], "Three distinct problems, all reported.")

os.makedirs(OUT, exist_ok=True)
for name, (events, expect, why) in traces.items():
    with open(os.path.join(OUT, name + ".jsonl"), "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
    with open(os.path.join(OUT, name + ".expect"), "w") as f:
        for line in expect:
            f.write(line + "\n")
        for w in why.splitlines():
            f.write("# " + w + "\n")
print(len(traces), "traces")
