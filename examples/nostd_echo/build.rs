//! Link arguments that shrink `nostd_echo`'s resident pages in the static musl build.
//!
//! The binary is ~26 KiB, so page granularity dominates its resident size; each flag
//! below removes one page of padding between ELF segments:
//!
//! - `-z noseparate-code`: by default the linker gives the ELF headers, the code and
//!   the read-only data each their own page-aligned segment (so no non-code byte is
//!   mapped executable). Here that is three partly filled pages for what fits in fewer;
//!   without it they share pages (code pages 24 -> 20 KiB resident).
//! - `-z norelro`: RELRO puts the GOT, `.dynamic` and `.init_array` on a page of their
//!   own that is made read-only after relocation, next to the page of `.data`. The
//!   binary has a handful of relocations and no dynamic loader to protect against, so
//!   the hardening buys little; without it both share one writable page (8 -> 4 KiB).
//!
//! Only for the static musl build that `docs/FOOTPRINT.md` measures: the glibc build
//! is dynamically linked, where RELRO does guard the loader's GOT, so it keeps the
//! toolchain's defaults.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    // Cargo leaves `crt-static` out of CARGO_CFG_TARGET_FEATURE, so test for musl and
    // for no `-C target-feature=-crt-static` in the flags (musl links statically by
    // default).
    let musl = env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|env| env == "musl");
    let dynamic = env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|f| f.contains("-crt-static"));
    if !musl || dynamic {
        return;
    }
    // The flags reach `ld` through the C compiler driver (`-Wl,`) by default; a bare
    // linker such as `rust-lld` (CI's aarch64 build, via CARGO_TARGET_*_LINKER, which
    // Cargo passes here as RUSTC_LINKER) takes them directly.
    let bare_linker =
        env::var("RUSTC_LINKER").is_ok_and(|l| l.contains("lld") || l.ends_with("ld"));
    for flag in ["noseparate-code", "norelro"] {
        if bare_linker {
            println!("cargo:rustc-link-arg-bins=-z");
            println!("cargo:rustc-link-arg-bins={flag}");
        } else {
            println!("cargo:rustc-link-arg-bins=-Wl,-z,{flag}");
        }
    }
}
