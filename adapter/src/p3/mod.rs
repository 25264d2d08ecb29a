//! WASI 0.3, one module per package. Most functions have 0.2's canonical
//! ABI and behaviour and are 0.2's; what is new is stdio as streams (through
//! `crate::task::stream`) and waiting as async functions (subtasks of
//! `crate::task`).

pub mod cli;
pub mod clocks;
pub mod filesystem;
pub mod random;
