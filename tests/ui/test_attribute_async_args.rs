#[lockdep_core::test(worker_threads = 2)]
async fn needs_multi_thread() {}

#[lockdep_core::test(flavor = "single")]
async fn unknown_flavor() {}

#[lockdep_core::test(verbose = true)]
async fn unknown_argument() {}

fn main() {}
