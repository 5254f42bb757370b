package main

import (
	"bufio"
	"debug/elf"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// releasableExecutable returns the path of berth's own executable if its
// read-only pages may be dropped (releaseExecutablePages): only for a
// statically linked berth (what `make build` makes). In a dynamically
// linked one the loader writes relocations into read-only (RELRO) pages,
// and dropping those would lose them.
func releasableExecutable() (string, bool) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil || !staticallyLinked(exe) {
		return "", false
	}
	return exe, true
}

// releaseExecutablePages drops from the process's page tables the
// read-only pages of the executable exe that are mapped at that moment.
// Start-up (package initialisers, flag parsing, the first decode) and
// bursts of work touch code and tables a long-running agent does not use
// again, and each page fault maps 64 KiB around it; after this only what
// the agent keeps using is faulted back in (from the page cache, so
// nothing is read from disk), which keeps its resident size a measure of
// what it uses. Best effort: any failure leaves the mappings as they are.
func releaseExecutablePages(exe string) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00400000-00c2c000 r-xp 00000000 fd:00 123 /usr/local/bin/berth
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		// A raw syscall: the range is not Go memory, so no []byte for it.
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
}

// staticallyLinked reports whether the executable at path has no dynamic
// loader and no dynamic section, so nothing wrote into its read-only
// mappings after the kernel mapped them.
func staticallyLinked(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return false
		}
	}
	return true
}
