// A guard of the parking_lot family cannot be given to the std family's `Condvar`.
use lockdep_core::{parking_lot, std::sync};

fn main() {
    let m = parking_lot::Mutex::new(false);
    let cv = sync::Condvar::new();
    let g = m.lock();
    let _ = cv.wait(g);
}
