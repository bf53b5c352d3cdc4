//! The glue between minivm and the board: the VM's flash is the Pico's chip, writable only in the image
//! region, and the image it reads in place is the region's XIP window.
//!
//! minivm addresses frozen objects at `0x1010_0000 + offset` in its modelled address space, which is
//! exactly the XIP address of the image region, so the image the VM reads is the region's XIP slice.
//! minivm's freezer opens the library's store on a whole-chip `NorFlash` (chip offsets, the region at
//! `0x10_0000`), so [`PicoChip`] translates chip offsets to the region-relative [`RegionFlash`] and
//! refuses anything outside the region: the firmware cannot be erased through it.
//!
//! The VM owns the `PicoChip`, so writes (through `&mut`) and reads of the XIP slice (through `&`)
//! never overlap; while the freezer lends the chip to the store, the VM holds a detached stand-in.
//!
//! [`boot`] makes a VM the way the board runs it — at power-on and at every soft reboot: the frozen
//! RAM section at its physical address, the filesystem for `open()`/`os` and imports (`sys.path`
//! `['', '/lib']`, then the bundled modules), the freezer, and the image mounted. [`shut_down`]
//! takes the chip and the RAM section back from a VM before it is dropped.

use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use core::fmt;

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

use flashfreeze::image::crc::{CrcEngine, SOFTWARE_CRC};
use minivm::mem::HeapBuffers;
use minivm::ramsection::RamSection;
use minivm::vfs::Root;

use crate::crc::DmaCrc;
use crate::flash::{self, FlashError, RegionFlash};
use crate::layout::{
    FLASH_SIZE, FROZEN_RAM_ADDR, FROZEN_RAM_LEN, FS_LEN, FS_OFFSET, IMAGE_LEN, IMAGE_OFFSET,
    IMAGE_XIP, VM_HEAP_LEN, VM_STACK_WORDS,
};

// The board's memory map must be minivm's modelled one: frozen addresses are used as they are.
const _: () = {
    use minivm::memmap as vm;
    assert!(IMAGE_OFFSET == vm::IMAGE_FLASH_OFFSET && IMAGE_LEN == vm::IMAGE_LEN);
    assert!(IMAGE_XIP == vm::IMAGE_BASE && FLASH_SIZE == vm::FLASH_SIZE);
    assert!(
        FROZEN_RAM_ADDR == vm::RAM_SECTION_BASE && FROZEN_RAM_LEN as u32 == vm::RAM_SECTION_LEN
    );
    // The filesystem follows the image and ends with the flash.
    assert!(IMAGE_OFFSET + IMAGE_LEN <= FS_OFFSET && FS_OFFSET + FS_LEN <= FLASH_SIZE);
};

/// The board's VM.
pub type PicoVm = minivm::Vm<PicoChip>;

/// What a boot found.
pub struct Booted {
    /// The `image:` line (what the mount found, or why nothing).
    pub image_status: String,
    /// Allocator bytes given back by keeping the RAM section at its physical address instead
    /// of the heap buffer a VM starts with (0 if `ram` was `None`).
    pub ram_returned: usize,
}

/// A VM as the board runs it (see the module docs), and what its boot found.
///
/// `ram` is the frozen RAM section's physical memory (`None` keeps it in a heap buffer); `heap` is
/// the previous VM's heap arena after a soft reboot (`None` allocates one: at power-up, when the
/// allocator is still one free run); `micros` is the clock that times the image mount.
pub fn boot(
    chip: PicoChip,
    ram: Option<&'static mut [u8]>,
    heap: Option<HeapBuffers>,
    fs: Option<Rc<Root>>,
    mut micros: impl FnMut() -> u64,
) -> (PicoVm, Booted) {
    // Reusing the arena: after a session the allocator may hold no free run of VM_HEAP_LEN bytes
    // any more (buffers that outlive a VM sit between its old blocks), and a failed allocation
    // here would end in the alloc error handler.
    let heap = heap.unwrap_or_else(|| HeapBuffers::new(VM_HEAP_LEN as u32));
    let mut vm = minivm::Vm::on_heap(chip, heap, PicoVm::builtins());
    // The interpreter bounds frames by the value stack's length: a smaller one leaves RAM for freezing.
    vm.stack.truncate(VM_STACK_WORDS);
    vm.stack.shrink_to_fit();
    // The RAM section at 0x2003_0000 itself: the heap buffer Vm::new made goes away.
    let mut ram_returned = 0;
    if let Some(section) = ram.and_then(RamSection::fixed) {
        let before = crate::ALLOCATOR.used();
        vm.mem.ram = section;
        ram_returned = before.saturating_sub(crate::ALLOCATOR.used());
    }
    vm.sources
        .push(alloc::boxed::Box::new(minivm::sources::Bundled));
    if let Some(root) = fs {
        minivm::vfs::mount(&mut vm, root, minivm::vfs::SYS_PATH);
    }
    // Mount, then attach the freezer: it takes the mount's validated chain (not validated
    // again), and its recovery of a cut compaction (which a committed batch 0 rules out) mounts
    // the finished copy when this mount found nothing.
    let t0 = micros();
    let mut mounted = vm.mount_frozen();
    let mount_us = micros() - t0;
    #[cfg(not(feature = "dedup"))]
    let recovered = minivm::freeze::FlashFreezer::attach(&mut vm);
    #[cfg(feature = "dedup")]
    let recovered =
        minivm::freeze::FlashFreezer::attach_with(&mut vm, flashfreeze::plan::Dedup::ON);
    if let Some(m) = recovered {
        mounted = m;
    }
    // Each batch's working memory measured on the Rust allocator (`%info`).
    if let Some(inner) = vm.freezer.take() {
        vm.freezer = Some(alloc::boxed::Box::new(Measured(inner)));
    }
    let status = match mounted {
        Ok(m) if m.batches == 0 => String::from("image: none (region erased)"),
        Ok(m) => format!(
            "image: mounted {} batches in {} us: {}; RAM section {:#x}..{:#x}",
            m.batches,
            mount_us,
            m.modules_joined(", "),
            m.ram.start,
            m.ram.end
        ),
        // A refused image (another firmware) still names its modules: `freeze.refreeze()` needs them.
        Err(why) if !vm.lifecycle.refused.is_empty() => {
            let names: alloc::vec::Vec<String> = vm
                .lifecycle
                .refused
                .iter()
                .map(|(name, path, _)| match path {
                    Some(p) => format!("{name} ({p})"),
                    None => format!("{name} (no source)"),
                })
                .collect();
            format!(
                "image: not mounted: {why}; it names {}; freeze.refreeze() freezes them again",
                names.join(", ")
            )
        }
        Err(why) => format!("image: not mounted: {why}"),
    };
    (
        vm,
        Booted {
            image_status: status,
            ram_returned,
        },
    )
}

/// Takes the chip, the RAM section's memory and the heap arena back from `vm` (files it left open
/// are closed), so that the next VM can have them; the VM is dropped.
pub fn shut_down(mut vm: PicoVm) -> (PicoChip, Option<&'static mut [u8]>, HeapBuffers) {
    minivm::session::close_files(&vm);
    let chip = core::mem::replace(
        &mut vm.mem.flash,
        PicoChip {
            region: None,
            crc: None,
        },
    );
    let ram = core::mem::replace(&mut vm.mem.ram, RamSection::Heap(alloc::vec::Vec::new()));
    let heap = vm.mem.take_buffers();
    drop(vm);
    (chip, ram.into_fixed(), heap)
}

/// The flash chip as minivm sees it: chip offsets, the image region writable, the rest refused.
pub struct PicoChip {
    /// The image region; `None` for the detached stand-in.
    region: Option<RegionFlash>,
    /// The DMA sniffer, when it passed its self-test: the image's CRCs at mount and freeze.
    crc: Option<&'static DmaCrc>,
}

impl PicoChip {
    /// Wraps the image region (`region` must be [`IMAGE_OFFSET`]`..+`[`IMAGE_LEN`], minivm's map);
    /// `crc` computes the image's CRCs (the table when `None`).
    pub fn new(region: RegionFlash, crc: Option<&'static DmaCrc>) -> Option<Self> {
        (region.flash_offset() == IMAGE_OFFSET && region.as_slice().len() == IMAGE_LEN as usize)
            .then_some(Self {
                region: Some(region),
                crc,
            })
    }

    /// The image region, unless this is the detached stand-in.
    pub fn region(&mut self) -> Option<&mut RegionFlash> {
        self.region.as_mut()
    }

    /// Region-relative form of the chip range `offset..offset + len`, or why not.
    fn region_range(
        &mut self,
        offset: u32,
        len: usize,
    ) -> Result<(&mut RegionFlash, u32), ChipError> {
        let Some(region) = self.region.as_mut() else {
            return Err(ChipError::Detached);
        };
        match offset.checked_sub(IMAGE_OFFSET) {
            Some(rel) => Ok((region, rel)),
            None => Err(ChipError::OutsideRegion {
                offset,
                len: len as u32,
            }),
        }
    }
}

/// A refused or failed operation on the [`PicoChip`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChipError {
    /// The range starts below the image region (the firmware's flash), which the VM may not touch.
    OutsideRegion {
        /// Chip offset asked for.
        offset: u32,
        /// Length asked for.
        len: u32,
    },
    /// The region adapter refused it (alignment, or past the end of the region).
    Region(FlashError),
    /// The stand-in the VM holds while the store has the chip was used.
    Detached,
}

impl NorFlashError for ChipError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            ChipError::OutsideRegion { .. } => NorFlashErrorKind::OutOfBounds,
            ChipError::Region(e) => e.kind(),
            ChipError::Detached => NorFlashErrorKind::Other,
        }
    }
}

impl fmt::Display for ChipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChipError::OutsideRegion { offset, len } => write!(
                f,
                "flash chip: {len} bytes at {offset:#x} are outside the image region {IMAGE_OFFSET:#x}..{:#x}",
                IMAGE_OFFSET + IMAGE_LEN
            ),
            ChipError::Region(e) => write!(f, "{e} (region at chip offset {IMAGE_OFFSET:#x})"),
            ChipError::Detached => f.write_str("flash chip: detached stand-in used"),
        }
    }
}

impl From<FlashError> for ChipError {
    fn from(e: FlashError) -> Self {
        ChipError::Region(e)
    }
}

impl ErrorType for PicoChip {
    type Error = ChipError;
}

impl ReadNorFlash for PicoChip {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let (region, rel) = self.region_range(offset, bytes.len())?;
        Ok(region.read(rel, bytes)?)
    }

    fn capacity(&self) -> usize {
        FLASH_SIZE as usize
    }
}

impl NorFlash for PicoChip {
    const WRITE_SIZE: usize = flash::WRITE_SIZE;
    const ERASE_SIZE: usize = flash::ERASE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let len = to.saturating_sub(from) as usize;
        let (region, rel) = self.region_range(from, len)?;
        // `to` below the region or below `from` wraps or underflows: the region refuses it as out of bounds.
        Ok(region.erase(rel, to.wrapping_sub(IMAGE_OFFSET))?)
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let (region, rel) = self.region_range(offset, bytes.len())?;
        Ok(region.write(rel, bytes)?)
    }
}

impl minivm::FlashImage for PicoChip {
    fn image(&self) -> &[u8] {
        self.region.as_ref().map_or(&[], |r| r.as_slice())
    }

    fn crc_engine(&self) -> &'static dyn CrcEngine {
        match self.crc {
            Some(dma) => dma,
            None => &SOFTWARE_CRC,
        }
    }
}

impl minivm::freeze::FreezeFlash for PicoChip {
    fn detached() -> Self {
        PicoChip {
            region: None,
            crc: None,
        }
    }
}

/// One batch's working memory, as [`Measured`] found it.
#[derive(Clone, Copy, Default)]
pub struct BatchWork {
    /// The Rust allocator's peak during the batch minus what was live before it (requested
    /// sizes, no block overhead).
    pub work: u32,
    /// The objects it froze.
    pub objects: u32,
    /// Its flash bytes (the batch's share of the image, headers excluded).
    pub flash_bytes: u32,
    /// The library's own count of its extra heap while planning (`Stats::working_bytes`).
    pub planned: u32,
    /// Frozen bytes of the batch's largest object (`Stats::largest_object`).
    pub largest: u32,
}

/// How many batches [`WORK`] keeps (the first ones since power-on).
pub const WORK_LOG: usize = 32;

/// The working memory of each batch frozen since power-on (the first [`WORK_LOG`]), and how
/// many batches there were; `%info` prints them.
pub static WORK: critical_section::Mutex<core::cell::RefCell<(usize, [BatchWork; WORK_LOG])>> =
    critical_section::Mutex::new(core::cell::RefCell::new((
        0,
        [BatchWork {
            work: 0,
            objects: 0,
            flash_bytes: 0,
            planned: 0,
            largest: 0,
        }; WORK_LOG],
    )));

/// minivm's freezer (every method forwarded), with each batch bracketed by the Rust allocator's peak ([`WORK`]): the
/// freezer's working memory on the board, measured rather than estimated.
struct Measured(alloc::boxed::Box<dyn minivm::vm::Freezer<PicoChip>>);

impl Measured {
    fn batch(
        &mut self,
        vm: &mut PicoVm,
        f: impl FnOnce(
            &mut dyn minivm::vm::Freezer<PicoChip>,
            &mut PicoVm,
        ) -> Result<minivm::vm::Batch, minivm::vm::FreezeFailed>,
    ) -> Result<minivm::vm::Batch, minivm::vm::FreezeFailed> {
        let (r, work) = crate::ALLOCATOR.peak_during(|| f(&mut *self.0, vm));
        if let Ok(minivm::vm::Batch::Frozen(st)) = &r {
            let entry = BatchWork {
                work: work as u32,
                objects: st.objects,
                flash_bytes: st.flash_bytes as u32,
                planned: st.working_bytes as u32,
                largest: st.largest_object,
            };
            critical_section::with(|cs| {
                let mut log = WORK.borrow_ref_mut(cs);
                let n = log.0;
                if let Some(slot) = log.1.get_mut(n) {
                    *slot = entry;
                }
                log.0 = n + 1;
            });
        }
        r
    }
}

impl minivm::vm::Freezer<PicoChip> for Measured {
    fn freeze_modules(
        &mut self,
        vm: &mut PicoVm,
        names: &[String],
        running: &[u32],
    ) -> Result<minivm::vm::Batch, minivm::vm::FreezeFailed> {
        self.batch(vm, |fz, vm| fz.freeze_modules(vm, names, running))
    }

    fn freeze_tree(
        &mut self,
        vm: &mut PicoVm,
        name: &str,
    ) -> Result<minivm::vm::Batch, minivm::vm::FreezeFailed> {
        self.batch(vm, |fz, vm| fz.freeze_tree(vm, name))
    }

    fn clear(&mut self, vm: &mut PicoVm) -> Result<(), String> {
        self.0.clear(vm)
    }

    fn remove(&mut self, vm: &mut PicoVm, name: &str) -> Result<(), String> {
        self.0.remove(vm, name)
    }

    fn modules(
        &mut self,
        vm: &mut PicoVm,
    ) -> Result<alloc::vec::Vec<(String, u32, u64, u64)>, String> {
        self.0.modules(vm)
    }

    fn info(&mut self, vm: &mut PicoVm) -> Result<alloc::vec::Vec<(&'static str, u64)>, String> {
        self.0.info(vm)
    }

    fn compact(&mut self, vm: &mut PicoVm) -> Result<String, String> {
        self.0.compact(vm)
    }

    fn recover(&mut self, vm: &mut PicoVm) -> Result<bool, String> {
        self.0.recover(vm)
    }

    fn measures(&self) -> bool {
        self.0.measures()
    }

    fn mounted(&mut self, state: flashfreeze::store::StoreState) {
        self.0.mounted(state)
    }
}
