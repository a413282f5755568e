// A guard of the std family cannot be given to the parking_lot family's `Condvar`.
use lockdep_core::{parking_lot, std::sync};

fn main() {
    let m = sync::Mutex::new(false);
    let cv = parking_lot::Condvar::new();
    let mut g = m.lock().unwrap();
    cv.wait(&mut g);
}
