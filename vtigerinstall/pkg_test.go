package vtigerinstall

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	vtigerext "github.com/dxtracker/dxtracker/deploy/vtiger"
)

// importedPath is where Vtiger's Module Manager puts a zip entry, or ""
// when it skips it: the include and rename lists of
// Vtiger_PackageImport::initImport (vtlib/Vtiger/PackageImport.php) as
// Vtiger_Unzip::unzipAllEx (vtlib/Vtiger/Unzip.php) applies them: an entry
// is extracted when its name starts with an include prefix, and the first
// rename prefix its folder starts with is replaced.
func importedPath(module, name string) string {
	include := []string{"templates", "modules/" + module, "cron", "languages", "settings",
		"settings/actions", "settings/views", "settings/models", "settings/templates",
		"settings/connectors", "settings/libraries", "settings/handlers", module + ".png", "images", "layouts"}
	rename := [][2]string{
		{"templates", "layouts/vlayout/modules/" + module},
		{"cron", "cron/modules/" + module},
		{"settings/actions", "modules/Settings/" + module + "/actions"},
		{"settings/views", "modules/Settings/" + module + "/views"},
		{"settings/models", "modules/Settings/" + module + "/models"},
		{"settings/connectors", "modules/Settings/" + module + "/connectors"},
		{"settings/libraries", "modules/Settings/" + module + "/libraries"},
		{"settings/handlers", "modules/Settings/" + module + "/handlers"},
		{"settings/templates", "layouts/vlayout/modules/Settings/" + module},
		{"images", "layouts/vlayout/skins/images/" + module},
		{"settings", "modules/Settings"},
		{"layouts", "layouts"},
	}
	ok := false
	for _, p := range include {
		if strings.HasPrefix(name, p) {
			ok = true
		}
	}
	if !ok || strings.HasSuffix(name, "/") {
		return ""
	}
	dir := path.Dir(name)
	for _, r := range rename {
		if strings.HasPrefix(dir, r[0]) {
			dir = r[1] + dir[len(r[0]):]
			break
		}
	}
	return dir + "/" + path.Base(name)
}

// checkPackage unzips the package of files and checks it the way Module
// Manager reads it, and that it extracts to exactly the files Install
// copies.
func checkPackage(t *testing.T, files fs.FS) *zip.Reader {
	t.Helper()
	var buf bytes.Buffer
	if err := Package(&buf, files); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if zr.File[0].Name != "manifest.xml" {
		t.Errorf("first entry %s, want manifest.xml", zr.File[0].Name)
	}
	entries := map[string][]byte{}
	for _, f := range zr.File {
		if f.Flags&0x8 != 0 {
			t.Errorf("%s uses a data descriptor", f.Name)
		}
		if f.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v", f.Name, f.Mode())
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc) // also checks the CRC
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		entries[f.Name] = b
	}

	// manifest.xml parses and passes PackageImport::checkZip: an extension
	// with a minimum Vtiger version of at least 6.0.0rc.
	man, err := ParseManifest(entries["manifest.xml"])
	if err != nil {
		t.Fatal(err)
	}
	if man.Name != ModuleName || !strings.EqualFold(man.Type, "extension") || man.Label == "" || man.Version == "" {
		t.Errorf("manifest: %+v", man)
	}

	// What Module Manager extracts is what Install copies, byte for byte.
	_, src, err := loadSource(files)
	if err != nil {
		t.Fatal(err)
	}
	extracted := map[string][]byte{}
	for name, b := range entries {
		if name == "manifest.xml" {
			continue
		}
		p := importedPath(man.Name, name)
		if p == "" {
			t.Errorf("Module Manager would skip %s", name)
			continue
		}
		if _, dup := extracted[p]; dup {
			t.Errorf("two entries extract to %s", p)
		}
		extracted[p] = b
	}
	var want, got []string
	for _, f := range src {
		want = append(want, f.Path)
		if !bytes.Equal(extracted[f.Path], f.Data) {
			t.Errorf("%s: extracted content differs or is missing", f.Path)
		}
	}
	for p := range extracted {
		got = append(got, p)
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("extracted files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The files the manifest's module and the registration name exist.
	for _, p := range []string{"modules/" + man.Name + "/" + man.Name + ".php", LinkURL, "modules/" + man.Name + "/probe/bootstrap.php"} {
		if _, ok := extracted[p]; !ok {
			t.Errorf("the package lacks %s", p)
		}
	}
	return zr
}

func TestPackageIsWhatModuleManagerExtractsToTheInstalledLayout(t *testing.T) {
	zr := checkPackage(t, extFiles("1.0.0"))
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	for _, n := range []string{"settings/views/Index.php", "settings/DataExportTracker/Helper.php", "modules/DataExportTracker/probe/.htaccess",
		"languages/ja_jp/Settings/DataExportTracker.php", "layouts/v7/modules/Settings/DataExportTracker/Index.tpl"} {
		if !names[n] {
			t.Errorf("zip lacks %s", n)
		}
	}
	for _, n := range []string{"tests/ProbeTest.php", "modules/DataExportTracker/.installed.json", "modules/DataExportTracker/lib/.Token.php.swp", "layouts/v7/modules/DataExportTracker/.DS_Store"} {
		if names[n] {
			t.Errorf("zip has %s", n)
		}
	}
}

func TestPackageOfTheShippedExtension(t *testing.T) {
	zr := checkPackage(t, vtigerext.Files)
	t.Logf("%d entries", len(zr.File))
	mb, err := fs.ReadFile(vtigerext.Files, "manifest.xml")
	if err != nil {
		t.Fatal(err)
	}
	man, err := ParseManifest(mb)
	if err != nil {
		t.Fatal(err)
	}
	if man.Version != "1.0.0" || man.Parent != "Settings" || man.Label != "Data Export Tracker" ||
		man.Dependencies.VtigerVersion != "7.0.0" || man.Dependencies.VtigerMaxVersion != "8.*" {
		t.Errorf("manifest.xml: %+v", man)
	}
}

func TestPackageIsReproducible(t *testing.T) {
	var a, b bytes.Buffer
	if err := Package(&a, vtigerext.Files); err != nil {
		t.Fatal(err)
	}
	if err := Package(&b, vtigerext.Files); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two packages of the same files differ")
	}
}

func TestPackageRefusesFilesOutsideTheExtension(t *testing.T) {
	files := extFiles("1.0.0")
	files["languages/en_us/Vtiger.php"] = &fstest.MapFile{Data: []byte("<?php\n")}
	err := Package(io.Discard, files)
	if err == nil || !strings.Contains(err.Error(), "outside the extension's own folders") || !strings.Contains(err.Error(), "languages/en_us/Vtiger.php") {
		t.Errorf("error %v", err)
	}
	files = extFiles("1.0.0")
	delete(files, LinkURL)
	if err := Package(io.Discard, files); err == nil || !strings.Contains(err.Error(), "missing "+LinkURL) {
		t.Errorf("error %v", err)
	}
}

func TestParseManifestRejectsWhatModuleManagerRejects(t *testing.T) {
	for _, c := range []struct{ xml, want string }{
		{`<module><type>extension</type><name>Other</name><label>x</label><version>1</version><dependencies><vtiger_version>7.0.0</vtiger_version></dependencies></module>`, `<name> is "Other"`},
		{`<module><type>entity</type><name>DataExportTracker</name><label>x</label><version>1</version><dependencies><vtiger_version>7.0.0</vtiger_version></dependencies></module>`, "want extension"},
		{`<module><type>extension</type><name>DataExportTracker</name><label>x</label><version>1</version><dependencies><vtiger_version>5.4.0</vtiger_version></dependencies></module>`, "must be 6.0.0 or later"},
		{`<module><type>extension</type><name>DataExportTracker</name><label>x</label><version>1.0.0.0.0.0</version><dependencies><vtiger_version>7.0.0</vtiger_version></dependencies></module>`, "1 to 10 characters"},
		{`<module>`, "manifest.xml"},
	} {
		if _, err := ParseManifest([]byte(c.xml)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.xml, err, c.want)
		}
	}
}
