//! The runtime's integration suites, linked into one test binary: the codec, the chain's rules,
//! crash safety, policy modules on and off the chain, and real node and import processes
//! driven as users drive them.

mod common;

mod api;
mod chain;
mod codec;
mod crash;
mod kill;
mod module_calls;
mod modules;
mod node;
