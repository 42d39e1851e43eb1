//! Socket names no other test, or test run, uses.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The next number of this process's sequence, to make names unique.
fn next() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // Relaxed: the counter only needs distinct values; it orders nothing.
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A unique socket path in the temporary directory, removed (if created) on drop.
pub struct TempPath(pub Vec<u8>);

/// A path that no other test (or test run) uses, tagged `tag`.
pub fn temp_path(tag: &str) -> TempPath {
    let name = format!("statio-{}-{tag}-{}.sock", std::process::id(), next());
    let path = std::env::temp_dir().join(name);
    let _ = std::fs::remove_file(&path);
    TempPath(path.into_os_string().into_encoded_bytes())
}

impl TempPath {
    /// The path as a std path.
    pub fn path(&self) -> &std::path::Path {
        std::path::Path::new(std::str::from_utf8(&self.0).expect("temp path is UTF-8"))
    }

    /// The path as bytes, as statio's Unix sockets take it.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.path());
    }
}

/// A unique abstract socket name (Linux), tagged `tag`.
pub fn abstract_name(tag: &str) -> Vec<u8> {
    format!("statio-{}-{tag}-{}", std::process::id(), next()).into_bytes()
}
