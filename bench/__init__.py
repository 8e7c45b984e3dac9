"""Benchmarks: scripts anyone can run (`python -m bench.<name>`), one summary line each,
figures in bench/out/, results recorded in bench/RESULTS.md with the command."""
