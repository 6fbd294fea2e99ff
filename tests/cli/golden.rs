//! Golden cases: what users read, byte for byte. Each folder of
//! `tests/golden/` is a case: its inputs (in `in/`), a `.toml` per command
//! (trycmd's format: arguments, expected exit status) and the expected
//! `.stdout` and `.stderr` beside it: the report (Markdown), `score`,
//! `diff`, `diff --access`, and the messages for broken inputs.
//!
//! Re-bless after an intended change: `TRYCMD=overwrite cargo test --test
//! cli golden` (expected outputs), or `tests/golden/regenerate` (the
//! generated inputs too, then the outputs); review with `git diff`.

#[test]
fn golden() {
    trycmd::TestCases::new()
        .register_bin("orgsplit", std::path::Path::new(env!("CARGO_BIN_EXE_orgsplit")))
        .case("tests/golden/*/*.toml");
}
