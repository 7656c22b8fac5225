package harness

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/internal/procstat"
)

// Metrics scrapes the daemon's /metrics (loopback needs no credentials)
// and returns the unlabelled samples.
func (e *Env) Metrics() (map[string]float64, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get("http://" + e.Listen + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", res.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// MiB formats bytes.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// ProcStatus and CPUSeconds read /proc for the suite and the soak.
var (
	ProcStatus = procstat.Status
	CPUSeconds = procstat.CPUSeconds
)
