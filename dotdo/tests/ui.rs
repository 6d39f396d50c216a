//! Compile-time behaviour of `#[dotdo::service]`: valid forms compile, and every misuse is an
//! error on the right tokens (see the `.stderr` files beside each case).

#[test]
fn ui() {
    // trybuild builds a project of its own (GBs of dependencies): when a full disk fails it, the
    // reason is far down its output, so the first line of a failure says how much room there was.
    if let Ok(df) = std::process::Command::new("df")
        .args(["-h", "--output=avail", "."])
        .output()
    {
        let available = String::from_utf8_lossy(&df.stdout);
        println!(
            "disk available: {}",
            available.lines().last().unwrap_or("?").trim()
        );
    }
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
