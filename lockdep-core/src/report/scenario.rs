//! The "possible unsafe locking scenario" of a cycle: per-thread steps that deadlock.

use super::{ChainLink, Mode, Step};

/// The lock call a thread makes to take a lock in `mode`, as shown in scenarios.
pub fn verb(mode: Mode) -> &'static str {
    match mode {
        Mode::Write => "lock",
        Mode::Read => "read_lock",
        Mode::RecursiveRead => "recursive_read_lock",
        Mode::Downgraded => "lock+downgrade",
    }
}

/// Per-thread steps that deadlock for a cycle; thread `Ti` holds `chain[i].from` and waits
/// for `chain[i].to`, held by thread `Ti+1`. A non-recursive reader waiting on a shared holder
/// blocks only behind a queued writer, so such a step adds the writer `TW`.
pub fn cycle_scenario(chain: &[ChainLink]) -> Vec<Step> {
    let n = chain.len();
    let name = |i: usize| format!("T{i}");
    let mut steps = Vec::new();
    for (i, l) in chain.iter().enumerate() {
        let action = if l.from.mode == Mode::Downgraded {
            format!("lock({}); downgrade({})", l.from.class, l.from.class)
        } else {
            format!("{}({})", verb(l.from.mode), l.from.class)
        };
        steps.push(Step { thread: name(i), action });
    }
    for (i, l) in chain.iter().enumerate() {
        let j = (i + 1) % n;
        let holder = chain[j].from.mode;
        if l.to.mode == Mode::Read && holder.is_shared_holder() {
            steps.push(Step {
                thread: "TW".into(),
                action: format!("lock({})  <- queued writer, waits for T{j}", l.to.class),
            });
            steps.push(Step {
                thread: name(i),
                action: format!("read_lock({})  <- waits behind TW", l.to.class),
            });
        } else {
            steps.push(Step {
                thread: name(i),
                action: format!("{}({})  <- waits for T{j}", verb(l.to.mode), l.to.class),
            });
        }
    }
    steps
}
