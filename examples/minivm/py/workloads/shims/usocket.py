# usocket for the WebAssembly oracle (ours), which has no socket module: the constants and names
# libraries bind at import time. Anything that would touch a network raises OSError. tools/corpus
# puts this directory last on the oracles' sys.path, so a real usocket (unix port) always wins.
AF_INET = 2
AF_INET6 = 10
SOCK_STREAM = 1
SOCK_DGRAM = 2
SOL_SOCKET = 1
SO_REUSEADDR = 2
IPPROTO_TCP = 6


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    raise OSError(-2)


class socket:
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0):
        raise OSError(95)
