package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dxtracker/dxtracker/api"
)

func TestQuietRouteLogsSuccessesAtDebugAndFailuresAtWarn(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	e := newEnv(t, api.WithHandler("/hook", h), api.WithQuietRoute("/hook"))
	e.do("POST", "/hook", "", nil)
	e.do("POST", "/hook?fail=1", "", nil)
	var ok, failed string
	for _, line := range strings.Split(e.logs.String(), "\n") {
		switch {
		case strings.Contains(line, `"route":"/hook"`) && strings.Contains(line, `"status":204`):
			ok = line
		case strings.Contains(line, `"route":"/hook"`) && strings.Contains(line, `"status":503`):
			failed = line
		}
	}
	if !strings.Contains(ok, `"level":"debug"`) || !strings.Contains(failed, `"level":"warn"`) {
		t.Fatalf("204 logged as %q\n503 logged as %q", ok, failed)
	}
}
