"""The examples' split rule (apps/examples/src/split.ts): fnv1a("rnnkit-examples/" + key) % 10 is 0 for
test, 1 for validation, else train. g2p's keys are "g2p/" + WORD."""


def fnv1a(key):
    h = 0x811C9DC5
    for byte in key.encode("utf-8"):
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def split_of(key):
    b = fnv1a("rnnkit-examples/" + key) % 10
    return "test" if b == 0 else "val" if b == 1 else "train"
