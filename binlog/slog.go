package binlog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/rs/zerolog"
)

// slogToZerolog routes go-mysql's slog output into the component's zerolog
// logger, one level lower than go-mysql chose: its errors are stream errors
// this package sees, handles and logs itself, and its info lines are chatty.
type slogToZerolog struct {
	log    zerolog.Logger
	attrs  []slog.Attr
	prefix string // group prefix for keys, "" or "a.b."
}

func newSlogLogger(log zerolog.Logger) *slog.Logger {
	return slog.New(&slogToZerolog{log: log.With().Str("lib", "go-mysql").Logger()})
}

func demote(l slog.Level) zerolog.Level {
	switch {
	case l >= slog.LevelError:
		return zerolog.WarnLevel
	case l >= slog.LevelWarn:
		return zerolog.InfoLevel
	case l >= slog.LevelInfo:
		return zerolog.DebugLevel
	}
	return zerolog.TraceLevel
}

func (h *slogToZerolog) Enabled(_ context.Context, l slog.Level) bool {
	lvl := demote(l)
	return lvl >= h.log.GetLevel() && lvl >= zerolog.GlobalLevel()
}

func (h *slogToZerolog) Handle(_ context.Context, r slog.Record) error {
	ev := h.log.WithLevel(demote(r.Level))
	if ev == nil {
		return nil
	}
	for _, a := range h.attrs {
		addAttr(ev, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		addAttr(ev, h.prefix, a)
		return true
	})
	ev.Msg(r.Message)
	return nil
}

func (h *slogToZerolog) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr(nil), h.attrs...), prefixed(h.prefix, attrs)...)
	return &n
}

func (h *slogToZerolog) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}

func prefixed(prefix string, attrs []slog.Attr) []slog.Attr {
	if prefix == "" {
		return attrs
	}
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = slog.Attr{Key: prefix + a.Key, Value: a.Value}
	}
	return out
}

func addAttr(ev *zerolog.Event, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	key := prefix + a.Key
	switch v.Kind() {
	case slog.KindGroup:
		for _, g := range v.Group() {
			addAttr(ev, key+".", g)
		}
	case slog.KindString:
		ev.Str(key, v.String())
	case slog.KindInt64:
		ev.Int64(key, v.Int64())
	case slog.KindUint64:
		ev.Uint64(key, v.Uint64())
	case slog.KindFloat64:
		ev.Float64(key, v.Float64())
	case slog.KindBool:
		ev.Bool(key, v.Bool())
	case slog.KindDuration:
		ev.Dur(key, v.Duration())
	case slog.KindTime:
		ev.Time(key, v.Time())
	default:
		// Structs such as go-mysql's config dump: text, never JSON (it
		// holds funcs that JSON cannot encode).
		if err, ok := v.Any().(error); ok {
			ev.AnErr(key, err)
			return
		}
		ev.Str(key, fmt.Sprintf("%+v", v.Any()))
	}
}
