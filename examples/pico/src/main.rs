//! flashfreeze on a Raspberry Pi Pico: minivm on a UART/USB console that speaks MicroPython's raw
//! REPL (so `mpremote` works), with a littlefs filesystem in flash and a NorFlash image region the
//! freezer writes.
//!
//! Boot: clocks (12 MHz crystal → 125 MHz), UART0 on GPIO0 (TX) / GPIO1 (RX) at 115200 8N1, USB CDC,
//! the allocator over the free SRAM (`heap`), the filesystem (`fs`: mounted, or formatted if its
//! region is erased, or left alone and reported if it cannot be mounted), then minivm (`vm::boot`:
//! the frozen RAM section in place at 0x2003_0000, imports from the filesystem then the bundled
//! modules, the image mounted) and the console session (minivm's `session`: friendly prompt, raw
//! REPL, raw paste; `%` lines are board commands, `board`). Ctrl-D at an empty prompt is a soft
//! reboot: a fresh VM on the same chip, RAM section and filesystem.
//!
//! The memory map (`layout`, `memory.x`): firmware below 1 MiB, the image region, then the
//! filesystem region; [`flash::RegionFlash`] claims keep the freezer's and the filesystem's flash
//! adapters out of each other's sectors and out of the firmware.

#![no_std]
#![no_main]

mod board;
mod crc;
mod flash;
mod fs;
mod heap;
mod layout;
mod panic;
mod port;
mod vm;

extern crate alloc;

use alloc::boxed::Box;
use alloc::rc::Rc;

use core::fmt::Write as _;
use core::mem::MaybeUninit;

use fugit::RateExtU32;
use minivm::repl::console::Console;
use minivm::session::{Session, Step};
use minivm::vfs::Root;
use usb_device::bus::UsbBusAllocator;
use usb_device::device::{StringDescriptors, UsbDeviceBuilder, UsbVidPid};

use rp2040_hal::{
    self as hal, Clock, pac,
    uart::{DataBits, StopBits, UartConfig, UartPeripheral},
};

use crate::flash::RegionFlash;
use crate::layout::{FROZEN_RAM_LEN, FS_LEN, FS_OFFSET, IMAGE_LEN, IMAGE_OFFSET};

/// The second-stage bootloader for the Pico's W25Q16 flash; must be the first 256 bytes of flash.
#[unsafe(link_section = ".boot2")]
#[used]
pub static BOOT2_FIRMWARE: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

/// Crystal frequency on the Pico.
const XTAL_FREQ_HZ: u32 = 12_000_000;

/// Longest program the console takes (raw REPL, paste): beyond it, a MemoryError.
const PROGRAM_LIMIT: usize = 16 * 1024;

/// What the friendly prompt prints at boot, after a soft reboot and on Ctrl-B.
const BANNER: &str = "minivm ready; Python statements, or %help for board commands";

#[global_allocator]
pub(crate) static ALLOCATOR: heap::TwoPools = heap::TwoPools::empty();

/// The VM's frozen RAM section: fixed address (see `memory.x`), not initialised by the runtime.
#[unsafe(link_section = ".frozen_ram")]
#[used]
pub(crate) static mut FROZEN_RAM: MaybeUninit<[u8; FROZEN_RAM_LEN]> = MaybeUninit::uninit();

#[hal::entry]
fn main() -> ! {
    // `take` only fails on a second call; this is the only one.
    let Some(mut pac) = pac::Peripherals::take() else {
        halt()
    };
    let mut watchdog = hal::Watchdog::new(pac.WATCHDOG);
    let Ok(clocks) = hal::clocks::init_clocks_and_plls(
        XTAL_FREQ_HZ,
        pac.XOSC,
        pac.CLOCKS,
        pac.PLL_SYS,
        pac.PLL_USB,
        &mut pac.RESETS,
        &mut watchdog,
    ) else {
        halt()
    };
    let sio = hal::Sio::new(pac.SIO);
    let pins = hal::gpio::Pins::new(
        pac.IO_BANK0,
        pac.PADS_BANK0,
        sio.gpio_bank0,
        &mut pac.RESETS,
    );
    let uart_pins = (
        pins.gpio0.into_function::<hal::gpio::FunctionUart>(),
        pins.gpio1.into_function::<hal::gpio::FunctionUart>(),
    );
    let Ok(uart) = UartPeripheral::new(pac.UART0, uart_pins, &mut pac.RESETS).enable(
        UartConfig::new(115_200.Hz(), DataBits::Eight, None, StopBits::One),
        clocks.peripheral_clock.freq(),
    ) else {
        halt()
    };
    let timer = hal::Timer::new(pac.TIMER, &mut pac.RESETS, &clocks);
    // The DMA sniffer as the CRC-32 engine, if it passes its self-test (else the table); it lives
    // as long as the firmware, so the VM's flash can hand it to the library at every boot.
    let dma_crc: Option<&'static crc::DmaCrc> = crc::DmaCrc::new(pac.DMA, &mut pac.RESETS)
        .ok()
        .and_then(|engine| cortex_m::singleton!(: crc::DmaCrc = engine))
        .map(|engine| &*engine);
    // USB CDC: a second console next to UART0 (the USB clock is 48 MHz from PLL_USB). The bus
    // allocator lives for the program, so the console link can be kept by the VM's poller.
    let Some(usb_bus) = cortex_m::singleton!(: UsbBusAllocator<hal::usb::UsbBus> =
    UsbBusAllocator::new(hal::usb::UsbBus::new(
        pac.USBCTRL_REGS,
        pac.USBCTRL_DPRAM,
        clocks.usb_clock,
        true,
        &mut pac.RESETS,
    ))) else {
        halt()
    };
    let usb_bus: &'static UsbBusAllocator<hal::usb::UsbBus> = usb_bus;
    let serial = usbd_serial::SerialPort::new(usb_bus);
    // A 64-byte control endpoint: descriptors go out in one packet (hosts accept 8..=64).
    let Ok(usb_builder) = UsbDeviceBuilder::new(usb_bus, UsbVidPid(0x16c0, 0x27dd))
        .strings(&[StringDescriptors::default()
            .manufacturer("flashfreeze")
            .product("flashfreeze pico console")
            .serial_number("0001")])
        .and_then(|b| b.max_packet_size_0(64))
    else {
        halt()
    };
    let usb_dev = usb_builder.device_class(usbd_serial::USB_CLASS_CDC).build();
    let linked = layout::linked();
    // SAFETY: called once, before any allocation. Pool 1 is the RAM after the statics (cortex-m-rt's
    // `__sheap`) up to the end of the RAM region, pool 2 the RAM2 region; memory.x puts no section,
    // the stack (own region below RAM) or the frozen RAM section in either.
    unsafe {
        ALLOCATOR.init(
            linked.heap_start..linked.heap_end,
            linked.heap2_start..linked.heap2_end,
        )
    };
    // SAFETY: the only place FROZEN_RAM is touched (besides taking its address for `%info`): it is
    // zero-filled through a raw pointer before the one `&'static mut` to it is made, which the VM
    // owns from then on (and hands back at each soft reboot).
    let frozen: &'static mut [u8] = unsafe {
        let p = (&raw mut FROZEN_RAM).cast::<u8>();
        core::ptr::write_bytes(p, 0, FROZEN_RAM_LEN);
        core::slice::from_raw_parts_mut(p, FROZEN_RAM_LEN)
    };

    let mut session = Session::new(
        port::Ports::new(uart, usb_dev, serial, timer),
        Console::new(BANNER, PROGRAM_LIMIT),
    );
    let _ = write!(
        session.out(),
        "\nflashfreeze pico {} (rp2040, {} MHz)\n",
        env!("CARGO_PKG_VERSION"),
        clocks.system_clock.freq().to_MHz()
    );
    if let Err(why) = layout::check(&linked) {
        let _ = writeln!(session.out(), "layout error: {why}");
    }
    let firmware_end = linked.firmware_end - layout::XIP_BASE;
    // SAFETY: core 1 is still parked in the boot ROM (never launched by this firmware), the only DMA
    // channel (the CRC's, `crc.rs`) runs only while its caller waits, in thread mode, never inside a
    // flash operation, and `firmware_end` comes from the linker.
    let image = match unsafe { RegionFlash::claim(IMAGE_OFFSET, IMAGE_LEN, firmware_end) } {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(session.out(), "layout error: image region: {e}");
            halt()
        }
    };
    let _ = writeln!(
        session.out(),
        "image region: {} KiB at flash {:#x} (XIP {:#x})",
        IMAGE_LEN / 1024,
        image.flash_offset(),
        image.xip_addr()
    );
    // SAFETY: as for the image region.
    let lfs = match unsafe { RegionFlash::claim(FS_OFFSET, FS_LEN, firmware_end) } {
        Ok(r) => Rc::new(fs::Lfs::mount(r)),
        Err(e) => {
            let _ = writeln!(session.out(), "layout error: filesystem region: {e}");
            halt()
        }
    };
    let _ = writeln!(
        session.out(),
        "filesystem: {} KiB at flash {FS_OFFSET:#x} (XIP {:#x}): {}",
        FS_LEN / 1024,
        layout::FS_XIP,
        lfs.status()
    );
    let root = Root::new(Box::new(fs::SharedLfs(lfs.clone())));

    let Some(chip) = vm::PicoChip::new(image, dma_crc) else {
        let _ = writeln!(
            session.out(),
            "layout error: image region differs from minivm's memory map"
        );
        halt()
    };
    let micros = || timer.get_counter().ticks();
    let (first, mut booted) = vm::boot(chip, Some(frozen), None, Some(root.clone()), micros);
    let mut vm = Some(first);
    // From here on, `%info`'s peak shows what running and freezing need beyond the VM's fixed setup.
    ALLOCATOR.reset_peak();
    let _ = writeln!(session.out(), "{}", booted.image_status);
    session.ready();

    while let Some(v) = vm.as_mut() {
        v.ticks_ms = (timer.get_counter().ticks() / 1000) as u32;
        match session.step(v) {
            None => {}
            Some(Step::Command(cmd)) => {
                let board = board::Board {
                    linked: &linked,
                    booted: &booted,
                    fs: &lfs,
                    root: &root,
                    timer: &timer,
                    crc: dma_crc,
                };
                let mut out = session.out();
                board.command(&mut out, &cmd, v);
                session.prompt();
            }
            Some(Step::Reboot) => {
                let Some(old) = vm.take() else { break };
                let (chip, frozen, heap) = vm::shut_down(old);
                session.rebooted();
                let (next, b) = vm::boot(chip, frozen, Some(heap), Some(root.clone()), micros);
                vm = Some(next);
                booted = b;
                let _ = writeln!(session.out(), "{}", booted.image_status);
                session.ready();
            }
            Some(Step::Closed) => break,
        }
    }
    halt()
}

/// Stops here for good (only reached if the hardware cannot be set up).
fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}
