// Command dxtracker is the Data Export Tracker daemon and its tools.
//
// Exit codes: 0 success; 1 runtime failure (systemd may restart);
// 2 usage error; 78 configuration error (systemd must not restart:
// RestartPreventExitStatus=78).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/dxtracker/dxtracker/config"
)

// Set by the linker: -X main.version=... -X main.commit=... -X main.date=...
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks a wrong command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `dxtracker — Data Export Tracker for Vtiger CRM

Usage:
  dxtracker run       [config flags]   the daemon: migrate, follow the binlog, serve the API
  dxtracker migrate   [config flags]   create or upgrade the dxt_ tables (idempotent)
  dxtracker doctor    [config flags]   check the MySQL/MariaDB prerequisites, print fixes
  dxtracker token create --name N | token list | token revoke ID
  dxtracker events    [--type T] [--user U] [--module M] [--ip IP] [--from T] [--to T] [--min-records N] [--limit N] [--json]
  dxtracker vtiger install --root DIR [config flags] | vtiger uninstall --root DIR [config flags]
                                       put the Vtiger extension into a Vtiger installation and register it, or take it out
  dxtracker vtiger package --out FILE.zip
                                       write the extension as a zip for Vtiger's Module Manager
  dxtracker demo      [--once] [--listen ADDR]  a self-contained sandbox: private MariaDB, Vtiger sample data, the daemon, a mail sink, a scenario
  dxtracker verify    [--anchor SEQ:HASH]... [--max-problems N] [--json] [config flags]
                                       check the tamper-evidence chain: exit 0 intact, 1 with the first changed, deleted or inserted row
  dxtracker version

Config flags: --config FILE (default /etc/dxtracker/dxtracker.toml), and every
key as --key-name VALUE or DXT_KEY_NAME in the environment; see
deploy/dxtracker.example.toml.
`

func main() {
	os.Exit(realMain(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

func realMain(args, env []string, stdout, stderr io.Writer) int {
	// SIGTERM/SIGINT cancel the context; a second signal kills as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	signal.Ignore(syscall.SIGPIPE)

	err := dispatch(ctx, args, env, stdout, stderr)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "dxtracker:", err)
	var ue usageError
	var ce *config.Error
	var ex exitError
	switch {
	case errors.As(err, &ue):
		fmt.Fprint(stderr, "\n"+usage)
		return exitUsage
	case errors.As(err, &ce):
		return config.ExitConfig
	case errors.As(err, &ex):
		return ex.code
	}
	return exitFailure
}

// exitError carries a specific exit code (doctor's "problems found").
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func dispatch(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, env, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, env, stdout, stderr)
	case "doctor":
		return cmdDoctor(ctx, rest, env, stdout, stderr)
	case "token":
		return cmdToken(ctx, rest, env, stdout, stderr)
	case "events":
		return cmdEvents(ctx, rest, env, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, env, stdout, stderr)
	case "vtiger":
		return cmdVtiger(ctx, rest, env, stdout, stderr)
	case "verify":
		return cmdVerify(ctx, rest, env, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "dxtracker %s (commit %s, built %s)\n", version, commit, date)
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}
