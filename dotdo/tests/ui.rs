//! Compile-time behaviour of `#[dotdo::service]`: valid forms compile, and every misuse is an
//! error on the right tokens (see the `.stderr` files beside each case).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
