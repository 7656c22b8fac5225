package chain_test

import (
	"database/sql"
	"testing"

	"github.com/dxtracker/dxtracker/chain"
	"github.com/dxtracker/dxtracker/chain/chaintest"
)

// The writers read the head in the statement that reads the batch's
// events; that read must lock the head, or two writers could compute links
// on the same head.
func TestReadingForAppendLocksTheHead(t *testing.T) {
	e := chaintest.New(t)
	n := e.Scenario()
	tx, err := e.DB.BeginTx(e.Ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // rolled back on purpose
	head, evs, err := chain.ReadForAppendForTest(e.Ctx, tx, 1, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := e.Int(`SELECT seq FROM dxt_chain_head`); head.Seq != uint64(want) || len(head.Hash) != 64 || evs != 3 || n < 3 {
		t.Fatalf("read head %d %q and %d events; want head %d and 3 events", head.Seq, head.Hash, evs, want)
	}
	other, err := e.DB.BeginTx(e.Ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback() //nolint:errcheck // read only
	var seq uint64
	if err := other.QueryRowContext(e.Ctx, `SELECT seq FROM dxt_chain_head WHERE id = 1 FOR UPDATE NOWAIT`).Scan(&seq); err == nil {
		t.Fatalf("another transaction locked the head (seq %d) while a writer held it", seq)
	}
}

// A server that refuses the locking read in a UNION member gets the head
// locked by a statement of its own; the chain is the same.
func TestChainWithTheHeadLockedApartVerifies(t *testing.T) {
	defer chain.SeparateHeadLockForTest()()
	e := chaintest.New(t)
	e.Scenario()
	mustOK(t, e.Verify(chain.VerifyOptions{}))
}
