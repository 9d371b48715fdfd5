"""What an MPI launcher's environment variables say, checked before MPI starts.

A launcher tells each process it starts its rank and the number of ranks through
variables: MPICH's and Intel's hydra ``PMI_RANK``/``PMI_SIZE`` (and ``MPI_LOCALNRANKS``),
Open MPI's ``OMPI_COMM_WORLD_RANK``/``OMPI_COMM_WORLD_SIZE``, PMIx's ``PMIX_RANK`` (with
its ``PMIX_NAMESPACE``).  MPI's own start reads them too, and a malformed one
(``PMI_SIZE=abc``) or one of a kind its library cannot serve (``PMIX_RANK`` for an MPICH
built without PMIx) aborts inside ``MPI_Init`` with a stack of internal errors; so they
are read here first, and a start that cannot work is refused in one line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# variable -> the launcher family that sets it
SIZES = {"PMI_SIZE": "hydra", "OMPI_COMM_WORLD_SIZE": "Open MPI", "MPI_LOCALNRANKS": "hydra"}
RANKS = {"PMI_RANK": "hydra", "OMPI_COMM_WORLD_RANK": "Open MPI", "PMIX_RANK": "PMIx"}
WORLD_SIZES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")   # MPI_LOCALNRANKS counts one node's
MAX_RANKS = 1 << 24
_COUNT = re.compile(r"[0-9]{1,9}")


class LauncherError(RuntimeError):
    """The launcher's variables contradict themselves or the MPI library."""


def world_size(environ: Mapping[str, str]) -> int | None:
    """The number of ranks the launcher's variables in ``environ`` announce (None when
    none does); LauncherError for a variable that is no count, ranks that do not fit
    the size, or two sizes that differ."""
    sizes = {}
    for name in (*SIZES, *RANKS):
        if name in environ:
            value = environ[name].strip()
            low = 1 if name in SIZES else 0
            if not _COUNT.fullmatch(value) or not low <= int(value) < MAX_RANKS:
                raise LauncherError(f"{name}={environ[name]!r}"[:80] + ": expected "
                                    f"{'a number of ranks' if low else 'a rank'} (an integer "
                                    f">= {low}) from an MPI launcher; unset it to train alone")
            if name in WORLD_SIZES:
                sizes[name] = int(value)
    if len(set(sizes.values())) > 1:
        raise LauncherError(f"the launcher's variables disagree on the number of ranks "
                            f"({', '.join(f'{k}={v}' for k, v in sizes.items())})")
    size = next(iter(sizes.values()), None)
    for name in RANKS:
        if size is not None and name in environ and int(environ[name]) >= size:
            raise LauncherError(f"{name}={int(environ[name])} is not a rank of the "
                                f"{size} that the launcher's variables announce")
    if "PMIX_RANK" in environ and "PMIX_NAMESPACE" not in environ:
        raise LauncherError("PMIX_RANK is set without PMIX_NAMESPACE: no PMIx launcher "
                            "started this process; unset it to train alone")
    return size


def check_library(library: str, environ: Mapping[str, str]) -> None:
    """Refuse the variables of a launcher that ``library`` (MPI's own description,
    ``MPI.Get_library_version()``) cannot serve, where MPI would abort in its start or
    see one rank: Open MPI's variables read by another library, and PMIx's by an MPICH
    built without PMIx (its PMI-1 client aborts on them).  Other pairs are left to the
    check of the rank and size after the start."""
    text = " ".join((library.strip().splitlines() or ["unknown"])[0].split())
    wrong = [n for n, family in {**SIZES, **RANKS}.items() if n in environ and (
        (family == "Open MPI" and "Open MPI" not in library)
        or (family == "PMIx" and "MPICH" in library and "pmix" not in library.lower()))]
    if wrong:
        families = sorted({({**SIZES, **RANKS})[n] for n in wrong})
        raise LauncherError(f"a launcher of {' and '.join(families)} set {', '.join(wrong)}"
                            f" for this process, but mpi4py's MPI library ({text}) cannot "
                            f"take its ranks from it; launch with the mpiexec of the MPI "
                            f"that mpi4py was built with")


def check_size(rank: int, size: int, environ: Mapping[str, str]) -> None:
    """Refuse a world of ``size`` ranks, this one ``rank``, where the launcher's variables
    give others: a leftover variable, or an mpi4py built against another MPI than
    the launcher's, which sees each process alone."""
    said = [n for n in WORLD_SIZES if n in environ and int(environ[n]) != size] + \
        [n for n in RANKS if n in environ and int(environ[n]) != rank]
    if said:
        names = ", ".join(f"{n}={int(environ[n])}" for n in said)
        raise LauncherError(f"the launcher's variables say {names}, but MPI sees rank "
                            f"{rank} of {size}: they are left over from another job, or "
                            f"mpi4py's MPI library is not the launcher's")
