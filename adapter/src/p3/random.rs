//! `wasi:random@0.3`: 0.2's.

pub mod random {
    pub use crate::random::random::{get_random_bytes, get_random_u64};
}

pub mod insecure {
    pub use crate::random::insecure::{get_insecure_random_bytes, get_insecure_random_u64};
}

pub mod insecure_seed {
    pub use crate::random::insecure_seed::insecure_seed as get_insecure_seed;
}
