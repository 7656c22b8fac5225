package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/sandbox"
)

// role asks a daemon's readyz which role it has ("" when it does not answer).
func role(listen string) string {
	c := &http.Client{Timeout: 2 * time.Second}
	res, err := c.Get("http://" + listen + "/readyz")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var body struct {
		Details map[string]any `json:"details"`
	}
	if json.NewDecoder(res.Body).Decode(&body) != nil {
		return ""
	}
	r, _ := body.Details["role"].(string)
	return r
}

// waitRole waits until listen reports want and returns how long it took.
func waitRole(t *testing.T, listen, want string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if role(listen) == want {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s is %q after %s, want %q", listen, role(listen), within, want)
	return 0
}

func TestStandbyTakesOverWhenTheLeaderIsKilledMidBurstExactlyOnce(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	addrs := [2]string{s.listen, freeAddr(t)}
	var ds [2]*daemon
	ds[0] = s.startAt(addrs[0])
	waitRole(t, addrs[0], "leader", 15*time.Second)
	ds[1] = s.startAt(addrs[1])
	waitRole(t, addrs[1], "standby", 15*time.Second)

	const total = 2000
	var wg sync.WaitGroup
	wg.Add(1)
	var produceErr error
	go func() {
		defer wg.Done()
		for i := 0; i < total && produceErr == nil; i++ {
			produceErr = s.writeIntake(fmt.Sprintf(`{"n":%d}`, i))
		}
	}()
	lead := 0
	for kills, threshold := 0, 400; kills < 3; kills, threshold = kills+1, threshold+500 {
		for s.count(`SELECT COUNT(*) FROM dxt_event`) < threshold && produceErr == nil {
			time.Sleep(5 * time.Millisecond)
		}
		ds[lead].kill()
		other := 1 - lead
		took := waitRole(t, addrs[other], "leader", 10*time.Second)
		t.Logf("kill %d: %s took over after %s", kills+1, addrs[other], took.Round(time.Millisecond))
		if took > 5*time.Second {
			t.Errorf("takeover took %s, want at most 5s", took)
		}
		ds[lead] = s.startAt(addrs[lead]) // back as the standby
		waitRole(t, addrs[lead], "standby", 15*time.Second)
		lead = other
	}
	wg.Wait()
	if produceErr != nil {
		t.Fatalf("producer: %v", produceErr)
	}
	s.waitEvents(total, ds[lead])
	s.assertExactlyOnce(total)
}
