package binlog

import (
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// blackholeProxy forwards TCP connections to a server until told to go
// silent: then what the server sends on the connections open at that
// moment (and, with swallowNew, on every later one) is dropped, as in a
// network partition that leaves the sockets open.
type blackholeProxy struct {
	ln     net.Listener
	target string

	mu         sync.Mutex
	silent     map[net.Conn]bool // client side of the silenced connections
	open       []net.Conn
	swallowNew bool
}

func newBlackholeProxy(t *testing.T, target string) *blackholeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &blackholeProxy{ln: ln, target: target, silent: map[net.Conn]bool{}}
	t.Cleanup(p.close)
	go p.serve()
	return p
}

func (p *blackholeProxy) addr() string { return p.ln.Addr().String() }

func (p *blackholeProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.open = append(p.open, c, s)
		if p.swallowNew {
			p.silent[c] = true
		}
		p.mu.Unlock()
		go func() { _, _ = io.Copy(s, c); s.Close() }()
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 && !p.isSilent(c) {
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			c.Close()
		}()
	}
}

func (p *blackholeProxy) isSilent(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.silent[c]
}

// silence drops the server's data on every open connection; with
// alsoNew, on connections made from now on too.
func (p *blackholeProxy) silence(alsoNew bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.open {
		p.silent[c] = true
	}
	p.swallowNew = alsoNew
}

func (p *blackholeProxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.swallowNew = false
}

func (p *blackholeProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.open {
		c.Close()
	}
}

func TestFollowerReconnectsWhenTheStreamGoesSilent(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY)")
	proxy := newBlackholeProxy(t, "127.0.0.1:"+strconv.Itoa(d.srv.Port()))
	cfg := d.config("w")
	cfg.Addr = proxy.addr()
	cfg.HeartbeatPeriod, cfg.ReadTimeout = 500*time.Millisecond, 2*time.Second
	h := &recorder{}
	f := startCaughtUp(t, d, cfg, h)

	d.exec(t, "INSERT INTO w VALUES (1)")
	eventually(t, 10*time.Second, "row 1", func() bool { return len(h.txns()) == 1 })
	proxy.silence(false) // no FIN, no RST: only the missing heartbeats tell
	silenced := time.Now()
	d.exec(t, "INSERT INTO w VALUES (2)")
	eventually(t, 30*time.Second, "row 2 over a new connection", func() bool { return len(h.insertedIDs("w")) >= 2 })
	took := time.Since(silenced)
	time.Sleep(200 * time.Millisecond)

	if got := h.insertedIDs("w"); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("ids = %v, want [1 2]", got)
	}
	if st := f.Status(); st.Reconnects < 1 {
		t.Errorf("Reconnects = %d, want at least 1", st.Reconnects)
	}
	if took < cfg.ReadTimeout/2 {
		t.Errorf("row 2 arrived %v after the stream went silent, before ReadTimeout %v: over the silenced connection?", took, cfg.ReadTimeout)
	}
}

func TestFollowerRetriesAServerThatAcceptsButNeverAnswers(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY)")
	from := d.position(t)
	proxy := newBlackholeProxy(t, "127.0.0.1:"+strconv.Itoa(d.srv.Port()))
	proxy.silence(true) // even the handshake goes unanswered
	cfg := d.config("w")
	cfg.Addr = proxy.addr()
	cfg.HeartbeatPeriod, cfg.ReadTimeout = 500*time.Millisecond, time.Second
	h := &recorder{}
	f := start(t, d, cfg, h, from)

	eventually(t, 30*time.Second, "two failed connection attempts", func() bool { return f.Status().Reconnects >= 2 })
	proxy.heal()
	d.exec(t, "INSERT INTO w VALUES (1)")
	eventually(t, 30*time.Second, "row 1 once the server answers", func() bool { return len(h.insertedIDs("w")) == 1 })
	if err := f.stop(t); err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
}
