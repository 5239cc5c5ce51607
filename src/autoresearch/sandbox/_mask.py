"""Without bubblewrap: give a run bubblewrap's view of the file system, then run it as init.

    python _mask.py POLICY_JSON -- ARGV...

Run by path (standard library only, no package import) as the first process inside
``unshare --mount ...``, so every mount below is private to the run's namespace: the whole file
system becomes read-only, /tmp, /var/tmp, /run and the homes become empty private tmpfs, /dev
holds only the harmless devices (unless the run needs GPUs), /proc/sys is read-only, hidden
paths (the store, the data directory, raw dataset copies) are masked, and only the work
directory (and any extra writable path) is bound back writable. Then every capability is
dropped for good (bounding set emptied, no new privileges), so the run, root or not, cannot
undo a mount, create a device node or write a kernel setting. Needs the privileges unshare
already had (root, or a user namespace).
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC = 1, 32, 4096, 16384
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
PRIVATE_DIRS = ("/tmp", "/var/tmp", "/run", "/root", "/home")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
KERNEL_SETTINGS = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus")
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str | None, target: str, fstype: str | None, flags: int) -> None:
    if _libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                   flags, None) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as handle:
        points = [line.split()[4] for line in handle]
    return sorted(set(points), key=len)


def _bind_back(fd: int, target: str, writable: bool) -> None:
    if not os.path.lexists(target):  # under a fresh tmpfs: make the mount point first
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(target)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "w").close()
    # Recursive, to keep mounts nested in the path, unless that would copy a private tmpfs
    # mounted at or under it back on top (binding /tmp back must show the real /tmp).
    nested_private = any((p + "/").startswith(target.rstrip("/") + "/") for p in PRIVATE_DIRS)
    _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | (0 if nested_private else MS_REC))
    flags = MS_REMOUNT | MS_BIND | (0 if writable else MS_RDONLY)
    _mount(None, target, None, flags)


def _minimal_dev() -> None:
    """bubblewrap's --dev: a fresh /dev with the harmless devices only (no disks, no memory)."""
    found = [(os.open(f"/dev/{name}", os.O_PATH), name) for name in DEVICES
             if os.path.exists(f"/dev/{name}")]
    _mount("tmpfs", "/dev", "tmpfs", 0)
    for fd, name in found:
        open(f"/dev/{name}", "w").close()
        _mount(f"/proc/self/fd/{fd}", f"/dev/{name}", None, MS_BIND)
        os.close(fd)
    os.mkdir("/dev/shm")
    _mount("tmpfs", "/dev/shm", "tmpfs", 0)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"/dev/{name}")


def _drop_capabilities() -> None:
    """Empty the bounding set: after exec even uid 0 gets no capability back."""
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != 22:
            raise OSError(ctypes.get_errno(), f"cannot drop capability {cap}")
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "cannot set no_new_privs")


def apply(policy: dict[str, list[str]], gpu: bool) -> None:
    keep = [(os.open(p, os.O_PATH), p, True) for p in policy["writable"]]
    keep += [(os.open(p, os.O_PATH), p, False) for p in policy["readable"]
             if os.path.exists(p)]
    for point in _mount_points():
        try:
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        except OSError:
            continue  # proc, sysfs and the like refuse; they are the kernel's, not files
    for path in KERNEL_SETTINGS:
        if os.path.exists(path):
            _mount(path, path, None, MS_BIND | MS_REC)
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    if not gpu:
        _minimal_dev()
    for path in PRIVATE_DIRS:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", 0)
    # Outer paths first, so a nested bind lands on top: a writable work dir inside a read-only
    # folder stays writable, and a read-only file inside the work dir stays read-only.
    for fd, path, writable in sorted(keep, key=lambda k: k[1].rstrip("/").count("/")):
        _bind_back(fd, path, writable)
        os.close(fd)
    # Masks last, so that no bind above brings a hidden path back into view.
    for path in policy["hidden"]:
        if os.path.isfile(path):
            _mount("/dev/null", path, None, MS_BIND)
        elif os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_RDONLY)
    _drop_capabilities()


def main(argv: list[str]) -> None:
    policy = json.loads(argv[1])
    apply(policy, bool(policy.get("gpu")))
    os.chdir(policy["writable"][0])
    command = argv[argv.index("--") + 1 :]
    run = os.fork()
    if run == 0:
        os.execvp(command[0], command)
    sys.exit(_reap(run))


def _reap(run: int) -> int:
    """Stay as the namespace's init, as bubblewrap does: reap whatever dies, and report how
    the run ended as bubblewrap would (128 + signal), since unshare cannot pass a death by
    signal on (it prints "sigprocmask unblock failed" and exits 1)."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 1
        if pid == run:
            code = os.waitstatus_to_exitcode(status)
            return 128 - code if code < 0 else code


if __name__ == "__main__":
    main(sys.argv)
