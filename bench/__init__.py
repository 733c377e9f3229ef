"""mockmx's benchmarks: `python3 bench/run.py` measures the mock side by side with the limit and writes results.md."""
