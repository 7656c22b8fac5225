package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/beacon"
	"github.com/dxtracker/dxtracker/cmd/faultsuite/harness"
)

// TestValidBeaconsAreNotRefusedDuringStartUp posts valid beacons as fast
// as possible while the daemon starts, 15 times, and lists every answer
// other than 204 with how long after exec it came. A valid token must never
// get 401 (CONTRACTS §6: 401 is a bad or expired token); a daemon not ready
// yet should answer 503.
//
// Found by the fault suite: for the first ~10-30 ms of a start the beacon
// endpoint served with the processor's default settings, which have no
// beacon_secret, and answered 401. The daemon now reads dxt_config before
// it opens its listeners.
func TestValidBeaconsAreNotRefusedDuringStartUp(t *testing.T) {
	ctx := context.Background()
	e, err := harness.Setup(ctx, harness.Config{Durable: true, MinRecords: 100, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	answers := map[string]int{}
	refused401 := 0
	var mu sync.Mutex
	client := &http.Client{Timeout: 5 * time.Second}
	for round := 0; round < 15; round++ {
		d, err := e.StartDaemon()
		if err != nil {
			t.Fatal(err)
		}
		stop := time.Now().Add(1500 * time.Millisecond)
		var wg sync.WaitGroup
		for c := 0; c < 4; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; time.Now().Before(stop); i++ {
					body, _ := json.Marshal(map[string]any{"token": e.Tokens[0], "kind": "copy", "url": "u", "module": "Contacts", "view": "List",
						"record": nil, "chars": 5, "rows": 1, "text": fmt.Sprintf("probe %d %d %d", round, c, i), "ts": i})
					res, err := client.Post("http://"+e.Listen+beacon.Path, "application/json", bytes.NewReader(body))
					if err != nil {
						time.Sleep(2 * time.Millisecond)
						continue
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != 204 {
						mu.Lock()
						if res.StatusCode == http.StatusUnauthorized {
							refused401++
						}
						answers[fmt.Sprintf("%d %s at +%s", res.StatusCode, bytes.TrimSpace(b), time.Since(d.Started).Round(10*time.Millisecond))]++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		d.Kill()
	}
	for k, v := range answers {
		t.Logf("%s x%d", k, v)
	}
	if refused401 > 0 {
		t.Errorf("%d beacons with a valid token were answered 401 during start-up", refused401)
	}
}
