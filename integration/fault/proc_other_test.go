//go:build !linux

package fault

import "syscall"

// sysProcAttr is nil where the kernel cannot tie a child's life to its parent's: only the
// cleanups stop the daemons there.
func sysProcAttr() *syscall.SysProcAttr { return nil }
