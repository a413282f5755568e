//! The torture driver: many threads of random operations on a few shared address spaces
//! and files, then invariant checks and a leak check after everything exited.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use parking_lot::Mutex as PMutex;

use crate::bugs::{self, Bug};
use crate::file::{AddressSpace, FileKind};
use crate::mm::Mm;
use crate::ops::{exit, fault, map, rmap};
use crate::vma::{VM_READ, VM_SHARED, VM_WRITE};

/// Torture options.
#[derive(Clone, Debug)]
pub struct Options {
    /// Worker threads.
    pub threads: usize,
    /// Run time.
    pub duration: Duration,
    /// The injected bug, if any.
    pub bug: Option<Bug>,
    /// RNG seed.
    pub seed: u64,
    /// Address spaces shared by the workers.
    pub mms: usize,
    /// Print a progress line every second.
    pub progress: bool,
    /// Stop as soon as the validator reported something.
    pub stop_on_report: bool,
    /// Fixed work instead of a run time: each worker makes this many attempts at an
    /// operation, then stops (`duration` is then only a limit), so two builds can be timed on
    /// the same work.
    pub ops: Option<u64>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            threads: 4,
            duration: Duration::from_secs(5),
            bug: None,
            seed: 0x5eed,
            mms: 4,
            progress: false,
            stop_on_report: false,
            ops: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Operations completed, per kind.
    pub ops: BTreeMap<&'static str, u64>,
    /// Wall time.
    pub elapsed: Duration,
    /// Validator reports (the whole process).
    pub reports: Vec<lockdep_core::report::Report>,
    /// Broken invariants of the model (empty when sound; not checked in bug mode).
    pub violations: Vec<String>,
    /// Worker panics (in bug mode under `LOCKDEP=panic`: the validator stopping a thread
    /// before it blocks).
    pub panics: Vec<String>,
    /// Workers still blocked at the deadline (a real deadlock the validator missed).
    pub hung: usize,
    /// Where the report file went.
    pub report_file: Option<PathBuf>,
}

impl Summary {
    /// Total operations.
    pub fn total_ops(&self) -> u64 {
        self.ops.values().sum()
    }
}

/// Operation kinds, in the order of the summary.
pub const OPS: [&str; 18] = [
    "fault_read",
    "fault_write",
    "mmap_anon",
    "mmap_file",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "fork",
    "exit",
    "reclaim",
    "truncate",
    "file_write",
    "khugepaged",
    "retract",
    "remote_access",
    "uffd_move",
    "driver_ioctl",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct World {
    slots: Vec<PMutex<Arc<Mm>>>,
    files: Vec<Arc<AddressSpace>>,
}

const FILE_PAGES: u64 = 256;

fn populate(mm: &Arc<Mm>, files: &[Arc<AddressSpace>], rng: &mut Rng) {
    let rw = VM_READ | VM_WRITE;
    map::mmap(mm, 96, rw, None, 0);
    for f in files {
        let off = rng.below(4) * 8;
        map::mmap(mm, 32, rw | VM_SHARED, Some((f.clone(), off)), 0);
    }
    map::mmap(mm, 32, rw, Some((files[0].clone(), 0)), 0);
}

impl World {
    fn new(n: usize, rng: &mut Rng) -> World {
        let files = vec![
            AddressSpace::new(FileKind::Regular, FILE_PAGES),
            AddressSpace::new(FileKind::Regular, FILE_PAGES),
            AddressSpace::new(FileKind::Hugetlb, FILE_PAGES),
            AddressSpace::new(FileKind::Device, FILE_PAGES),
        ];
        let slots = (0..n)
            .map(|_| {
                let mm = Mm::new();
                populate(&mm, &files, rng);
                PMutex::new(mm)
            })
            .collect();
        World { slots, files }
    }

    /// An address space with a user reference taken (`mmget`).
    fn grab(&self, rng: &mut Rng) -> Option<Arc<Mm>> {
        let mm = self.slots[rng.below(self.slots.len() as u64) as usize].lock().clone();
        mm.get().then_some(mm)
    }

    fn replace(&self, rng: &mut Rng, new: Arc<Mm>) {
        let old = std::mem::replace(
            &mut *self.slots[rng.below(self.slots.len() as u64) as usize].lock(),
            new,
        );
        old.put();
    }
}

fn pick_addr(mm: &Mm, rng: &mut Rng) -> u64 {
    let snap = mm.snapshot();
    if snap.is_empty() || rng.below(16) == 0 {
        return map::MAP_LO + rng.below(2048);
    }
    let v = &snap[rng.below(snap.len() as u64) as usize];
    v.start() + rng.below(v.end() - v.start())
}

fn ignore<T>(_: T) {}

fn one_op(w: &World, rng: &mut Rng, bias: Option<usize>) -> Option<&'static str> {
    let k = match bias {
        Some(b) if rng.below(3) == 0 => b,
        _ => rng.below(OPS.len() as u64) as usize,
    };
    let name = OPS[k];
    let mm = w.grab(rng)?;
    let a = pick_addr(&mm, rng);
    let file = w.files[rng.below(w.files.len() as u64) as usize].clone();
    match name {
        "fault_read" => ignore(fault::user_access(&mm, a, None)),
        "fault_write" => ignore(fault::user_access(&mm, a, Some(rng.next()))),
        "mmap_anon" => ignore(map::mmap(&mm, 1 + rng.below(96), VM_READ | VM_WRITE, None, a)),
        "mmap_file" => {
            let shared = if rng.below(2) == 0 { VM_SHARED } else { 0 };
            let off = rng.below(FILE_PAGES);
            ignore(map::mmap(
                &mm,
                1 + rng.below(48),
                VM_READ | VM_WRITE | shared,
                Some((file, off)),
                a,
            ))
        }
        "munmap" => ignore(map::munmap(&mm, a, 1 + rng.below(64))),
        "mprotect" => ignore(map::mprotect(&mm, a, 1 + rng.below(32), rng.below(3) != 0)),
        "mremap" => ignore(map::mremap(&mm, a, map::MAP_LO + rng.below(8192))),
        "madvise" => ignore(map::madvise_dontneed(&mm, a, 1 + rng.below(16))),
        "fork" => {
            let child = exit::fork(&mm);
            w.replace(rng, child);
        }
        "exit" => {
            let fresh = Mm::new();
            populate(&fresh, &w.files, rng);
            w.replace(rng, fresh);
        }
        "reclaim" => {
            let other = w.grab(rng);
            let remote = other.as_ref().map(|o| (o, pick_addr(o, rng)));
            ignore(rmap::reclaim(rng.next(), rng.below(2) == 0, remote));
            if let Some(o) = other {
                o.put();
            }
        }
        "truncate" => {
            let n = FILE_PAGES / 2 + rng.below(FILE_PAGES / 2);
            rmap::truncate(&file, n);
            rmap::truncate(&file, FILE_PAGES);
        }
        "file_write" => ignore(rmap::file_write(&file, &mm, a, rng.below(FILE_PAGES))),
        "khugepaged" => ignore(rmap::collapse_anon(&mm, a)),
        "retract" => ignore(rmap::retract_file(&file)),
        "remote_access" => {
            if let Some(other) = w.grab(rng) {
                let b = pick_addr(&other, rng);
                ignore(fault::access_remote(&other, b, None));
                other.put();
            }
        }
        "uffd_move" => ignore(map::uffd_move(&mm, a, pick_addr(&mm, rng))),
        "driver_ioctl" => ignore(rmap::driver_ioctl(&w.files[3], &mm, a)),
        _ => unreachable!(),
    }
    mm.put();
    Some(name)
}

/// The operation a bug lives in (run more often in bug mode).
fn bias(bug: Option<Bug>) -> Option<usize> {
    let name = match bug? {
        Bug::AnonPrepareMmapRead => "mmap_anon",
        Bug::NewVmaIMmapFirst => "mmap_file",
        Bug::KhugepagedRetractVmaWrite => "retract",
        Bug::DriverMmapInversion => "driver_ioctl",
        Bug::UffdMoveNoSubclass => "uffd_move",
        Bug::ForkNoNesting => "fork",
        Bug::SleepUnderPtl => "madvise",
        Bug::FaultUnderMmapWrite => "mprotect",
        Bug::ReclaimRemoteAccess => "reclaim",
        Bug::VmaFlagsUnlocked => "mprotect",
    };
    OPS.iter().position(|o| *o == name)
}

/// Runs the torture.
pub fn run(opts: &Options) -> Summary {
    bugs::set_active(opts.bug);
    crate::classes::declare_lock_order();
    let mut rng = Rng(opts.seed | 1);
    let world = Arc::new(World::new(opts.mms.max(1), &mut rng));
    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<Vec<AtomicU64>> = Arc::new(OPS.iter().map(|_| AtomicU64::new(0)).collect());
    let panics = Arc::new(PMutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    for t in 0..opts.threads.max(1) {
        let (world, stop, counts, panics, tx) =
            (world.clone(), stop.clone(), counts.clone(), panics.clone(), tx.clone());
        let seed = opts.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(t as u64 * 7919 + 1);
        let bias = bias(opts.bug);
        let attempts = opts.ops.unwrap_or(u64::MAX);
        std::thread::Builder::new()
            .name(format!("torture-{t}"))
            .spawn(move || {
                let mut rng = Rng(seed | 1);
                for _ in 0..attempts {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match catch_unwind(AssertUnwindSafe(|| one_op(&world, &mut rng, bias))) {
                        Ok(Some(name)) => {
                            let i = OPS.iter().position(|o| *o == name).expect("listed");
                            counts[i].fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(None) => {}
                        Err(e) => {
                            let msg = e
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default();
                            panics.lock().push(msg);
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                }
                let _ = tx.send(());
            })
            .expect("spawn");
    }
    drop(tx);
    let deadline = start + opts.duration;
    let mut last = Instant::now();
    let mut done = 0;
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        // With fixed work, the run ends when every worker has made its attempts.
        if rx.recv_timeout(Duration::from_millis(20)).is_ok() {
            done += 1;
            if done == opts.threads.max(1) {
                break;
            }
            continue;
        }
        if opts.stop_on_report && !lockdep_core::reports().is_empty() {
            break;
        }
        if opts.progress && last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            let total: u64 = counts.iter().map(|c| c.load(Ordering::Relaxed)).sum();
            eprintln!(
                "torture: {:>4.1}s {total} ops, {} reports",
                start.elapsed().as_secs_f64(),
                lockdep_core::reports().len()
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    let grace = Instant::now() + Duration::from_secs(10);
    while done < opts.threads.max(1) {
        let left = grace.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(()) => done += 1,
            Err(_) => break,
        }
    }
    let mut s = Summary {
        elapsed: start.elapsed(),
        hung: opts.threads.max(1) - done,
        panics: std::mem::take(&mut *panics.lock()),
        ..Summary::default()
    };
    for (i, c) in counts.iter().enumerate() {
        s.ops.insert(OPS[i], c.load(Ordering::Relaxed));
    }
    if s.hung == 0 && s.panics.is_empty() {
        let mms: Vec<Arc<Mm>> = world.slots.iter().map(|m| m.lock().clone()).collect();
        s.violations = crate::invariants::check(&mms, &world.files);
        drop(mms);
        // Everything exits: nothing may leak.
        for m in &world.slots {
            let mm = std::mem::replace(&mut *m.lock(), Mm::new());
            mm.put();
            drop(mm);
        }
        for f in &world.files {
            if !f.i_mmap.read().is_empty() {
                s.violations.push(format!("file {}: VMAs left in i_mmap after exit", f.id));
            }
            f.release_cache();
        }
        drop(world);
        let pages = crate::page::live_pages();
        let vmas = crate::vma::live_vmas();
        if pages != 0 || vmas != 0 {
            s.violations.push(format!("leak after exit: {pages} pages, {vmas} VMAs"));
        }
        s.violations.extend(crate::invariants::take_violations());
    }
    s.reports = lockdep_core::reports();
    s.report_file = lockdep_core::write_report_file().ok();
    s
}
