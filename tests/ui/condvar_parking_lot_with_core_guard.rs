// A guard of the core lock types (`lockdep_core::Mutex`) cannot be given to a family's
// `Condvar` either.
fn main() {
    let m = lockdep_core::Mutex::new(false);
    let cv = lockdep_core::parking_lot::Condvar::new();
    let mut g = m.lock();
    cv.wait(&mut g);
}
