# A function that never returns, for the console's Ctrl-C tests: only a KeyboardInterrupt
# raised by the VM's poll (while the bytecode runs) gets out of it.


def forever():
    n = 0
    while True:
        n += 1
