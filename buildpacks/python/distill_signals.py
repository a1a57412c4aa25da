"""distill: exit on SIGTERM when this interpreter is PID 1 and the app sets no handler.

Imported at startup through distill-signals.pth in the CPython layer's
site-packages (the distill/python buildpack puts both there). In a container
the app's python often runs as PID 1, which gets no default action for
SIGTERM: without a handler of the app's own, `podman stop`, `docker stop` and
Kubernetes wait out their grace period and kill it. As PID 1 only, and only
while SIGTERM has its default disposition, this installs a handler that ends
the process as the default action would (exit status 143). An app that sets
its own handler (gunicorn, uvicorn) replaces this one.
"""
import os
import signal
import sys


def _terminate(signum, frame):
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(128 + signum)


if os.getpid() == 1 and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _terminate)
