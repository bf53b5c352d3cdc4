//! Arbitrary bytes as an image region: decoding, validation and mount never panic, and what
//! validates holds no wild pointer. With the first byte odd, the input's header gets a valid
//! magic, version, firmware id and seal, so the checks behind the CRCs are reached too.
#![no_main]

use flashfreeze::image::Image;
use flashfreeze::image::dump;
use flashfreeze::unstable::format::{BATCH_MAGIC, FORMAT_VERSION, HEADER_LEN};
use flashfreeze::unstable::reseal_batch;
use flashfreeze_fuzz::{FW, mount_checked, read_cfg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut region = data.to_vec();
    if data.first().is_some_and(|b| b & 1 == 1) && region.len() >= HEADER_LEN {
        region[..4].copy_from_slice(&BATCH_MAGIC);
        region[4..6].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        region[6..8].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        region[8] = 4;
        region[9] = FW.len() as u8;
        region[12..20].fill(0); // batch 0, no previous batch
        region[104..104 + FW.len()].copy_from_slice(FW);
        let _ = reseal_batch(&mut region);
    }
    let _ = mount_checked(&region);
    if let Ok(image) = Image::open(&region, &read_cfg()) {
        let _ = dump::layout(&image, &dump::no_kinds);
        let _ = dump::dot(&image, &dump::no_kinds);
    }
});
