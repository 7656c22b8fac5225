package tracker

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
)

// SmallContent is a content held in memory (a copied text), stored by
// WriteContents together with others in a few statements. The stored form
// is exactly WriteContent's: a gzip stream in chunks of at most ChunkSize.
type SmallContent struct {
	In   ContentInput
	Data []byte
}

var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // level is valid
	return w
}}

type preparedContent struct {
	meta ContentMeta
	gz   []byte
}

func prepare(c SmallContent) preparedContent {
	var buf bytes.Buffer
	zw := gzipPool.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, _ = zw.Write(c.Data) // writes to a bytes.Buffer cannot fail
	_ = zw.Close()
	gzipPool.Put(zw)
	sum := sha256.Sum256(c.Data)
	return preparedContent{
		meta: ContentMeta{Name: c.In.Name, MediaType: c.In.MediaType, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(c.Data)), Truncated: c.In.Truncated},
		gz:   buf.Bytes(),
	}
}

// contentKey identifies a content row by what it holds: two rows with the
// same key are interchangeable.
func contentKey(m ContentMeta) string {
	return fmt.Sprintf("%s|%d|%t|%s|%s", m.SHA256, m.Size, m.Truncated, m.Name, m.MediaType)
}

// WriteContents stores many small contents in a handful of statements: one
// multi-row INSERT of the metadata, a read-back of the new ids, multi-row
// INSERTs of the chunks. q should be the transaction of their events.
//
// The ids are read back as the rows at or above the statement's first id
// and matched by what they hold (SHA-256, size, name, media type,
// truncated), so rows another writer inserted in between cannot be taken
// for ours, whatever the auto-increment lock mode.
func WriteContents(ctx context.Context, q Querier, cs []SmallContent) ([]ContentMeta, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	prep := make([]preparedContent, len(cs))
	for i, c := range cs {
		prep[i] = prepare(c)
	}
	// Microseconds: the column's precision, so the read-back can match it.
	now := time.Now().UTC().Truncate(time.Microsecond)
	const perStmt = 500
	var first uint64
	for start := 0; start < len(prep); start += perStmt {
		end := min(start+perStmt, len(prep))
		var sb strings.Builder
		sb.WriteString(`INSERT INTO dxt_content (name, media_type, size, sha256, stored_size, compression, chunk_count, truncated, created_at) VALUES `)
		args := make([]any, 0, 9*(end-start))
		for i, p := range prep[start:end] {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(`(?,?,?,?,?,'gzip',?,?,?)`)
			chunks := (len(p.gz) + ChunkSize - 1) / ChunkSize
			args = append(args, nullStr(p.meta.Name), nullStr(p.meta.MediaType), p.meta.Size, p.meta.SHA256, len(p.gz), chunks, p.meta.Truncated, now)
		}
		res, err := q.ExecContext(ctx, sb.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("store %d contents: %w", end-start, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, fmt.Errorf("store contents: read id: %w", err)
		}
		if first == 0 || uint64(id) < first {
			first = uint64(id)
		}
	}

	waiting := map[string][]int{}
	for i, p := range prep {
		k := contentKey(p.meta)
		waiting[k] = append(waiting[k], i)
	}
	rows, err := q.QueryContext(ctx, `SELECT id, COALESCE(name, ''), COALESCE(media_type, ''), size, sha256, truncated
FROM dxt_content WHERE id >= ? AND created_at = ? ORDER BY id`, first, now)
	if err != nil {
		return nil, fmt.Errorf("store contents: read back ids: %w", err)
	}
	found := 0
	for rows.Next() {
		var m ContentMeta
		if err := rows.Scan(&m.ID, &m.Name, &m.MediaType, &m.Size, &m.SHA256, &m.Truncated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store contents: read back ids: %w", err)
		}
		k := contentKey(m)
		if idx := waiting[k]; len(idx) > 0 {
			prep[idx[0]].meta.ID = m.ID
			waiting[k] = idx[1:]
			found++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store contents: read back ids: %w", err)
	}
	if found != len(prep) {
		return nil, fmt.Errorf("store contents: found %d of the %d rows just inserted", found, len(prep))
	}

	// Chunks, many rows per statement, at most about 4 MiB of data each.
	type chunk struct {
		id   uint64
		seq  int
		data []byte
	}
	var chunks []chunk
	for _, p := range prep {
		for seq, off := 0, 0; off < len(p.gz); seq, off = seq+1, off+ChunkSize {
			chunks = append(chunks, chunk{p.meta.ID, seq, p.gz[off:min(off+ChunkSize, len(p.gz))]})
		}
	}
	for start := 0; start < len(chunks); {
		end, size := start, 0
		for end < len(chunks) && end-start < perStmt && (end == start || size+len(chunks[end].data) < 1<<20) {
			size += len(chunks[end].data)
			end++
		}
		var sb strings.Builder
		sb.WriteString(`INSERT INTO dxt_content_chunk (content_id, seq, data) VALUES `)
		args := make([]any, 0, 3*(end-start))
		for i, c := range chunks[start:end] {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(`(?,?,?)`)
			args = append(args, c.id, c.seq, c.data)
		}
		if _, err := q.ExecContext(ctx, sb.String(), args...); err != nil {
			return nil, fmt.Errorf("store %d content chunks: %w", end-start, err)
		}
		start = end
	}
	out := make([]ContentMeta, len(prep))
	for i, p := range prep {
		out[i] = p.meta
	}
	return out, nil
}
