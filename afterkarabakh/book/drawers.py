"""The still images of a build's charts, drawn for all its kernels by one process per core.

A chart in the book is first shown as two still images (light and dark page) that vl-convert
draws at build time (:mod:`afterkarabakh.stills`). vl-convert runs Vega in a JavaScript engine
that takes a third of a second to start and runs faster once it has drawn a few charts, so
every kernel of a clean build paid to start one for its first chart, and drew with a cold one.
The build starts these drawers instead (:func:`afterkarabakh.book.build.stills_drawn_once`)::

    python -m afterkarabakh.book.drawers serve FD DRAWERS

It forks into as many drawers as the build runs kernels at once; each starts its engine at
once, while Sphinx is starting, and then draws, one chart at a time, the images a kernel asks
for on the Unix socket they share (inherited as a listening descriptor, bound by the build):
a chart's key, its light and dark specs, title and description as JSON (the kernel makes
them, so a drawer imports neither Altair nor pandas). It answers ``drawn`` once both images
are in the cache, or the error. A kernel that gets no ``drawn`` (none runs, or it
failed) draws the images itself, as a kernel outside the build does, and a faulty spec raises
there. The images are the same either way: the same spec, the same vl-convert. It stops when
the build closes its standard input, or dies.
"""

from __future__ import annotations

import json
import os
import select
import socket
import sys

from .. import stills


def _handle(conn: socket.socket) -> None:
    with conn:
        try:
            request = json.loads(b"".join(iter(lambda: conn.recv(65536), b"")))
            if not stills.KEY.fullmatch(request["key"]):
                raise ValueError(f"not a still image's key: {str(request['key'])[:40]!r}")
            if not all(image.exists() for image in stills.images(request["key"])):
                stills.draw(request)
            conn.sendall(b"drawn")
        except Exception as error:  # the kernel draws the images itself, and reports the error
            print(f"drawers: {error!r}", file=sys.stderr, flush=True)
            try:
                conn.sendall(f"failed: {error!r}".encode())
            except OSError:
                pass


def _start_the_engine() -> None:
    import vl_convert

    vl_convert.vegalite_to_svg({"mark": "point", "data": {"values": [{}]}})


def serve(listening_fd: int, drawers: int) -> int:
    """Draw until the build closes this process's standard input, or dies, in ``drawers``
    processes (this one and copies forked before any engine starts): one per kernel the build
    runs at once, each taking the next request when it is free, so that no kernel waits for
    another's chart. Each draws one chart at a time."""
    listener = socket.socket(fileno=listening_fd)
    listener.setblocking(False)  # the drawers share it: the one that does not get a request goes on
    starter = os.getppid()
    copies = []
    for _ in range(drawers - 1):
        pid = os.fork()
        if pid == 0:  # a copy: it stops with the build, or when the first process dies
            copies, starter = [], os.getppid()
            break
        copies.append(pid)
    _start_the_engine()
    while os.getppid() == starter:
        readable, _, _ = select.select([listener, sys.stdin.fileno()], [], [], 1.0)
        if sys.stdin.fileno() in readable and not os.read(sys.stdin.fileno(), 512):
            break  # the build closed it: every kernel has finished
        if listener in readable:
            try:
                conn, _ = listener.accept()
            except BlockingIOError:  # another drawer took it
                continue
            conn.setblocking(True)
            _handle(conn)
    listener.close()
    for pid in copies:
        os.waitpid(pid, 0)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"] and len(argv) == 3 and all(a.isdigit() for a in argv[1:]):
        return serve(int(argv[1]), int(argv[2]))
    print("usage: python -m afterkarabakh.book.drawers serve LISTENING_FD DRAWERS", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
