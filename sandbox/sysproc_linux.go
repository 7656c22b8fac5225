package sandbox

import "syscall"

// sysProcAttr puts mariadbd in its own process group (a terminal's Ctrl-C
// does not hit it mid-test) and kills it when our process dies, so a crashed
// test binary leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
