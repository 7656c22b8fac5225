package beacon

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"
)

// Serve answers beacons, and nothing else, on ln until ctx ends: the
// optional beacon_listen address, reachable by browsers while the API stays
// private. On shutdown it stops accepting and waits up to shutdownTimeout
// for requests in flight (which wait for their commit).
func (s *Service) Serve(ctx context.Context, ln net.Listener, shutdownTimeout time.Duration) error {
	mux := http.NewServeMux()
	mux.Handle(Path, s)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.reject(w, reasonMethod, http.StatusNotFound, "this address serves only "+Path, 0)
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.opts.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          log.New(s.log.With().Str("source", "net/http").Logger(), "", 0),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve beacons on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("beacon listener shutdown: %w", err), srv.Close())
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
