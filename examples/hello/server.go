package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxBody caps what /file and /fetch return, so a test cannot make the
// server read something huge.
const maxBody = 64 << 10

// server holds the handlers' state; start is when the process started, the
// origin of --ready-after and --fail-liveness-after.
type server struct {
	cfg      config
	host     string
	start    time.Time
	mux      *http.ServeMux
	logMu    sync.Mutex
	log      io.Writer
	localIPs func() ([]net.IP, error)
	client   *http.Client
}

func newServer(cfg config, host string, start time.Time, log io.Writer) *server {
	s := &server{cfg: cfg, host: host, start: start, log: log, localIPs: interfaceIPs}
	s.client = &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			// Checked on the address actually dialled, so neither DNS nor a
			// redirect can take /fetch off this machine's own addresses.
			DialContext: (&net.Dialer{Timeout: 3 * time.Second, Control: s.checkDial}).DialContext,
		},
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			_, err := fetchURL(req.URL.String())
			return err
		},
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/", s.hello)
	s.mux.HandleFunc("/healthz", s.healthz)
	s.mux.HandleFunc("/readyz", s.readyz)
	s.mux.HandleFunc("/env", s.env)
	s.mux.HandleFunc("/file", s.file)
	s.mux.HandleFunc("/fetch", s.fetch)
	return s
}

// ServeHTTP logs one line per request to stdout, where the container log is.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	t0 := time.Now()
	s.mux.ServeHTTP(rec, r)
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.log, "%s %s %s %d %s\n", r.RemoteAddr, r.Method, r.URL.RequestURI(), rec.status, time.Since(t0).Round(time.Microsecond))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *server) hello(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if s.cfg.greeting != "" {
		fmt.Fprintf(w, "%s\n", s.cfg.greeting)
	}
	fmt.Fprintf(w, "hello from %s version %s\n", s.host, s.cfg.version)
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	if d := s.cfg.failLivenessAfter; d > 0 && time.Since(s.start) >= d {
		http.Error(w, fmt.Sprintf("unhealthy: failing liveness since %s after start", d), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (s *server) readyz(w http.ResponseWriter, _ *http.Request) {
	if d := s.cfg.readyAfter; time.Since(s.start) < d {
		http.Error(w, fmt.Sprintf("not ready: ready %s after start", d), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// env echoes one environment variable, so tests can check env from
// configMaps, secrets and the downward API.
func (s *server) env(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" {
		http.Error(w, "missing ?name=VARIABLE", http.StatusBadRequest)
		return
	}
	v, ok := os.LookupEnv(name)
	if !ok {
		http.Error(w, name+" is not set", http.StatusNotFound)
		return
	}
	fmt.Fprint(w, v)
}

// file serves --cat, or ?path= when it lies under --file-root, so tests can
// read what a volume mounted.
func (s *server) file(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("path")
	if p == "" {
		p = s.cfg.cat
	} else if !within(s.cfg.fileRoot, p) {
		http.Error(w, fmt.Sprintf("%s is outside %s (set --file-root)", p, s.cfg.fileRoot), http.StatusForbidden)
		return
	}
	if p == "" {
		http.Error(w, "no file: give ?path= or start with --cat FILE", http.StatusBadRequest)
		return
	}
	f, err := os.Open(p)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		http.Error(w, p+" is a directory", http.StatusBadRequest)
		return
	}
	_, _ = io.Copy(w, io.LimitReader(f, maxBody))
}

// within reports whether the absolute path p is root or below it. Symlinks
// are resolved because configMap volumes are made of them.
func within(root, p string) bool {
	if root == "" || !filepath.IsAbs(p) {
		return false
	}
	if rp, err := filepath.EvalSymlinks(p); err == nil {
		p = rp
	}
	if rr, err := filepath.EvalSymlinks(root); err == nil {
		root = rr
	}
	rel, err := filepath.Rel(filepath.Clean(root), filepath.Clean(p))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// fetch GETs an http:// URL on this pod's own addresses (loopback or an
// interface address) and relays the answer, so tests can check that two
// containers of a pod share localhost.
func (s *server) fetch(w http.ResponseWriter, r *http.Request) {
	u, err := fetchURL(r.URL.Query().Get("url"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := s.client.Get(u)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, maxBody))
}

// fetchURL checks that raw is an http:// URL whose host is localhost or an
// IP address, and maps localhost to 127.0.0.1 so no name is ever resolved.
func fetchURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("want ?url=http://localhost:PORT/... , got %q", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		port := u.Port()
		u.Host = "127.0.0.1"
		if port != "" {
			u.Host = net.JoinHostPort("127.0.0.1", port)
		}
	} else if net.ParseIP(host) == nil {
		return "", fmt.Errorf("refusing host %q: /fetch takes localhost or an IP address", host)
	}
	return u.String(), nil
}

// checkDial refuses any address that is not loopback or one of this
// host's (the pod's) own addresses.
func (s *server) checkDial(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("refusing %s: not an IP address", host)
	}
	if ip.IsLoopback() {
		return nil
	}
	ips, err := s.localIPs()
	if err != nil {
		return err
	}
	for _, l := range ips {
		if l.Equal(ip) {
			return nil
		}
	}
	return fmt.Errorf("refusing %s: /fetch only reaches localhost and this pod's own addresses", ip)
}

func interfaceIPs() ([]net.IP, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var ips []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			ips = append(ips, n.IP)
		}
	}
	return ips, nil
}
