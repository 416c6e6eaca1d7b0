"""`python -m bench` (make bench): run every benchmark, print the figures, write bench/RESULTS.md.
`python -m bench pages`: the page costs (figure 4) alone, printed."""

import sys


def main() -> int:
    from bench.local_aws import prepare_environment

    prepare_environment()  # before msglog is imported: its models read the table name at import
    if sys.argv[1:] == ["pages"]:
        from bench.page_cost import main as pages

        return pages()
    from bench.run import run

    return run()


if __name__ == "__main__":
    sys.exit(main())
