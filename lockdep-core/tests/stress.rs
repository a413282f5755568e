//! Scale: 64 threads and 1,000 classes acquiring random but consistent orders (ascending
//! class index) for a bounded time, on shared lock instances. Checks: no false report, no
//! deadlock inside the tracer (a watchdog aborts the process), and bounded memory (chain
//! count within the number of distinct chains the orders can make; bounded RSS growth).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use lockdep_core::{LockClassKey, Mutex, OnReport};

const THREADS: usize = 64;
const CLASSES: usize = 1_000;
const MAX_DEPTH: usize = 4;
/// Each next class is 1 or 2 above the previous one.
const STEPS: usize = 2;
const RUN: Duration = Duration::from_millis(2_500);

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn sixty_four_threads_thousand_classes_consistent_orders() {
    lockdep_core::set_on_report(OnReport::Warn);
    let done = Arc::new(AtomicBool::new(false));
    {
        // Watchdog: a deadlock inside the tracer would hang the test; fail loudly instead.
        let done = done.clone();
        std::thread::spawn(move || {
            let t = Instant::now();
            while !done.load(Ordering::Relaxed) {
                if t.elapsed() > Duration::from_secs(120) {
                    eprintln!("stress: no progress after 120 s: deadlock inside the tracer?");
                    std::process::abort();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
    }
    let keys: Vec<&'static LockClassKey> = (0..CLASSES)
        .map(|i| {
            let name: &'static str = Box::leak(format!("stress_{i}").into_boxed_str());
            &*Box::leak(Box::new(LockClassKey::new(name)))
        })
        .collect();
    let locks: Arc<Vec<Mutex<u64>>> =
        Arc::new(keys.iter().map(|k| Mutex::with_key(0, k)).collect());
    let chains_before = lockdep_core::validator().chains();
    let rss_before = rss_kib();
    let total = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (locks, total, barrier) = (locks.clone(), total.clone(), barrier.clone());
            std::thread::Builder::new()
                .name(format!("stress-{t}"))
                .spawn(move || {
                    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((t as u64 + 1) << 32));
                    let mut guards = Vec::with_capacity(MAX_DEPTH);
                    let mut n = 0u64;
                    barrier.wait();
                    let start = Instant::now();
                    while start.elapsed() < RUN {
                        let depth = 1 + rng.below(MAX_DEPTH);
                        let mut c = rng.below(CLASSES);
                        for _ in 0..depth {
                            if c >= CLASSES {
                                break;
                            }
                            let mut g = locks[c].lock();
                            *g += 1;
                            guards.push(g);
                            n += 1;
                            c += 1 + rng.below(STEPS);
                        }
                        if rng.below(2) == 0 {
                            // Out-of-order release: outermost first.
                            guards.drain(..);
                        } else {
                            while guards.pop().is_some() {}
                        }
                        assert_eq!(lockdep_core::held_count(), 0);
                    }
                    total.fetch_add(n, Ordering::Relaxed);
                })
                .unwrap()
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);

    let acquisitions = total.load(Ordering::Relaxed);
    let sum: u64 = locks.iter().map(|l| *l.lock()).sum();
    assert_eq!(sum, acquisitions, "every increment happened under its lock");

    let false_reports: Vec<_> = lockdep_core::reports()
        .into_iter()
        .filter(|r| r.classes.iter().any(|c| c.starts_with("stress_")))
        .collect();
    assert!(
        false_reports.is_empty(),
        "false report(s) on consistent orders: {:#?}",
        false_reports.iter().map(|r| (&r.kind, &r.message)).collect::<Vec<_>>()
    );

    // Distinct chains the orders can make: a start class, then up to MAX_DEPTH - 1 steps of
    // 1..=STEPS, i.e. CLASSES * (1 + STEPS + STEPS^2 + STEPS^3).
    let bound: usize = CLASSES * (0..MAX_DEPTH as u32).map(|d| STEPS.pow(d)).sum::<usize>();
    let chains = lockdep_core::validator().chains() - chains_before;
    let rss_after = rss_kib();
    eprintln!(
        "stress: {acquisitions} acquisitions by {THREADS} threads in {RUN:?}; {chains} new \
         chains (bound {bound}); VmRSS {rss_before} -> {rss_after} KiB"
    );
    assert!(acquisitions > THREADS as u64, "every thread made progress");
    assert!(chains <= bound, "{chains} chains > {bound}: chains must not grow per acquisition");
    // Memory is bounded by classes, edges and chains (a backtrace per new chain), not by
    // acquisitions.
    let growth = rss_after.saturating_sub(rss_before);
    assert!(growth < 256 * 1024, "RSS grew by {growth} KiB");
}
