//! `instrumented-mm`: a model of Linux mm/VMA locking as real concurrent Rust on the
//! `lockdep-core` instrumented locks, with a torture driver and switchable injected bugs taken
//! from real kernel deadlocks.
//!
//! ```
//! use instrumented_mm::{mm::Mm, ops, vma::{VM_READ, VM_WRITE}};
//!
//! let mm = Mm::new();
//! let a = ops::map::mmap(&mm, 8, VM_READ | VM_WRITE, None, 0).unwrap();
//! ops::fault::user_access(&mm, a + 3, Some(42)).unwrap(); // faults the page in
//! assert_eq!(ops::fault::user_access(&mm, a + 3, None), Ok(42));
//! let child = ops::exit::fork(&mm);
//! assert_eq!(ops::fault::user_access(&child, a + 3, None), Ok(42));
//! child.put();
//! mm.put(); // exit_mmap
//! assert!(lockdep_core::reports().is_empty());
//! ```

pub mod anon;
pub mod bugs;
pub mod classes;
pub mod file;
pub mod invariants;
pub mod mm;
pub mod ops;
pub mod page;
pub mod pgtable;
pub mod torture;
pub mod vma;

pub use bugs::Bug;
