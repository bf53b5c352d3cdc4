//! A strict NOR flash simulator with power cuts and operation counters (feature `sim`).
//!
//! [`SimFlash`] implements [`embedded_storage::nor_flash::NorFlash`] and behaves like the
//! strictest real part the library must support:
//!
//! - an erase sets every byte of each sector in its range to `0xFF`;
//! - a program can only clear bits (the new byte is `old & new`);
//! - programming a write unit (`WRITE_SIZE` bytes) twice between two erases is an error, as on
//!   flash with ECC (switch off with [`SimFlash::allow_double_write`]);
//! - offsets and lengths must be aligned to `READ_SIZE` / `WRITE_SIZE` / `ERASE_SIZE` and inside
//!   the device, otherwise the call fails without touching anything;
//! - every call is counted ([`Counters`]), including erases per sector.
//!
//! # Power cuts
//! [`SimFlash::arm_power_cut`] picks a future *mutating* operation (program or erase, counted
//! from 0 with [`Counters::mutations`]) and a byte offset inside it. That operation stops there:
//!
//! ```text
//! program of n bytes, cut at byte k:   [0, k) programmed │ byte k: some of its bits │ (k, n) untouched
//! erase of sectors, cut at byte k:     sectors before the one holding byte k are erased; that
//!                                      sector holds `old | noise` (arbitrary, deterministic)
//! ```
//!
//! # Program faults
//! [`SimFlash::fail_bits`] makes a future program report success while some bits of one byte
//! stay set (cells that did not take the charge): what a caller that never reads back believes
//! is programmed, is not.
//!
//! The interrupted call and every later call fail with [`SimError::PowerLost`] until
//! [`SimFlash::reboot`], which keeps the contents (like a device that powers up again). Write
//! units touched by an interrupted program, and sectors touched by an interrupted erase, count as
//! programmed: writing them again without an erase is a double write.
//!
//! # Example
//! ```
//! use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
//! use flashfreeze::sim::{SimError, SimFlash};
//!
//! let mut flash = SimFlash::<1, 4, 4096>::new(2 * 4096);
//! flash.erase(0, 4096)?;
//! flash.arm_power_cut(0, 2); // the next mutation stops at its byte 2
//! assert_eq!(flash.write(0, &[0, 0, 0, 0]), Err(SimError::PowerLost));
//! flash.reboot();
//! assert_eq!(&flash.as_bytes()[..2], &[0, 0]);
//! assert_eq!(flash.write(0, &[0; 4]), Err(SimError::DoubleWrite { offset: 0 }));
//! # Ok::<(), SimError>(())
//! ```

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// Why a simulated flash operation failed.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimError {
    /// Offset or length is not a multiple of the operation's unit.
    NotAligned {
        /// Offset of the call.
        offset: u32,
        /// Length of the call.
        len: u32,
    },
    /// The range does not lie inside the device.
    OutOfBounds {
        /// Offset of the call.
        offset: u32,
        /// Length of the call.
        len: u32,
    },
    /// A write unit was programmed twice without an erase in between.
    DoubleWrite {
        /// Offset of the write unit.
        offset: u32,
    },
    /// Power was cut during this or an earlier operation; call [`SimFlash::reboot`].
    PowerLost,
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAligned { offset, len } => {
                write!(f, "flash: misaligned operation at {offset:#x}, {len} bytes")
            }
            Self::OutOfBounds { offset, len } => {
                write!(
                    f,
                    "flash: operation at {offset:#x}, {len} bytes, outside the device"
                )
            }
            Self::DoubleWrite { offset } => {
                write!(
                    f,
                    "flash: write unit at {offset:#x} programmed twice without an erase"
                )
            }
            Self::PowerLost => f.write_str("flash: power lost"),
        }
    }
}

impl core::error::Error for SimError {}

impl NorFlashError for SimError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            Self::NotAligned { .. } => NorFlashErrorKind::NotAligned,
            Self::OutOfBounds { .. } => NorFlashErrorKind::OutOfBounds,
            _ => NorFlashErrorKind::Other,
        }
    }
}

/// Operation counters of a [`SimFlash`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// `read` calls.
    pub reads: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// `write` (program) calls.
    pub programs: u64,
    /// Bytes programmed.
    pub bytes_programmed: u64,
    /// `erase` calls.
    pub erase_calls: u64,
    /// Sectors erased (an `erase` call may cover several).
    pub sectors_erased: u64,
    /// Erases of each sector, by sector index.
    pub erases_per_sector: Vec<u32>,
}

impl Counters {
    /// Mutating operations so far (program and erase calls): the numbering of
    /// [`SimFlash::arm_power_cut`].
    pub fn mutations(&self) -> u64 {
        self.programs + self.erase_calls
    }
}

/// A mutating operation, as recorded by [`SimFlash::record_ops`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A program of `len` bytes at `offset`.
    Program {
        /// Device offset.
        offset: u32,
        /// Bytes.
        len: u32,
    },
    /// An erase of `from..to`.
    Erase {
        /// First byte.
        from: u32,
        /// One past the last byte.
        to: u32,
    },
}

impl Op {
    /// Bytes the operation covers (the range of [`SimFlash::arm_power_cut`]'s `byte`).
    pub fn len(&self) -> u64 {
        match *self {
            Self::Program { len, .. } => u64::from(len),
            Self::Erase { from, to } => u64::from(to - from),
        }
    }

    /// Whether the operation covers no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A pending power cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cut {
    /// Mutation number (see [`Counters::mutations`]) that is interrupted.
    at: u64,
    /// Byte offset inside that operation where it stops.
    byte: u64,
}

/// The strict NOR flash simulator. `R`, `W` and `E` are `READ_SIZE`, `WRITE_SIZE` and
/// `ERASE_SIZE` (powers of two, `W` and `R` dividing `E`).
#[derive(Clone, Debug)]
pub struct SimFlash<const R: usize = 1, const W: usize = 4, const E: usize = 4096> {
    data: Vec<u8>,
    /// One flag per write unit: programmed since the last erase.
    programmed: Vec<bool>,
    strict: bool,
    cut: Option<Cut>,
    /// A pending program fault: (mutation number, byte offset in it, bits left set).
    fault: Option<(u64, u64, u8)>,
    powered: bool,
    seed: u64,
    counters: Counters,
    log: Option<Vec<Op>>,
}

impl<const R: usize, const W: usize, const E: usize> SimFlash<R, W, E> {
    const GEOMETRY_OK: () = assert!(
        R.is_power_of_two() && W.is_power_of_two() && E.is_power_of_two() && W <= E && R <= E,
        "sizes must be powers of two with READ_SIZE, WRITE_SIZE <= ERASE_SIZE"
    );

    /// An erased device of `size` bytes (rounded up to whole sectors).
    pub fn new(size: usize) -> Self {
        let () = Self::GEOMETRY_OK;
        let size = size.div_ceil(E) * E;
        Self {
            data: vec![0xFF; size],
            programmed: vec![false; size / W],
            strict: true,
            cut: None,
            fault: None,
            powered: true,
            seed: 0x9E37_79B9_7F4A_7C15,
            counters: Counters {
                erases_per_sector: vec![0; size / E],
                ..Counters::default()
            },
            log: None,
        }
    }

    /// A device holding `bytes` (e.g. loaded from a file), rounded up to whole sectors with
    /// `0xFF`. Write units that are not all `0xFF` count as programmed.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut sim = Self::new(bytes.len());
        sim.data[..bytes.len()].copy_from_slice(bytes);
        for (unit, flag) in sim.data.chunks(W).zip(sim.programmed.iter_mut()) {
            *flag = unit.iter().any(|&b| b != 0xFF);
        }
        sim
    }

    /// The contents, as a memory-mapped view (what a VM executing in place reads).
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// Allow programming a write unit twice between erases (flash without ECC).
    pub fn allow_double_write(&mut self, allow: bool) {
        self.strict = !allow;
    }

    /// Seed of the noise an interrupted operation leaves behind.
    pub fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
    }

    /// The counters so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Reset the counters to zero (contents and power state unchanged).
    pub fn reset_counters(&mut self) {
        let sectors = self.data.len() / E;
        self.counters = Counters {
            erases_per_sector: vec![0; sectors],
            ..Counters::default()
        };
    }

    /// Start (or stop) recording every mutating operation (see [`SimFlash::ops`]).
    pub fn record_ops(&mut self, on: bool) {
        self.log = on.then(Vec::new);
    }

    /// The mutating operations recorded since [`SimFlash::record_ops`], in order.
    pub fn ops(&self) -> &[Op] {
        self.log.as_deref().unwrap_or(&[])
    }

    /// Cut power during the mutation `after` operations from now (0: the next program or erase),
    /// `byte` bytes into it. A `byte` at or past the end of the operation lets it complete and
    /// cuts power just after it.
    pub fn arm_power_cut(&mut self, after: u64, byte: u64) {
        self.cut = Some(Cut {
            at: self.counters.mutations() + after,
            byte,
        });
    }

    /// Make the program `after` mutations from now (0: the next program or erase) leave the bits
    /// `mask` of its byte `byte` set, and still report success. Ignored if that mutation is an
    /// erase or shorter than `byte`.
    pub fn fail_bits(&mut self, after: u64, byte: u64, mask: u8) {
        self.fault = Some((self.counters.mutations() + after, byte, mask));
    }

    /// Cancel a pending power cut.
    pub fn disarm(&mut self) {
        self.cut = None;
    }

    /// Whether power was lost (the device refuses every call until [`SimFlash::reboot`]).
    pub fn is_powered_off(&self) -> bool {
        !self.powered
    }

    /// Power up again, keeping the contents and the counters; a pending cut is cancelled.
    pub fn reboot(&mut self) {
        self.powered = true;
        self.cut = None;
    }

    fn check(&self, offset: u32, len: usize, unit: usize) -> Result<(usize, usize), SimError> {
        let err_len = u32::try_from(len).unwrap_or(u32::MAX);
        let start = offset as usize;
        if start % unit != 0 || len % unit != 0 {
            return Err(SimError::NotAligned {
                offset,
                len: err_len,
            });
        }
        match start.checked_add(len) {
            Some(end) if end <= self.data.len() => Ok((start, end)),
            _ => Err(SimError::OutOfBounds {
                offset,
                len: err_len,
            }),
        }
    }

    /// The cut byte if the mutation about to run is the interrupted one.
    fn take_cut(&mut self) -> Option<u64> {
        let cut = self.cut?;
        if cut.at == self.counters.mutations() {
            self.cut = None;
            Some(cut.byte)
        } else {
            None
        }
    }

    /// A noise byte for `salt`.
    fn noise_byte(&self, salt: u64) -> u8 {
        // splitmix64: cheap, deterministic, good enough to look like leftover charge.
        let mut z = self
            .seed
            .wrapping_add(salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as u8
    }
}

impl<const R: usize, const W: usize, const E: usize> ErrorType for SimFlash<R, W, E> {
    type Error = SimError;
}

impl<const R: usize, const W: usize, const E: usize> ReadNorFlash for SimFlash<R, W, E> {
    const READ_SIZE: usize = R;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimError> {
        if !self.powered {
            return Err(SimError::PowerLost);
        }
        let (start, end) = self.check(offset, bytes.len(), R)?;
        bytes.copy_from_slice(&self.data[start..end]);
        self.counters.reads += 1;
        self.counters.bytes_read += bytes.len() as u64;
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.data.len()
    }
}

impl<const R: usize, const W: usize, const E: usize> NorFlash for SimFlash<R, W, E> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), SimError> {
        if !self.powered {
            return Err(SimError::PowerLost);
        }
        let len = (to as usize)
            .checked_sub(from as usize)
            .ok_or(SimError::OutOfBounds {
                offset: from,
                len: 0,
            })?;
        let (start, end) = self.check(from, len, E)?;
        let cut = self.take_cut();
        let mutation = self.counters.mutations();
        self.counters.erase_calls += 1;
        if let Some(log) = &mut self.log {
            log.push(Op::Erase { from, to });
        }
        for sector in (start..end).step_by(E) {
            let interrupted = cut.is_some_and(|byte| byte < (sector - start + E) as u64);
            if interrupted {
                // Some cells reached the erased state, others did not: old | noise.
                for i in sector..sector + E {
                    let noise = self.noise_byte(mutation ^ ((i as u64) << 20));
                    self.data[i] |= noise;
                }
                self.programmed[sector / W..(sector + E) / W].fill(true);
                self.powered = false;
                return Err(SimError::PowerLost);
            }
            self.data[sector..sector + E].fill(0xFF);
            self.programmed[sector / W..(sector + E) / W].fill(false);
            self.counters.sectors_erased += 1;
            self.counters.erases_per_sector[sector / E] += 1;
        }
        if cut.is_some() {
            // Cut requested past the end of the operation: it completed, power is gone now.
            self.powered = false;
            return Err(SimError::PowerLost);
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimError> {
        if !self.powered {
            return Err(SimError::PowerLost);
        }
        let (start, end) = self.check(offset, bytes.len(), W)?;
        if self.strict {
            if let Some(unit) = (start / W..end / W).find(|&u| self.programmed[u]) {
                return Err(SimError::DoubleWrite {
                    offset: (unit * W) as u32,
                });
            }
        }
        let cut = self.take_cut();
        let mutation = self.counters.mutations();
        self.counters.programs += 1;
        if let Some(log) = &mut self.log {
            log.push(Op::Program {
                offset,
                len: bytes.len() as u32,
            });
        }
        let stop = cut.map_or(bytes.len(), |byte| (byte as usize).min(bytes.len()));
        let fault = self
            .fault
            .filter(|f| f.0 == mutation)
            .map(|(_, byte, mask)| (byte as usize, mask));
        if fault.is_some() {
            self.fault = None;
        }
        for (i, &b) in bytes[..stop].iter().enumerate() {
            let keep = fault.filter(|f| f.0 == i).map_or(0, |f| f.1);
            self.data[start + i] &= b | keep;
        }
        let mut touched_end = start + stop;
        if stop < bytes.len() {
            // The byte being programmed when power went: only some of its bits were cleared.
            let partial = bytes[stop] | self.noise_byte(mutation ^ (((start + stop) as u64) << 20));
            self.data[start + stop] &= partial;
            touched_end += 1;
        }
        let units = start / W..touched_end.div_ceil(W);
        self.programmed[units].fill(true);
        self.counters.bytes_programmed += stop as u64;
        if cut.is_some() {
            self.powered = false;
            return Err(SimError::PowerLost);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Flash = SimFlash<1, 4, 256>;

    #[test]
    fn erase_sets_ff_and_program_ands() {
        let mut f = Flash::new(512);
        f.write(0, &[0xF0, 0x0F, 0xAA, 0x55]).unwrap();
        assert_eq!(&f.as_bytes()[..4], &[0xF0, 0x0F, 0xAA, 0x55]);
        f.allow_double_write(true);
        f.write(0, &[0x3C, 0xFF, 0xFF, 0x00]).unwrap();
        assert_eq!(&f.as_bytes()[..4], &[0x30, 0x0F, 0xAA, 0x00]);
        f.erase(0, 256).unwrap();
        assert!(f.as_bytes()[..256].iter().all(|&b| b == 0xFF));
        assert_eq!(f.counters().erases_per_sector, vec![1, 0]);
        assert_eq!(f.counters().bytes_programmed, 8);
    }

    #[test]
    fn strict_rules() {
        let mut f = Flash::new(512);
        assert_eq!(
            f.write(2, &[0; 4]),
            Err(SimError::NotAligned { offset: 2, len: 4 })
        );
        assert_eq!(
            f.write(0, &[0; 3]),
            Err(SimError::NotAligned { offset: 0, len: 3 })
        );
        assert_eq!(
            f.write(512, &[0; 4]),
            Err(SimError::OutOfBounds {
                offset: 512,
                len: 4
            })
        );
        assert_eq!(
            f.erase(0, 100),
            Err(SimError::NotAligned {
                offset: 0,
                len: 100
            })
        );
        assert_eq!(
            f.erase(256, 0),
            Err(SimError::OutOfBounds {
                offset: 256,
                len: 0
            })
        );
        f.write(4, &[0xFF; 4]).unwrap();
        // Even an all-ones program uses up the unit.
        assert_eq!(
            f.write(0, &[0; 8]),
            Err(SimError::DoubleWrite { offset: 4 })
        );
        assert_eq!(f.counters().programs, 1);
        f.erase(0, 256).unwrap();
        f.write(0, &[0; 8]).unwrap();
    }

    #[test]
    fn power_cut_mid_program() {
        let mut f = Flash::new(512);
        f.arm_power_cut(1, 5);
        f.write(0, &[0x11; 4]).unwrap();
        assert_eq!(f.write(4, &[0x00; 8]), Err(SimError::PowerLost));
        assert!(f.is_powered_off());
        assert_eq!(f.read(0, &mut [0; 4]), Err(SimError::PowerLost));
        f.reboot();
        let b = f.as_bytes();
        assert_eq!(&b[4..9], &[0; 5]);
        // Byte 9 got some of its bits cleared (never set), 10.. untouched.
        assert_eq!(b[9] | 0xFF, 0xFF);
        assert_eq!(&b[10..12], &[0xFF, 0xFF]);
        // Units 4..8 and 8..12 were touched by the cut program.
        assert_eq!(
            f.write(8, &[0; 4]),
            Err(SimError::DoubleWrite { offset: 8 })
        );
        f.write(12, &[0; 4]).unwrap();
    }

    #[test]
    fn power_cut_mid_erase_leaves_noise() {
        let mut f = Flash::new(768);
        f.write(256, &[0; 256]).unwrap();
        f.arm_power_cut(0, 300);
        assert_eq!(f.erase(0, 768), Err(SimError::PowerLost));
        f.reboot();
        let b = f.as_bytes();
        assert!(b[..256].iter().all(|&x| x == 0xFF), "first sector erased");
        let sector = &b[256..512];
        assert!(sector.iter().any(|&x| x != 0xFF) && sector.iter().any(|&x| x != 0));
        assert_eq!(f.counters().erases_per_sector, vec![1, 0, 0]);
        assert!(matches!(
            f.write(256, &[0; 4]),
            Err(SimError::DoubleWrite { .. })
        ));
    }

    #[test]
    fn cut_past_the_end_completes_the_operation() {
        let mut f = Flash::new(256);
        f.arm_power_cut(0, 1000);
        assert_eq!(f.write(0, &[0; 4]), Err(SimError::PowerLost));
        f.reboot();
        assert_eq!(&f.as_bytes()[..5], &[0, 0, 0, 0, 0xFF]);
    }

    #[test]
    fn a_program_fault_leaves_bits_set_and_reports_success() {
        let mut f = Flash::new(256);
        f.fail_bits(0, 2, 0x10);
        f.write(0, &[0; 4]).unwrap();
        assert_eq!(&f.as_bytes()[..4], &[0, 0, 0x10, 0]);
        f.write(4, &[0; 4]).unwrap();
        assert_eq!(&f.as_bytes()[4..8], &[0; 4], "one fault only");
    }

    #[test]
    fn load_keeps_programmed_units() {
        let mut f = Flash::new(256);
        f.write(8, &[1, 2, 3, 4]).unwrap();
        let mut g = Flash::from_bytes(f.as_bytes());
        assert_eq!(g.as_bytes(), f.as_bytes());
        assert!(matches!(
            g.write(8, &[0; 4]),
            Err(SimError::DoubleWrite { .. })
        ));
        g.write(0, &[0; 4]).unwrap();
    }
}

/// One [`SimFlash`] shared by a VM that reads it in place and a store that programs it: on a
/// host, what memory-mapped (XIP) flash is on a device.
///
/// Clones share the device. Each [`NorFlash`] call borrows it for that call only, and
/// [`SharedFlash::bytes`] for as long as the VM holds the guard: a VM reads through it between
/// the store's operations (a freeze calls the VM, then programs, then calls the VM again), never
/// across one.
///
/// ```
/// use embedded_storage::nor_flash::NorFlash;
/// use flashfreeze::sim::{SharedFlash, SimFlash};
///
/// let chip = SharedFlash::new(SimFlash::<1, 4, 4096>::new(4096));
/// let mut programmer = chip.clone(); // what the store gets
/// programmer.write(0, &[1, 2, 3, 4])?;
/// assert_eq!(&chip.bytes()[..4], &[1, 2, 3, 4]); // what the VM reads in place
/// # Ok::<(), flashfreeze::sim::SimError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SharedFlash<const R: usize = 1, const W: usize = 4, const E: usize = 4096>(
    alloc::rc::Rc<core::cell::RefCell<SimFlash<R, W, E>>>,
);

impl<const R: usize, const W: usize, const E: usize> SharedFlash<R, W, E> {
    /// Share `flash`.
    pub fn new(flash: SimFlash<R, W, E>) -> Self {
        Self(alloc::rc::Rc::new(core::cell::RefCell::new(flash)))
    }

    /// The device's bytes, as the CPU would read them mapped.
    ///
    /// # Panics
    /// While a [`NorFlash`] call on a clone is running (it cannot be, on one thread, unless
    /// the guard is held across a store operation).
    pub fn bytes(&self) -> core::cell::Ref<'_, [u8]> {
        core::cell::Ref::map(self.0.borrow(), SimFlash::as_bytes)
    }

    /// Run `f` on the device (to arm a power cut, read the counters, reboot it).
    pub fn with<T>(&self, f: impl FnOnce(&mut SimFlash<R, W, E>) -> T) -> T {
        f(&mut self.0.borrow_mut())
    }
}

impl<const R: usize, const W: usize, const E: usize> ErrorType for SharedFlash<R, W, E> {
    type Error = SimError;
}

impl<const R: usize, const W: usize, const E: usize> ReadNorFlash for SharedFlash<R, W, E> {
    const READ_SIZE: usize = R;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimError> {
        self.0.borrow_mut().read(offset, bytes)
    }

    fn capacity(&self) -> usize {
        self.0.borrow().capacity()
    }
}

impl<const R: usize, const W: usize, const E: usize> NorFlash for SharedFlash<R, W, E> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), SimError> {
        self.0.borrow_mut().erase(from, to)
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimError> {
        self.0.borrow_mut().write(offset, bytes)
    }
}

/// The simulator is an `embedded-storage-async` device too (features `sim` + `async`): each
/// operation first yields to the executor once (waking itself), as a real driver waiting on a
/// DMA transfer or the flash's busy flag does, then runs as the blocking one.
#[cfg(feature = "async")]
mod asynch {
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context, Poll};

    use embedded_storage_async::nor_flash::{NorFlash, ReadNorFlash};

    use super::{SharedFlash, SimError, SimFlash};

    /// Pending once, then ready.
    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    fn yield_once() -> YieldOnce {
        YieldOnce(false)
    }

    impl<const R: usize, const W: usize, const E: usize> ReadNorFlash for SimFlash<R, W, E> {
        const READ_SIZE: usize = R;
        async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimError> {
            yield_once().await;
            embedded_storage::nor_flash::ReadNorFlash::read(self, offset, bytes)
        }
        fn capacity(&self) -> usize {
            embedded_storage::nor_flash::ReadNorFlash::capacity(self)
        }
    }

    impl<const R: usize, const W: usize, const E: usize> NorFlash for SimFlash<R, W, E> {
        const WRITE_SIZE: usize = W;
        const ERASE_SIZE: usize = E;
        async fn erase(&mut self, from: u32, to: u32) -> Result<(), SimError> {
            yield_once().await;
            embedded_storage::nor_flash::NorFlash::erase(self, from, to)
        }
        async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimError> {
            yield_once().await;
            embedded_storage::nor_flash::NorFlash::write(self, offset, bytes)
        }
    }

    impl<const R: usize, const W: usize, const E: usize> ReadNorFlash for SharedFlash<R, W, E> {
        const READ_SIZE: usize = R;
        async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimError> {
            yield_once().await;
            embedded_storage::nor_flash::ReadNorFlash::read(self, offset, bytes)
        }
        fn capacity(&self) -> usize {
            embedded_storage::nor_flash::ReadNorFlash::capacity(self)
        }
    }

    impl<const R: usize, const W: usize, const E: usize> NorFlash for SharedFlash<R, W, E> {
        const WRITE_SIZE: usize = W;
        const ERASE_SIZE: usize = E;
        async fn erase(&mut self, from: u32, to: u32) -> Result<(), SimError> {
            yield_once().await;
            embedded_storage::nor_flash::NorFlash::erase(self, from, to)
        }
        async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimError> {
            yield_once().await;
            embedded_storage::nor_flash::NorFlash::write(self, offset, bytes)
        }
    }
}
