//! `lockdep_core::tokio` (feature `tokio`): tokio's task spawning with task-owned held-lock
//! stacks ([`crate::task`]), and [`sync`]: tokio's locks, validated.

mod semaphore;
pub mod sync;

use std::future::Future;

use crate::task::{instrument, Instrumented};

/// [`tokio::spawn`](::tokio::spawn) of an [`Instrumented`] task: the locks the task holds
/// move with it across worker threads, and a blocking lock held across an `.await` is a
/// `held_across_await` report naming the caller's location as the task's site.
#[track_caller]
pub fn spawn<F>(fut: F) -> ::tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let task: Instrumented<F> = instrument(fut);
    ::tokio::spawn(task)
}
