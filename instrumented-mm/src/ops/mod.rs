//! The operations, each with the kernel's lock sequence (see `mm-locking.md`, "Operations").

pub mod exit;
pub mod fault;
pub mod map;
pub mod rmap;
