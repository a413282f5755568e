// A small cache written against `parking_lot`, compiled twice by `main.rs`: once with
// parking_lot's types and once with lockdep's (the `use` line in front of the `include!` is
// the only difference). Nothing below names either family.
use std::collections::HashMap;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

pub fn run() -> Vec<String> {
    let cache = Arc::new(RwLock::new(HashMap::<u32, String>::new()));
    let filled = Arc::new((Mutex::new(0usize), Condvar::new()));
    let writers: Vec<_> = (0..3u32)
        .map(|i| {
            let (cache, filled) = (cache.clone(), filled.clone());
            thread::spawn(move || {
                // Read, and upgrade only when the entry is missing.
                let entry = cache.upgradable_read();
                if !entry.contains_key(&i) {
                    let mut entry = RwLockUpgradableReadGuard::upgrade(entry);
                    entry.insert(i, format!("value {i}"));
                }
                let (count, cv) = &*filled;
                *count.lock() += 1;
                cv.notify_all();
            })
        })
        .collect();
    let (count, cv) = &*filled;
    let mut n = count.lock();
    while *n < 3 {
        cv.wait(&mut n);
    }
    drop(n);
    for w in writers {
        w.join().unwrap();
    }
    let mut out: Vec<String> = {
        // A recursive read inside a read: fine for parking_lot's read_recursive.
        let outer = cache.read_recursive();
        let inner = cache.read_recursive();
        let mut v: Vec<_> = outer.keys().map(|k| format!("{k}: {}", inner[k])).collect();
        v.sort();
        v
    };
    let timed = count.try_lock_for(Duration::from_millis(5)).map(|g| *g);
    let timed_out = {
        let mut g = count.lock();
        cv.wait_for(&mut g, Duration::from_millis(5)).timed_out()
    };
    let held = cache.write();
    let busy = cache.try_read_for(Duration::from_millis(5)).is_none();
    drop(held);
    let downgraded = {
        let w = cache.write();
        RwLockWriteGuard::downgrade(w).len()
    };
    out.push(format!("try_lock_for: {timed:?}, wait_for timed out: {timed_out}"));
    out.push(format!("try_read_for under a writer: busy {busy}; downgraded sees {downgraded}"));
    out
}
