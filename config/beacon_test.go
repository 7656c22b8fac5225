package config

import (
	"strings"
	"testing"
)

func TestBeaconLimitsAcceptTOMLNumbersStringsAndOff(t *testing.T) {
	file := writeFile(t, "dxtracker.toml", `
mysql_dsn = "file:pw@tcp(db:3306)/vtiger"
server_id = 1
beacon_user_rate = 2.5
beacon_user_burst = 7
beacon_ip_rate = "off"
beacon_queue = "100"
beacon_memory_mb = 8
beacon_writers = 3
`)
	c := mustLoad(t, file, nil, "--beacon-ip-burst=9")
	if c.BeaconUserRate != 2.5 || c.BeaconUserBurst != 7 || c.BeaconIPRate != -1 || c.BeaconIPBurst != 9 ||
		c.BeaconQueue != 100 || c.BeaconMemoryMB != 8 || c.BeaconWriters != 3 {
		t.Fatalf("beacon limits: %+v", c)
	}
	if got := c.Redacted()["beacon_ip_rate"]; got != "off" {
		t.Errorf("redacted beacon_ip_rate = %q, want off", got)
	}
}

func TestBadBeaconLimitNamesTheKeyAndAnExample(t *testing.T) {
	for _, tc := range []struct{ env, key string }{
		{"DXT_BEACON_USER_RATE=-3", "beacon_user_rate"},
		{"DXT_BEACON_USER_RATE=fast", "beacon_user_rate"},
		{"DXT_BEACON_QUEUE=0", "beacon_queue"},
		{"DXT_BEACON_WRITERS=2.5", "beacon_writers"},
	} {
		_, _, err := load(t, "", append([]string{tc.env}, required...))
		errs := configErrors(t, err)
		if len(errs) != 1 || errs[0].Key != tc.key || !strings.Contains(errs[0].Error(), "DXT_"+strings.ToUpper(tc.key)+"=") {
			t.Errorf("%s: got %v, want one error about %s with an example", tc.env, err, tc.key)
		}
	}
}

func TestWebhookSecretIsRedactedAndMustBeLong(t *testing.T) {
	c := mustLoad(t, "", append([]string{"DXT_WEBHOOK_SECRET=0123456789abcdef0123"}, required...))
	if c.WebhookSecret != "0123456789abcdef0123" || c.Redacted()["webhook_secret"] == c.WebhookSecret {
		t.Fatalf("webhook secret not loaded or not redacted: %q", c.Redacted()["webhook_secret"])
	}
	_, _, err := load(t, "", append([]string{"DXT_WEBHOOK_SECRET=short"}, required...))
	if errs := configErrors(t, err); errs[0].Key != "webhook_secret" || strings.Contains(errs[0].Error(), "short") {
		t.Fatalf("short secret: %v (must name the key, never echo the secret)", err)
	}
}
