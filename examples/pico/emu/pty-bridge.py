#!/usr/bin/env python3
"""A pseudo-terminal bridged to this process's stdin/stdout, for the emulated Pico's console.

Prints the pty's path (e.g. /dev/pts/3) on stderr, then relays bytes both ways: what a client
(mpremote) writes to the pty comes out on stdout (the test feeds it to the emulated UART), and what
arrives on stdin (the UART's output) goes to the pty. The pty is raw (8-bit clean, no echo). The
slave side is also held open here, so a client that closes it (each mpremote run does) does not
end the bridge: the next client opens it again. Ends when stdin closes.
"""

import os
import pty
import select
import sys
import tty


def main():
    master, slave = pty.openpty()
    tty.setraw(slave)
    sys.stderr.write(os.ttyname(slave) + "\n")
    sys.stderr.flush()
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    while True:
        ready, _, _ = select.select([stdin, master], [], [])
        if stdin in ready:
            data = os.read(stdin, 4096)
            if not data:
                return
            os.write(master, data)
        if master in ready:
            try:
                data = os.read(master, 4096)
            except OSError:
                continue
            os.write(stdout, data)


if __name__ == "__main__":
    main()
