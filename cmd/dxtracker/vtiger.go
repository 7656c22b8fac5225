package main

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	vtigerext "github.com/dxtracker/dxtracker/deploy/vtiger"
	"github.com/dxtracker/dxtracker/vtigerinstall"
)

const vtigerUsage = `dxtracker vtiger install   --root DIR [config flags]   put the extension into the Vtiger at DIR and register it
dxtracker vtiger uninstall --root DIR [config flags]   take it out again
dxtracker vtiger package   --out FILE.zip              write the Module Manager zip (no database needed)`

// cmdVtiger is `dxtracker vtiger install|uninstall|package`.
func cmdVtiger(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"vtiger needs a subcommand:\n" + vtigerUsage}
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "install", "uninstall":
		return cmdVtigerInstall(ctx, sub, rest, env, stdout, stderr)
	case "package":
		return cmdVtigerPackage(rest, stdout)
	}
	return usageError{fmt.Sprintf("unknown vtiger subcommand %q; want install, uninstall or package:\n%s", sub, vtigerUsage)}
}

func cmdVtigerInstall(ctx context.Context, sub string, args, env []string, stdout, stderr io.Writer) error {
	mine, rest := splitFlags(args, map[string]bool{"root": true}, nil)
	fs := flag.NewFlagSet("vtiger "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	root := fs.String("root", "", "the Vtiger folder")
	if err := fs.Parse(mine); err != nil {
		return usageError{"vtiger " + sub + ": " + err.Error()}
	}
	if strings.TrimSpace(*root) == "" {
		return usageError{fmt.Sprintf("vtiger %s needs --root, the Vtiger folder that holds index.php and config.inc.php (e.g. --root /var/www/html/vtigercrm)", sub)}
	}
	for _, a := range rest {
		if !strings.HasPrefix(a, "-") {
			return usageError{fmt.Sprintf("vtiger %s takes no arguments, got %q (the folder goes after --root)", sub, a)}
		}
	}
	dir, err := filepath.Abs(*root)
	if err != nil {
		return usageError{fmt.Sprintf("--root %s: %v", *root, err)}
	}

	ts, err := openTool(ctx, rest, env, stderr)
	if err != nil {
		return err
	}
	defer ts.db.Close()
	db, log := ts.db, ts.log

	var rep vtigerinstall.Report
	if sub == "install" {
		rep, err = vtigerinstall.Install(ctx, dir, db, vtigerext.Files, log)
	} else {
		rep, err = vtigerinstall.Uninstall(ctx, dir, db, log)
	}
	if err != nil {
		return err
	}
	printVtigerReport(stdout, sub, rep)
	return nil
}

func printVtigerReport(w io.Writer, sub string, rep vtigerinstall.Report) {
	where := rep.Root
	if rep.VtigerVersion != "" {
		where += " (Vtiger " + rep.VtigerVersion + ")"
	}
	switch {
	case !rep.Changed() && sub == "install":
		fmt.Fprintf(w, "%s is already installed in %s; nothing changed\n", vtigerinstall.ModuleName, where)
	case !rep.Changed():
		fmt.Fprintf(w, "%s is not installed in %s; nothing changed\n", vtigerinstall.ModuleName, where)
	case sub == "install":
		fmt.Fprintf(w, "installed %s in %s:\n", vtigerinstall.ModuleName, where)
	default:
		fmt.Fprintf(w, "uninstalled %s from %s:\n", vtigerinstall.ModuleName, where)
	}
	for _, c := range rep.Changes {
		fmt.Fprintf(w, "  + %s\n", c)
	}
	for _, x := range rep.Warnings {
		fmt.Fprintf(w, "  ! %s\n", x)
	}
	if sub == "install" {
		block := map[string]string{"LBL_EXTENSIONS": "Extensions", "LBL_OTHER_SETTINGS": "Other Settings"}[rep.SettingsBlock]
		if block == "" {
			block = rep.SettingsBlock
		}
		fmt.Fprintf(w, "Settings page: gear icon > CRM Settings > %s > %s (administrators only)\n", block, vtigerinstall.SettingsFieldName)
	}
}

func cmdVtigerPackage(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("vtiger package", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "the zip file to write")
	if err := fs.Parse(args); err != nil {
		return usageError{"vtiger package: " + err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("vtiger package takes no arguments, got %q", fs.Args())}
	}
	if *out == "" {
		return usageError{"vtiger package needs --out FILE.zip (e.g. --out dist/DataExportTracker.zip)"}
	}
	var buf bytes.Buffer
	if err := vtigerinstall.Package(&buf, vtigerext.Files); err != nil {
		return err
	}
	if err := writeFileAtomic(*out, buf.Bytes()); err != nil {
		return fmt.Errorf("vtiger package: %w", err)
	}
	n := 0
	if zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil {
		n = len(zr.File)
	}
	fmt.Fprintf(stdout, "wrote %s (%d files, %d bytes); install it in Vtiger under Settings > Module Manager > Import Module\n", *out, n, buf.Len())
	return nil
}

// writeFileAtomic writes data to path through a temp file in the same
// folder, creating the folder if needed.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
