// Package vtigerext holds the Vtiger extension DataExportTracker (PHP and
// JavaScript) as shipped: Files is the tree that `dxtracker vtiger install`
// copies into a Vtiger installation and `dxtracker vtiger package` zips for
// Vtiger's Module Manager. The tests in this folder (PHP tests in tests/,
// the browser test's page in browser/) are not part of it.
package vtigerext

import "embed"

// Files is the extension tree: manifest.xml at the root, then modules/,
// layouts/ and languages/ laid out as in a Vtiger root. The all: prefixes
// keep dotfiles (such as a folder's .htaccess).
//
//go:embed manifest.xml all:modules all:layouts all:languages
var Files embed.FS
