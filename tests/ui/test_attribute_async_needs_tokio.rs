#[lockdep_core::test]
async fn t() {}

fn main() {}
