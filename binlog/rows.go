package binlog

import (
	"bytes"
	"context"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

func (a *assembler) rows(ctx context.Context, e *replication.RowsEvent) {
	if e.Table == nil {
		return
	}
	table, class := a.f.tableKind(e.Table.Schema, e.Table.Table)
	if class != tableQuiet {
		a.nonQuiet = true
	}
	if class != tableWatched {
		return
	}
	cols := a.f.columnsOf(ctx, table, e.Table, int(e.ColumnCount))
	types := e.Table.ColumnType
	keep := a.f.keep[table]
	toRow := func(vals []any, skipped []int) Row { return toRow(cols, types, vals, skipped, keep) }
	skipped := func(i int) []int {
		if i < len(e.SkippedColumns) {
			return e.SkippedColumns[i]
		}
		return nil
	}
	switch e.Type() {
	case replication.EnumRowsEventTypeInsert:
		for i, r := range e.Rows {
			a.changes = append(a.changes, RowChange{Table: table, Action: Insert, After: toRow(r, skipped(i))})
		}
	case replication.EnumRowsEventTypeDelete:
		for i, r := range e.Rows {
			a.changes = append(a.changes, RowChange{Table: table, Action: Delete, Before: toRow(r, skipped(i))})
		}
	case replication.EnumRowsEventTypeUpdate:
		for i := 0; i+1 < len(e.Rows); i += 2 {
			a.changes = append(a.changes, RowChange{Table: table, Action: Update,
				Before: toRow(e.Rows[i], skipped(i)), After: toRow(e.Rows[i+1], skipped(i+1))})
		}
	default:
		a.f.log.Warn().Str("table", table).Stringer("event", e.Type()).Msg("binlog: unsupported rows event ignored")
	}
}

// columns describes the columns of a rows event on a watched table: names
// from the TableMapEvent when the server logs them
// (binlog_row_metadata=FULL), else from information_schema, reloaded once
// when the count differs. If it still differs (the event predates a later
// DDL), the known columns are used by position and the rest are named "@N"
// (1-based), as mysqlbinlog does.
func (f *Follower) columnsOf(ctx context.Context, table string, tm *replication.TableMapEvent, n int) []column {
	if names := tm.ColumnNameString(); len(names) == n {
		cols := make([]column, n)
		for i, name := range names {
			cols[i].name = name // go-mysql reads signedness from the same metadata
		}
		return cols
	}
	cols := f.columns[table]
	if len(cols) == n {
		return cols
	}
	if f.reloaded[table] != n {
		f.reloaded[table] = n
		loaded, err := loadColumns(ctx, f.db, f.cfg.Schema, []string{table})
		if err != nil {
			f.log.Warn().Err(err).Str("table", table).Msg("binlog: cannot reload column names")
		} else if len(loaded[table]) > 0 {
			f.columns[table] = loaded[table]
			cols = loaded[table]
		}
		if len(cols) == n {
			return cols
		}
		f.log.Warn().Str("table", table).Int("event_columns", n).Int("table_columns", len(cols)).
			Msg("binlog: rows event column count differs from the table's; naming columns by position")
	}
	out := make([]column, n)
	for i := range out {
		if i < len(cols) {
			out[i] = cols[i]
		} else {
			out[i].name = "@" + strconv.Itoa(i+1)
		}
	}
	return out
}

// toRow names the values of one row image; keep (nil: all) limits the
// columns kept.
func toRow(cols []column, types []byte, vals []any, skipped []int, keep map[string]bool) Row {
	n := len(vals)
	if keep != nil {
		n = len(keep)
	}
	r := make(Row, n)
	for i, v := range vals {
		if keep != nil && !keep[cols[i].name] {
			continue
		}
		switch x := v.(type) {
		case []byte:
			v = bytes.Clone(x) // go-mysql's value may share the event buffer
		case int8, int16, int32, int64:
			if cols[i].unsigned {
				v = unsign(x, i < len(types) && types[i] == mysql.MYSQL_TYPE_INT24)
			}
		}
		r[cols[i].name] = v
	}
	for _, i := range skipped {
		delete(r, cols[i].name)
	}
	return r
}

// unsign reinterprets a signed integer go-mysql decoded from an UNSIGNED
// column whose signedness the binlog did not carry.
func unsign(v any, int24 bool) any {
	switch x := v.(type) {
	case int8:
		return uint8(x)
	case int16:
		return uint16(x)
	case int32:
		if int24 {
			return uint32(x) & 0xFFFFFF
		}
		return uint32(x)
	case int64:
		return uint64(x)
	}
	return v
}
