//! Every holder mode {W, R, RR, D} x waiter mode {W, R, RR} on a two-lock inversion.
//!
//! T1 holds A in mode `h` and takes B in mode `w`; T2 holds B in mode `h` and takes A in mode
//! `w`. The cycle is A -(h,w)-> B -(h,w)-> A. By the strong-path rule it is a deadlock unless
//! some edge ending in a recursive-read waiter (`*R`) is followed by an edge starting from a
//! shared holder (`S*`). Each verdict below is written from that rule by hand.

use lockdep_core::report::Kind;
use lockdep_core::trace;

fn trace_for(h: &str, w: &str) -> String {
    let mut s = String::new();
    for (t, first, second) in [("T1", "A", "B"), ("T2", "B", "A")] {
        let hold_mode = if h == "downgraded" { "write" } else { h };
        s.push_str(&format!(
            "{{\"thread\":\"{t}\",\"op\":\"acquire\",\"lock\":\"{first}\",\"mode\":\"{hold_mode}\"}}\n"
        ));
        if h == "downgraded" {
            s.push_str(&format!(
                "{{\"thread\":\"{t}\",\"op\":\"downgrade\",\"lock\":\"{first}\"}}\n"
            ));
        }
        s.push_str(&format!(
            "{{\"thread\":\"{t}\",\"op\":\"acquire\",\"lock\":\"{second}\",\"mode\":\"{w}\"}}\n\
             {{\"thread\":\"{t}\",\"op\":\"release\",\"lock\":\"{second}\"}}\n\
             {{\"thread\":\"{t}\",\"op\":\"release\",\"lock\":\"{first}\"}}\n"
        ));
    }
    s
}

#[test]
fn holder_by_waiter_matrix_follows_the_strong_path_rule() {
    // (holder, waiter, deadlock?, why)
    let table: [(&str, &str, bool, &str); 12] = [
        ("write", "write", true, "EN, EN: exclusive holders block everyone"),
        ("write", "read", true, "EN, EN: a reader waits for the writer holding the other lock"),
        (
            "write",
            "recursive_read",
            true,
            "ER, ER: *R then E* is allowed: readers wait for writers",
        ),
        ("read", "write", true, "SN, SN: a writer waits for the readers"),
        ("read", "read", true, "SN, SN: a non-recursive reader queues behind a waiting writer"),
        ("read", "recursive_read", false, "SR, SR: *R then S*: a recursive reader gets in"),
        ("recursive_read", "write", true, "SN, SN: a writer waits for recursive readers too"),
        ("recursive_read", "read", true, "SN, SN: as read/read"),
        ("recursive_read", "recursive_read", false, "SR, SR: readers never block readers"),
        ("downgraded", "write", true, "SN, SN: a downgraded holder still excludes writers"),
        ("downgraded", "read", true, "SN, SN: D is shared for deadlock search, as R"),
        ("downgraded", "recursive_read", false, "SR, SR: D does not exclude plain readers"),
    ];
    let mut wrong = Vec::new();
    for (h, w, deadlock, why) in table {
        let doc = trace::replay(&trace_for(h, w), &format!("{h}/{w}")).unwrap();
        let cycles: Vec<_> =
            doc.reports.iter().filter(|r| r.kind == Kind::CircularDependency).collect();
        if cycles.is_empty() == deadlock || doc.reports.len() != cycles.len() {
            wrong.push(format!(
                "holder {h} / waiter {w}: expected deadlock={deadlock} ({why}); got {:?}",
                doc.reports.iter().map(|r| r.kind).collect::<Vec<_>>()
            ));
        }
        if let Some(r) = cycles.first() {
            // The chain names both sides' modes.
            let hold = if h == "downgraded" { "downgraded" } else { h };
            assert_eq!(r.chain[0].from.mode.as_str(), hold, "{h}/{w}");
            assert_eq!(r.chain[0].to.mode.as_str(), w, "{h}/{w}");
            assert_eq!(r.chain[1].from.mode.as_str(), hold, "{h}/{w}");
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn mixed_modes_cycle_is_weak_only_where_recursive_meets_shared() {
    // A -(SR)-> B (T1 holds A read, takes B recursive-read), B -(EN)-> A (T2 writes B then A).
    // Joints: SR then EN: *R then E*: fine; EN then SR: *N: fine. Strong: deadlock (T2 holds B
    // for write, so T1's recursive read of B waits; T2's write of A waits for T1's read).
    let t = "{\"thread\":\"T1\",\"op\":\"acquire\",\"lock\":\"A\",\"mode\":\"read\"}\n\
             {\"thread\":\"T1\",\"op\":\"acquire\",\"lock\":\"B\",\"mode\":\"recursive_read\"}\n\
             {\"thread\":\"T2\",\"op\":\"acquire\",\"lock\":\"B\",\"mode\":\"write\"}\n\
             {\"thread\":\"T2\",\"op\":\"acquire\",\"lock\":\"A\",\"mode\":\"write\"}\n";
    let doc = trace::replay(t, "mixed").unwrap();
    assert_eq!(doc.reports.len(), 1);
    // A -(SR)-> B, then B -(SR)-> A from T2 holding B for (recursive) read: weak.
    let t = "{\"thread\":\"T1\",\"op\":\"acquire\",\"lock\":\"A\",\"mode\":\"read\"}\n\
             {\"thread\":\"T1\",\"op\":\"acquire\",\"lock\":\"B\",\"mode\":\"recursive_read\"}\n\
             {\"thread\":\"T2\",\"op\":\"acquire\",\"lock\":\"B\",\"mode\":\"recursive_read\"}\n\
             {\"thread\":\"T2\",\"op\":\"acquire\",\"lock\":\"A\",\"mode\":\"recursive_read\"}\n";
    let doc = trace::replay(t, "weak").unwrap();
    assert!(doc.reports.is_empty(), "{:?}", doc.reports);
}
