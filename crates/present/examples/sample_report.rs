//! Writes the report of the built-in sample input, to look at the page without a run:
//! `cargo run -p trilink-present --example sample_report -- /tmp/report-fixture.html`
fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "report-sample.html".to_owned());
    if let Err(e) = trilink_present::write(
        std::path::Path::new(&path),
        &trilink_present::sample::hwasong12(),
    ) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    println!("{path}");
}
