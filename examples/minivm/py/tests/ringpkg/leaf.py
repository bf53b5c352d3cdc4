# Refers to nothing still being imported: frozen as soon as its body is done.
TABLE = (1, 2, 3)


def double(x):
    return 2 * x
