//! What must not compile: a secret has no `Display`, no `to_string` and no `Serialize`.

#[test]
fn secrets_cannot_be_formatted_or_serialized() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
