package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"oktasync/internal/synctest"
)

// TestServeKill9Resumes kills `oktasync serve` with SIGKILL while its first
// sync runs; restarted, the service marks that run interrupted, resumes at
// once and ends with the tables of an uninterrupted sync.
func TestServeKill9Resumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	org := kill9Org()
	want := synctest.Reference(t, org, "demo-token")
	sim2, url2 := startSlow(t, org)

	dir := t.TempDir()
	db := filepath.Join(dir, "okta.duckdb")
	state := filepath.Join(dir, "state.json")
	config := filepath.Join(dir, "oktasync.yaml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf("org_url: %s\ntime_scale: 60\nsync_frequency_minutes: 1440\ndestination: {path: %s}\n", url2, db)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "serve", "--create-key", "--state", state).Output()
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(out))
	start := func() (*exec.Cmd, string, *bytes.Buffer) {
		cmd := exec.Command(bin, "serve", "--config", config, "--state", state, "--addr", "127.0.0.1:0")
		cmd.Env = append(os.Environ(), "OKTA_CLIENT_TOKEN=demo-token")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The first line says where it listens; the rest is kept for failures.
		r := bufio.NewReader(stderr)
		line, err := r.ReadString('\n')
		if err != nil || !strings.Contains(line, "listening on ") {
			cmd.Process.Kill()
			t.Fatalf("serve did not start: %q %v", line, err)
		}
		var rest bytes.Buffer
		go io.Copy(&rest, r)
		return cmd, strings.TrimSpace(line[strings.Index(line, "http://"):]), &rest
	}
	runs := func(base string) []map[string]any {
		req, _ := http.NewRequest("GET", base+"/v1/runs", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var l struct{ Runs []map[string]any }
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
			t.Fatal(err)
		}
		return l.Runs
	}

	cmd, base, _ := start()
	deadline := time.Now().Add(60 * time.Second)
	for sim2.Stats().Requests < 25 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the service made too few requests to kill it mid-sync")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if r := runs(base); len(r) != 1 || r[0]["status"] != "running" {
		t.Fatalf("before the kill: %v", r)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	cmd, base, logs := start()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	var got []map[string]any
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if got = runs(base); len(got) == 2 && got[0]["status"] != "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no resumed run: %v\n%s", got, logs)
		}
	}
	if got[1]["status"] != "interrupted" || got[0]["trigger"] != "resume" || got[0]["status"] != "complete" {
		t.Fatalf("runs after the restart: %v\n%s", got, logs)
	}
	// SIGTERM with no sync running: a clean stop.
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, logs)
	}
	dumped := dumpAll(t, db)
	for name := range want {
		if dumped[name] != want[name] {
			t.Errorf("%s differs after kill -9 of the service and its resume", name)
		}
	}
}

// TestServeListens: loopback in the clear; any other address only with TLS.
func TestServeListens(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	cmd := exec.Command(bin, "serve", "--state", state, "--addr", "0.0.0.0:0")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != exitUsage || !strings.Contains(string(out), "--tls-cert") {
		t.Errorf("serve on 0.0.0.0 without TLS: exit %d %v\n%s", code, err, out)
	}
	// With a certificate it serves HTTPS (here on loopback, where tests live).
	cert, key := selfSigned(t, dir)
	cmd = exec.Command(bin, "serve", "--state", state, "--addr", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key,
		"--config", writeFile(t, dir, "c.yaml", "destination: {path: "+filepath.Join(dir, "okta.duckdb")+"}\n"))
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	line, _ := bufio.NewReader(stderr).ReadString('\n')
	i := strings.Index(line, "https://")
	if i < 0 {
		t.Fatalf("serve with TLS: %q", line)
	}
	pool := x509.NewCertPool()
	certPEM, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(strings.TrimSpace(line[i:]) + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz over TLS: %d", resp.StatusCode)
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeFile(t, dir, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, dir, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})))
	return certFile, keyFile
}
