//! CRC-32 (ISO-HDLC, zlib's) computed by the RP2040's DMA sniffer: one DMA channel reads the bytes
//! (flash through XIP, or SRAM) and writes them to a dummy word, and the sniffer folds every
//! transfer into its accumulator — one 32-bit word per system clock cycle at best, against about
//! 18 cycles per byte for a 1 KiB table on the Cortex-M0+.
//!
//! ```text
//! bytes: [head: 0-3 bytes][ middle: whole aligned words ][tail: 0-3 bytes]
//!         8-bit transfers   32-bit transfers               8-bit transfers
//!         └───────────── one sniffer accumulator, seeded once ─────────────┘
//! ```
//!
//! The sniffer runs in its bit-reversed CRC-32 mode (`CALC = CRC32R`), with the result read
//! bit-reversed and inverted (`OUT_REV`, `OUT_INV`): the accumulator then holds the bit-reversal of
//! the reflected CRC register, so a running CRC `crc` continues with the seed
//! `reverse_bits(!crc)`, and the result reads back as the finished CRC. Below [`MIN_DMA`] bytes
//! the table is faster than setting the channel up.
//!
//! [`DmaCrc::new`] brings the DMA block out of reset and checks the sniffer against the table on
//! a known answer (misaligned, so that all three parts run); a board whose sniffer answered wrong
//! keeps the table. Channel [`CHANNEL`] belongs to this module; nothing else in the firmware uses
//! the DMA. It runs only in thread mode, never while a flash operation has XIP switched off (those
//! run in a critical section inside [`crate::flash::RegionFlash`], which computes no CRC).

use core::sync::atomic::{Ordering, compiler_fence};

use rp2040_hal::pac;

/// The DMA channel the CRC uses.
pub const CHANNEL: usize = 0;
/// Shorter inputs go through the table.
pub const MIN_DMA: usize = 32;

/// The table CRC (and the sniffer's definition).
static TABLE: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

// CTRL_TRIG bits (RP2040 datasheet, DMA CHx_CTRL_TRIG).
const CTRL_EN: u32 = 1 << 0;
const CTRL_SIZE_BYTE: u32 = 0 << 2;
const CTRL_SIZE_WORD: u32 = 2 << 2;
const CTRL_INCR_READ: u32 = 1 << 4;
const CTRL_CHAIN_TO_SELF: u32 = (CHANNEL as u32) << 11;
const CTRL_TREQ_PERMANENT: u32 = 0x3f << 15;
const CTRL_IRQ_QUIET: u32 = 1 << 21;
const CTRL_SNIFF_EN: u32 = 1 << 23;
const CTRL_BUSY: u32 = 1 << 24;
const CTRL_AHB_ERROR: u32 = 1 << 31;
// SNIFF_CTRL bits.
const SNIFF_EN: u32 = 1 << 0;
const SNIFF_DMACH: u32 = (CHANNEL as u32) << 1;
const SNIFF_CALC_CRC32R: u32 = 0x1 << 5;
const SNIFF_OUT_REV: u32 = 1 << 10;
const SNIFF_OUT_INV: u32 = 1 << 11;

/// Where the channel writes what it reads (without incrementing): the sniffer needs a transfer.
static mut SINK: u32 = 0;

/// The CRC-32 of `bytes` continued from `crc` (0 to start), with the table.
pub fn software(crc: u32, bytes: &[u8]) -> u32 {
    // The crate's initial value is in the algorithm's unreflected form: the register is `!crc`.
    let mut d = TABLE.digest_with_initial((!crc).reverse_bits());
    d.update(bytes);
    d.finalize()
}

/// The DMA sniffer as a CRC-32 engine (see the module docs).
pub struct DmaCrc {
    dma: pac::DMA,
}

impl flashfreeze::image::crc::CrcEngine for DmaCrc {
    fn update(&self, crc: u32, bytes: &[u8]) -> u32 {
        DmaCrc::update(self, crc, bytes)
    }
}

impl DmaCrc {
    /// Takes the DMA block out of reset and checks the sniffer; gives the block back (in reset)
    /// if the sniffer did not give the table's answer.
    pub fn new(dma: pac::DMA, resets: &mut pac::RESETS) -> Result<Self, pac::DMA> {
        resets.reset().modify(|_, w| w.dma().clear_bit());
        while resets.reset_done().read().dma().bit_is_clear() {}
        let engine = Self { dma };
        // A misaligned known answer: 3 head bytes, 15 words, 2 tail bytes.
        let mut probe = [0u8; 72];
        for (i, b) in probe.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(167) ^ 0x5c;
        }
        let start = probe.as_ptr().align_offset(4) + 1;
        let part = &probe[start..start + 65];
        if engine.update(0x1234_5678, part) == software(0x1234_5678, part)
            && engine.update(0, b"123456789abcdefghijklmnopqrstuvwxyz")
                == software(0, b"123456789abcdefghijklmnopqrstuvwxyz")
        {
            Ok(engine)
        } else {
            resets.reset().modify(|_, w| w.dma().set_bit());
            Err(engine.dma)
        }
    }

    /// The CRC-32 of `bytes` continued from `crc` (0 to start): the same value as [`software`].
    pub fn update(&self, crc: u32, bytes: &[u8]) -> u32 {
        if bytes.len() < MIN_DMA {
            return software(crc, bytes);
        }
        let start = bytes.as_ptr() as u32;
        let head = (start.wrapping_neg() & 3) as usize;
        let words = (bytes.len() - head) / 4;
        let tail = bytes.len() - head - 4 * words;
        let d = &self.dma;
        // SAFETY: plain register writes; the seed and mode take effect before the first transfer.
        d.sniff_data()
            .write(|w| unsafe { w.bits((!crc).reverse_bits()) });
        // SAFETY: as above.
        d.sniff_ctrl().write(|w| unsafe {
            w.bits(SNIFF_EN | SNIFF_DMACH | SNIFF_CALC_CRC32R | SNIFF_OUT_REV | SNIFF_OUT_INV)
        });
        let ok = self.run(start, head, CTRL_SIZE_BYTE)
            && self.run(start + head as u32, words, CTRL_SIZE_WORD)
            && self.run(start + (head + 4 * words) as u32, tail, CTRL_SIZE_BYTE);
        let out = d.sniff_data().read().bits();
        // SAFETY: as above (the sniffer off).
        d.sniff_ctrl().write(|w| unsafe { w.bits(0) });
        if ok { out } else { software(crc, bytes) }
    }

    /// Runs `count` transfers of `size` from `addr` through the sniffer and waits for the end;
    /// false if the bus reported an error (the caller falls back to the table).
    fn run(&self, addr: u32, count: usize, size: u32) -> bool {
        if count == 0 {
            return true;
        }
        let ch = self.dma.ch(CHANNEL);
        // SAFETY: the channel reads `count` items from `addr`, which the caller's slice covers and
        // which stays borrowed until this returns (it waits for the channel to stop); it writes only
        // to SINK, a word nothing reads. No other code uses this channel (module docs).
        unsafe {
            ch.ch_read_addr().write(|w| w.bits(addr));
            ch.ch_write_addr()
                .write(|w| w.bits(core::ptr::addr_of_mut!(SINK) as u32));
            ch.ch_trans_count().write(|w| w.bits(count as u32));
        }
        // The bytes the channel reads are written before it starts.
        compiler_fence(Ordering::SeqCst);
        // SAFETY: as above; this write starts the channel.
        ch.ch_ctrl_trig().write(|w| unsafe {
            w.bits(
                CTRL_EN
                    | size
                    | CTRL_INCR_READ
                    | CTRL_CHAIN_TO_SELF
                    | CTRL_TREQ_PERMANENT
                    | CTRL_IRQ_QUIET
                    | CTRL_SNIFF_EN,
            )
        });
        let mut ctrl = ch.ch_ctrl_trig().read().bits();
        while ctrl & CTRL_BUSY != 0 {
            ctrl = ch.ch_ctrl_trig().read().bits();
        }
        compiler_fence(Ordering::SeqCst);
        ctrl & CTRL_AHB_ERROR == 0
    }
}
