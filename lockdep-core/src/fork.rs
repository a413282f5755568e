//! `fork()` in a multi-threaded process: the child has only the forking thread, so a lock of
//! the validator held by another thread at the fork would stay held in the child for ever.
//! `pthread_atfork` handlers take the validator's locks before the fork (in the order the
//! validator nests them: report file, trace file, state, stack walking; then the source-name
//! cache, a leaf), release them in the parent after it, and make them free again in the
//! child, which also starts a report file of its own. The locks are [`ForkSafeMutex`](crate::fork_safe::ForkSafeMutex)es: their waiters
//! wait on the lock word, so the child's reset leaves no stale waiter behind.

use crate::{recorder, sink, source_name, stacks, validator::Validator};

/// Gives the validator whose locks the handlers take (the process-wide one; made now if it
/// was not yet, or waited for if another thread is making it: a child must not inherit a
/// half-made validator).
static TARGET: std::sync::OnceLock<fn() -> &'static Validator> = std::sync::OnceLock::new();

/// The validator whose lock `prepare` took (none when it was not made yet).
static TAKEN: std::sync::atomic::AtomicPtr<Validator> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

extern "C" fn prepare() {
    sink::file_lock().fork_prepare();
    if let Some(out) = recorder::out_lock() {
        out.fork_prepare();
    }
    if let Some(v) = TARGET.get().map(|f| f()) {
        v.state_lock().fork_prepare();
        TAKEN.store(v as *const Validator as *mut Validator, std::sync::atomic::Ordering::SeqCst);
    }
    stacks::UNWIND.fork_prepare();
    source_name::CACHE.fork_prepare();
}

extern "C" fn parent() {
    let v = TAKEN.swap(std::ptr::null_mut(), std::sync::atomic::Ordering::SeqCst);
    // SAFETY: `prepare` took each of these locks on this thread just before the fork; a
    // non-null `v` is the `&'static Validator` it stored.
    unsafe {
        source_name::CACHE.fork_release_parent();
        stacks::UNWIND.fork_release_parent();
        if let Some(v) = v.as_ref() {
            v.state_lock().fork_release_parent();
        }
        if let Some(out) = recorder::out_lock() {
            out.fork_release_parent();
        }
        sink::file_lock().fork_release_parent();
    }
}

extern "C" fn child() {
    let v = TAKEN.swap(std::ptr::null_mut(), std::sync::atomic::Ordering::SeqCst);
    // SAFETY: as in `parent`; this is the child, where the forking thread is the only one.
    unsafe {
        source_name::CACHE.fork_release_child(|_| {});
        stacks::UNWIND.fork_release_child(|_| {});
        if let Some(v) = v.as_ref() {
            v.state_lock().fork_release_child(|_| {});
        }
        if let Some(out) = recorder::out_lock() {
            out.fork_release_child(|_| {});
        }
        sink::fork_release_child();
    }
}

/// Installs the handlers (once per process) for the validator `validator` gives.
pub(crate) fn install(validator: fn() -> &'static Validator) {
    if TARGET.set(validator).is_ok() {
        // SAFETY: the handlers are `extern "C"` functions that live for the whole process.
        let rc = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
        if rc != 0 {
            eprintln!("lockdep: pthread_atfork failed ({rc}): a forked child may hang on lockdep");
        }
    }
}
