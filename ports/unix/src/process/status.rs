//! [`ExitStatus`]: how a child ended, as `waitpid(2)` reports it.

use core::fmt;

use libc::c_int;

/// How a child ended: the raw status of `waitpid(2)`, read with the `W*` macros.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct ExitStatus(c_int);

impl ExitStatus {
    /// The status `waitpid` wrote.
    pub const fn from_raw(status: c_int) -> ExitStatus {
        ExitStatus(status)
    }

    /// The raw status.
    pub const fn raw(self) -> c_int {
        self.0
    }

    /// The exit code, when the child exited (`WIFEXITED`, `WEXITSTATUS`): 0 to 255.
    pub fn code(self) -> Option<i32> {
        libc::WIFEXITED(self.0).then(|| libc::WEXITSTATUS(self.0))
    }

    /// The signal that killed the child (`WIFSIGNALED`, `WTERMSIG`).
    pub fn signal(self) -> Option<c_int> {
        libc::WIFSIGNALED(self.0).then(|| libc::WTERMSIG(self.0))
    }

    /// Whether a signal killed the child and it dumped core (`WCOREDUMP`).
    pub fn core_dumped(self) -> bool {
        libc::WIFSIGNALED(self.0) && libc::WCOREDUMP(self.0)
    }

    /// Whether the child exited with code 0.
    pub fn success(self) -> bool {
        self.code() == Some(0)
    }
}

impl fmt::Debug for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExitStatus({self})")
    }
}

impl fmt::Display for ExitStatus {
    /// `exit code 3`, `killed by SIGKILL`, `killed by SIGSEGV (core dumped)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(code) = self.code() {
            return write!(f, "exit code {code}");
        }
        match self.signal() {
            Some(signal) => {
                match crate::signal::name(signal) {
                    Some(name) => write!(f, "killed by {name}")?,
                    None => write!(f, "killed by signal {signal}")?,
                }
                if self.core_dumped() {
                    f.write_str(" (core dumped)")?;
                }
                Ok(())
            }
            None => write!(f, "wait status {:#x}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::format;

    use super::*;

    #[test]
    fn reads_exits_and_kills() {
        // Linux's and the BSDs' encoding: code << 8 for an exit, the signal in the low
        // 7 bits (0x80: core) for a kill.
        let exited = ExitStatus::from_raw(3 << 8);
        assert_eq!(
            (exited.code(), exited.signal(), exited.success()),
            (Some(3), None, false)
        );
        assert_eq!(format!("{exited}"), "exit code 3");
        let killed = ExitStatus::from_raw(libc::SIGKILL);
        assert_eq!(
            (killed.code(), killed.signal()),
            (None, Some(libc::SIGKILL))
        );
        assert_eq!(format!("{killed}"), "killed by SIGKILL");
        let dumped = ExitStatus::from_raw(libc::SIGSEGV | 0x80);
        assert!(dumped.core_dumped());
        assert_eq!(
            format!("{dumped:?}"),
            "ExitStatus(killed by SIGSEGV (core dumped))"
        );
        assert!(ExitStatus::from_raw(0).success());
    }
}
