"""moto's server for the benchmarks (bench/local_aws.py), without the table walks DynamoDB does not make
(local.motoserver.lean_dynamodb): a transaction backs up the items it names, not the tables, and a Query
reads its partition.

moto's TransactWriteItems deep-copies the whole table once per item of the transaction, for its rollback:
seconds a transaction on the bench's table (tens of thousands of items), where DynamoDB's time does not grow
with the table. The status writer moves counts in transactions (msglog.counts), so that copy, not the
service, set the bench's pace (and its length past 10 minutes). Here the items a transaction names are
copied before it and put back if it fails; what moto does otherwise is unchanged.
"""

from __future__ import annotations

import sys

from local.motoserver import lean_dynamodb


def main() -> None:
    lean_dynamodb()
    from moto.server import main as serve

    serve(sys.argv[1:])


if __name__ == "__main__":
    main()
