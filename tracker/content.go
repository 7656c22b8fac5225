package tracker

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
)

// ChunkSize is the largest piece stored in one *_chunk row. It keeps every
// row well under max_allowed_packet and bounds the memory of a reader.
const ChunkSize = 1 << 20

// ErrNoContent means the event has no captured content.
var ErrNoContent = errors.New("no captured content")

// ContentMeta describes a captured file or copied text.
type ContentMeta struct {
	ID        uint64
	Name      string
	MediaType string
	SHA256    string // of the original bytes
	Size      int64  // original bytes
	Truncated bool
}

// ContentInput names what WriteContent stores.
type ContentInput struct {
	Name      string
	MediaType string
	Truncated bool
}

// WriteContent streams src into dxt_content/dxt_content_chunk, gzip-compressed,
// and returns the metadata with the SHA-256 and size of the bytes read. Memory
// stays at about two chunks whatever the size of src. q should be a
// transaction so the content commits together with its event.
func WriteContent(ctx context.Context, q Querier, in ContentInput, src io.Reader) (ContentMeta, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO dxt_content (name, media_type, size, sha256, stored_size, compression, chunk_count, truncated, created_at)
VALUES (?, ?, 0, '', 0, 'gzip', 0, ?, ?)`, nullStr(in.Name), nullStr(in.MediaType), in.Truncated, time.Now().UTC())
	if err != nil {
		return ContentMeta{}, fmt.Errorf("store content: insert metadata: %w", err)
	}
	id64, err := res.LastInsertId()
	if err != nil {
		return ContentMeta{}, fmt.Errorf("store content: read id: %w", err)
	}
	id := uint64(id64)

	cw := &chunkWriter{ctx: ctx, q: q, contentID: id, buf: make([]byte, 0, ChunkSize)}
	zw, _ := gzip.NewWriterLevel(cw, gzip.BestSpeed) // level is valid, error impossible
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(zw, h), src)
	if err != nil {
		return ContentMeta{}, fmt.Errorf("store content %d: copy: %w", id, err)
	}
	if err := zw.Close(); err != nil {
		return ContentMeta{}, fmt.Errorf("store content %d: compress: %w", id, err)
	}
	if err := cw.flush(); err != nil {
		return ContentMeta{}, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if _, err := q.ExecContext(ctx, `UPDATE dxt_content SET size = ?, sha256 = ?, stored_size = ?, chunk_count = ? WHERE id = ?`,
		n, sum, cw.stored, cw.seq, id); err != nil {
		return ContentMeta{}, fmt.Errorf("store content %d: finish metadata: %w", id, err)
	}
	return ContentMeta{ID: id, Name: in.Name, MediaType: in.MediaType, SHA256: sum, Size: n, Truncated: in.Truncated}, nil
}

type chunkWriter struct {
	ctx       context.Context
	q         Querier
	contentID uint64
	buf       []byte
	seq       int
	stored    int64
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		room := ChunkSize - len(w.buf)
		take := min(room, len(p))
		w.buf = append(w.buf, p[:take]...)
		p = p[take:]
		written += take
		if len(w.buf) == ChunkSize {
			if err := w.flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.q.ExecContext(w.ctx, `INSERT INTO dxt_content_chunk (content_id, seq, data) VALUES (?, ?, ?)`, w.contentID, w.seq, w.buf); err != nil {
		return fmt.Errorf("store content %d: chunk %d: %w", w.contentID, w.seq, err)
	}
	w.stored += int64(len(w.buf))
	w.seq++
	w.buf = w.buf[:0]
	return nil
}

// ChunkReader reads rows "SELECT data FROM <table> WHERE <key> = ? AND seq = ?"
// one at a time, so a 100 MB file never sits in memory and the connection is
// free between chunks (a transaction can keep writing while it reads).
type ChunkReader struct {
	ctx   context.Context
	q     Querier
	query string
	key   uint64
	seq   int
	count int // number of chunks; -1 = read until a chunk is missing
	cur   []byte
	err   error
}

// NewChunkReader reads count chunks (seq 0..count-1) of key with query.
func NewChunkReader(ctx context.Context, q Querier, query string, key uint64, count int) *ChunkReader {
	return &ChunkReader{ctx: ctx, q: q, query: query, key: key, count: count}
}

// ChunksRead is the number of chunks fetched so far.
func (r *ChunkReader) ChunksRead() int { return r.seq }

func (r *ChunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.count >= 0 && r.seq >= r.count {
			r.err = io.EOF
			return 0, io.EOF
		}
		var data []byte
		err := r.q.QueryRowContext(r.ctx, r.query, r.key, r.seq).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			if r.count < 0 {
				r.err = io.EOF
			} else {
				r.err = fmt.Errorf("chunk %d of %d missing: %w", r.seq, r.count, io.ErrUnexpectedEOF)
			}
			return 0, r.err
		}
		if err != nil {
			r.err = fmt.Errorf("read chunk %d: %w", r.seq, err)
			return 0, r.err
		}
		r.seq++
		r.cur = data
		if len(data) == 0 {
			continue
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// OpenContent streams the original bytes of a stored content. The reader
// fails at the end if the bytes do not hash to the recorded SHA-256, so a
// tampered or damaged row never passes as the original.
func OpenContent(ctx context.Context, db *sql.DB, contentID uint64) (io.ReadCloser, ContentMeta, error) {
	var m ContentMeta
	var name, mt sql.NullString
	var compression string
	var chunks int
	err := db.QueryRowContext(ctx, `SELECT id, name, media_type, sha256, size, truncated, compression, chunk_count FROM dxt_content WHERE id = ?`, contentID).
		Scan(&m.ID, &name, &mt, &m.SHA256, &m.Size, &m.Truncated, &compression, &chunks)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ContentMeta{}, ErrNoContent
	}
	if err != nil {
		return nil, ContentMeta{}, fmt.Errorf("open content %d: %w", contentID, err)
	}
	m.Name, m.MediaType = name.String, mt.String
	raw := NewChunkReader(ctx, db, `SELECT data FROM dxt_content_chunk WHERE content_id = ? AND seq = ?`, contentID, chunks)
	var body io.Reader = bufio.NewReaderSize(raw, 64<<10)
	switch compression {
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, ContentMeta{}, fmt.Errorf("open content %d: %w", contentID, err)
		}
		body = zr
	case "none":
	default:
		return nil, ContentMeta{}, fmt.Errorf("open content %d: unknown compression %q", contentID, compression)
	}
	return &verifyingReader{r: body, h: sha256.New(), want: m.SHA256, wantSize: m.Size, id: contentID}, m, nil
}

type verifyingReader struct {
	r io.Reader
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
	n        int64
	want     string
	wantSize int64
	id       uint64
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if errors.Is(err, io.EOF) {
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want || v.n != v.wantSize {
			return n, fmt.Errorf("content %d is damaged: read %d bytes with sha256 %s, recorded %d bytes with sha256 %s", v.id, v.n, got, v.wantSize, v.want)
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return nil }

func nullStr(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
