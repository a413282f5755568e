#[lockdep_core::test(verbose)]
fn t() {}

fn main() {}
