package config

import (
	"io"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// consoleTime is the console writer's time format: UTC with milliseconds.
const consoleTime = "2006-01-02T15:04:05.000Z07:00"

// Logger returns a logger writing to w at LogLevel in LogFormat: "console"
// is human-readable (coloured on a terminal), "json" one object a line,
// "auto" console when w is a terminal and json otherwise. Timestamps are UTC
// with milliseconds. It changes no zerolog globals.
func (c Config) Logger(w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(c.LogLevel)
	if err != nil || c.LogLevel == "" {
		level = zerolog.InfoLevel
	}
	tty := isTerminal(w)
	console := c.LogFormat == "console" || (c.LogFormat != "json" && tty)
	if console {
		w = zerolog.ConsoleWriter{Out: w, NoColor: !tty, TimeFormat: consoleTime, TimeLocation: time.UTC}
	}
	return zerolog.New(w).Level(level).Hook(utcTimestamp{})
}

// utcTimestamp stamps every event with the UTC time. zerolog's own
// Timestamp() reads the process-wide TimestampFunc, which a library should
// not change.
type utcTimestamp struct{}

func (utcTimestamp) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Str(zerolog.TimestampFieldName, time.Now().UTC().Format(consoleTime))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
