//! Rebuild when the files embedded with `include_dir!` change: the rule
//! catalogue (`rules/`) and the MegaCo example (`fixtures/megaco/`). A
//! proc macro cannot tell cargo about them, so a new or edited rule file
//! would otherwise be missed until something in `src/` changed.

fn main() {
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=fixtures/megaco");
    println!("cargo:rerun-if-changed=build.rs");
}
