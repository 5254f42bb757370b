package containerd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/cio"
	"github.com/containerd/fifo"

	"github.com/berth-io/berth/nodes/logs"
)

// Container output: the shim writes stdout and stderr into two FIFOs kept
// under StateDir/io/<container>; goroutines of this process read them and
// write the CRI log format ("<time> stdout F <line>") to the log file.
//
// Trade-off: the copiers live in the agent. While no agent runs, output
// waits in the pipe (64 KiB) and then blocks the container's writes; a new
// Runtime re-opens the same FIFOs (the paths containerd stores with the
// task) and drains them, so nothing is lost, but a chatty container may
// stall while the agent is down. The alternatives were a shim-side
// logging binary (a re-exec of berth, which would need a CLI entry
// point), or cio.LogFile (no timestamps, no stream tag, no rotation).

const (
	// maxLogLine splits longer lines into partial ("P") entries, as the
	// CRI plugin does.
	maxLogLine = 16 << 10
	// criTime is the CRI log timestamp: RFC 3339, nanoseconds, UTC.
	criTime = logs.TimeFormat
)

func ioRoot(stateDir string) string { return filepath.Join(stateDir, "io") }

// criLog appends CRI-format lines to a file, rotating it to <path>.1 when
// it grows past max.
type criLog struct {
	mu   sync.Mutex
	path string
	max  int64
	f    *os.File
	size int64
}

func openCRILog(path string, max int64) (*criLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	// A new run's file: drop the runs before the previous one, as
	// kubelet keeps only the current and the previous run's log. Best
	// effort: an old file that will not go must not stop a container.
	_ = logs.Prune(path)
	l := &criLog{path: path, max: max}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *criLog) open() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open container log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, st.Size()
	return nil
}

// writeLine writes one entry; tag is 'F' (full line) or 'P' (partial).
func (l *criLog) writeLine(stream string, tag byte, line []byte) {
	var b bytes.Buffer
	b.WriteString(time.Now().UTC().Format(criTime))
	b.WriteByte(' ')
	b.WriteString(stream)
	b.WriteByte(' ')
	b.WriteByte(tag)
	b.WriteByte(' ')
	b.Write(line)
	b.WriteByte('\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return
	}
	if l.size > 0 && l.size+int64(b.Len()) > l.max {
		l.f.Close()
		_ = os.Rename(l.path, l.path+".1")
		if err := l.open(); err != nil {
			l.f = nil
			return
		}
	}
	n, _ := l.f.Write(b.Bytes())
	l.size += int64(n)
}

func (l *criLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// lineWriter cuts one stream into lines for a criLog.
type lineWriter struct {
	log    *criLog
	stream string
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.log.writeLine(w.stream, 'F', w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	for len(w.buf) >= maxLogLine {
		w.log.writeLine(w.stream, 'P', w.buf[:maxLogLine])
		w.buf = w.buf[maxLogLine:]
	}
	w.buf = bytes.Clone(w.buf)
	return len(p), nil
}

// flush writes what is left of an unterminated last line.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.log.writeLine(w.stream, 'F', w.buf)
		w.buf = nil
	}
}

// fifoIO is a cio.IO reading a task's stdout and stderr FIFOs into a
// criLog. Close closes only this process's read ends: the FIFOs stay for
// the next Runtime, and RemoveContainer deletes them.
type fifoIO struct {
	cfg     cio.Config
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	readers []io.ReadCloser
}

// openFIFOIO opens (creating if needed) the FIFOs of cfg and starts
// copying them to log.
func openFIFOIO(cfg cio.Config, log *criLog) (*fifoIO, error) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fifoIO{cfg: cfg, cancel: cancel}
	for _, s := range []struct{ path, stream string }{{cfg.Stdout, "stdout"}, {cfg.Stderr, "stderr"}} {
		if s.path == "" {
			continue
		}
		rc, err := fifo.OpenFifo(ctx, s.path, syscall.O_RDONLY|syscall.O_CREAT|syscall.O_NONBLOCK, 0o700)
		if err != nil {
			f.Close()
			cancel()
			return nil, fmt.Errorf("open container output %s: %w", s.path, err)
		}
		f.readers = append(f.readers, rc)
		w := &lineWriter{log: log, stream: s.stream}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			// 8 KiB, not io.Copy's 32: two copiers run per container
			// for as long as it runs, and lineWriter takes any chunking.
			_, _ = io.CopyBuffer(w, rc, make([]byte, 8<<10))
			w.flush()
		}()
	}
	return f, nil
}

func (f *fifoIO) Config() cio.Config { return f.cfg }
func (f *fifoIO) Cancel()            { f.cancel() }
func (f *fifoIO) Wait()              { f.wg.Wait() }

func (f *fifoIO) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.readers {
		r.Close()
	}
	f.readers = nil
	return nil
}

// ioDir is where a container's FIFOs live.
func (r *Runtime) ioDir(containerID string) string {
	return filepath.Join(ioRoot(r.opts.StateDir), containerID)
}

// newIO is the cio.Creator of a container's task.
func (r *Runtime) newIO(containerID string, log *criLog) cio.Creator {
	return func(string) (cio.IO, error) {
		dir := r.ioDir(containerID)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		return openFIFOIO(cio.Config{
			Stdout: filepath.Join(dir, "stdout"),
			Stderr: filepath.Join(dir, "stderr"),
		}, log)
	}
}

// attachIO re-opens the FIFOs of an adopted task.
func attachIO(log *criLog) cio.Attach {
	return func(set *cio.FIFOSet) (cio.IO, error) {
		return openFIFOIO(cio.Config{Stdout: set.Stdout, Stderr: set.Stderr}, log)
	}
}
