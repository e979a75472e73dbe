"""pytds (PyPI python-tds) against `drillbook lab serve`: log in as pytds
does (autocommit off: a transaction-manager begin at connect), read the
catalog, then run each statement of a file (one per line, drillbook's own
rendered reads), once as a batch and once with a parameter where it has
one. Prints one JSON line per statement; exits 1 at the first error.

usage: pytds_smoke.py PORT STATEMENTS_FILE   (password in $DRILLBOOK_LAB_SQL_PASSWORD)
"""
import json

import pytds
import pytds_twin


def main():
    conn, statements = pytds_twin.connect(autocommit=False)
    cur = conn.cursor()
    cur.execute("SELECT @@VERSION")
    version = cur.fetchone()[0]
    assert version.startswith("Microsoft SQL Server"), version
    print(json.dumps({"statement": "SELECT @@VERSION", "rows": 1}))
    # A catalog read with a parameter, as pytds sends it (sp_executesql RPC).
    cur.execute("SELECT name, state_desc FROM sys.databases WHERE name = %s;", ("mgc",))
    rows = cur.fetchall()
    print(json.dumps({"statement": "sys.databases (parameterized)", "rows": [list(r) for r in rows]}))
    for s in statements:
        cur.execute(s)
        rows = cur.fetchall() if cur.description else []
        print(json.dumps({"statement": s, "rows": len(rows)}))
    conn.commit()
    conn.close()


if __name__ == "__main__":
    pytds_twin.run(main)
