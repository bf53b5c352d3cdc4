//! The host binary's flash file: a file it cannot read as a chip is refused and left as it is;
//! a missing one becomes a new erased chip.

use std::process::{Command, Stdio};

fn run(flash: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_minivm"))
        .arg("--flash")
        .arg(flash)
        .stdin(Stdio::null())
        .output()
        .expect("run minivm")
}

#[test]
fn a_flash_file_of_the_wrong_size_is_refused_and_left_as_it_is() {
    let dir = std::env::temp_dir().join(format!("minivm-flash-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("short.flash");
    // 1.1 MB: e.g. a chip image cut short, with an image in it.
    let bytes: Vec<u8> = (0..1_100_000u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let out = run(&path);
    assert!(!out.status.success(), "must refuse the file");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a 2097152-byte flash chip") && err.contains("left as it is"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the file is untouched"
    );

    // A missing file is a new chip, written at exit.
    let fresh = dir.join("new.flash");
    let _ = std::fs::remove_file(&fresh);
    let out = run(&fresh);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let chip = std::fs::read(&fresh).unwrap();
    assert_eq!(chip.len(), 2 * 1024 * 1024);
    assert!(chip.iter().all(|&b| b == 0xFF));
    std::fs::remove_dir_all(&dir).unwrap();
}
