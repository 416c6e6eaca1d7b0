"""`python -m bench` (make bench): run every benchmark, print the figures, write bench/RESULTS.md.
`python -m bench pages`: the page costs (figure 4) alone, printed."""

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run every benchmark (make bench), print the figures and write bench/RESULTS.md, "
                    "replacing the one there. It takes minutes and the machine's cores: run it alone.")
    parser.parse_args(argv)  # --help prints this and exits; anything else is refused before a run starts
    from bench.local_aws import prepare_environment

    prepare_environment()  # before msglog is imported: its models read the table name at import
    if sys.argv[1:] == ["pages"]:
        from bench.page_cost import main as pages

        return pages()
    from bench.run import run

    return run()


if __name__ == "__main__":
    sys.exit(main())
