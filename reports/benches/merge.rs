//! Merge benchmark (filled in below).

fn main() {}
