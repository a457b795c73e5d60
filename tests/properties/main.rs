//! Property tests across crates: the VM never panics, and it agrees with libbitcoinconsensus.

mod differential;
mod never_panics;
mod strategies;
