"""Reliability suites: kills at random points, concurrency, full and read-only disks, bad input."""
