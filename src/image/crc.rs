//! The image's CRC-32, and the hook through which a board computes it in hardware.
//!
//! Every CRC of the image is CRC-32/ISO-HDLC (zlib's: reflected, polynomial `0x04C11DB7`,
//! initial value and final XOR all ones). The library computes it with a table
//! ([`SoftwareCrc`], the default) unless the caller hands it another [`CrcEngine`] in
//! [`crate::image::ReadConfig::with_crc`] or [`crate::store::StoreConfig::with_crc`]: a
//! peripheral that checksums memory faster than a table can, such as the RP2040's DMA sniffer
//! (`examples/pico/src/crc.rs`), an STM32's CRC unit set to this polynomial, or a crypto block.
//! The engine only changes how fast the CRC is computed, never which bytes are checked.
//!
//! The engine sees the bytes where they are: for a mapped region (mount, and a store opened
//! with [`crate::store::Store::open_mapped`]) the region's own bytes, so a DMA engine reads the
//! flash directly; otherwise the reader's buffers in RAM.

use core::fmt;

use super::format::CRC;

/// A CRC-32/ISO-HDLC engine: `update(crc, bytes)` continues the CRC `crc` of earlier bytes
/// (0 before the first) over `bytes`, as zlib's `crc32(crc, bytes, len)` does, so that
/// `update(update(0, a), b) == update(0, a ‖ b)`.
///
/// An implementation must give exactly the value [`SoftwareCrc`] gives, for every input: the
/// image's CRCs are checked against it. A hardware engine should check itself at start-up (a
/// known answer against [`SoftwareCrc`]) and not be handed to the library if it fails.
pub trait CrcEngine {
    /// The CRC of `bytes`, continuing `crc`.
    fn update(&self, crc: u32, bytes: &[u8]) -> u32;
}

/// The table CRC (the [`CrcEngine`] used unless another is given).
#[derive(Clone, Copy, Debug, Default)]
pub struct SoftwareCrc;

/// The one [`SoftwareCrc`], for configurations.
pub static SOFTWARE_CRC: SoftwareCrc = SoftwareCrc;

impl CrcEngine for SoftwareCrc {
    fn update(&self, crc: u32, bytes: &[u8]) -> u32 {
        // The crate's initial value is the unreflected register: the register is `!crc`.
        let mut d = CRC.digest_with_initial((!crc).reverse_bits());
        d.update(bytes);
        d.finalize()
    }
}

/// An engine in a configuration: shown by name in `Debug`, compared by identity.
#[derive(Clone, Copy)]
pub(crate) struct EngineRef<'a>(pub(crate) &'a dyn CrcEngine);

impl EngineRef<'_> {
    pub(crate) fn is_software(&self) -> bool {
        core::ptr::addr_eq(
            self.0 as *const dyn CrcEngine,
            &SOFTWARE_CRC as *const SoftwareCrc,
        )
    }
}

impl fmt::Debug for EngineRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_software() {
            "SoftwareCrc"
        } else {
            "CrcEngine"
        })
    }
}

impl PartialEq for EngineRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        core::ptr::addr_eq(
            self.0 as *const dyn CrcEngine,
            other.0 as *const dyn CrcEngine,
        )
    }
}

impl Eq for EngineRef<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_continues_like_zlib() {
        let data = b"123456789";
        assert_eq!(SoftwareCrc.update(0, data), 0xCBF4_3926);
        for cut in 0..=data.len() {
            let (a, b) = data.split_at(cut);
            assert_eq!(SoftwareCrc.update(SoftwareCrc.update(0, a), b), 0xCBF4_3926);
        }
        assert_eq!(SoftwareCrc.update(0, &[]), 0);
        assert_eq!(SoftwareCrc.update(0xDEAD_BEEF, &[]), 0xDEAD_BEEF);
    }
}
