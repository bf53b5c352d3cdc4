//! The host console on a pseudo-terminal: `minivm --pty` serves the same console as the Pico's
//! UART (friendly prompt, raw REPL, raw paste) on a new pty, so `mpremote connect /dev/pts/N`
//! works against the host VM.
//!
//! The master side is ours. We also keep the slave open ourselves, so that a client closing it
//! (each `mpremote` run does) does not make the master read fail: the next client simply opens
//! it again. Output goes out without blocking; when nobody reads and the pty buffer is full it
//! is dropped, as the Pico drops USB output nobody reads.

use std::ffi::CStr;
use std::io;

use minivm::session::Link;

/// A pty whose master is the console link.
pub struct Pty {
    master: libc::c_int,
    /// Held open so that the master never sees a hang-up between clients.
    _slave: libc::c_int,
    /// The slave's path, e.g. `/dev/pts/3`.
    pub path: String,
    /// The last output found the pty full: until a write gets through, try each only once.
    stalled: bool,
}

impl Pty {
    /// Opens a new pty in raw mode (no echo, no line editing, 8-bit clean).
    pub fn open() -> io::Result<Pty> {
        // SAFETY: plain libc calls on file descriptors we own; every return value is checked,
        // and `ptsname_r` writes at most `buf.len()` bytes including the terminating NUL.
        unsafe {
            let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
            if master < 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::grantpt(master) != 0 || libc::unlockpt(master) != 0 {
                return Err(io::Error::last_os_error());
            }
            let mut buf = [0 as libc::c_char; 128];
            if libc::ptsname_r(master, buf.as_mut_ptr(), buf.len()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let path = CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned();
            let slave = libc::open(buf.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
            if slave < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(slave, &mut t) == 0 {
                libc::cfmakeraw(&mut t);
                libc::tcsetattr(slave, libc::TCSANOW, &t);
            }
            let flags = libc::fcntl(master, libc::F_GETFL);
            libc::fcntl(master, libc::F_SETFL, flags | libc::O_NONBLOCK);
            Ok(Pty {
                master,
                _slave: slave,
                path,
                stalled: false,
            })
        }
    }

    /// Waits up to `ms` milliseconds (-1: forever) for input.
    fn wait(&self, ms: libc::c_int) -> bool {
        let mut p = libc::pollfd {
            fd: self.master,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut p, 1, ms) };
        n > 0 && p.revents & libc::POLLIN != 0
    }

    fn read_one(&self) -> Option<u8> {
        let mut b = 0u8;
        // SAFETY: reads at most one byte into `b`.
        let n = unsafe { libc::read(self.master, (&mut b as *mut u8).cast(), 1) };
        (n == 1).then_some(b)
    }
}

impl Link for Pty {
    fn read(&mut self) -> Option<u8> {
        loop {
            if self.wait(-1)
                && let Some(b) = self.read_one()
            {
                return Some(b);
            }
        }
    }

    fn try_read(&mut self) -> Option<u8> {
        if self.wait(0) { self.read_one() } else { None }
    }

    fn write(&mut self, mut bytes: &[u8]) {
        let mut waits = if self.stalled { 0 } else { 100 };
        while !bytes.is_empty() {
            // SAFETY: writes from a valid slice of `bytes.len()` bytes.
            let n = unsafe { libc::write(self.master, bytes.as_ptr().cast(), bytes.len()) };
            if n > 0 {
                bytes = &bytes[n as usize..];
                self.stalled = false;
            } else if waits > 0 {
                // Full: the client is slower than we are; give it a moment.
                waits -= 1;
                std::thread::sleep(std::time::Duration::from_millis(1));
            } else {
                // Nobody is reading: drop this output rather than hang the VM.
                self.stalled = true;
                return;
            }
        }
    }
}
