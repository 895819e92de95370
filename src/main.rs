//! The `byod-precheck` binary: everything lives in the library; this only hands over the exit code.

/// The system allocator, counting per thread so a fleet target's thread stays within its
/// memory budget (see `guard::BudgetedAlloc`).
#[global_allocator]
static ALLOC: byod_precheck::guard::BudgetedAlloc = byod_precheck::guard::BudgetedAlloc;

fn main() -> std::process::ExitCode {
    byod_precheck::cli::main()
}
