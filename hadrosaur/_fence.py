"""The fence: a stale attempt's writes never land after a newer attempt claimed the resource.

Why it is needed. On another host a writer's lock may be invisible, so a
fetch takes a resource over once it has watched the writer's lease expire
(_lease.py). A writer frozen (SIGSTOP, a paused VM, a cut-off filesystem)
for longer than that bound may wake up and write its outcome over the
attempt that took over. Checking "is meta.json still mine?" before writing
narrows that window to the instant between the check and the write; only a
fence closes it.

The claim. Each attempt N owns a claim directory ``IDENT/.attempt.N.RANDOM``
(``IDENT/.attempt.N`` below), made by ``mkdir`` (atomic, on NFS too) before
its first write. The random part keeps two attempts of one number apart: one
frozen before its meta.json named it has the number of the one taking over. Every file
the attempt writes into the resource (meta.json, status, result.json,
error.log, .lease) is written to a temporary *inside its claim* and
published by ``rename(IDENT/.attempt.N/TMP, IDENT/NAME)``; every file it
removes from the resource (the last attempt's result, traceback, logs) is
first renamed *into* its claim. So each of its changes to the resource is a
rename whose path goes through ``IDENT/.attempt.N``, resolved by the
filesystem at the instant of the rename (paths, never a descriptor of the
claim: ``renameat`` from an open directory would still work after it is
gone).

The take. Before its first write, an attempt makes its claim, then renames
every other ``.attempt.*`` in the resource away (``IDENT/.fenced.*``, then
removed), whatever its number.

Why no interleaving lets a stale write land. Let B fence A's claim at the
instant t (the rename of ``IDENT/.attempt.A`` away; the filesystem, or the
NFS server, performs the renames of one directory's entries one after the
other). Every change A makes is one rename through that path:

- done before t: it precedes t, and t precedes B's first write. B then
  writes its own meta.json and pending status over A's, and once pending
  removes whatever result, traceback or log the last attempt left; B's
  outcome replaces the rest. Nothing of A outlives B's files.
- done after t: the path ``IDENT/.attempt.A`` does not exist any more, so
  the rename fails with ENOENT (a temporary A had opened or even written in
  the claim before t is in the fenced directory, which B removes; it is
  never renamed into the resource). A learns that it was fenced
  (:class:`Fenced`), drops its outcome and returns B's.

A rename is atomic, so there is no third case: a SIGSTOP lands between two
system calls, never inside one, and a frozen NFS client's rename that the
server performs is performed before or after t. A fenced attempt never makes
its claim again (it is made once, before meta.json names the attempt), so
it cannot undo the fence.

Two takers at once (possible only if neither sees the other's lock, and
both watched the same lease expire): each fences every claim it finds after
making its own, so the later of their two fences removes the other's claim
and at most one publishes after it; if each fenced the other, neither does,
and the resource reads interrupted (the lock free). Never a mix of two
attempts. This holds for a resource that had an attempt before: a fetch
that made the resource directory itself and read no status in it under the
lock skips the listing (:meth:`Claim.take`), so two hosts that cannot see each
other's locks starting a never-computed resource at the same instant are not
ordered (nor would a lease order them: there is none yet to watch).

What it does not fence: what the function itself writes (``storage/``, the
run log it is given, files it opens), and the change markers and lock file,
which carry no outcome (a stale marker only makes readers look again).

Cost: a compute makes and removes one directory more (mkdir, rmdir), and
one that finds an attempt there before it lists the resource directory
once; the renames are the ones atomic writes made anyway, now from one
directory to its parent (measured in README, Benchmarks: "Leases").
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat

from . import _store

__all__ = ("CLAIM_PREFIX", "FENCED_PREFIX", "Claim", "Fenced", "is_fence_entry")

#: ``IDENT/.attempt.N``: the claim directory of attempt N.
CLAIM_PREFIX = ".attempt."
#: ``IDENT/.fenced.*``: a claim renamed away by a newer attempt, being removed.
FENCED_PREFIX = ".fenced."


class Fenced(Exception):
    """A newer attempt fenced this one: its write did not land, and none of its next will."""

    def __init__(self, res_dir: str, attempt: int) -> None:
        super().__init__(f"{res_dir}: attempt {attempt} was fenced by a newer attempt")
        self.res_dir = res_dir
        self.attempt = attempt


def is_fence_entry(name: str) -> bool:
    """True for the claim directories of attempts and their fenced remains."""
    return name.startswith(CLAIM_PREFIX) or name.startswith(FENCED_PREFIX)


def _remove(path: str) -> None:
    """Remove a claim's remains; a link or a file planted there is unlinked, never followed."""
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass  # gone already, or not ours to remove: the next take tries again


def _fence(res_dir: str, name: str) -> None:
    """Rename ``res_dir/name`` away (the fence: one atomic rename), then remove it."""
    gone = f"{res_dir}/{FENCED_PREFIX}{name[1:]}.{_store.process_id()}.{os.urandom(4).hex()}"
    try:
        os.rename(f"{res_dir}/{name}", gone)
    except FileNotFoundError:
        return  # another attempt fenced it first
    _remove(gone)


class Claim:
    """The claim directory of one attempt, through which it writes to its resource."""

    __slots__ = ("attempt", "durable", "path", "res_dir")

    def __init__(self, res_dir: str, attempt: int, durable: bool = False) -> None:
        self.res_dir = res_dir
        self.attempt = attempt
        self.durable = durable
        # Unique, not only numbered: an attempt frozen before its meta.json named
        # it has the number of the one that takes over, and must not share its path.
        self.path = f"{res_dir}/{CLAIM_PREFIX}{attempt}.{os.urandom(6).hex()}"

    def take(self, fresh: bool = False) -> None:
        """Make this claim, then fence every other: before the attempt's first write.

        ``fresh``: the caller made the resource directory and, holding the
        compute lock, read no status in it; then the listing is skipped (a
        fetch of a new resource pays only the mkdir and the final rmdir). An
        attempt that made a claim there since is one that got the lock first
        and never wrote its status: on this host it died (the lock was
        free); elsewhere, two hosts that cannot see each other's locks are
        computing a resource that was never started, which no lease can
        order either (see the module's docstring).
        """
        os.mkdir(self.path)
        if fresh:
            return
        name = self.path.rpartition("/")[2]
        with os.scandir(self.res_dir) as entries:
            others = [e.name for e in entries if is_fence_entry(e.name) and e.name != name]
        for other in others:
            if other.startswith(CLAIM_PREFIX):
                _fence(self.res_dir, other)
            else:  # the remains of a fence that could not remove them all
                _remove(f"{self.res_dir}/{other}")

    def _fenced(self, exc: OSError) -> BaseException:
        """What a failed rename through the claim means: fenced, or the resource is gone."""
        if isinstance(exc, FileNotFoundError) and os.path.isdir(self.res_dir):
            if not os.path.lexists(self.path):
                return Fenced(self.res_dir, self.attempt)
        return exc

    def publish(self, name: str, data: bytes) -> None:
        """Write ``IDENT/name`` whole, by a rename from this claim (see the module's docstring).

        Raises:
            Fenced: a newer attempt fenced this one; nothing was written.
        """
        try:
            tmp, fd = _store.open_temporary(self.path, name)
        except OSError as exc:
            raise self._fenced(exc) from None
        try:
            try:
                _store.write_all(fd, data)
                if self.durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, f"{self.res_dir}/{name}")
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise self._fenced(exc) from None
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if self.durable:
            _store.fsync_dir(self.res_dir)

    def discard(self, name: str) -> None:
        """Remove ``IDENT/name`` (a file or a directory) by renaming it into this claim first.

        Raises:
            Fenced: a newer attempt fenced this one; nothing was removed.
            FileNotFoundError: there is no ``IDENT/name``.
        """
        inside = f"{self.path}/.discarded.{name}"
        try:
            os.rename(f"{self.res_dir}/{name}", inside)
        except FileNotFoundError as exc:
            if not os.path.lexists(self.path) and os.path.isdir(self.res_dir):
                raise Fenced(self.res_dir, self.attempt) from None
            raise exc from None
        if os.path.isdir(inside) and not os.path.islink(inside):
            shutil.rmtree(inside)
        else:
            os.unlink(inside)

    def release(self) -> None:
        """Remove the claim once the attempt's final status is published (best effort)."""
        try:
            os.rmdir(self.path)
        except FileNotFoundError:
            pass
        except OSError:  # a temporary left by a failed write: the next take removes it too
            shutil.rmtree(self.path, ignore_errors=True)
