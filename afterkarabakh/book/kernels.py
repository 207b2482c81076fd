"""The book build's kernels, started by forking a process that has already imported their code.

A chapter's kernel spends about a second starting: Python, ipykernel, and the package's heavy
dependencies (pandas, Altair, GeoPandas...), the same work for every notebook. For the build,
:func:`afterkarabakh.book.build.build` starts one *zygote* first::

    python -m afterkarabakh.book.kernels serve FD

(:func:`afterkarabakh.book.build.start_service`: the build binds the Unix socket and hands the
zygote its listening descriptor, so the socket exists before any kernel is asked for). It imports ipykernel and the modules chapters import, and nothing else: no data is read, no
thread, ZeroMQ context or event loop is created (it checks that it has one thread before each
fork). It listens on a Unix socket in a single-threaded loop. The kernelspec the build writes
(named ``python3`` like the notebooks' own, found first on ``JUPYTER_PATH``) runs::

    python -m afterkarabakh.book.kernels launch -f {connection_file}

instead of ``python -m ipykernel_launcher -f {connection_file}``. This launcher is small and
starts in a few hundredths of a second: it hands the zygote its standard input, output and
error (as file descriptors), its environment, working directory and arguments. The zygote forks
a child that takes them over, makes itself a new session (as jupyter_client does for a kernel)
and runs ipykernel's launch exactly as ``ipykernel_launcher`` would. The launcher stays as the
kernel's stand-in for jupyter_client: it passes on SIGINT, SIGTERM and SIGHUP (the zygote
signals the kernel's process group), and exits with the kernel's exit status, or dies of the
signal that killed it. If the launcher dies (jupyter_client kills it when a kernel does not
stop), the zygote kills the kernel; if the zygote dies, its kernels die with it (Linux's
parent-death signal). It stops, killing any kernel left, when the build closes its standard
input or dies.

Without a zygote (none is running, it failed, or ``AFTERKARABAKH_FORK_KERNELS=0``), the launcher
replaces itself with ``python -m ipykernel_launcher``: the kernel is an ordinary one.

A fork shares the state of the zygote; what differs from a fresh process is put right in the
child: Python's ``random`` reseeds itself, NumPy's global generator is reseeded here,
``tempfile`` forgets its folder, pyproj opens its database again, the environment and working
directory are the launcher's. What was decided at import from where the import ran is set as
in a kernel: ipykernel's parent (``JPY_PARENT_PID``), pandas' columns shown and console
encoding. The zygote notes the environment variables read while it imports; a launcher whose
environment differs in one of them gets an ordinary kernel.

The kernel runs as ``ipykernel_launcher`` would run it, with one mend: at exit it lets its
control thread finish before ipykernel stops the IOPub thread (see :func:`_stop_control_thread`).

Every kernel of one build shares the zygote's string-hash seed (each fresh kernel has its
own); the book's outputs do not depend on either. OpenBLAS keeps a thread that it stops before
a fork and starts again when next needed (its fork handler); the zygote forks once at start
for that reason, before it checks that it is alone.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import socket
import struct
import sys

#: The zygote's socket, set by the build for the kernels it starts.
SOCKET_ENV = "AFTERKARABAKH_KERNELS_SOCKET"
#: ``0`` builds with ordinary kernels (no zygote).
FORK_ENV = "AFTERKARABAKH_FORK_KERNELS"
#: What the zygote imports: ipykernel, what a kernel imports while it starts, and the modules
#: chapters import (never ``afterkarabakh.chapters.*``: a kernel records the chapter modules it
#: imported, see ``data._note_use``).
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.debugger",
    "psutil",
    "myst_nb",
    "geopandas",  # the package imports it only where a map layer is read
    "afterkarabakh.apparatus",
    "afterkarabakh.appendix",
    "afterkarabakh.charts",
    "afterkarabakh.data",
    "afterkarabakh.editions",
    "afterkarabakh.history",
    "afterkarabakh.maps",
    "afterkarabakh.tables",
    "afterkarabakh.text",
    "afterkarabakh.theme",
    "afterkarabakh.verdicts",
)
_HEADER = struct.Struct("!Q")
_SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


class _RecordingEnviron(os._Environ):
    """``os.environ`` while the zygote imports: notes the variables read (not those merely listed
    or copied whole), so a kernel whose environment differs in one of them starts afresh."""

    read: set[str] = set()

    def __getitem__(self, key):
        caller = sys._getframe(1).f_code
        if caller.co_name not in ("__iter__", "copy"):
            _RecordingEnviron.read.add(key)
        return super().__getitem__(key)


#: Read at import (by ``ipykernel.kernelapp``), and set again in the kernel from its environment.
_REREAD = {"JPY_PARENT_PID"}


def _kill_group(pid: int, signum: int) -> None:
    """Signal a kernel and its process group (the kernel's own once it has made its session)."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signum)
            return
        except (ProcessLookupError, PermissionError):
            continue


def _die_with_parent() -> None:
    """Linux: this process is killed when the zygote dies (PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class _Request:
    """What a launcher sends: its descriptors 0-2, arguments, environment and directory."""

    def __init__(self, fds: list[int], payload: dict):
        self.fds = fds
        self.argv: list[str] = payload["argv"]
        self.env: dict[str, str] = payload["env"]
        self.cwd: str = payload["cwd"]


def _receive(conn: socket.socket) -> _Request:
    conn.settimeout(10)
    header, fds, _flags, _addr = socket.recv_fds(conn, _HEADER.size, 3)
    try:
        while len(header) < _HEADER.size:
            more = conn.recv(_HEADER.size - len(header))
            if not more:
                raise ConnectionError("launcher closed before its request")
            header += more
        (size,) = _HEADER.unpack(header)
        body = bytearray()
        while len(body) < size:
            more = conn.recv(min(size - len(body), 1 << 16))
            if not more:
                raise ConnectionError("launcher closed before its request")
            body += more
        if len(fds) != 3:
            raise ConnectionError(f"launcher sent {len(fds)} descriptors, not 3")
        request = _Request(fds, json.loads(body))
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    conn.setblocking(False)
    return request


class Zygote:
    def __init__(self, listening_fd: int):
        self.pid = os.getpid()
        self.starter = os.getppid()  # the build
        self.listener = socket.socket(fileno=listening_fd)
        self.path = self.listener.getsockname()
        self.children: dict[int, socket.socket | None] = {}  # kernel pid -> its launcher
        self.buffers: dict[socket.socket, bytes] = {}
        self.served = 0
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)

    def preload(self) -> None:
        import importlib

        self.environ = dict(os.environ)
        os.environ.__class__ = _RecordingEnviron
        try:
            for name in PRELOAD:
                importlib.import_module(name)
        finally:
            os.environ.__class__ = os._Environ
        # OpenBLAS (NumPy's) stops its worker threads before a fork and restarts them when
        # next needed: one throw-away fork leaves this process with its one thread.
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        import gc

        gc.collect()
        gc.freeze()  # the imported objects stay shared with the kernels (no copy on write by GC)

    def run(self) -> _Request | None:
        """Serve until told to stop (None, in the zygote) or until forked (the request, in the
        kernel: the caller runs it)."""
        for signum in (signal.SIGCHLD, *_SHUTDOWN_SIGNALS):
            signal.signal(signum, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        while True:
            watched = [self.listener, self.wake_r, sys.stdin.fileno(), *self.buffers]
            readable, _, _ = select.select(watched, [], [], 1.0)
            # The build closes its end of stdin to stop this; if it was killed, the Sphinx
            # readers it forked may still hold that end open: its death is enough.
            if os.getppid() != self.starter:
                break
            if self.wake_r in readable:
                woken = os.read(self.wake_r, 512)
                self._reap()
                if any(signum in woken for signum in _SHUTDOWN_SIGNALS):
                    break
            if sys.stdin.fileno() in readable:
                if not os.read(sys.stdin.fileno(), 512):  # the build closed it
                    break
            for conn in [c for c in readable if isinstance(c, socket.socket) and c in self.buffers]:
                self._from_launcher(conn)
            if self.listener in readable:
                request = self._accept()
                if request is not None:
                    return request
        self._stop()
        return None

    def _accept(self) -> _Request | None:
        conn, _ = self.listener.accept()
        try:
            request = _receive(conn)
        except (OSError, ValueError, KeyError) as error:
            print(f"kernels: a launcher's request failed: {error!r}", file=sys.stderr, flush=True)
            conn.close()
            return None
        threads = _threads()
        differ = sorted(
            key
            for key in _RecordingEnviron.read - _REREAD
            if isinstance(key, str) and self.environ.get(key) != request.env.get(key)
        )
        if threads != 1 or differ:
            print(
                f"kernels: an ordinary kernel starts ({threads} threads here; "
                f"read at import and changed since: {', '.join(differ) or 'nothing'})",
                file=sys.stderr,
                flush=True,
            )
            self._release(request)
            conn.close()  # the launcher starts an ordinary kernel
            return None
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._become_kernel(conn)
            return request
        self._release(request)
        self.served += 1
        self.children[pid] = conn
        self.buffers[conn] = b""
        try:
            conn.sendall(f"pid {pid}\n".encode())
        except OSError:
            self._launcher_gone(conn)
        return None

    @staticmethod
    def _release(request: _Request) -> None:
        for fd in request.fds:
            os.close(fd)

    def _become_kernel(self, own: socket.socket) -> None:
        """In the forked child: leave everything of the zygote behind."""
        os.setsid()
        _die_with_parent()
        if os.getppid() != self.pid:  # the zygote died before the line above
            os._exit(1)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for conn in [self.listener, own, *self.buffers]:
            conn.close()
        os.close(self.wake_r)
        os.close(self.wake_w)

    def _from_launcher(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._launcher_gone(conn)
            return
        lines = (self.buffers[conn] + data).split(b"\n")
        self.buffers[conn] = lines.pop()
        pid = next((p for p, c in self.children.items() if c is conn), None)
        for line in lines:
            word, _, value = line.decode().partition(" ")
            if word == "signal" and pid is not None:
                _kill_group(pid, int(value))

    def _launcher_gone(self, conn: socket.socket) -> None:
        """The launcher closed its end (it exited, or was killed): its kernel goes too."""
        for pid, c in self.children.items():
            if c is conn:
                _kill_group(pid, signal.SIGKILL)
                self.children[pid] = None
        self.buffers.pop(conn, None)
        conn.close()

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is not None:
                try:
                    conn.sendall(f"exit {status}\n".encode())
                except OSError:
                    pass
                self.buffers.pop(conn, None)
                conn.close()

    def _stop(self) -> None:
        for pid in list(self.children):
            _kill_group(pid, signal.SIGKILL)
        for pid in list(self.children):
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                continue
            conn = self.children.pop(pid)
            if conn is not None:
                try:
                    conn.sendall(f"exit {status}\n".encode())
                except OSError:
                    pass
        for conn in list(self.buffers):
            conn.close()
        self.listener.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        used = os.times()
        print(
            f"Kernels started from the preloaded process: {self.served} "
            f"(their CPU time {used.children_user + used.children_system:.1f} s)",
            flush=True,
        )


def _run_kernel(request: _Request) -> None:
    """In the forked child: take the launcher's place and start ipykernel as ipykernel_launcher
    does."""
    for target, fd in enumerate(request.fds):
        os.dup2(fd, target)
    for fd in request.fds:
        if fd > 2:
            os.close(fd)
    os.environ.clear()
    os.environ.update(request.env)
    os.chdir(request.cwd)
    import tempfile

    tempfile.tempdir = None
    if "numpy.random" in sys.modules:
        sys.modules["numpy.random"].seed()
    if "pandas" in sys.modules:
        _pandas_as_in_a_kernel()
    if "pyproj._context" in sys.modules:
        # pyproj opened its database (SQLite) at import: not a connection to share across a fork.
        sys.modules["pyproj._context"]._set_context_data_dir()
    import ipykernel_launcher
    from ipykernel import kernelapp

    # IPKernelApp took its default parent (for its parent poller and its logging) from the
    # zygote's environment when it was imported: this kernel's starter instead.
    parent = int(os.environ.get("JPY_PARENT_PID") or 0)
    kernelapp.IPKernelApp.parent_handle.default_value = parent
    if "parent_handle" in kernelapp.IPKernelApp._static_immutable_initial_values:
        kernelapp.IPKernelApp._static_immutable_initial_values["parent_handle"] = parent
    sys.argv = [ipykernel_launcher.__file__, *request.argv]
    # ipykernel_launcher's launch_new_instance, with the control thread stopped at exit first.
    app = kernelapp.IPKernelApp.instance()
    app.initialize()
    atexit.register(_stop_control_thread, app)
    app.start()


def _stop_control_thread(app) -> None:
    """At exit, before the IOPub thread stops: let the control thread finish and stop.

    A shutdown request is answered on the control thread, which then flushes the kernel's output
    through the IOPub thread while the main thread, told to stop, exits. ipykernel (7.4) stops
    the IOPub thread at exit (an ``atexit`` handler) without waiting for the control thread: a
    flush queued just before that is never run, and the control thread waits for it
    (``OutStream.flush_timeout``) while the kernel's exit waits for the control thread. The
    notebook's reader sat idle for two seconds or more, about one clean build in four on this
    machine. Exit handlers run last registered first, so this runs before IOPub's.
    """
    control = app.control_thread
    if control is not None and control.is_alive():
        control.stop()
        control.join()


def _pandas_as_in_a_kernel() -> None:
    """Two of pandas' defaults depend on where it was imported: the columns a frame shows (20 in
    a Jupyter kernel, 0 = the terminal's width elsewhere) and the console's encoding (that of
    ``sys.stdout``, which a kernel replaces). The zygote imported pandas before it was a kernel:
    set them as a kernel importing pandas would have them."""
    from ipykernel.iostream import OutStream
    from pandas._config import config

    for key, value in (("display.max_columns", 20), ("display.encoding", OutStream.encoding)):
        config._registered_options[key] = config._registered_options[key]._replace(defval=value)
        config.set_option(key, value)


def serve(listening_fd: int) -> int:
    # As ipykernel_launcher does: the working directory is not on the path (`-m` put it first).
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    zygote = Zygote(listening_fd)
    zygote.preload()
    request = zygote.run()
    if request is None:
        return 0
    _run_kernel(request)
    return 0


def _interpreter() -> list[str]:
    """This Python with the options it was started with (``-X...``), for the same in a kernel."""
    argv = sys.orig_argv
    return [sys.executable, *argv[1 : argv.index("-m")]] if "-m" in argv else [sys.executable]


def _ordinary(args: list[str]):
    os.execv(sys.executable, [*_interpreter(), "-m", "ipykernel_launcher", *args])


def _via_zygote(path: str, args: list[str]) -> int | None:
    """The kernel's exit code when the zygote ran it; None when it could not (no kernel ran)."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        payload = json.dumps({"argv": args, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
        socket.send_fds(conn, [_HEADER.pack(len(payload))], [0, 1, 2])
        conn.sendall(payload)
    except OSError:
        conn.close()
        return None

    def forward(signum, _frame):
        try:
            conn.sendall(f"signal {signum}\n".encode())
        except OSError:
            pass

    for signum in _FORWARDED:
        signal.signal(signum, forward)
    parent = os.getppid()
    started = False
    buffer = b""
    while True:
        readable, _, _ = select.select([conn], [], [], 1.0)
        if not readable:
            if os.getppid() != parent:  # as ipykernel's parent poller: its starter is gone
                forward(signal.SIGKILL, None)
            continue
        try:
            data = conn.recv(4096)
        except OSError:
            data = b""
        if not data:
            conn.close()
            # Before its "pid", the zygote ran nothing: an ordinary kernel takes over.
            return None if not started else 1
        lines = (buffer + data).split(b"\n")
        buffer = lines.pop()
        for line in lines:
            word, _, value = line.decode().partition(" ")
            if word == "pid":
                started = True
            elif word == "exit":
                conn.close()
                code = os.waitstatus_to_exitcode(int(value))
                if code < 0:  # killed by a signal: so is the launcher, for jupyter_client to see
                    if -code not in (signal.SIGKILL, signal.SIGSTOP):  # those cannot be handled
                        signal.signal(-code, signal.SIG_DFL)
                    os.kill(os.getpid(), -code)
                    return 128 - code
                return code


def launch(args: list[str]) -> int:
    path = os.environ.get(SOCKET_ENV)
    if path and os.environ.get(FORK_ENV, "1") != "0":
        code = _via_zygote(path, args)
        if code is not None:
            return code
        for signum in _FORWARDED:
            signal.signal(signum, signal.SIG_DFL)
    _ordinary(args)
    return 1  # not reached


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"] and len(argv) == 2 and argv[1].isdigit():
        return serve(int(argv[1]))
    if argv[:1] == ["launch"]:
        return launch(argv[1:])
    print(
        "usage: python -m afterkarabakh.book.kernels serve LISTENING_FD | launch -f CONNECTION_FILE",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
