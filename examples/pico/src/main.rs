//! flashfreeze on a Raspberry Pi Pico: minivm on a UART console, freezing into a NorFlash image region.
//!
//! Boot: clocks (12 MHz crystal → 125 MHz), UART0 on GPIO0 (TX) / GPIO1 (RX) at 115200 8N1, the
//! allocator over the free SRAM (`heap`), minivm with its bundled modules, then the mount of the
//! image (the banner's `image:` line says what was mounted, or why not) and the console: lines are
//! minivm statements, lines starting with `%` are board commands (`board`).
//!
//! The image region is the second MiB of the 2 MiB flash (`layout`, `memory.x`); [`flash::RegionFlash`]
//! is the `NorFlash` over it, and [`vm::PicoChip`] hands it to minivm's freezer.

#![no_std]
#![no_main]

mod board;
mod console;
mod flash;
mod heap;
mod layout;
mod panic;
mod port;
mod vm;

extern crate alloc;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;

use core::fmt::Write as _;
use core::mem::MaybeUninit;

use fugit::RateExtU32;
use usb_device::bus::UsbBusAllocator;
use usb_device::device::{StringDescriptors, UsbDeviceBuilder, UsbVidPid};

use rp2040_hal::{
    self as hal, Clock, pac,
    uart::{DataBits, StopBits, UartConfig, UartPeripheral},
};

use crate::console::Console;
use crate::flash::RegionFlash;
use crate::layout::{FROZEN_RAM_LEN, IMAGE_LEN, IMAGE_OFFSET};

/// The second-stage bootloader for the Pico's W25Q16 flash; must be the first 256 bytes of flash.
#[unsafe(link_section = ".boot2")]
#[used]
pub static BOOT2_FIRMWARE: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

/// Crystal frequency on the Pico.
const XTAL_FREQ_HZ: u32 = 12_000_000;

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
    // USB CDC: a second console next to UART0 (the USB clock is 48 MHz from PLL_USB).
    let usb_bus = UsbBusAllocator::new(hal::usb::UsbBus::new(
        pac.USBCTRL_REGS,
        pac.USBCTRL_DPRAM,
        clocks.usb_clock,
        true,
        &mut pac.RESETS,
    ));
    let serial = usbd_serial::SerialPort::new(&usb_bus);
    // A 64-byte control endpoint: descriptors go out in one packet (hosts accept 8..=64).
    let Ok(usb_builder) = UsbDeviceBuilder::new(&usb_bus, UsbVidPid(0x16c0, 0x27dd))
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

    let mut con = Console::new(port::Ports::new(uart, usb_dev, serial));
    let _ = write!(
        con,
        "\nflashfreeze pico {} (rp2040, {} MHz)\n",
        env!("CARGO_PKG_VERSION"),
        clocks.system_clock.freq().to_MHz()
    );
    if let Err(why) = layout::check(&linked) {
        let _ = writeln!(con, "layout error: {why}");
    }
    // SAFETY: core 1 is still parked in the boot ROM (never launched by this firmware), no DMA is
    // configured, and this is the only RegionFlash for the image region, which the linker script keeps
    // clear of the firmware.
    let Some(region) = (unsafe { RegionFlash::new(IMAGE_OFFSET, IMAGE_LEN) }) else {
        let _ = writeln!(con, "layout error: image region not sector aligned");
        halt()
    };
    let _ = writeln!(
        con,
        "image region: {} KiB at flash {:#x} (XIP {:#x})",
        IMAGE_LEN / 1024,
        region.flash_offset(),
        region.xip_addr()
    );

    let Some(chip) = vm::PicoChip::new(region) else {
        let _ = writeln!(
            con,
            "layout error: image region differs from minivm's memory map"
        );
        halt()
    };
    let mut vm = minivm::Vm::new(chip, layout::VM_HEAP_LEN as u32);
    // The interpreter bounds frames by the value stack's length: a smaller one leaves RAM for freezing.
    vm.stack.truncate(layout::VM_STACK_WORDS);
    vm.stack.shrink_to_fit();
    vm.sources.push(Box::new(minivm::sources::Bundled));
    minivm::freeze::FlashFreezer::attach(&mut vm);
    // From here on, `%info`'s peak shows what running and freezing need beyond the VM's fixed setup.
    ALLOCATOR.reset_peak();
    let t0 = timer.get_counter();
    let mounted = vm.mount_frozen();
    let mount_us = (timer.get_counter() - t0).to_micros();
    // What the boot found, for the banner and for `%info` (a USB terminal opened later missed the banner).
    let image_status = match mounted {
        Ok(m) if m.batches == 0 => String::from("image: none (region erased)"),
        Ok(m) => format!(
            "image: mounted {} batches in {} us: {}; RAM section {:#x}..{:#x}",
            m.batches,
            mount_us,
            m.modules.join(", "),
            m.ram.start,
            m.ram.end
        ),
        Err(why) => format!("image: not mounted: {why}"),
    };
    let _ = writeln!(con, "{image_status}");
    let _ = writeln!(
        con,
        "minivm ready; Python statements, or %help for board commands"
    );

    let mut buf = [0u8; 256];
    loop {
        let line = con.read_line(">>> ", &mut buf).trim();
        if let Some(cmd) = line.strip_prefix('%') {
            match vm.mem.flash.region() {
                Some(region) => {
                    let board = board::Board {
                        linked: &linked,
                        image_status: &image_status,
                        timer: &timer,
                    };
                    board.command(&mut con, cmd.trim(), region)
                }
                None => {
                    let _ = writeln!(con, "the image region is lent out");
                }
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        vm.ticks_ms = (timer.get_counter().ticks() / 1000) as u32;
        let _ = vm.exec_line(line);
        let _ = con.write_str(&vm.take_output());
    }
}

/// Stops here for good (only reached if the hardware cannot be set up).
fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}
