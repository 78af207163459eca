package connector

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"oktasync/oktasim"
	"oktasync/runtime/fetch"
)

// connectProxy is an HTTP proxy that only tunnels (CONNECT), asks for basic
// credentials, and resolves the names it is given itself: a client reaching
// a name only it knows went through it.
type connectProxy struct {
	ln       net.Listener
	user     string
	password string
	hosts    map[string]string // name -> the loopback address it stands for
	tunnels  atomic.Int64
	refused  atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]bool // open, closed when the test ends
}

func startProxy(t *testing.T, user, password string, hosts map[string]string) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{ln: ln, user: user, password: password, hosts: hosts, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *connectProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *connectProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[c] = true
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c)
			p.mu.Lock()
			delete(p.conns, c)
			p.mu.Unlock()
		}()
	}
}

func (p *connectProxy) handle(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.password))
	if req.Header.Get("Proxy-Authorization") != want {
		p.refused.Add(1)
		io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if req.Method != http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	host, port, _ := net.SplitHostPort(req.Host)
	addr, ok := p.hosts[host]
	if !ok {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.Dial("tcp", net.JoinHostPort(addr, port))
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer up.Close()
	p.tunnels.Add(1)
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, br); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// customDomainOrg starts a TLS simulator reachable only as
// https://okta.acme.test:PORT through the proxy, and returns its URL and CA
// file.
func customDomainOrg(t *testing.T) (sim *oktasim.Sim, orgURL, caFile string) {
	t.Helper()
	sim, err := oktasim.New(oktasim.Config{Seed: 5, Users: 120, Groups: 6, Apps: 3, Devices: 4, Logs: 300,
		Now: oktasim.DefaultNow, TimeScale: 60})
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	base, err := sim.StartTLSFor("127.0.0.1:0", caFile, "okta.acme.test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	u, _ := url.Parse(base)
	return sim, "https://okta.acme.test:" + u.Port(), caFile
}

// TestProxyAndCustomDomain: an org on a custom domain that only a proxy
// needing basic credentials can reach syncs through it, following the
// Link headers on that host; without the CA the sync fails naming the
// certificate; with the wrong proxy password it fails naming the proxy's
// answer, never the password.
func TestProxyAndCustomDomain(t *testing.T) {
	sim, orgURL, caFile := customDomainOrg(t)
	proxy := startProxy(t, "oktasync", "pr0xy-s3cret-pw", map[string]string{"okta.acme.test": "127.0.0.1"})
	env := map[string]string{"PROXY_PASSWORD": "pr0xy-s3cret-pw"}
	run := func(ca string, env map[string]string) (map[string]int64, error) {
		t.Helper()
		db := filepath.Join(t.TempDir(), "okta.duckdb")
		cfg := &Config{OrgURL: orgURL, Token: "demo-token", TimeScale: 60, CAFile: ca,
			Proxy:       ProxyConfig{URL: proxy.url(), Username: "oktasync", PasswordEnv: "PROXY_PASSWORD"},
			Destination: Destination{Path: db}}
		if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err != nil {
			t.Fatal(err)
		}
		opt := SyncOptions{Only: []string{"users", "groups", "group_member"},
			Fetch: func(c *fetch.Config) {
				c.RetryBase, c.RetryMax, c.MaxRetries = time.Millisecond, 10*time.Millisecond, 1
			}}
		if _, err := Sync(context.Background(), cfg, opt); err != nil {
			return nil, err
		}
		return tableCounts(t, db), nil
	}
	counts, err := run(caFile, env)
	if err != nil {
		t.Fatalf("sync through the proxy: %v", err)
	}
	// 120 users at the simulator's page size of 200 would be one page:
	// group_member pages by group, following Link headers on okta.acme.test.
	if counts["users"] != 120 || counts["group_member"] == 0 || proxy.tunnels.Load() == 0 {
		t.Errorf("rows %v through %d tunnels", counts, proxy.tunnels.Load())
	}
	if sim.Stats().Requests == 0 {
		t.Error("the simulator saw no request")
	}

	_, err = run("", env)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v, want a certificate error", err)
	}

	_, err = run(caFile, map[string]string{"PROXY_PASSWORD": "wrong-password-9"})
	if err == nil || proxy.refused.Load() == 0 || strings.Contains(err.Error(), "wrong-password-9") || strings.Contains(err.Error(), "pr0xy-s3cret-pw") {
		t.Errorf("wrong proxy password: %v (refused %d)", err, proxy.refused.Load())
	}
}

// TestProxyConfigErrors: a proxy URL holding credentials, a missing
// password variable and a bad URL are refused without echoing secrets.
func TestProxyConfigErrors(t *testing.T) {
	for _, c := range []struct {
		proxy ProxyConfig
		want  string
	}{
		{ProxyConfig{URL: "http://me:hunter2@proxy.corp:3128"}, "proxy.url holds credentials"},
		{ProxyConfig{URL: "http://proxy.corp:3128", Username: "me", PasswordEnv: "NOPE_PW"}, "NOPE_PW is unset"},
		{ProxyConfig{URL: "socks5://proxy.corp:1080"}, "is not an http(s) URL"},
		{ProxyConfig{Username: "me"}, "without proxy.url"},
	} {
		cfg := &Config{OrgURL: "https://acme.okta.com", Token: "t", Proxy: c.proxy}
		err := cfg.ApplyEnv(func(string) string { return "" })
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%+v: %v, want %q", c.proxy, err, c.want)
		}
	}
}
