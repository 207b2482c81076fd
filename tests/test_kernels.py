"""The book build's kernels, forked from a process that has imported their code
(:mod:`afterkarabakh.book.kernels`): they run code as an ordinary kernel does, in the same state,
exit with the kernel's status, die with their launcher, and an ordinary kernel starts when the
zygote cannot serve one."""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jupyter_client import KernelManager

from afterkarabakh.book import build, kernels

#: What a kernel reports about itself: what makes it an ordinary kernel, and its own pids.
STATE = r"""
import json, os, sys
import pandas as pd
from ipykernel.kernelapp import IPKernelApp
print(json.dumps({
    "pid": os.getpid(), "ppid": os.getppid(), "cwd": os.getcwd(), "marker": os.environ.get("AK_MARKER"),
    "argv0": os.path.basename(sys.argv[0]), "path": sys.path,
    "parent_handle": IPKernelApp.instance().parent_handle == int(os.environ["JPY_PARENT_PID"]),
    "session_leader": os.getsid(0) == os.getpid(),
    "pandas": {key: repr(pd.get_option(key)) for key in ("display.max_columns", "display.encoding", "display.width")},
}))
"""


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    """A zygote serving a ``python3`` kernelspec written the way the build writes it."""
    folder = tmp_path_factory.mktemp("kernels")
    interpreter = build.forked_kernelspec(folder)
    assert interpreter is not None, "the installed python3 kernelspec was not rewritten"
    socket_path = folder / "zygote"
    process = build.start_service(
        "afterkarabakh.book.kernels", socket_path, interpreter, stdout=subprocess.PIPE, text=True
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(folder))
        patch.setenv(kernels.SOCKET_ENV, str(socket_path))
        yield process
    process.stdin.close()
    assert process.wait(timeout=30) == 0
    assert "Kernels started from the preloaded process" in process.stdout.read()


def test_the_zygotes_socket_listens_before_it_is_started(tmp_path):
    """A launcher finding no socket starts an ordinary kernel: the socket must exist as soon as
    the zygote is started, not once its interpreter has run, or the first kernels are not forked."""
    interpreter = build.forked_kernelspec(tmp_path)
    socket_path = tmp_path / "zygote"
    process = build.start_service(
        "afterkarabakh.book.kernels", socket_path, interpreter, stdout=subprocess.PIPE
    )
    try:
        assert socket_path.is_socket()
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(str(socket_path))  # queued until the zygote has imported and accepts
        probe.close()
    finally:
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    assert not socket_path.exists()


def _start(cwd: Path, **env) -> tuple[KernelManager, object]:
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(cwd), env={**os.environ, "AK_MARKER": "passed on", **env})
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def _run(client, code: str) -> tuple[str, list]:
    printed, results = [], []

    def keep(message):
        if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
            printed.append(message["content"]["text"])
        elif message["msg_type"] == "execute_result":
            results.append(message["content"]["data"]["text/plain"])

    client.execute_interactive(code, output_hook=keep, timeout=60)
    return "".join(printed), results


def _state(client) -> dict:
    return json.loads(_run(client, STATE)[0])


def _gone(pid: int, within: float = 10) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.1)
    return False


def test_forked_kernel_runs_code_in_the_state_of_an_ordinary_one(zygote, tmp_path):
    manager, client = _start(tmp_path)
    try:
        forked = _state(client)
        _, results = _run(client, "6 * 7")
    finally:
        client.stop_channels()
        manager.shutdown_kernel()
    assert results == ["42"]
    assert forked["ppid"] == zygote.pid  # forked, not started afresh
    assert forked["pid"] != manager.provisioner.pid
    assert forked["cwd"] == str(tmp_path) and forked["marker"] == "passed on"
    # The same as an ordinary kernel started from the installed kernelspec.
    ordinary_manager = KernelManager(kernel_name="python3")
    specs = ordinary_manager.kernel_spec_manager
    specs.kernel_dirs = [
        d for d in specs.kernel_dirs if Path(d).parent != Path(os.environ["JUPYTER_PATH"])
    ]
    assert "ipykernel_launcher" in ordinary_manager.kernel_spec.argv
    ordinary_manager.start_kernel(cwd=str(tmp_path), env={**os.environ, "AK_MARKER": "passed on"})
    ordinary_client = ordinary_manager.client()
    ordinary_client.start_channels()
    try:
        ordinary_client.wait_for_ready(timeout=60)
        ordinary = _state(ordinary_client)
    finally:
        ordinary_client.stop_channels()
        ordinary_manager.shutdown_kernel()
    for key in ("cwd", "marker", "argv0", "path", "parent_handle", "session_leader", "pandas"):
        assert forked[key] == ordinary[key], key


@pytest.mark.parametrize(
    ("code", "status"),
    [("os._exit(7)", 7), ("os.kill(os.getpid(), 9)", -9), ("os.kill(os.getpid(), 15)", -15)],
)
def test_the_kernels_exit_status_is_the_launchers(zygote, tmp_path, code, status):
    manager, client = _start(tmp_path)
    try:
        client.execute(f"import os; {code}")
        assert manager.provisioner.process.wait(timeout=20) == status
    finally:
        client.stop_channels()
        manager.cleanup_resources()


def test_killing_the_launcher_kills_the_kernel(zygote, tmp_path):
    manager, client = _start(tmp_path)
    try:
        kernel = int(_run(client, "import os; print(os.getpid())")[0])
        assert kernel != manager.provisioner.pid
        os.kill(manager.provisioner.pid, signal.SIGKILL)
        assert _gone(kernel), "the kernel outlived its launcher"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


#: Widens a window ipykernel leaves open at shutdown: the control thread has queued a flush of
#: the kernel's output for the IOPub thread, which has not yet been woken to run it, when the
#: kernel exits and stops the IOPub thread. A busy machine opens it now and then, for a moment.
FLUSH_QUEUED_LATE = r"""
import threading, time
from ipykernel.iostream import IOPubThread
_kernel = get_ipython().kernel
def _schedule(self, f, _sleep=time.sleep, _thread=threading.current_thread, _kernel=_kernel,
              _Event=threading.Event):
    if not self.thread.is_alive():
        return f()
    self._events.append(f)
    if _thread().name == "Control" and getattr(_kernel, "_shutdown_message", None) is not None:
        if not isinstance(getattr(f, "__self__", None), _Event):
            return  # the IOPub thread is woken once the whole flush is queued, below
        _sleep(0.5)
    try:
        self._event_pipe.send(b"")
    except Exception:
        pass
IOPubThread.schedule = _schedule
"""


def test_a_kernel_shuts_down_without_losing_a_flush_queued_as_it_exits(zygote, tmp_path):
    """ipykernel stops the IOPub thread at exit without waiting for the control thread: a flush
    it queued then was lost, and the kernel hung until killed (a notebook's reader idle for two
    seconds and more, one clean build in four). The book's kernels let the control thread
    finish first: the kernel exits by itself, its flushes a moment late."""
    manager, client = _start(tmp_path)
    launcher = manager.provisioner.process
    try:
        _run(client, FLUSH_QUEUED_LATE)
    finally:
        client.stop_channels()
        manager.shutdown_kernel()  # waits a few seconds for the kernel to exit, then stops it
    assert launcher.returncode == 0, f"the kernel was stopped by signal {-launcher.returncode}"


def test_without_a_zygote_the_launcher_becomes_an_ordinary_kernel(zygote, tmp_path, monkeypatch):
    monkeypatch.setenv(kernels.SOCKET_ENV, str(tmp_path / "no-zygote-here"))
    manager, client = _start(tmp_path)
    try:
        state = _state(client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel()
    assert state["pid"] == manager.provisioner.pid  # the launcher replaced itself
    assert state["marker"] == "passed on" and state["cwd"] == str(tmp_path)


def test_a_kernel_starts_afresh_when_a_variable_read_at_import_changed(zygote, tmp_path):
    # pandas reads PANDAS_FUTURE_INFER_STRING when imported: the zygote's pandas would be wrong.
    manager, client = _start(tmp_path, PANDAS_FUTURE_INFER_STRING="0")
    try:
        state = _state(client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel()
    assert state["pid"] == manager.provisioner.pid
    assert state["ppid"] != zygote.pid


def test_the_launcher_starts_without_the_packages_heavy_imports():
    code = (
        "import sys, afterkarabakh.book.kernels; "
        "print(sorted({'pandas', 'ipykernel', 'zmq', 'numpy'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


#: A kernel that exits at once the first time it is started (as one that finds a port taken).
DIES_ONCE = """import os, sys
marker = sys.argv[1]
if not os.path.exists(marker):
    open(marker, "w").close()
    sys.exit(1)
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *sys.argv[2:]])
"""


def test_a_kernel_that_dies_before_answering_is_started_once_more(tmp_path, monkeypatch):
    """jupyter_client lets a kernel's ports go before the kernel binds them; one taken meanwhile
    kills the kernel at start, and nbclient would fail the page. The book's Sphinx glue starts
    it again; a kernel that dies each time still fails."""
    import nbformat
    from nbclient import NotebookClient

    from afterkarabakh.book import sphinxext

    script, marker = tmp_path / "dies_once.py", tmp_path / "died"
    script.write_text(DIES_ONCE, encoding="utf-8")
    spec = tmp_path / "kernels" / "dies-once"
    spec.mkdir(parents=True)
    argv = [sys.executable, str(script), str(marker), "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "dies once", "language": "python"}),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])

    def run() -> list:
        client = NotebookClient(
            nbformat.from_dict(notebook), kernel_name="dies-once", startup_timeout=30
        )
        try:
            return client.execute().cells[0].outputs
        finally:
            atexit.unregister(client._cleanup_kernel)  # nbclient's, left behind by a failed start

    monkeypatch.setattr(
        NotebookClient,
        "async_start_new_kernel_client",
        NotebookClient.async_start_new_kernel_client,
    )
    with pytest.raises(RuntimeError, match=sphinxext._KERNEL_DIED_AT_START):
        run()  # nbclient alone
    marker.unlink()
    sphinxext._start_a_kernel_that_dies_at_start_once_more()
    assert run()[0]["text"] == "42\n" and marker.exists()
    argv[0] = "/bin/false"  # dies every time: the page still fails
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "dies", "language": "python"}), encoding="utf-8"
    )
    with pytest.raises(RuntimeError, match=sphinxext._KERNEL_DIED_AT_START):
        run()


class _Channel:
    """A kernel channel holding the messages that have arrived; when it is empty, a read waits
    out its timeout (the seconds it waited are counted) and finds nothing."""

    def __init__(self, messages: list[dict]):
        self.messages = list(messages)
        self.waited = 0.0

    async def get_msg(self, timeout=None):
        import asyncio
        from queue import Empty

        if self.messages:
            return self.messages.pop(0)
        self.waited += timeout or 0
        await asyncio.sleep(timeout or 0)
        raise Empty


class _StartingKernel:
    """What jupyter_client's readiness wait reads: a kernel that has answered, its start-up status
    messages already arrived on the output channel."""

    def __init__(self):
        self.parent = KernelManager()  # a client of a manager: no heartbeat wait
        self.shell_channel = _Channel([{"msg_type": "kernel_info_reply", "content": {}}])
        self.iopub_channel = _Channel([{"msg_type": "status"}] * 3)
        self.answered = False

    def kernel_info(self):
        pass

    def _handle_kernel_info_reply(self, message):
        self.answered = True

    async def _async_is_alive(self):
        return True


def test_a_ready_kernel_is_used_without_waiting_for_its_output_to_go_quiet(monkeypatch, tmp_path):
    import asyncio

    import nbformat
    from jupyter_client.asynchronous.client import AsyncKernelClient
    from nbclient import NotebookClient

    from afterkarabakh.book import sphinxext

    def waited(wait_for_ready) -> float:
        """Seconds the wait spent reading an output channel with nothing more to come."""
        kernel = _StartingKernel()
        asyncio.run(wait_for_ready(kernel, timeout=10))
        assert kernel.answered and kernel.iopub_channel.messages == []
        return kernel.iopub_channel.waited

    monkeypatch.setattr(AsyncKernelClient, "wait_for_ready", AsyncKernelClient.wait_for_ready)
    assert waited(AsyncKernelClient.wait_for_ready) == pytest.approx(0.2)  # quiet for 0.2 s
    sphinxext._take_a_ready_kernel_without_waiting_for_quiet()
    assert waited(AsyncKernelClient.wait_for_ready) == 0
    # A real kernel: the first cell's outputs are its own, none of the start-up messages.
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('first')\n6 * 7")])
    client = NotebookClient(
        notebook, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    outputs = client.execute().cells[0].outputs
    assert [(o["output_type"], o.get("text") or o["data"]["text/plain"]) for o in outputs] == [
        ("stream", "first\n"),
        ("execute_result", "42"),
    ]
