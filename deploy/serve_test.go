package deploy

import (
	"bytes"
	"cmp"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"oktasync/internal/serve"
)

const serveManifestPath = "kubernetes/serve.yaml"

// TestServeManifest decodes the service's manifest strictly and checks what
// running `oktasync serve` needs: see checkServe.
func TestServeManifest(t *testing.T) {
	data, err := os.ReadFile(serveManifestPath)
	if err != nil {
		t.Fatal(err)
	}
	r, deployments := checkServeManifest(t.TempDir(), data)
	for _, p := range r.problems {
		t.Error(p)
	}
	if deployments != 1 {
		t.Errorf("%s has %d Deployments; want one, for one org", serveManifestPath, deployments)
	}
}

// TestServeManifestCatchesMistakes breaks the manifest one way at a time
// and expects the checks to say so.
func TestServeManifestCatchesMistakes(t *testing.T) {
	data, err := os.ReadFile(serveManifestPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ old, new, want string }{
		{"replicas: 1 ", "replicas: 2 ", "replicas 2"},
		{"strategy: {type: Recreate}", "strategy: {type: RollingUpdate}", "strategy RollingUpdate"},
		{"--tls-cert, /etc/oktasync-tls/tls.crt, --tls-key, /etc/oktasync-tls/tls.key,", "", "without --tls-cert"},
		{"claimName: oktasync-serve-acme}", "claimName: oktasync-serve-acm}", `no PersistentVolumeClaim "oktasync-serve-acm"`},
		{"persistentVolumeClaim: {claimName: oktasync-serve-acme}", "emptyDir: {}", "not on a PersistentVolumeClaim"},
		{"terminationGracePeriodSeconds: 90", "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds 30"},
		{"path: /healthz, port: https, scheme: HTTPS}\n            periodSeconds: 10", "path: /health, port: https, scheme: HTTPS}\n            periodSeconds: 10", "readinessProbe"},
		{"scheme: HTTPS}\n            periodSeconds: 10", "scheme: HTTP}\n            periodSeconds: 10", "readinessProbe"},
		{"- name: OKTASYNC_SERVE_SECRET\n", "- name: OKTASYNC_SERVE_SEKRET\n", "no " + serve.SecretEnv},
		{"targetPort: https", "targetPort: http", `targetPort http`},
		{"sync_frequency_minutes: 60", "sync_frequency_minutes: 7", "sync_frequency_minutes is 7"},
		{"  tls.crt: REPLACE", "  cert: REPLACE", `no key "tls.crt"`},
		{"secret: {secretName: oktasync-serve-acme-tls}", "emptyDir: {}", "not from a Secret"},
		{"selector: {app.kubernetes.io/name: oktasync-serve, app.kubernetes.io/instance: acme}", "selector: {app.kubernetes.io/name: oktasync-serve, app.kubernetes.io/instance: acm}", "no Service selects its pods"},
		{"--grace, 60s]", "--grace, 2m]", "terminationGracePeriodSeconds 90"},
	} {
		t.Run(m.new, func(t *testing.T) {
			if !bytes.Contains(data, []byte(m.old)) {
				t.Fatalf("the manifest no longer has %q: update this case", m.old)
			}
			r, _ := checkServeManifest(t.TempDir(), bytes.ReplaceAll(data, []byte(m.old), []byte(m.new)))
			if all := strings.Join(r.problems, "\n"); !strings.Contains(all, m.want) {
				t.Errorf("%q -> %q: want a problem containing %q, got:\n%s", m.old, m.new, m.want, all)
			}
		})
	}
}

// checkServeManifest checks each Deployment as an oktasync pod (checkPod)
// and as a service: one replica, replaced by Recreate (never two schedulers
// of one org), its state file on a volume that outlives the pod, TLS from a
// Secret when it listens beyond loopback, a readiness probe on /healthz,
// time to stop a sync cleanly, and a Service that reaches it.
func checkServeManifest(dir string, data []byte) (report, int) {
	r := report{file: serveManifestPath}
	m := r.decode(data)
	for _, d := range m.deployments {
		r.checkServe(dir, d, m)
	}
	return r, len(m.deployments)
}

func (r *report) checkServe(dir string, d *appsv1.Deployment, m manifest) {
	name := "Deployment " + d.Name
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		n := "unset (1)"
		if d.Spec.Replicas != nil {
			n = strconv.Itoa(int(*d.Spec.Replicas))
		}
		r.add("%s: replicas %s; want 1, set: two replicas would each schedule the org's syncs", name, n)
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		r.add("%s: strategy %s; want Recreate: a rolling update runs the old and the new scheduler at once", name, cmp.Or(string(d.Spec.Strategy.Type), "RollingUpdate (unset)"))
	}
	spec := d.Spec.Template.Spec
	p := r.checkPod(dir, name, spec, m, true)
	if p == nil {
		return
	}
	c := p.container
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		r.add("%s: args %q: want serve ...", name, c.Args)
		return
	}
	if _, ok := p.env[serve.SecretEnv]; !ok {
		r.add("%s: no %s: the API refuses credentials without it", name, serve.SecretEnv)
	}

	// The state file outlives the pod: keys and sealed credentials are in it.
	state := cmp.Or(flagValue(c.Args, "--state"), "oktasync-serve.json")
	if vol, ok := r.mountedVolume(p, state); !ok || vol.PersistentVolumeClaim == nil {
		r.add("%s: --state %s is not on a PersistentVolumeClaim: the API keys and credentials would go with the pod", name, state)
	} else if _, ok := m.claims[vol.PersistentVolumeClaim.ClaimName]; !ok {
		r.add("%s: volume %q: no PersistentVolumeClaim %q in %s", name, vol.Name, vol.PersistentVolumeClaim.ClaimName, r.file)
	}

	// Beyond loopback only over TLS, from a Secret holding the files.
	addr := cmp.Or(flagValue(c.Args, "--addr"), "127.0.0.1:8080")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		r.add("%s: --addr %q: %v", name, addr, err)
	}
	tls := false
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		cert, key := flagValue(c.Args, "--tls-cert"), flagValue(c.Args, "--tls-key")
		if cert == "" || key == "" {
			r.add("%s: --addr %s without --tls-cert and --tls-key: oktasync serve refuses to start", name, addr)
		}
		tls = true
		for _, f := range []string{cert, key} {
			if f == "" {
				continue
			}
			vol, ok := r.mountedVolume(p, f)
			if !ok || vol.Secret == nil {
				r.add("%s: %s is not from a Secret", name, f)
				continue
			}
			if s, ok := m.secrets[vol.Secret.SecretName]; !ok {
				r.add("%s: volume %q: no Secret %q in %s", name, vol.Name, vol.Secret.SecretName, r.file)
			} else if _, ok := s.StringData[path.Base(f)]; !ok && s.Data[path.Base(f)] == nil {
				r.add("%s: %s: Secret %q has no key %q", name, f, s.Name, path.Base(f))
			}
		}
	}
	portName := ""
	for _, cp := range c.Ports {
		if strconv.Itoa(int(cp.ContainerPort)) == port {
			portName = cp.Name
		}
	}
	if portName == "" {
		r.add("%s: no containerPort %s (--addr %s)", name, port, addr)
	}
	servesPort := func(p intstr.IntOrString) bool {
		return p.String() == port || portName != "" && p.String() == portName
	}
	if pr := c.ReadinessProbe; pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Path != "/healthz" || !servesPort(pr.HTTPGet.Port) ||
		(pr.HTTPGet.Scheme == corev1.URISchemeHTTPS) != tls {
		r.add("%s: readinessProbe: want an httpGet of /healthz on port %s (%s), over HTTPS when the service has TLS", name, port, portName)
	}

	// A running sync goes on for --grace after SIGTERM, then stops at its
	// next page and commits; the pod must live that long.
	grace := time.Minute
	if v := flagValue(c.Args, "--grace"); v != "" {
		if grace, err = time.ParseDuration(v); err != nil {
			r.add("%s: --grace %q: %v", name, v, err)
		}
	}
	tgps := int64(30)
	if spec.TerminationGracePeriodSeconds != nil {
		tgps = *spec.TerminationGracePeriodSeconds
	}
	if time.Duration(tgps)*time.Second < grace+20*time.Second {
		r.add("%s: terminationGracePeriodSeconds %d: want at least --grace (%s) and 20s to commit what was read", name, tgps, grace)
	}

	// A Service reaching the pod's port.
	reached := false
	for _, s := range m.services {
		selects := len(s.Spec.Selector) > 0
		for k, v := range s.Spec.Selector {
			selects = selects && d.Spec.Template.Labels[k] == v
		}
		if !selects {
			continue
		}
		reached = true
		for _, sp := range s.Spec.Ports {
			if !servesPort(sp.TargetPort) {
				r.add("%s: Service %s: targetPort %s is not the container's port %s (%s)", name, s.Name, sp.TargetPort.String(), port, portName)
			}
		}
	}
	if !reached {
		r.add("%s: no Service selects its pods: the API, the page and /metrics are unreachable", name)
	}
}

// mountedVolume is the volume a file of the container lies on.
func (r *report) mountedVolume(p *pod, file string) (corev1.Volume, bool) {
	for dir := path.Dir(path.Clean(file)); ; dir = path.Dir(dir) {
		if vm, ok := p.mounts[dir]; ok {
			v, ok := p.volumes[vm.Name]
			return v, ok
		}
		if dir == "/" || dir == "." {
			return corev1.Volume{}, false
		}
	}
}
