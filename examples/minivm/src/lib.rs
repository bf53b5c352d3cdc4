//! minivm: a small MicroPython-compatible VM that runs real `.mpy` v6 bytecode.
#![no_std]
