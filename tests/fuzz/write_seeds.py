#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz corpus (tests/fuzz/corpus/seed-*).

Each seed is a short program in the input encoding of program.cpp (see
docs/fuzzing.md): one header byte (bit i set: slot i starts as a socketpair,
else a pipe), then 3-byte records: opcode, target, argument. Run it after a
change to the encoding; regression inputs found by fuzzing are kept as
they were found (regress-*) and are not written here.
"""
import os
import sys

OPCODE = {"poll_wait": 0, "poll_now": 2, "add": 4, "modify": 6, "write": 8,
          "read": 10, "remove": 11, "close": 12, "open": 13, "wake": 14, "fill": 15}
INTEREST = {"none": 0, "read": 1, "write": 2, "read_write": 3}
TRIGGER = {"level": 0, "edge": 1, "oneshot": 2}
FD = {"pool": 0, "unused": 29, "int_max": 30, "negative": 31}
SPAN = {16: 0, 1: 1, 2: 2}
TIMEOUT = {"1ms": 0, "100us": 1, "1us": 2, "2ms": 3}


def target(slot=0, end=0, fd="pool"):
    return slot | (end << 2) | (FD[fd] << 3)


def reg(op, slot, end, interest="read", trigger="level", inverted=False, fd="pool", invalid=None):
    if invalid == "trigger":
        arg = (15 << 2) | 0x80
    elif invalid == "interest":
        arg = 15 << 2
    else:
        arg = INTEREST[interest] | (TRIGGER[trigger] << 2)
    if inverted:
        arg |= 0x40
    return [OPCODE[op], target(slot, end, fd), arg]


def add(slot, end, *args, **kw):
    return reg("add", slot, end, *args, **kw)


def modify(slot, end, *args, **kw):
    return reg("modify", slot, end, *args, **kw)


def remove(slot, end, fd="pool"):
    return [OPCODE["remove"], target(slot, end, fd), 0]


def poll(wait=True, span=16, timeout="1ms"):
    return [OPCODE["poll_wait" if wait else "poll_now"], 0, SPAN[span] | (TIMEOUT[timeout] << 2)]


def write(slot, end, n=1):
    assert 1 <= n <= 128
    return [OPCODE["write"], target(slot, end), n - 1]


def read(slot, end):
    return [OPCODE["read"], target(slot, end), 255]


def fill(slot, end):
    return [OPCODE["fill"], target(slot, end), 0]


def close(slot, end):
    return [OPCODE["close"], target(slot, end), 0]


def reopen(slot, socket):
    return [OPCODE["open"], target(slot), 1 if socket else 0]


def wake():
    return [OPCODE["wake"], 0, 0]


# Slot 0 a pipe, slots 1 and 2 socketpairs.
HEADER = 0b110

SEEDS = {
    "level-read": [add(0, 0), poll(), write(0, 1, 3), poll(), poll(False), read(0, 0),
                   poll(timeout="100us"), remove(0, 0)],
    "edge": [add(1, 0, "read_write", "edge"), poll(), write(1, 1, 5), poll(), poll(timeout="1us"),
             write(1, 1), poll(False), read(1, 0), poll(), remove(1, 0)],
    "oneshot": [add(2, 1, "read", "oneshot", inverted=True), write(2, 0), poll(), poll(),
                modify(2, 1, "read", "oneshot"), poll(), read(2, 1), poll(), remove(2, 1)],
    "wake": [wake(), poll(False), poll(), poll(timeout="100us"), wake(), wake(), poll(False),
             poll(), poll(timeout="1us")],
    "close-without-remove": [add(0, 0), write(0, 1), close(0, 0), poll(), close(0, 1),
                             reopen(0, False), add(0, 0, inverted=True), write(0, 1), poll(),
                             poll(False), remove(0, 0)],
    "errors": [add(0, 0, fd="negative"), add(0, 0, fd="unused"), modify(0, 0), remove(0, 0),
               add(1, 0), add(1, 0), add(2, 0, invalid="interest"), add(2, 0, invalid="trigger"),
               remove(1, 0, fd="int_max"), remove(1, 0, fd="negative"), add(1, 1, "read", "edge"),
               poll(), remove(1, 0)],
    "fill-writable": [add(1, 0, "write"), poll(), fill(1, 0), poll(False), read(1, 1), poll(),
                      remove(1, 0)],
    "hangup": [add(1, 0, "read"), add(0, 0, "read", "edge"), close(1, 1), close(0, 1), poll(),
               read(1, 0), poll(), poll(False), remove(1, 0), remove(0, 0)],
    "modify-token": [add(2, 0, "read_write"), write(2, 1), modify(2, 0, "read", inverted=True),
                     poll(span=1), modify(2, 0, "none"), poll(timeout="100us"),
                     modify(2, 0, "write", "edge"), poll(span=2), remove(2, 0)],
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, ops in SEEDS.items():
        data = bytes([HEADER] + [b for op in ops for b in op])
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
