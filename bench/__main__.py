"""`python -m bench` (make bench): run every benchmark, print the figures, write bench/RESULTS.md.
`python -m bench pages`: the page costs (figure 4) alone, printed; `python -m bench ingest`: figures 2, 3
and 7 alone, printed; `python -m bench console`: the console's first screen (figure 8) alone, printed (all
three leave RESULTS.md as it is)."""

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run every benchmark (make bench), print the figures and write bench/RESULTS.md, "
                    "replacing the one there. It takes minutes and the machine's cores: run it alone.")
    argv = sys.argv[1:] if argv is None else argv
    part = argv[0] if argv[:1] in (["pages"], ["ingest"], ["console"]) else None
    # --help prints this and exits; anything else is refused before a run starts
    parser.parse_args(argv[1:] if part else argv)
    if part == "console":  # make run's own stack, in its own process
        from bench.console import main as console

        return console()
    from bench.local_aws import prepare_environment

    prepare_environment()  # before msglog is imported: its models read the table name at import
    if part == "pages":
        from bench.page_cost import main as pages

        return pages()
    if part == "ingest":
        from bench.ingest import main as ingest

        return ingest()
    from bench.run import run

    return run()


if __name__ == "__main__":
    sys.exit(main())
