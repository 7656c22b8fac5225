package tracker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

func TestWriteContentsStoresEachTextAsWriteContentWould(t *testing.T) {
	db := migratedDB(t)
	ctx := context.Background()
	// A row another writer stores in between must not be taken for ours.
	foreign, err := WriteContent(ctx, db, ContentInput{Name: "copied-text.txt", MediaType: "text/plain"}, bytes.NewReader([]byte("same")))
	if err != nil {
		t.Fatal(err)
	}
	var cs []SmallContent
	for i := 0; i < 1200; i++ { // more than one statement
		text := fmt.Sprintf("text %d %s", i, bytes.Repeat([]byte("é"), i%50))
		if i%100 == 0 {
			text = "same" // identical contents are interchangeable
		}
		cs = append(cs, SmallContent{In: ContentInput{Name: "copied-text.txt", MediaType: "text/plain", Truncated: i%7 == 0}, Data: []byte(text)})
	}
	// Random bytes do not compress: 1.5 MiB takes two chunks.
	big := make([]byte, 3*ChunkSize/2)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	cs = append(cs, SmallContent{In: ContentInput{Name: "big.bin"}, Data: big})

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	metas, err := WriteContents(ctx, tx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for i, m := range metas {
		if m.ID == foreign.ID || seen[m.ID] {
			t.Fatalf("content %d got id %d (foreign %d, seen %v)", i, m.ID, foreign.ID, seen[m.ID])
		}
		seen[m.ID] = true
		r, got, err := OpenContent(ctx, db, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("content %d: %v", i, err)
		}
		if !bytes.Equal(b, cs[i].Data) || got.Truncated != cs[i].In.Truncated || got.Name != cs[i].In.Name || got.SHA256 != m.SHA256 {
			t.Fatalf("content %d: %d bytes back, meta %+v", i, len(b), got)
		}
	}
	var chunks int
	if err := db.QueryRowContext(ctx, `SELECT chunk_count FROM dxt_content WHERE id = ?`, metas[len(metas)-1].ID).Scan(&chunks); err != nil || chunks < 2 {
		t.Fatalf("big content in %d chunks (%v); want it cut at ChunkSize", chunks, err)
	}
}
