# Frozen before its package meets the socket.
def answer():
    return 41
