fn main() {
    let m: &'static lockdep_core::Mutex<u32> = Box::leak(Box::new(lockdep_core::Mutex::new(0)));
    let g = m.lock();
    std::thread::spawn(move || drop(g));
}
