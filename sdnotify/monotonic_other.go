//go:build !linux

package sdnotify

// monotonicUsec: there is no systemd outside Linux; RELOADING=1 goes alone.
func monotonicUsec() (uint64, bool) { return 0, false }
