//! The zero-bytes contract of the tables that users place in `static`s ([`Slab`],
//! [`BufPool`], [`RingBuf`], [`LinearBuf`]): their empty value, what `new` returns, is
//! all zero bytes. A `static` whose initialiser is all zero bytes goes to `.bss`, so it
//! takes no room in the binary and no resident page until written, and a
//! `ConstStaticCell` of it is never built on the stack. One non-zero byte moves the
//! whole `static` to `.data`: a 10,000-slot table of 8 KiB slots becomes 80 MB of file.
//!
//! [`assert_zero_bytes!`] checks the contract at compile time, next to each type.
//!
//! [`Slab`]: crate::Slab
//! [`BufPool`]: crate::buf::BufPool
//! [`RingBuf`]: crate::buf::RingBuf
//! [`LinearBuf`]: crate::buf::LinearBuf

/// Whether every byte of `value` is zero. Evaluated in a `const`, a padding byte (which
/// is uninitialised) fails the build, so check a type instance without padding.
pub(crate) const fn all_zero_bytes<T>(value: &T) -> bool {
    let bytes = (value as *const T).cast::<u8>();
    let mut i = 0;
    while i < size_of::<T>() {
        // SAFETY: `i < size_of::<T>()` stays inside `*value`, which is live and borrowed.
        if unsafe { *bytes.add(i) } != 0 {
            return false;
        }
        i += 1;
    }
    true
}

/// Fails the build unless `$value` (a `const` expression) is all zero bytes.
macro_rules! assert_zero_bytes {
    ($value:expr, $why:literal) => {
        const _: () = {
            // Never dropped: a destructor cannot run in a `const`. Same bytes as `$value`.
            let value = core::mem::ManuallyDrop::new($value);
            assert!($crate::zeroed::all_zero_bytes(&value), $why);
        };
    };
}
pub(crate) use assert_zero_bytes;

#[cfg(test)]
mod tests {
    use super::all_zero_bytes;

    #[test]
    fn finds_the_one_non_zero_byte() {
        assert!(all_zero_bytes(&[0u32; 4]));
        let mut words = [0u32; 4];
        words[3] = 1 << 24;
        assert!(!all_zero_bytes(&words));
    }
}
