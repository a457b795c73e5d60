//! The `medchain` binary.

fn main() -> std::process::ExitCode {
    medchain::cli::main()
}
