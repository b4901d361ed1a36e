#!/usr/bin/env python3
"""virtsync-reaper: a child subreaper for daemons started without systemd.

Usage: subreaper.py --pidfile FILE --status FILE -- COMMAND [ARG...]

Marks itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), runs COMMAND, and then reaps
every process that ends below it, at once. COMMAND starts daemons that fork into the background
(`libvirtd -d`, ...): they, and everything they start in turn (QEMU, dnsmasq), are re-parented
here instead of to PID 1.

Why: on machines where PID 1 reaps orphans slowly (every ~2 s), libvirt sees a dead QEMU as a
zombie that is still alive, and every destroy or migration waits for it. With this process as
the parent, destroy takes ~0.2 s instead of ~2 s.

COMMAND's exit code is written to the status file when it ends. The process exits when it has
no child left, or on SIGTERM/SIGINT (children then go to PID 1), and removes its pid file.
"""

import ctypes
import os
import signal
import sys

PR_SET_NAME = 15
PR_SET_CHILD_SUBREAPER = 36


def write_atomically(path: str, text: str) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    pidfile = status = None
    args = list(argv)
    while args and args[0] != "--":
        if args[0] == "--pidfile" and len(args) > 1:
            pidfile, args = args[1], args[2:]
        elif args[0] == "--status" and len(args) > 1:
            status, args = args[1], args[2:]
        else:
            print(__doc__, file=sys.stderr)
            return 64
    command = args[1:]
    if not pidfile or not status or not command:
        print(__doc__, file=sys.stderr)
        return 64

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        return 1
    libc.prctl(PR_SET_NAME, b"virtsync-reaper", 0, 0, 0)

    def stop(signum, frame):  # noqa: ARG001
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    write_atomically(pidfile, f"{os.getpid()}\n")
    try:
        child = os.fork()
        if child == 0:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(signum, signal.SIG_DFL)
            try:
                os.execvp(command[0], command)
            except OSError as error:
                print(f"{command[0]}: {error}", file=sys.stderr)
            os._exit(127)
        while True:
            try:
                pid, wait_status = os.wait()
            except ChildProcessError:
                return 0
            if pid == child:
                write_atomically(status, f"{os.waitstatus_to_exitcode(wait_status)}\n")
    finally:
        try:
            with open(pidfile) as handle:
                if handle.read().strip() == str(os.getpid()):
                    os.unlink(pidfile)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
