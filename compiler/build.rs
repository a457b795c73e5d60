//! Generates the MedScript parser from its lalrpop grammar.

fn main() {
    if let Err(error) = lalrpop::Configuration::new().use_cargo_dir_conventions().process() {
        eprintln!("lalrpop failed: {error}");
        std::process::exit(1);
    }
}
