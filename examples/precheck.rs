//! Checks one database through the library facade, as our backend does when a client saves
//! connection settings: `cargo run --example precheck -- postgres://app@db.example.com/app`
//! (the password from `PRECHECK_PASSWORD`, never the command line). Prints each finding as it
//! is judged, then the verdict; exits 1 when something failed.

use byod_precheck::{Precheck, Status};
use std::time::Duration;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: precheck URL   (password in PRECHECK_PASSWORD)");
        return std::process::ExitCode::from(2);
    };
    let mut check = match Precheck::new(&url) {
        Ok(c) => c.connect_timeout(Duration::from_secs(5)),
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if let Ok(pw) = std::env::var("PRECHECK_PASSWORD") {
        check = check.password(pw);
    }
    let report = check
        .run_streaming(|f| println!("{:<5} {:<36} {}", f.status, f.id, f.message))
        .await;
    println!(
        "verdict: {} ({} pass, {} warn, {} fail, {} error)",
        report.summary.status,
        report.summary.pass,
        report.summary.warn,
        report.summary.fail,
        report.summary.error
    );
    std::process::ExitCode::from(u8::from(matches!(
        report.summary.status,
        Status::Fail | Status::Error
    )))
}
