"""pytds (PyPI python-tds) against `drillbook lab serve`: run each statement
of a file (one per line) and print, per statement, one JSON line with the
columns as pytds reads them from COLMETADATA (cursor.description: name and
SQL type) and the number of rows. Exits 1 at the first error.

usage: pytds_columns.py PORT STATEMENTS_FILE   (password in $DRILLBOOK_LAB_SQL_PASSWORD)
"""
import json

import pytds
import pytds_twin
from pytds import tds_base as t


def sql_type(typeid, size, precision, scale):
    """The SQL Server type name of a description's type id (and size)."""
    fixed = {
        t.SYBINT1: "tinyint", t.SYBINT2: "smallint", t.SYBINT4: "int", t.SYBINT8: "bigint",
        t.SYBBIT: "bit", t.SYBBITN: "bit", t.SYBREAL: "real", t.SYBFLT8: "float",
        t.SYBDATETIME: "datetime", t.XSYBNVARCHAR: "nvarchar", t.SYBNTEXT: "nvarchar(max)",
    }
    if typeid in fixed:
        return fixed[typeid]
    if typeid == t.SYBINTN:
        return {1: "tinyint", 2: "smallint", 4: "int", 8: "bigint"}[size]
    if typeid == t.SYBFLTN:
        return {4: "real", 8: "float"}[size]
    if typeid == t.SYBDATETIMN:
        return {4: "smalldatetime", 8: "datetime"}[size]
    if typeid in (t.SYBDECIMAL, t.SYBNUMERIC):
        return f"numeric({precision},{scale})"
    return f"type {typeid}"


def main():
    conn, statements = pytds_twin.connect(autocommit=True)
    cur = conn.cursor()
    for s in statements:
        cur.execute(s)
        description = cur.description or ()
        rows = cur.fetchall() if description else []
        columns = [[d[0], sql_type(d[1], d[3], d[4], d[5])] for d in description]
        print(json.dumps({"statement": s, "columns": columns, "rows": [[str(v) for v in r] for r in rows]}))
    conn.close()


if __name__ == "__main__":
    pytds_twin.run(main)
