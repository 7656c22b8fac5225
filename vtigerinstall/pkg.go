package vtigerinstall

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Manifest is the part of manifest.xml that Vtiger's PackageImport reads
// for an extension (vtlib/Vtiger/PackageImport.php: checkZip, import_Module).
type Manifest struct {
	XMLName      xml.Name `xml:"module"`
	Type         string   `xml:"type"`
	Name         string   `xml:"name"`
	Label        string   `xml:"label"`
	Parent       string   `xml:"parent"`
	Version      string   `xml:"version"`
	Dependencies struct {
		VtigerVersion    string `xml:"vtiger_version"`
		VtigerMaxVersion string `xml:"vtiger_max_version"`
	} `xml:"dependencies"`
}

// ParseManifest parses and checks manifest.xml: an extension named
// DataExportTracker with a label, a version and a minimum Vtiger version
// of at least 6.0.0 (below that PackageImport::checkZip rejects the zip).
func ParseManifest(b []byte) (Manifest, error) {
	var m Manifest
	if err := xml.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("manifest.xml: %w", err)
	}
	trim := func(s *string) { *s = strings.TrimSpace(*s) }
	for _, s := range []*string{&m.Type, &m.Name, &m.Label, &m.Parent, &m.Version, &m.Dependencies.VtigerVersion, &m.Dependencies.VtigerMaxVersion} {
		trim(s)
	}
	var probs []string
	if m.Name != ModuleName {
		probs = append(probs, fmt.Sprintf("<name> is %q, want %q", m.Name, ModuleName))
	}
	if !strings.EqualFold(m.Type, "extension") {
		probs = append(probs, fmt.Sprintf("<type> is %q, want extension", m.Type))
	}
	if m.Label == "" {
		probs = append(probs, "<label> is empty")
	}
	if m.Version == "" || len(m.Version) > 10 { // vtiger_tab.version is VARCHAR(10)
		probs = append(probs, fmt.Sprintf("<version> %q must be 1 to 10 characters", m.Version))
	}
	if v := m.Dependencies.VtigerVersion; v == "" || !versionAtLeast(v, "6.0.0") {
		probs = append(probs, fmt.Sprintf("<dependencies><vtiger_version> %q must be 6.0.0 or later", v))
	}
	if len(probs) > 0 {
		return m, fmt.Errorf("manifest.xml: %s", strings.Join(probs, "; "))
	}
	return m, nil
}

// srcFile is one file of the extension, by its path in a Vtiger root.
type srcFile struct {
	Path string // slash-separated, relative to the Vtiger root
	Data []byte
	Sum  string // hex SHA-256 of Data
}

// The folders of the extension tree that are installed into Vtiger.
var srcDirs = []string{"modules", "layouts", "languages"}

// Files the installer itself depends on.
var requiredSrc = []string{
	"modules/DataExportTracker/DataExportTracker.php",
	"modules/DataExportTracker/probe/bootstrap.php",
	LinkURL,
}

// loadSource reads the manifest and the files to install from files.
func loadSource(files fs.FS) (Manifest, []srcFile, error) {
	if files == nil {
		return Manifest{}, nil, errors.New("vtiger: no extension files given")
	}
	mb, err := fs.ReadFile(files, "manifest.xml")
	if err != nil {
		return Manifest{}, nil, fmt.Errorf("vtiger: the extension files have no manifest.xml: %w", err)
	}
	man, err := ParseManifest(mb)
	if err != nil {
		return man, nil, fmt.Errorf("vtiger: %w", err)
	}
	var src []srcFile
	var bad []string
	for _, dir := range srcDirs {
		err := fs.WalkDir(files, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == dir {
					return fs.SkipDir
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			if base := path.Base(p); base == path.Base(RecordPath) || junkFile(base) {
				return nil
			}
			if !d.Type().IsRegular() {
				bad = append(bad, p+" (not a regular file)")
				return nil
			}
			if !ownedPath(p) {
				bad = append(bad, p)
				return nil
			}
			data, err := fs.ReadFile(files, p)
			if err != nil {
				return err
			}
			src = append(src, srcFile{Path: p, Data: data, Sum: sum(data)})
			return nil
		})
		if err != nil {
			return man, nil, fmt.Errorf("vtiger: read the extension files: %w", err)
		}
	}
	if len(bad) > 0 {
		return man, nil, fmt.Errorf("vtiger: the extension files include paths outside the extension's own folders, which the installer refuses to write: %s", strings.Join(bad, ", "))
	}
	have := map[string]bool{}
	for _, f := range src {
		have[f.Path] = true
	}
	var miss []string
	for _, p := range requiredSrc {
		if !have[p] {
			miss = append(miss, p)
		}
	}
	if len(miss) > 0 {
		return man, nil, fmt.Errorf("vtiger: the extension files are incomplete, missing %s", strings.Join(miss, ", "))
	}
	sort.Slice(src, func(i, j int) bool { return src[i].Path < src[j].Path })
	return man, src, nil
}

// junkFile: editor and desktop leftovers that an embed of all: folders
// would pick up and that have no place in a Vtiger installation.
func junkFile(base string) bool {
	switch {
	case base == ".DS_Store", base == "Thumbs.db", strings.HasPrefix(base, ".#"),
		strings.HasSuffix(base, "~"), strings.HasSuffix(base, ".swp"), strings.HasSuffix(base, ".swo"):
		return true
	}
	return false
}

var langFileRe = regexp.MustCompile(`^languages/[A-Za-z]{2,3}_[A-Za-z]{2,3}/(Settings/)?DataExportTracker\.php$`)

// ownedPath reports whether p (slash-separated, relative to a Vtiger root)
// belongs to the extension: its module folders, its layout folders or its
// language files. The installer writes and removes nothing else, whatever
// the extension tree or an install record says.
func ownedPath(p string) bool {
	if !fs.ValidPath(p) || p == "." {
		return false
	}
	for _, prefix := range []string{
		"modules/DataExportTracker/",
		"modules/Settings/DataExportTracker/",
		"layouts/v7/modules/DataExportTracker/",
		"layouts/v7/modules/Settings/DataExportTracker/",
	} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return langFileRe.MatchString(p)
}

// settingsSubdirs are the folders of a Settings module that Vtiger's
// PackageExport writes as settings/<dir>/ and PackageImport maps back to
// modules/Settings/<module>/<dir>/ (initImport's rename list).
var settingsSubdirs = []string{"actions", "views", "models", "connectors", "libraries", "handlers"}

// zipPath is where a file installed at p goes in the Module Manager zip.
// Vtiger's PackageImport extracts only templates, modules/<module>, cron,
// languages, settings, images and layouts, so the Settings module's files
// travel under settings/: settings/<dir>/... for the folders PackageExport
// also writes that way, settings/DataExportTracker/... (extracted below
// modules/Settings/) for anything else.
func zipPath(p string) string {
	const settingsPrefix = "modules/Settings/" + ModuleName + "/"
	if rest, ok := strings.CutPrefix(p, settingsPrefix); ok {
		for _, d := range settingsSubdirs {
			if strings.HasPrefix(rest, d+"/") {
				return "settings/" + rest
			}
		}
		return "settings/" + ModuleName + "/" + rest
	}
	return p
}

// zipTime is the modification time of every zip entry, so that the same
// files always make the same zip.
var zipTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Package writes the Module Manager zip of the extension in files:
// manifest.xml at the root, then every file at its zipPath. Entries carry
// their sizes in the local headers (no data descriptors), which every zip
// reader, Vtiger's dUnzip2 included, understands.
func Package(w io.Writer, files fs.FS) error {
	_, src, err := loadSource(files)
	if err != nil {
		return err
	}
	mb, err := fs.ReadFile(files, "manifest.xml")
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	if err := addZipFile(zw, "manifest.xml", mb); err != nil {
		return err
	}
	seen := map[string]string{}
	for _, f := range src {
		name := zipPath(f.Path)
		if other, dup := seen[name]; dup {
			return fmt.Errorf("vtiger: package: %s and %s both map to %s in the zip", other, f.Path, name)
		}
		seen[name] = f.Path
		if err := addZipFile(zw, name, f.Data); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("vtiger: package: %w", err)
	}
	return nil
}

func addZipFile(zw *zip.Writer, name string, data []byte) error {
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return err
	}
	if _, err := fw.Write(data); err != nil {
		return err
	}
	if err := fw.Close(); err != nil {
		return err
	}
	hdr := &zip.FileHeader{
		Name:   name,
		Method: zip.Deflate,
		// CreateRaw, unlike CreateHeader, does not derive the MS-DOS
		// time fields from Modified.
		ModifiedDate:       uint16((zipTime.Year()-1980)<<9 | int(zipTime.Month())<<5 | zipTime.Day()),
		ModifiedTime:       uint16(zipTime.Hour()<<11 | zipTime.Minute()<<5 | zipTime.Second()/2),
		CRC32:              crc32.ChecksumIEEE(data),
		CompressedSize64:   uint64(buf.Len()),
		UncompressedSize64: uint64(len(data)),
	}
	hdr.SetMode(0o644)
	out, err := zw.CreateRaw(hdr)
	if err != nil {
		return fmt.Errorf("vtiger: package %s: %w", name, err)
	}
	if _, err := out.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("vtiger: package %s: %w", name, err)
	}
	return nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
