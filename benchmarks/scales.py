"""How much each scale measures: smoke (seconds, for CI), small (minutes), large (the full run)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("SCALES", "Scale")


@dataclass(frozen=True)
class Scale:
    """The sizes and repetitions of one benchmark run.

    Attributes:
        fetch_sizes_memory: resources per fetch run on the memory filesystem.
        fetch_sizes_disk: the same on the disk (the disk is slow: fewer).
        rounds: rounds of the fetch and index comparisons (system order rotates).
        flat_pair: (small N, large N) whose per-resource costs must be within 1.2x.
        compare_n: the N of the floor and 0.4.1 comparisons (and of disk usage).
        legacy: run hadrosaur 0.4.1 (needs pip and an index to install it).
        index_sizes_memory / index_sizes_disk: generated base sizes for stats,
            fetch_by_status and rebuild.
        index_copy_to_memory: disk bases whose index is also copied to memory and
            read there (a million resources exceed a tmpfs's inodes).
        rebuild_each_round_max: bases larger than this are rebuilt in the first
            round only (a million on a disk takes minutes).
        index_errors: resources in error in each generated base (fixed, so that
            fetch_by_status(error) returns as many at every size).
        read_repeats: stats / fetch_by_status calls per round.
        tui_rows: resources in the TUI's collection; tui_changes: status changes timed.
        concurrency_n: resources fetched by the two workers together.
        fetch_many_n: resources of benchmarks.fetch_many (0: skip it).
        pending_n / pending_count: resources of benchmarks.pending, and how many
            of them are pending (dead for stats, live then killed for the TUI).
        log_bytes: the size of the run.log the log pane opens (benchmarks.log_open).
        triage_n / triage_errors / triage_causes: the generated base of
            benchmarks.triage (resources, errors, causes); triage_fetches: failing
            fetches per round of its signatures-on/off comparison.
        watching_n / watching_rounds: resources the two workers of
            benchmarks.watching fetch, alone and watched by hadrosaur-tui, and
            its rounds; drain_n: fetches before its first read (the drain).
    """

    name: str
    fetch_sizes_memory: tuple[int, ...]
    fetch_sizes_disk: tuple[int, ...]
    rounds: int
    flat_pair: tuple[int, int]
    compare_n: int
    legacy: bool
    index_sizes_memory: tuple[int, ...]
    index_sizes_disk: tuple[int, ...]
    index_copy_to_memory: tuple[int, ...]
    rebuild_each_round_max: int
    index_errors: int
    read_repeats: int
    tui_rows: int
    tui_changes: int
    concurrency_n: int
    fetch_many_n: int
    pending_n: int
    pending_count: int
    log_bytes: int
    triage_n: int
    triage_errors: int
    triage_causes: int
    triage_fetches: int
    watching_n: int
    watching_rounds: int
    drain_n: int


SCALES = {
    "smoke": Scale(
        name="smoke",
        fetch_sizes_memory=(20, 100),
        fetch_sizes_disk=(20,),
        rounds=1,
        flat_pair=(20, 100),
        compare_n=100,
        legacy=False,
        index_sizes_memory=(300,),
        index_sizes_disk=(),
        index_copy_to_memory=(),
        rebuild_each_round_max=10**9,
        index_errors=30,
        read_repeats=3,
        tui_rows=300,
        tui_changes=3,
        concurrency_n=40,
        fetch_many_n=0,
        pending_n=400,
        pending_count=100,
        log_bytes=4_000_000,
        triage_n=600,
        triage_errors=200,
        triage_causes=10,
        triage_fetches=20,
        watching_n=100,
        watching_rounds=1,
        drain_n=100,
    ),
    "small": Scale(
        name="small",
        fetch_sizes_memory=(1_000, 10_000),
        fetch_sizes_disk=(1_000,),
        rounds=2,
        flat_pair=(1_000, 10_000),
        compare_n=10_000,
        legacy=True,
        index_sizes_memory=(10_000, 100_000),
        index_sizes_disk=(10_000,),
        index_copy_to_memory=(),
        rebuild_each_round_max=10**9,
        index_errors=1_000,
        read_repeats=10,
        tui_rows=100_000,
        tui_changes=100,
        concurrency_n=2_000,
        fetch_many_n=2_000,
        pending_n=200_000,
        pending_count=50_000,
        log_bytes=256_000_000,
        triage_n=20_000,
        triage_errors=2_000,
        triage_causes=50,
        triage_fetches=500,
        watching_n=2_000,
        watching_rounds=2,
        drain_n=2_000,
    ),
    "large": Scale(
        name="large",
        fetch_sizes_memory=(1_000, 10_000, 100_000),
        fetch_sizes_disk=(1_000, 10_000),
        rounds=3,
        flat_pair=(1_000, 100_000),
        compare_n=10_000,
        legacy=True,
        index_sizes_memory=(10_000, 100_000),
        index_sizes_disk=(1_000_000,),
        index_copy_to_memory=(1_000_000,),
        rebuild_each_round_max=100_000,
        index_errors=1_000,
        read_repeats=20,
        tui_rows=1_000_000,
        tui_changes=100,
        concurrency_n=6_000,
        fetch_many_n=5_000,
        pending_n=200_000,
        pending_count=50_000,
        log_bytes=1_000_000_000,
        # 1,000,000 resources are 5,000,000 inodes: more than /dev/shm holds, ~19 GB
        # of RAM in a tmpfs, and ~45 min of kernel time on this machine's ext4 disk.
        # The suite runs 200,000 with 20,000 errors (1,000 in one cause); the README
        # says how the 1,000,000 run was made (an ext4 image with inline data).
        triage_n=200_000,
        triage_errors=20_000,
        triage_causes=50,
        triage_fetches=1_000,
        watching_n=6_000,
        watching_rounds=3,
        drain_n=2_000,
    ),
}
