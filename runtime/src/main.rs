//! The `medchain` binary.

fn main() -> std::process::ExitCode {
    medchain_runtime::cli::main()
}
