"""The one way the book is built, shared by `make book`, the tests and `make bench`.

It is ``jupyter-book build . --builder html -W -n --keep-going`` with one difference: Sphinx
reads the pages on every core (its standard parallel read, ``-j``). myst-nb executes a
notebook while Sphinx reads it, so the chapters execute in parallel too. Which pages are
read, and so executed, is still Sphinx's decision (see :mod:`afterkarabakh.book.sphinxext`): a
changed data file or module re-reads every notebook, and a build with no change reads none.
The jupyter-book CLI has no option for the number of processes, so this calls the function
the CLI calls, with the same arguments, and ``jobs`` set.

Its kernels start already loaded: before Sphinx, the build starts a process that imports
ipykernel and the package's modules once (:mod:`afterkarabakh.book.kernels`), and each
notebook's kernel is forked from it rather than started afresh, most of a second saved per notebook.
The build points Jupyter at its own ``python3`` kernelspec for this (in ``.kernels`` beside the
output, first on ``JUPYTER_PATH`` for the build's processes only); the tests' kernels, the
bench's notebook timer and JupyterLab keep the ordinary one. ``AFTERKARABAKH_FORK_KERNELS=0``
builds with ordinary kernels.
"""

from __future__ import annotations

import contextlib
import filecmp
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import paths

#: Warnings are errors (-W), with missing references reported too (-n); --keep-going lists them all.
STRICT = ["--builder", "html", "-W", "-n", "--keep-going"]
#: Processes for Sphinx's parallel read (and so for executing notebooks); AFTERKARABAKH_JOBS overrides.
JOBS_ENV = "AFTERKARABAKH_JOBS"


def jobs() -> int:
    return int(os.environ.get(JOBS_ENV) or os.cpu_count() or 1)


#: Where the book is built: the pages in ``html``, Sphinx's and myst-nb's working files beside it.
OUTPUT = paths.ROOT / "_build" / "html"


def command(output: Path | None = None) -> list[str]:
    """The command line of a strict, parallel build (this module run by the book's Python);
    ``output`` builds into another folder (its parent holds that build's working files)."""
    return [sys.executable, "-m", "afterkarabakh.book.build", *([str(output)] if output else [])]


def bare_command() -> list[str]:
    """Plain ``jupyter-book build`` with the same strictness (one process), for comparison in bench."""
    return [str(Path(sys.executable).with_name("jupyter-book")), "build", str(paths.ROOT), *STRICT]


def run(output: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Build into _build/html (or ``output``) the way the Makefile does."""
    return subprocess.run(command(output), cwd=paths.ROOT, text=True, **kwargs)


def shared(session: str, timeout: float = 1800) -> tuple[int, str]:
    """The book built once for a test session, by whichever process asks first: the others wait
    for that build and get its result (its return code and the end of its log), so every test
    of a run reads one build and no notebook is executed for it twice.

    A lock file beside the build makes the others wait; the session's result is kept beside it.
    """
    import fcntl

    lock = OUTPUT.parent / ".build.lock"
    record = OUTPUT.parent / ".build-session.json"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        if record.exists():
            saved = json.loads(record.read_text(encoding="utf-8"))
            if saved["session"] == session:
                return saved["returncode"], saved["log"]
        result = run(capture_output=True, timeout=timeout)
        log = f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
        record.write_text(
            json.dumps({"session": session, "returncode": result.returncode, "log": log}),
            encoding="utf-8",
        )
        return result.returncode, log


def one_page_per_task(docnames, nproc: int, maxbatch: int = 10) -> list[list[str]]:
    """Sphinx's parallel read in tasks of one page each, the longest first.

    Sphinx would cut fifteen pages into chunks of seven, seven and one, so the last page runs
    alone while a core idles, and a chunk of slow pages keeps one core busy after the other is
    done. One page per task lets the two cores share the pages as they finish. Sphinx starts the
    first two tasks at once and then the last queued first, so after the two longest the rest are
    queued shortest first (the notebook's size stands in for its running time).
    """

    def cost(doc: str) -> int:
        notebook = paths.ROOT / f"{doc}.ipynb"
        return notebook.stat().st_size if notebook.exists() else 0

    ordered = sorted(docnames, key=cost, reverse=True)
    return [[doc] for doc in ordered[:nproc] + ordered[nproc:][::-1]]


def rewrite_pages_if_static_changed(output: Path) -> bool:
    """Have Sphinx write every page again when one of the package's static files (the renderer,
    the stylesheet) differs from its copy in the built book; returns whether it must.

    Sphinx copies static files only when it writes a page, and gives each page the files'
    checksums (``?v=``) then: with no page to write, an edited stylesheet would never reach the
    book, nor a reader's cache. An HTML file older than its source is written again from the
    kept doctree, without reading (so executing) the notebook again; dating the pages to the
    epoch makes them all older.
    """
    served = output / "_static"
    source = paths.PACKAGE / "static"
    changed = [
        path
        for path in source.rglob("*")
        if path.is_file()
        and not (
            (copy := served / path.relative_to(source)).exists()
            and filecmp.cmp(path, copy, shallow=False)
        )
    ]
    if not changed or not served.is_dir():
        return False
    for page in output.rglob("*.html"):
        os.utime(page, (0, 0))
    return True


def forked_kernelspec(folder: Path) -> list[str] | None:
    """Write the build's ``python3`` kernelspec under ``folder/kernels``: the installed one, with
    the launcher of :mod:`afterkarabakh.book.kernels` in place of ``ipykernel_launcher``.
    Returns the interpreter and its options (to start the zygote with), or None (and writes
    nothing) when the installed spec is not one this knows how to rewrite."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return None
    argv = list(spec.argv)
    tail = ["-m", "ipykernel_launcher", "-f", "{connection_file}"]
    if (
        len(argv) < 5
        or argv[-4:] != tail
        or Path(argv[0]).resolve() != Path(sys.executable).resolve()
    ):
        return None
    interpreter = argv[:-4]
    description = spec.to_dict()
    description["argv"] = [*interpreter, "-m", "afterkarabakh.book.kernels", "launch", *tail[2:]]
    target = folder / "kernels" / "python3"
    target.mkdir(parents=True, exist_ok=True)
    (target / "kernel.json").write_text(json.dumps(description, indent=1), encoding="utf-8")
    return interpreter


def start_service(
    module: str, socket_path: Path, interpreter: list[str], *arguments: str, **popen
) -> subprocess.Popen:
    """``python -m module serve FD [arguments]``, a process that serves the build's kernels on a
    Unix socket, started. The socket is bound and listening before this returns, its descriptor handed to the
    process: a kernel that found no socket would do without the service (start an ordinary
    kernel, draw its own images), so the first ones asked for would miss it if the process
    bound the socket itself once started. Those that ask while it starts wait in the socket's
    queue. It stops when its standard input is closed."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(socket_path))
        listener.listen(64)
        fd = listener.fileno()
        return subprocess.Popen(
            [*interpreter, "-m", module, "serve", str(fd), *arguments],
            stdin=subprocess.PIPE,
            pass_fds=(fd,),
            cwd=paths.ROOT,
            start_new_session=True,  # not interrupted by Ctrl-C: the build stops it
            **popen,
        )
    finally:
        listener.close()  # the process has its own copy


def _stop_service(process: subprocess.Popen) -> None:
    from . import sphinxext

    process.stdin.close()  # it finishes what it is doing, and exits
    if sphinxext.pages_read == 0:
        # No page was read, so no kernel asked for anything: not worth waiting for it to finish
        # starting (a no-change rebuild would wait for its imports).
        os.killpg(process.pid, signal.SIGKILL)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def _set_in_environment(**values: str):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def stills_drawn_once():
    """While the build runs, its charts' still images are drawn for every kernel by one process
    per core (:mod:`afterkarabakh.book.drawers`); stopped afterwards, whatever happened."""
    from .. import stills

    with tempfile.TemporaryDirectory(prefix="afterkarabakh-stills-") as scratch:
        socket_path = Path(scratch) / "stills"
        drawers = str(jobs())  # one per kernel running at once
        process = start_service(
            "afterkarabakh.book.drawers", socket_path, [sys.executable], drawers
        )
        try:
            with _set_in_environment(**{stills.SOCKET_ENV: str(socket_path)}):
                yield
        finally:
            _stop_service(process)


@contextlib.contextmanager
def forked_kernels(output: Path):
    """While the build runs, its notebooks' kernels are forked from one process that has imported
    their code (see :mod:`afterkarabakh.book.kernels`); stopped afterwards, whatever happened."""
    from . import kernels

    if os.environ.get(kernels.FORK_ENV, "1") == "0":
        yield
        return
    folder = output.parent / ".kernels"
    shutil.rmtree(folder, ignore_errors=True)
    interpreter = forked_kernelspec(folder)
    if interpreter is None:
        print("Kernels start afresh: the python3 kernelspec is not the usual one.", flush=True)
        yield
        return
    scratch = Path(tempfile.mkdtemp(prefix="afterkarabakh-kernels-"))
    socket_path = scratch / "zygote"
    zygote = start_service("afterkarabakh.book.kernels", socket_path, interpreter)
    jupyter_path = os.pathsep.join(p for p in (str(folder), os.environ.get("JUPYTER_PATH")) if p)
    try:
        with _set_in_environment(
            JUPYTER_PATH=jupyter_path, **{kernels.SOCKET_ENV: str(socket_path)}
        ):
            yield
    finally:
        _stop_service(zygote)  # it kills any kernel still running, and exits
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)


def build(output: Path = OUTPUT) -> int:
    from . import sphinxext

    root = paths.ROOT
    sphinxext.start_validating(root)  # while Sphinx and jupyter-book are imported and set up

    import sphinx.builders
    from jupyter_book.cli.main import builder_specific_actions
    from jupyter_book.sphinx import build_sphinx

    sphinx.builders.make_chunks = one_page_per_task

    output = Path(output).resolve()
    print(f"Building the book with {jobs()} parallel reader(s) into {output}", flush=True)
    if rewrite_pages_if_static_changed(output):
        print("A static file changed: every page is written again.", flush=True)
    with stills_drawn_once(), forked_kernels(output):
        result = build_sphinx(
            str(root),
            str(output),
            use_external_toc=True,
            noconfig=True,
            path_config=str(root / "_config.yml"),
            confoverrides={
                "external_toc_path": (root / "_toc.yml").as_posix(),
                "latex_individualpages": False,
                "nitpicky": True,
            },
            builder="html",
            warningiserror=True,
            keep_going=True,
            jobs=jobs(),
        )
    try:
        builder_specific_actions(result, "html", output, "book", None, print)
    except SystemExit as exit_:  # jupyter-book reports a failed build by exiting
        return int(exit_.code or 1)
    return 0 if result == 0 else 1


if __name__ == "__main__":
    sys.exit(build(*map(Path, sys.argv[1:2])))
