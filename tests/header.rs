//! `include/tokenward.h` is what cbindgen makes of src/ffi with `cbindgen.toml`. Regenerate it
//! with `TOKENWARD_BLESS=1 cargo test --test header`.

mod common;

use std::path::Path;

fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        // The C ABI and the status enum it returns; nothing else of the crate.
        .with_src(root.join("src/ffi/mod.rs"))
        .with_src(root.join("src/error.rs"))
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn committed_header_is_current() {
    common::assert_committed("include/tokenward.h", &generate(), "src/ffi", "header");
}
