"""Entering a network namespace from one thread (the lab's controller runs on a loop
thread inside the namespace its nodes are reached from; tests, never the product)."""

from __future__ import annotations

import ctypes
import os
import socket
import threading

CLONE_NEWNET = 0x40000000


def enter_netns(name: str) -> None:
    """Move the calling thread into network namespace ``name`` (/run/netns/NAME):
    sockets it opens afterwards, and processes it starts, live there."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
    finally:
        os.close(fd)


def socket_in(name: str, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A socket that lives in namespace ``name`` (made by a thread that entered it; the
    socket keeps its namespace, the caller's thread keeps its own)."""
    made: list[socket.socket | BaseException] = []

    def enter() -> None:
        try:
            enter_netns(name)
            made.append(socket.socket(socket.AF_INET, kind))
        except BaseException as exc:  # handed to the caller
            made.append(exc)

    thread = threading.Thread(target=enter, name=f"netns-{name}")
    thread.start()
    thread.join()
    result = made[0]
    if isinstance(result, BaseException):
        raise result
    return result
