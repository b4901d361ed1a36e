#!/usr/bin/env python3
"""The testbed's emulated hardware watchdog for one host.

Usage: watchdog.py --fifo PATH --timeout SECONDS --pidfile FILE --testbed-dir DIR
                   --host HOST -- KILL_COMMAND [ARG...]

Runs in the root namespaces, outside the host it guards: freezing, cutting off or killing the
host does not stop it, as a real watchdog is not stopped by a hung kernel. The host's agent pets
it by writing any bytes to the FIFO at PATH (as it would write to /dev/watchdog). The first pet
arms it; once armed, when no pet has come for SECONDS it runs KILL_COMMAND (scripts/testbed.sh
kill HOST: a reset without the reboot), logs the firing and exits.

nowayout: a 'V' does not disarm it, nor does a writer closing the FIFO. This process keeps the
FIFO open for reading and writing itself, so a writer's open never fails with ENXIO and a
writer that closes and reopens it (an agent restart) is no end of file here.

Its log lines (stdout, appended to the host's log directory by scripts/testbed.sh) start with an
ISO 8601 UTC time; the firing is the line `fired at=EPOCH_SECONDS ...`. It also exits, without
firing, on SIGTERM (scripts/testbed.sh watchdog-stop, reboot, down) or when DIR disappears.
"""

import ctypes
import datetime
import os
import select
import signal
import subprocess
import sys
import time

PR_SET_NAME = 15


def log(host: str, message: str) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")
    print(f"{now} watchdog {host}: {message}", flush=True)


def write_atomically(path: str, text: str) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def parse(argv: list[str]) -> dict:
    options: dict = {}
    args = list(argv)
    while args and args[0] != "--":
        if len(args) < 2 or args[0] not in ("--fifo", "--timeout", "--pidfile", "--testbed-dir", "--host"):
            raise ValueError(f"unexpected argument {args[0]}")
        options[args[0][2:]] = args[1]
        args = args[2:]
    options["kill"] = args[1:]
    missing = [key for key in ("fifo", "timeout", "pidfile", "testbed-dir", "host") if key not in options]
    if missing or not options["kill"]:
        raise ValueError("missing " + ", ".join(missing or ["the kill command"]))
    options["timeout"] = float(options["timeout"])
    if options["timeout"] <= 0:
        raise ValueError("the timeout must be positive")
    return options


def main(argv: list[str]) -> int:
    try:
        options = parse(argv)
    except ValueError as error:
        print(f"watchdog.py: {error}\n{__doc__}", file=sys.stderr)
        return 64
    host, timeout, fifo = options["host"], options["timeout"], options["fifo"]
    ctypes.CDLL(None).prctl(PR_SET_NAME, b"tb-watchdog", 0, 0, 0)

    def stop(signum, frame):  # noqa: ARG001
        log(host, f"stopped by signal {signum}, not fired")
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    # Both ends: no writer ever sees ENXIO, and this end never reads an end of file.
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    write_atomically(options["pidfile"], f"{os.getpid()}\n")
    log(host, f"started pid={os.getpid()} timeout={timeout:g} s fifo={fifo}")
    last_pet = None
    pets = 0
    while True:
        # At most 1 s between checks that the testbed still exists.
        wait = 1.0 if last_pet is None else min(1.0, last_pet + timeout - time.monotonic())
        if wait > 0:
            readable, _, _ = select.select([fd], [], [], wait)
            if readable:
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    data = b""
                if data:
                    if last_pet is None:
                        log(host, "armed by the first pet")
                    last_pet = time.monotonic()
                    pets += len(data)
        if not os.path.isdir(options["testbed-dir"]):
            log(host, "the testbed is gone; exiting, not fired")
            return 0
        if last_pet is not None and time.monotonic() - last_pet >= timeout:
            break

    silent = time.monotonic() - last_pet
    log(host, f"fired at={time.time():.6f} after {silent:.3f} s without a pet "
              f"(timeout {timeout:g} s, {pets} pets); killing {host}")
    started = time.monotonic()
    result = subprocess.run(options["kill"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, check=False)
    took = time.monotonic() - started
    detail = f": {result.stderr.strip()}" if result.returncode != 0 else ""
    log(host, f"killed {host} in {took:.3f} s (status {result.returncode}){detail}")
    return 0 if result.returncode == 0 else 1


def run(argv: list[str]) -> int:
    try:
        return main(argv)
    finally:
        # The pid file names a live watchdog only.
        try:
            pidfile = argv[argv.index("--pidfile") + 1]
            with open(pidfile) as handle:
                if handle.read().strip() == str(os.getpid()):
                    os.unlink(pidfile)
        except (OSError, ValueError, IndexError):
            pass


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
