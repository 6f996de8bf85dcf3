//! `kie`: Kie Studio from the command line. Shares the library and keyring with the app.

fn main() {
    std::process::exit(studio::cli::main(std::env::args_os().collect()));
}
