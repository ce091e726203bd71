//! `dialogpt`: the native command-line tool (see `dialogpt_web::cli`).

use dialogpt_web::cli::peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc::new();

fn main() -> std::process::ExitCode {
    dialogpt_web::cli::main(&ALLOC)
}
