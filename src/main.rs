//! The `pacsim` command line. Thin glue over the library.

fn main() {
    std::process::exit(pacsim_cli::main());
}

mod pacsim_cli {
    pub fn main() -> i32 {
        0
    }
}
