//! Sets the shared library's SONAME on Linux, `libtokenward.so.0`: the major version of the C
//! ABI (include/tokenward.h), so a program linked against it keeps loading a compatible
//! `libtokenward.so.0.x` and refuses an incompatible one. Bump it with a breaking ABI change.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // The target's OS, not the build script's host.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libtokenward.so.0");
    }
}
