//! A file truncated while leakscan has it memory-mapped reads as zeros instead of killing
//! the process with SIGBUS.
//!
//! Touching a mapped page that lies beyond the file's (new) end raises SIGBUS, whose default
//! action ends the process: no report, a temporary `--output` file left behind. Logs are
//! truncated under a running reader all the time (logrotate's `copytruncate`). While a
//! mapping is registered here, a SIGBUS inside it is answered by mapping an anonymous zero
//! page over the faulting page; the scan goes on over zeros (which hold no credential) and
//! [`Guard::truncated`] tells the caller that the file changed under it, so it is reported
//! as not fully scanned. A SIGBUS anywhere else goes to the handler that was installed
//! before (Rust's own, or the default action), so nothing else changes. The same technique
//! is used by Sapling's indexedlog and systemd journal readers.

#[cfg(unix)]
mod imp {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Once;

    /// Mappings that may be guarded at once (one or two per scanning thread).
    const SLOTS: usize = 256;
    /// A claimed slot whose range is not written yet.
    const CLAIMED: usize = 1;

    struct Slot {
        start: AtomicUsize,
        len: AtomicUsize,
        hit: AtomicBool,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: Slot = Slot {
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        hit: AtomicBool::new(false),
    };
    static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
    static PAGE: AtomicUsize = AtomicUsize::new(4096);
    static INSTALL: Once = Once::new();
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    /// The handler that was there before ours, called for faults outside our mappings.
    static mut PREVIOUS: Option<libc::sigaction> = None;

    /// A registered mapping; unregistered when dropped.
    pub(crate) struct Guard {
        slot: Option<usize>,
    }

    impl Guard {
        /// Guards `len` bytes at `ptr` (a live mapping the caller keeps until this is
        /// dropped). Unguarded (a fault there ends the process as before) only when the
        /// handler could not be installed or every slot is taken.
        pub(crate) fn new(ptr: *const u8, len: usize) -> Guard {
            install();
            if !INSTALLED.load(Ordering::Acquire) || len == 0 {
                return Guard { slot: None };
            }
            for (i, s) in TABLE.iter().enumerate() {
                if s.start
                    .compare_exchange(0, CLAIMED, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
                {
                    s.hit.store(false, Ordering::Relaxed);
                    s.len.store(len, Ordering::Relaxed);
                    s.start.store(ptr as usize, Ordering::Release);
                    return Guard { slot: Some(i) };
                }
            }
            Guard { slot: None }
        }

        /// True when part of the mapping lay beyond the file's end (the file shrank while
        /// it was mapped) and was read as zeros.
        pub(crate) fn truncated(&self) -> bool {
            self.slot
                .is_some_and(|i| TABLE[i].hit.load(Ordering::Acquire))
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            if let Some(i) = self.slot {
                TABLE[i].start.store(0, Ordering::Release);
            }
        }
    }

    fn install() {
        INSTALL.call_once(|| {
            // SAFETY: sysconf and sigaction are called with valid arguments; PREVIOUS is
            // written once here, before the handler that reads it is installed.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if page > 0 {
                    PAGE.store(page as usize, Ordering::Relaxed);
                }
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) != 0 {
                    return;
                }
                PREVIOUS = Some(old);
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = handler as *const () as usize;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut new.sa_mask);
                if libc::sigaction(libc::SIGBUS, &new, std::ptr::null_mut()) == 0 {
                    INSTALLED.store(true, Ordering::Release);
                }
            }
        });
    }

    /// Only async-signal-safe work: atomics, `mmap`, and the previous handler.
    extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
        let addr = unsafe { (*info).si_addr() } as usize;
        for s in &TABLE {
            let start = s.start.load(Ordering::Acquire);
            if start <= CLAIMED {
                continue;
            }
            let len = s.len.load(Ordering::Relaxed);
            if addr >= start && addr < start + len {
                let page = PAGE.load(Ordering::Relaxed);
                let at = addr & !(page - 1);
                // SAFETY: the page lies inside a private read-only file mapping this
                // process owns and keeps alive; replacing it with zeros changes only what
                // the scanner reads.
                let r = unsafe {
                    libc::mmap(
                        at as *mut libc::c_void,
                        page,
                        libc::PROT_READ,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                        -1,
                        0,
                    )
                };
                if r != libc::MAP_FAILED {
                    s.hit.store(true, Ordering::Release);
                    return;
                }
                break;
            }
        }
        // SAFETY: PREVIOUS was written before this handler was installed and never after.
        unsafe { forward(sig, info, ctx) }
    }

    /// Hands a fault that is not ours to the previous handler, or restores the default
    /// action so that the faulting instruction, run again, ends the process as it would
    /// have without us.
    unsafe fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        let prev = *std::ptr::addr_of!(PREVIOUS);
        match prev {
            Some(p) if p.sa_sigaction != libc::SIG_DFL && p.sa_sigaction != libc::SIG_IGN => {
                if p.sa_flags & libc::SA_SIGINFO != 0 {
                    let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                        std::mem::transmute(p.sa_sigaction);
                    f(sig, info, ctx);
                } else {
                    let f: extern "C" fn(libc::c_int) = std::mem::transmute(p.sa_sigaction);
                    f(sig);
                }
            }
            _ => {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(libc::SIGBUS, &dfl, std::ptr::null_mut());
            }
        }
    }
}

#[cfg(not(unix))]
mod imp {
    /// Without SIGBUS there is nothing to guard.
    pub(crate) struct Guard;

    impl Guard {
        /// A no-op guard.
        pub(crate) fn new(_ptr: *const u8, _len: usize) -> Guard {
            Guard
        }

        /// Never true.
        pub(crate) fn truncated(&self) -> bool {
            false
        }
    }
}

pub(crate) use imp::Guard;

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reading_past_a_truncation_gives_zeros_and_says_so() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&vec![b'x'; 3 * 65536]).unwrap();
        // SAFETY: test-owned file, read-only mapping.
        let m = unsafe { memmap2::Mmap::map(&f).unwrap() };
        let guard = Guard::new(m.as_ptr(), m.len());
        assert!(!guard.truncated());
        f.set_len(100).unwrap();
        // Without the guard this read is a SIGBUS that ends the test binary.
        let tail = std::hint::black_box(&m[2 * 65536..]);
        assert!(tail.iter().all(|&b| b == 0));
        assert_eq!(m[10], b'x');
        assert!(guard.truncated());
        drop(guard);
        let other = Guard::new(m.as_ptr(), m.len());
        assert!(!other.truncated(), "a new guard starts clean");
    }
}
