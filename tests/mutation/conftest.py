"""The mutation tools here are scripts, not tests: pytest must not collect them."""

collect_ignore_glob = ["*.py"]
