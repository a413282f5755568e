// A small job queue written against `std::sync`, compiled twice by `main.rs`: once with std's
// types and once with lockdep's (the `use` line in front of the `include!` is the only
// difference). Nothing below names either family.
use std::collections::{HashMap, VecDeque};
use std::thread;
use std::time::Duration;

pub fn run() -> Vec<String> {
    let queue = Arc::new((Mutex::new(VecDeque::new()), Condvar::new()));
    let config = Arc::new(RwLock::new(HashMap::from([("scale", 10u64)])));
    let results = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (queue, config, results) = (queue.clone(), config.clone(), results.clone());
            thread::spawn(move || loop {
                let (lock, ready) = &*queue;
                let mut jobs = ready.wait_while(lock.lock().unwrap(), |q| q.is_empty()).unwrap();
                let job: u64 = jobs.pop_front().unwrap();
                drop(jobs);
                if job == 0 {
                    return;
                }
                let scale = config.read().unwrap()["scale"];
                results.lock().unwrap().push(format!("{job}x{scale}={}", job * scale));
            })
        })
        .collect();
    let (lock, ready) = &*queue;
    for job in [1, 2, 3, 0, 0] {
        lock.lock().unwrap().push_back(job);
        ready.notify_one();
    }
    for w in workers {
        w.join().unwrap();
    }
    // A try_lock that finds the lock free, a timed wait that times out, a poisoned mutex.
    let free = match results.try_lock() {
        Ok(_) => "free",
        Err(TryLockError::WouldBlock) => "busy",
        Err(TryLockError::Poisoned(_)) => "poisoned",
    };
    let (_jobs, waited) = ready.wait_timeout(lock.lock().unwrap(), Duration::from_millis(5)).unwrap();
    let poisoned = Arc::new(Mutex::new(0));
    let p = poisoned.clone();
    let _ = thread::spawn(move || {
        let _g = p.lock().unwrap();
        panic!("a worker panics while holding the lock (expected)");
    })
    .join();
    let value = poisoned.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = results.lock().unwrap().clone();
    out.sort();
    out.push(format!("try_lock: {free}, timed out: {}", waited.timed_out()));
    out.push(format!("poisoned: {}, value {}", poisoned.is_poisoned(), *value));
    out
}
