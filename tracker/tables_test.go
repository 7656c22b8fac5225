package tracker

import (
	"context"
	"slices"
	"testing"
)

func TestTablesListsExactlyTheTablesMigrateCreates(t *testing.T) {
	db := migratedDB(t)
	rows, err := db.QueryContext(context.Background(), `SELECT table_name FROM information_schema.tables
WHERE table_schema = DATABASE() AND table_name LIKE 'dxt\_%' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	want := slices.Clone(Tables)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("migrations create %v, tracker.Tables lists %v", got, want)
	}
}
