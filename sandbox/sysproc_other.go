//go:build unix && !linux

package sandbox

import "syscall"

// sysProcAttr: no Pdeathsig outside Linux; Close or Kill must stop the server.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
