//! Tests of lockdep-core built with the `off` feature (see `tests/compiled_out.rs`). This
//! crate is outside the main workspace so that the feature stays confined to it.
