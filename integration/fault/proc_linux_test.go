package fault

import "syscall"

// sysProcAttr makes the kernel kill a daemon when the test process dies without running its
// cleanups (a panic, go test's -timeout), so that no daemon outlives the tests.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
