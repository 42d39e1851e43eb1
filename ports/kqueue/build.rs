//! Names the kqueue systems once: sets `cfg(kqueue)` when building for one of them, and
//! the crate's code says `#[cfg(kqueue)]` instead of repeating the list.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(kqueue)");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(
        os.as_str(),
        "freebsd" | "macos" | "netbsd" | "openbsd" | "dragonfly"
    ) {
        println!("cargo::rustc-cfg=kqueue");
    }
}
