"""The preview's CPU use while nothing changes: starts `build.py serve` on a site, waits for its
first build, lets it settle, then reads the process's user and system time from
/proc/<pid>/stat over a window and prints the share of one core it used (Linux only).

    python bench/synth.py --n 10000 --out /tmp/w10k
    python bench/idle.py --root /tmp/w10k --seconds 30
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User plus system time of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="the site to preview")
    parser.add_argument("--engine", type=Path, default=ENGINE,
                        help="the folder whose build.py to run (another checkout, to compare)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds to wait after the first build before measuring")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([sys.executable, str(args.engine / "build.py"), "serve",
                                 "--root", str(args.root), "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, text=True,
                                cwd=args.engine)
        try:
            while True:  # "Previewing ..." is printed after the first build
                out.seek(0)
                if "Previewing" in out.read():
                    break
                if proc.poll() is not None:
                    out.seek(0)
                    print(out.read(), file=sys.stderr)
                    return 1
                time.sleep(0.5)
            time.sleep(args.settle)
            before = cpu_seconds(proc.pid)
            time.sleep(args.seconds)
            used = cpu_seconds(proc.pid) - before
        finally:
            proc.terminate()
            proc.wait(timeout=300)  # (removing a large preview folder takes a while)
    print(f"{used:.2f} s of CPU in {args.seconds:.0f} s idle: "
          f"{100 * used / args.seconds:.1f}% of a core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
