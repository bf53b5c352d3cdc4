# A fake socket module for the network libraries' workloads (ours, no network): a socket that
# records everything written to it and serves canned bytes to read. Workloads put it where the
# library looks up its socket module (e.g. `umqtt.simple.socket = fakenet`).
AF_INET = 2
SOCK_STREAM = 1
IPPROTO_TCP = 6

# What the next sockets read, one entry per socket() call, queued by the workload.
incoming = []
# Every socket made, in order.
made = []


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    return [(AF_INET, SOCK_STREAM, IPPROTO_TCP, "", ("10.0.0.%d" % (len(host) % 200), port))]


class socket:
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=IPPROTO_TCP):
        self.family = (af, type, proto)
        self.peer = None
        self.sent = bytearray()
        self.rx = incoming.pop(0) if incoming else b""
        self.pos = 0
        self.blocking = True
        self.closed = False
        made.append(self)

    def connect(self, addr):
        self.peer = addr

    def write(self, buf, n=None):
        # MicroPython's socket.write takes str as well as buffers.
        data = buf.encode() if isinstance(buf, str) else bytes(buf)
        if n is not None:
            data = data[:n]
        self.sent.extend(data)
        return len(data)

    send = write

    def read(self, n=None):
        if n is None:
            n = len(self.rx) - self.pos
        if self.pos >= len(self.rx) and not self.blocking:
            return None
        data = self.rx[self.pos : self.pos + n]
        self.pos += len(data)
        return data

    recv = read

    def readline(self):
        end = self.rx.find(b"\n", self.pos)
        end = len(self.rx) if end < 0 else end + 1
        data = self.rx[self.pos : end]
        self.pos = end
        return data

    def setblocking(self, flag):
        self.blocking = flag

    def close(self):
        self.closed = True


def hexed(data):
    return " ".join("%02x" % b for b in data)
