package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"oktasync/internal/serve"
)

func serveCommand() *command {
	return &command{
		name:    "serve",
		summary: "run the connection as a service: an HTTP API, a scheduler, metrics and a status page",
		usage:   "oktasync serve [--addr 127.0.0.1:8080] [--config FILE] [--state FILE] | --create-key [--read-only]",
		about: `Run the connection as a service (docs/SERVE.md): a program configures it over HTTP (org,
credentials, tables and columns), starts syncs and re-syncs and reads the run history; a
scheduler syncs at the chosen frequency; /metrics serves Prometheus metrics and / a status
page. Every route but /healthz needs an API key: --create-key makes one and prints it once.
The config file supplies the destination and everything the API does not manage; the state
file keeps what the API changes, the sealed credentials and the keys' hashes; the run
history is kept in the destination. The service listens on loopback unless given a TLS
certificate.

` + configHelp,
		more: `environment:
  ` + serve.SecretEnv + `  32 random bytes in base64 (openssl rand -base64 32): seals the credentials
                         sent to the API; without it the API refuses credentials
  OKTA_CLIENT_TOKEN, OKTA_CLIENT_ORGURL, ... as for sync, when the API sends no credentials

exit status:
  0    stopped by SIGINT or SIGTERM (the running sync stopped at a batch; the next start resumes it),
       or a key made
  1    could not start: a config error, a state file or destination it cannot open, a port in use
  2    usage error

examples:
  export ` + serve.SecretEnv + `=$(openssl rand -base64 32)
  oktasync serve --create-key
  oktasync serve --config oktasync.yaml --addr 127.0.0.1:8080`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer, io.Writer) int {
			addr := fs.String("addr", "127.0.0.1:8080", "`address` to listen on; other than loopback needs --tls-cert and --tls-key")
			configPath := fs.String("config", "", "config `file` (YAML): the destination and the settings the API does not manage")
			state := fs.String("state", "oktasync-serve.json", "the service's state `file`: connection, table settings, sealed credentials, key hashes")
			createKey := fs.Bool("create-key", false, "make an API key, print it once, keep its hash in the state file, and exit")
			readOnly := fs.Bool("read-only", false, "with --create-key: a key that may only read (GET routes)")
			revoke := fs.String("revoke-key", "", "remove the API key with this `id` from the state file and exit")
			certFile := fs.String("tls-cert", "", "TLS certificate `file` (PEM)")
			keyFile := fs.String("tls-key", "", "TLS private key `file` (PEM)")
			grace := fs.Duration("grace", time.Minute, "on SIGTERM, how long a running sync may go on before it stops at its next page")
			verbose := fs.Bool("v", false, "debug logging")
			return func(ctx context.Context, stdout, stderr io.Writer) int {
				switch {
				case *createKey:
					key, id, err := serve.CreateKey(*state, *readOnly)
					if err != nil {
						fail(stderr, err)
						return exitError
					}
					fmt.Fprintln(stdout, key)
					fmt.Fprintf(stderr, "oktasync: API key %s kept (hashed) in %s; the key is shown once: keep it now\n", id, *state)
					return exitOK
				case *revoke != "":
					if err := serve.RevokeKey(*state, *revoke); err != nil {
						fail(stderr, err)
						return exitError
					}
					return exitOK
				case *readOnly:
					return usageFailure(stderr, "serve", errors.New("--read-only goes with --create-key"))
				case (*certFile == "") != (*keyFile == ""):
					return usageFailure(stderr, "serve", errors.New("--tls-cert and --tls-key go together"))
				}
				tlsOn := *certFile != ""
				if err := checkListen(*addr, tlsOn); err != nil {
					return usageFailure(stderr, "serve", err)
				}
				cfg, err := loadConfig(*configPath)
				if err != nil {
					fail(stderr, err)
					return exitError
				}
				level := slog.LevelInfo
				if *verbose {
					level = slog.LevelDebug
				}
				logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
				svc, err := serve.New(ctx, serve.Options{Config: cfg, StatePath: *state, Logger: logger})
				if err != nil {
					fail(stderr, err)
					return exitError
				}
				ln, err := net.Listen("tcp", *addr)
				if err != nil {
					fail(stderr, err)
					return exitError
				}
				srv := &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
					ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
				scheme := "http"
				if tlsOn {
					cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
					if err != nil {
						fail(stderr, fmt.Errorf("--tls-cert/--tls-key: %w", err))
						return exitError
					}
					srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
					ln = tls.NewListener(ln, srv.TLSConfig)
					scheme = "https"
				}
				fmt.Fprintf(stderr, "oktasync: listening on %s://%s\n", scheme, ln.Addr())
				schedCtx, stopSched := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				wg.Go(func() { svc.Run(schedCtx) })
				served := make(chan error, 1)
				go func() { served <- srv.Serve(ln) }()
				select {
				case err := <-served:
					stopSched()
					svc.Shutdown(*grace)
					wg.Wait()
					fail(stderr, err)
					return exitError
				case <-ctx.Done():
				}
				logger.Info("shutting down", "grace", *grace)
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				srv.Shutdown(sctx)
				cancel()
				stopSched()
				svc.Shutdown(*grace)
				wg.Wait()
				return exitOK
			}
		},
	}
}

// checkListen refuses to serve credentials and keys in the clear beyond
// this machine.
func checkListen(addr string, tlsOn bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: want host:port, e.g. 127.0.0.1:8080", addr)
	}
	if tlsOn {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--addr %s is not a loopback address: API keys and credentials would cross the network in the clear; "+
		"give --tls-cert and --tls-key, or listen on 127.0.0.1", addr)
}
