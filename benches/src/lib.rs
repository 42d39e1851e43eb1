//! Shared helpers of statio's benchmarks: the machine a run was on, thread pinning, and
//! the spread of samples over interleaved rounds. The benchmarks themselves are the
//! `[[bench]]` targets of this package; the server peers of `benches/scripts` are its
//! examples.

pub mod peers;

use std::io;
use std::process::Command;
use std::time::Duration;

/// The machine the figures come from, in the lines every benchmark prints first: the CPU
/// and its topology (from `lscpu`), the kernel and its Spectre v2 mitigation (which
/// prices every syscall and indirect call in the kernel), and the load average (another
/// process's work on a 2-core machine is in every timing).
pub fn machine() -> String {
    let lscpu = Command::new("lscpu")
        .env("LC_ALL", "C")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let field = |name: &str| {
        lscpu
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map_or("?", str::trim)
            .to_owned()
    };
    let read = |path: &str| {
        std::fs::read_to_string(path).map_or_else(|_| "?".to_owned(), |s| s.trim().to_owned())
    };
    let load = read("/proc/loadavg");
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let hypervisor = field("Hypervisor vendor");
    format!(
        "machine: {} ({}), {} CPUs = {} socket(s) x {} core(s) x {} thread(s); \
         L1d {}, L2 {}, L3 {}\n\
         kernel: Linux {}; spectre_v2: {}\n\
         load average: {} (1, 5, 15 min) at the start",
        field("Model name"),
        if hypervisor == "?" {
            "no hypervisor reported".to_owned()
        } else {
            format!("{hypervisor} guest")
        },
        field("CPU(s)"),
        field("Socket(s)"),
        field("Core(s) per socket"),
        field("Thread(s) per core"),
        field("L1d cache"),
        field("L2 cache"),
        field("L3 cache"),
        read("/proc/sys/kernel/osrelease"),
        read("/sys/devices/system/cpu/vulnerabilities/spectre_v2"),
        load.join(" "),
    )
}

/// How long the calling thread has waited, runnable, for a CPU since it started (the
/// second field of `/proc/thread-self/schedstat`); zero where the kernel does not say.
/// The difference over a timed run is the time another process (or another of our
/// threads) held the CPU this thread was pinned to: a run's figure is trustworthy only
/// when its threads' waits are a small part of it.
pub fn waited_for_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// The CPUs this process may run on, ascending.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is an empty set; sched_getaffinity writes at most its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect()
    }
}

/// Pins the calling thread to `cpus` (`sched_setaffinity`).
///
/// # Errors
/// What the kernel refused (e.g. a CPU outside the process's set).
pub fn pin(cpus: &[usize]) -> io::Result<()> {
    // SAFETY: as in `allowed_cpus`; sched_setaffinity reads the set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        if libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Runs `f` on the calling thread pinned to `cpu`, then gives the thread back all of
/// `allowed_cpus()` (threads it spawns meanwhile inherit the pin).
pub fn pinned<R>(cpu: usize, f: impl FnOnce() -> R) -> R {
    let all = allowed_cpus();
    pin(&[cpu]).expect("pin the thread");
    let result = f();
    pin(&all).expect("unpin the thread");
    result
}

/// Where a benchmark's threads run: the consumer (or the loop) alone on the first allowed
/// CPU, producers spread over the others, so that no run depends on where the scheduler
/// happened to put its threads. With one CPU nothing is pinned apart.
#[derive(Clone, Debug)]
pub struct Placement {
    cpus: Vec<usize>,
}

impl Placement {
    /// The placement over the CPUs this process may use.
    pub fn new() -> Self {
        Placement {
            cpus: allowed_cpus(),
        }
    }

    /// The consumer's CPU.
    pub fn consumer(&self) -> usize {
        self.cpus.first().copied().unwrap_or(0)
    }

    /// Producer `i`'s CPU.
    pub fn producer(&self, i: usize) -> usize {
        match self.cpus.len() {
            0 => 0,
            1 => self.cpus[0],
            n => self.cpus[1 + i % (n - 1)],
        }
    }

    /// One line saying where threads go.
    pub fn describe(&self) -> String {
        match self.cpus.len() {
            0 | 1 => "threads share the one CPU".to_owned(),
            n => format!(
                "threads pinned: consumer on CPU {}, producers on CPU(s) {:?}",
                self.consumer(),
                &self.cpus[1..n]
            ),
        }
    }
}

impl Default for Placement {
    fn default() -> Self {
        Self::new()
    }
}

/// Minimum, median and maximum of a set of samples.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Spread {
    /// The smallest sample.
    pub min: f64,
    /// The middle sample (the upper one of the two middles for an even count).
    pub median: f64,
    /// The largest sample.
    pub max: f64,
}

impl Spread {
    /// The spread of `samples`; all zero for none.
    pub fn of(samples: &[f64]) -> Spread {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        match sorted.as_slice() {
            [] => Spread {
                min: 0.0,
                median: 0.0,
                max: 0.0,
            },
            s => Spread {
                min: s[0],
                median: s[s.len() / 2],
                max: s[s.len() - 1],
            },
        }
    }

    /// `max / min - 1` in per cent: how far apart the rounds were.
    pub fn range_percent(&self) -> f64 {
        (self.max / self.min - 1.0) * 100.0
    }
}
