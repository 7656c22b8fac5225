package vtigerext

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/dxtracker/dxtracker/tracker"
)

// notOnThePage are dxt_config keys the Settings page deliberately does not
// edit: network trust belongs to whoever configures the proxies.
var notOnThePage = []string{tracker.KeyTrustedProxies}

func TestSettingsPageEditsEveryDaemonSettingButTheDeliberateOnes(t *testing.T) {
	php := requirePHP(t)
	out, err := exec.Command(php, "-r", `require "modules/DataExportTracker/lib/Settings.php"; echo implode("\n", Dxt_Settings::names());`).CombinedOutput()
	if err != nil {
		t.Fatalf("php: %v\n%s", err, out)
	}
	page := strings.Fields(string(out))
	var want []string
	for _, k := range tracker.ConfigKeys() {
		if !k.Secret && !slices.Contains(notOnThePage, k.Name) {
			want = append(want, k.Name)
		}
	}
	slices.Sort(page)
	slices.Sort(want)
	if !slices.Equal(page, want) {
		t.Fatalf("Settings page keys:\n %v\ndaemon keys:\n %v", page, want)
	}
}
