//! The "possible unsafe locking scenario": per-thread steps that deadlock. The one builder of
//! scenario text for the validator, replay and `lockdep-report merge`.

use super::{Acquisition, ChainLink, Mode, NodeKind, Step};

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
    if chain.iter().any(|l| l.from.node == NodeKind::Event || l.to.node == NodeKind::Event) {
        return event_cycle_scenario(chain);
    }
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
        if l.to.mode.waits_behind_queued_writer(holder) {
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

/// The scenario of a thread `thread` that holds `class` in mode `held` and takes it (or
/// another lock of its class) again in mode `new`. A non-recursive reader behind its own
/// shared hold blocks only behind a queued writer, so that step adds the writer.
pub fn recursive_scenario(thread: &str, class: &str, held: Mode, new: Mode) -> Vec<Step> {
    let step = |t: &str, action: String| Step { thread: t.to_string(), action };
    let mut steps = vec![step(thread, format!("{}({class})", verb(held)))];
    if new.waits_behind_queued_writer(held) {
        steps.push(step(
            "another thread",
            format!("lock({class})  <- queued writer, waits for {thread}"),
        ));
        steps.push(step(thread, format!("read_lock({class})  <- waits behind the queued writer")));
    } else {
        steps.push(step(thread, format!("{}({class})  <- waits for itself", verb(new))));
    }
    steps
}

/// The wait and signal calls of an event, as shown in scenarios: `join`/`exit` for a thread's
/// exit (`exit(...)`), `wait`/`notify` otherwise.
fn event_verbs(e: &Acquisition) -> (String, String) {
    match e.class.strip_prefix("exit(").and_then(|t| t.strip_suffix(')')) {
        Some(t) => (format!("join({t})"), format!("exit of {t}")),
        None => (format!("wait({})", e.class), format!("notify({})", e.class)),
    }
}

/// The scenario of a cycle through events: thread `Ti` holds (or owes the signal of)
/// `chain[i].from` and waits for `chain[i].to`; a thread that owes a signal never reaches it.
fn event_cycle_scenario(chain: &[ChainLink]) -> Vec<Step> {
    // The first thread is a waiter: a lock held while waiting for an event.
    let first = chain
        .iter()
        .position(|l| l.from.node == NodeKind::Lock && l.to.node == NodeKind::Event)
        .unwrap_or(0);
    let mut rotated = chain.to_vec();
    rotated.rotate_left(first);
    let chain = &rotated[..];
    let n = chain.len();
    let name = |i: usize| format!("T{i}");
    let mut steps = Vec::new();
    for (i, l) in chain.iter().enumerate() {
        if l.from.node == NodeKind::Lock {
            steps.push(Step {
                thread: name(i),
                action: format!("{}({})", verb(l.from.mode), l.from.class),
            });
        }
    }
    for (i, l) in chain.iter().enumerate() {
        let j = (i + 1) % n;
        let wait = match l.to.node {
            NodeKind::Lock => format!("{}({})", verb(l.to.mode), l.to.class),
            NodeKind::Event => event_verbs(&l.to).0,
        };
        steps.push(Step { thread: name(i), action: format!("{wait}  <- waits for T{j}") });
        if l.from.node == NodeKind::Event {
            let signal = event_verbs(&l.from).1;
            steps.push(Step { thread: name(i), action: format!("{signal}  <- never reached") });
        }
    }
    steps
}
