"""What the pytds clients share: their arguments (PORT STATEMENTS_FILE, the
password in $DRILLBOOK_LAB_SQL_PASSWORD), a login to the twin as
drillbook in master, and a run that prints any failure and exits 1."""
import os
import sys

import pytds


def connect(autocommit):
    """The twin's instance on argv[1], and the statements of argv[2]."""
    port = int(sys.argv[1])
    statements = [l for l in open(sys.argv[2], encoding="utf-8").read().splitlines() if l.strip()]
    conn = pytds.connect(
        server="127.0.0.1", port=port, user="drillbook",
        password=os.environ["DRILLBOOK_LAB_SQL_PASSWORD"], database="master",
        autocommit=autocommit, login_timeout=10, timeout=30,
    )
    return conn, statements


def run(main):
    try:
        main()
    except Exception as e:  # the test prints it
        print(f"pytds failed: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
