package statedb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// multiRowChunk is the most keys one IN (...) list carries.
const multiRowChunk = 100

// multiRowParams is the most parameters one multi-row statement binds.
// modernc.org/sqlite compiles a statement on every execution (it keeps no
// prepared-statement cache), so several rows per statement save parses; but
// it binds parameters in time quadratic in their number, so statements are
// kept short. Measured on the alert and dead-letter shapes (8 to 22 columns),
// 64 to 128 parameters per statement were fastest.
const multiRowParams = 128

// execMulti runs "head VALUES (?, ...), (?, ...) tail" in tx over args, which
// hold ncols values per row, a few rows per statement.
func execMulti(ctx context.Context, tx *sql.Tx, head, tail string, ncols int, args []any) error {
	if ncols <= 0 || len(args)%ncols != 0 {
		return fmt.Errorf("statedb: %d values do not make rows of %d", len(args), ncols)
	}
	row := "(?" + strings.Repeat(", ?", ncols-1) + ")"
	perStmt := max(1, multiRowParams/ncols)
	full := "" // the statement text for perStmt rows, built once
	for len(args) > 0 {
		n := min(len(args)/ncols, perStmt)
		q := full
		if n != perStmt || q == "" {
			q = multiRowSQL(head, tail, row, n)
			if n == perStmt {
				full = q
			}
		}
		if _, err := tx.ExecContext(ctx, q, args[:n*ncols]...); err != nil {
			return err
		}
		args = args[n*ncols:]
	}
	return nil
}

// multiRowSQL returns "head VALUES row, row, ... tail" with n rows.
func multiRowSQL(head, tail, row string, n int) string {
	var q strings.Builder
	q.Grow(len(head) + len(tail) + n*(len(row)+2) + 9)
	q.WriteString(head)
	q.WriteString(" VALUES ")
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	q.WriteString(" ")
	q.WriteString(tail)
	return q.String()
}
