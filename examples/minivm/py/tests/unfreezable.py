# A module holding a native handle: freezing it must fail and name the path to the handle.
import usocket


class Server:
    def __init__(self):
        self.sock = usocket.socket()


SERVER = Server()
