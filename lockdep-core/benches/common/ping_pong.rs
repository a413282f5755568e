// N condvar round trips between the calling thread and a partner thread, written against
// std's API: each side waits until the counter's parity is its own, bumps it and notifies.
// The including module brings `Arc`, `Condvar` and `Mutex` into scope (std's or
// `lockdep_core::std::sync`'s): `benches/hotpath.rs`, `--count condvar VARIANT N`.
pub fn round_trips(n: u64) {
    let pair = Arc::new((Mutex::new(0u64), Condvar::new()));
    let partner = Arc::clone(&pair);
    let t = std::thread::spawn(move || {
        let (m, cv) = &*partner;
        let mut g = m.lock().unwrap();
        for _ in 0..n {
            while *g % 2 == 0 {
                g = cv.wait(g).unwrap();
            }
            *g += 1;
            cv.notify_one();
        }
    });
    let (m, cv) = &*pair;
    let mut g = m.lock().unwrap();
    for _ in 0..n {
        *g += 1;
        cv.notify_one();
        while *g % 2 == 1 {
            g = cv.wait(g).unwrap();
        }
    }
    drop(g);
    t.join().unwrap();
}
