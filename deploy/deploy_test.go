package deploy

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"oktasync/internal/connector"
)

const manifestPath = "kubernetes/cronjob.yaml"

// TestManifest decodes every document of the manifest strictly into the
// Kubernetes API's own types (an unknown or misspelt field, a value of the
// wrong type is an error), then checks what matters for running one oktasync
// per org: see checkManifest.
func TestManifest(t *testing.T) {
	data, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	r := checkManifest(t.TempDir(), data)
	for _, p := range r.problems {
		t.Error(p)
	}
	if r.cronJobs < 2 {
		t.Errorf("%s has %d CronJobs; want one per org, and at least two to show the pattern", manifestPath, r.cronJobs)
	}
}

// TestManifestCatchesMistakes breaks the manifest one way at a time (every
// occurrence of a string replaced) and expects checkManifest to say so: the
// checks above are only worth what they catch.
func TestManifestCatchesMistakes(t *testing.T) {
	data, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ old, new, want string }{
		{"concurrencyPolicy: Forbid", "concurrencyPolicyy: Forbid", `unknown field "concurrencyPolicyy"`},
		{"concurrencyPolicy: Forbid", "concurrencyPolicy: Allow", "concurrencyPolicy is Allow"},
		{"backoffLimit: 2", "backoffLimit: two", "cannot unmarshal string"},
		{"limits: {memory: 512Mi}", "limits: {memory: 512MB}", "quantities must match"},
		{"limits: {memory: 512Mi}", "limits: {memory: 256Mi}", "memory limit 256Mi"},
		{"limits: {memory: 512Mi}", "limits: {cpu: 500m}", "no memory limit"},
		{"readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem"},
		{"runAsNonRoot: true", "runAsNonRoot: false", "runAsNonRoot"},
		{"runAsUser: 65532", "runAsUser: 0", "runAsUser 0"},
		{"capabilities: {drop: [ALL]}", "capabilities: {drop: [NET_RAW]}", "drop ALL"},
		{`schedule: "17 * * * *"`, `schedule: "17 * * *"`, "want 5"},
		{`schedule: "17 * * * *"`, `schedule: "61 * * * *"`, "end of range (61)"},
		{"activeDeadlineSeconds: 3300", "activeDeadlineSeconds: 7200", "longer than the 1h0m0s"},
		{"- {name: tmp, mountPath: /tmp}", "- {name: tmp, mountPath: /scratch}", "/tmp should be an emptyDir"},
		{"emptyDir: {sizeLimit: 1Gi}", "hostPath: {path: /var/tmp}", "/tmp should be an emptyDir"},
		{"valueFrom:\n                    secretKeyRef: {name: oktasync-acme, key: okta-api-token}",
			"value: 00aBcDeFgHiJkLmNoPqRsTuVwXyZ", "OKTA_CLIENT_TOKEN is a literal"},
		{"key: okta-api-token}", "key: okta-token}", `no key "okta-token"`},
		{"rate_limit_reserve: 0.1", "rate_limit_reserv: 0.1", "unknown key rate_limit_reserv"},
		{"rate_limit_reserve: 0.1", "rate_limit_reserve: 1.5", "rate_limit_reserve is 1.5"},
		{"org_url: https://acme.okta.com", "org_url: https://acme.okta.com\n    token: 00aBcDeFgHiJkLmNoPqRsTuVwXyZ", "token in the ConfigMap"},
		{"schema: okta_globex", "schema: okta_acme", "schema okta_acme"},
		{"- name: OKTASYNC_PG_DSN", "- name: PG_DSN", "destination dsn_env OKTASYNC_PG_DSN"},
		{"dsn_env: OKTASYNC_PG_DSN, schema: okta_acme", "dsn_env: PG_DSN, schema: okta_acme", "destination dsn_env PG_DSN"},
		{"schema: okta_acme", "schema: Okta-Acme", "destination schema"},
		{"{type: postgres, dsn_env: OKTASYNC_PG_DSN, schema: okta_acme}", "{type: duckdb, path: /tmp/okta.duckdb}", "sync state must live in a database"},
		{"org_url: https://globex.okta.com", "org_url: https://acme.okta.com", "org https://acme.okta.com"},
		{"configMap: {name: oktasync-acme}", "configMap: {name: oktasync-acm}", `no ConfigMap "oktasync-acm"`},
	} {
		t.Run(m.new, func(t *testing.T) {
			if !bytes.Contains(data, []byte(m.old)) {
				t.Fatalf("the manifest no longer has %q: update this case", m.old)
			}
			broken := bytes.ReplaceAll(data, []byte(m.old), []byte(m.new))
			r := checkManifest(t.TempDir(), broken)
			all := strings.Join(r.problems, "\n")
			if !strings.Contains(all, m.want) {
				t.Errorf("%q -> %q: want a problem containing %q, got:\n%s", m.old, m.new, m.want, all)
			}
		})
	}
}

type report struct {
	file     string // the manifest, for messages
	problems []string
	cronJobs int
}

func (r *report) add(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// checkManifest decodes the documents of a manifest and checks them; config
// files are written under dir for the project's config loader.
func checkManifest(dir string, data []byte) report {
	r := report{file: manifestPath}
	m := r.decode(data)
	r.cronJobs = len(m.cronJobs)
	r.checkCronJobs(dir, m)
	return r
}

// manifest is the objects of a manifest, by kind.
type manifest struct {
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	claims      map[string]*corev1.PersistentVolumeClaim
	cronJobs    []*batchv1.CronJob
	deployments []*appsv1.Deployment
	services    []*corev1.Service
}

// decode decodes every document of a manifest strictly into the Kubernetes
// API's own types.
func (r *report) decode(data []byte) manifest {
	m := manifest{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		claims: map[string]*corev1.PersistentVolumeClaim{}}
	seen := map[string]bool{}
	docs := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		doc, err := docs.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.add("%s: %v", r.file, err)
			break
		}
		var head struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			r.add("%s: document %d: %v", r.file, i, err)
			continue
		}
		tm := head.TypeMeta
		where := fmt.Sprintf("%s: document %d (%s %s)", r.file, i, tm.Kind, head.Metadata.Name)
		if tm.Kind == "" && len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue // only comments
		}
		var obj interface{ GetName() string }
		var wantVersion string
		switch tm.Kind {
		case "ConfigMap":
			obj, wantVersion = &corev1.ConfigMap{}, "v1"
		case "Secret":
			obj, wantVersion = &corev1.Secret{}, "v1"
		case "PersistentVolumeClaim":
			obj, wantVersion = &corev1.PersistentVolumeClaim{}, "v1"
		case "Service":
			obj, wantVersion = &corev1.Service{}, "v1"
		case "CronJob":
			obj, wantVersion = &batchv1.CronJob{}, "batch/v1"
		case "Deployment":
			obj, wantVersion = &appsv1.Deployment{}, "apps/v1"
		default:
			r.add("%s: document %d: kind %q: this test knows ConfigMap, Secret, PersistentVolumeClaim, Service, CronJob and Deployment", r.file, i, tm.Kind)
			continue
		}
		if tm.APIVersion != wantVersion {
			r.add("%s: apiVersion %q; want %q", where, tm.APIVersion, wantVersion)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			r.add("%s: %v", where, err)
			continue
		}
		for _, msg := range validation.IsDNS1123Subdomain(obj.GetName()) {
			r.add("%s: %s %q: name: %s", r.file, tm.Kind, obj.GetName(), msg)
		}
		if seen[tm.Kind+"/"+obj.GetName()] {
			r.add("%s: two %ss named %q", r.file, tm.Kind, obj.GetName())
		}
		seen[tm.Kind+"/"+obj.GetName()] = true
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			m.configMaps[o.Name] = o
		case *corev1.Secret:
			m.secrets[o.Name] = o
		case *corev1.PersistentVolumeClaim:
			m.claims[o.Name] = o
		case *corev1.Service:
			m.services = append(m.services, o)
		case *batchv1.CronJob:
			m.cronJobs = append(m.cronJobs, o)
		case *appsv1.Deployment:
			m.deployments = append(m.deployments, o)
		}
	}
	return m
}

var commentLine = regexp.MustCompile(`(?m)^\s*#.*$`)

func stripComments(doc []byte) []byte { return commentLine.ReplaceAll(doc, nil) }

// checkCronJobs checks each CronJob, the objects it refers to, and the
// config its ConfigMap holds.
func (r *report) checkCronJobs(dir string, m manifest) {
	orgs := map[string]string{}    // org URL -> CronJob
	schemas := map[string]string{} // destination schema -> CronJob
	for _, cj := range m.cronJobs {
		name := "CronJob " + cj.Name
		if len(cj.Name) > 52 {
			r.add("%s: name longer than 52 characters (the Jobs it starts add 11)", name)
		}
		// Schedule and concurrency.
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			r.add("%s: concurrencyPolicy is %s; want Forbid, never two syncs of one org at once", name, cmp.Or(string(cj.Spec.ConcurrencyPolicy), "Allow (unset)"))
		}
		interval, err := scheduleInterval(cj.Spec.Schedule, cj.Spec.TimeZone)
		if err != nil {
			r.add("%s: schedule %q: %v", name, cj.Spec.Schedule, err)
		}
		if cj.Spec.SuccessfulJobsHistoryLimit == nil || cj.Spec.FailedJobsHistoryLimit == nil {
			r.add("%s: set successfulJobsHistoryLimit and failedJobsHistoryLimit", name)
		}
		job := cj.Spec.JobTemplate.Spec
		if job.BackoffLimit == nil {
			r.add("%s: no backoffLimit", name)
		}
		switch d := job.ActiveDeadlineSeconds; {
		case d == nil || *d <= 0:
			r.add("%s: no activeDeadlineSeconds: a hung sync would hold the org (Forbid) for good", name)
		case interval > 0 && time.Duration(*d)*time.Second > interval:
			r.add("%s: activeDeadlineSeconds %d is longer than the %v between scheduled runs: with Forbid, runs would be skipped", name, *d, interval)
		}
		pod := job.Template.Spec
		switch {
		case pod.RestartPolicy != corev1.RestartPolicyNever && pod.RestartPolicy != corev1.RestartPolicyOnFailure:
			r.add("%s: restartPolicy %q; a Job wants Never or OnFailure", name, pod.RestartPolicy)
		case job.PodFailurePolicy != nil && pod.RestartPolicy != corev1.RestartPolicyNever:
			r.add("%s: podFailurePolicy needs restartPolicy Never", name)
		}
		p := r.checkPod(dir, name, pod, m, false)
		if p == nil {
			continue
		}
		if fp := job.PodFailurePolicy; fp != nil {
			for _, rule := range fp.Rules {
				if e := rule.OnExitCodes; e != nil && e.ContainerName != nil && *e.ContainerName != p.container.Name {
					r.add("%s: podFailurePolicy names container %q; the container is %q", name, *e.ContainerName, p.container.Name)
				}
			}
		}
		if other, ok := orgs[p.org]; ok && p.org != "" {
			r.add("%s: org %s is synced by %s too: one CronJob per org", name, p.org, other)
		}
		orgs[p.org] = name
		if other, ok := schemas[p.schema]; ok && p.schema != "" {
			r.add("%s: schema %s is written by %s too: one schema per org", name, p.schema, other)
		}
		schemas[p.schema] = name
	}
}

// pod is what checkPod found of a pod: its container, where its volumes are
// mounted, its environment and the org and schema of its config.
type pod struct {
	container   corev1.Container
	volumes     map[string]corev1.Volume
	mounts      map[string]corev1.VolumeMount // by mount path
	env         map[string]string
	org, schema string
	cfg         *connector.Config
}

// checkPod checks what every oktasync pod needs: one container, no service
// account token, a locked-down security context, resources over the
// measured peak, a writable /tmp, secrets from Secrets only, and a --config
// mounted from a ConfigMap of the manifest that loads and validates (with
// the credentials left to the API when apiCredentials). It returns nil when
// the pod is too broken to look further.
func (r *report) checkPod(dir, name string, spec corev1.PodSpec, m manifest, apiCredentials bool) *pod {
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		r.add("%s: automountServiceAccountToken should be false: oktasync does not use the Kubernetes API", name)
	}
	if len(spec.Containers) != 1 {
		r.add("%s: %d containers; want one, oktasync", name, len(spec.Containers))
		return nil
	}
	c := spec.Containers[0]
	for _, msg := range validation.IsDNS1123Label(c.Name) {
		r.add("%s: container name %q: %s", name, c.Name, msg)
	}
	peak, err := measuredPeakMiB()
	if err != nil {
		r.add("%v", err)
	}
	r.checkSecurity(name, spec.SecurityContext, c.SecurityContext)
	r.checkResources(name, c.Resources, peak)
	p := &pod{container: c, volumes: map[string]corev1.Volume{}, mounts: map[string]corev1.VolumeMount{}, env: map[string]string{}}
	for _, v := range spec.Volumes {
		p.volumes[v.Name] = v
	}
	for _, vm := range c.VolumeMounts {
		if _, ok := p.volumes[vm.Name]; !ok {
			r.add("%s: volumeMount %q names no volume", name, vm.Name)
		}
		p.mounts[path.Clean(vm.MountPath)] = vm
	}
	if vm, ok := p.mounts["/tmp"]; !ok || p.volumes[vm.Name].EmptyDir == nil {
		r.add("%s: /tmp should be an emptyDir: the root filesystem is read-only", name)
	}

	// The environment: secrets only from secretKeyRef, each naming a
	// Secret of the manifest that has the key.
	fromSecret := map[string]bool{}
	for _, e := range c.Env {
		for _, msg := range validation.IsEnvVarName(e.Name) {
			r.add("%s: env %s: %s", name, e.Name, msg)
		}
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			if s, ok := m.secrets[ref.Name]; !ok {
				r.add("%s: env %s: no Secret %q in %s", name, e.Name, ref.Name, r.file)
			} else if _, ok := s.StringData[ref.Key]; !ok && s.Data[ref.Key] == nil {
				r.add("%s: env %s: Secret %q has no key %q", name, e.Name, ref.Name, ref.Key)
			}
			p.env[e.Name] = "from-secret-" + ref.Key
			fromSecret[e.Name] = true
		case e.ValueFrom != nil:
			p.env[e.Name] = "from-elsewhere"
		default:
			p.env[e.Name] = e.Value
			if secretName.MatchString(e.Name) {
				r.add("%s: env %s is a literal value; a secret comes from a Secret (valueFrom.secretKeyRef)", name, e.Name)
			}
		}
	}
	if len(c.EnvFrom) > 0 {
		r.add("%s: envFrom: name each variable, so that the check above sees it", name)
	}

	// The config: --config FILE, mounted from a ConfigMap of the manifest.
	file := flagValue(c.Args, "--config")
	if file == "" {
		r.add("%s: args %q: no --config FILE", name, c.Args)
		return nil
	}
	vm, ok := p.mounts[path.Dir(file)]
	if !ok || p.volumes[vm.Name].ConfigMap == nil {
		r.add("%s: --config %s: no ConfigMap mounted at %s", name, file, path.Dir(file))
		return nil
	}
	cmName := p.volumes[vm.Name].ConfigMap.Name
	cm, ok := m.configMaps[cmName]
	if !ok {
		r.add("%s: volume %q: no ConfigMap %q in %s", name, vm.Name, cmName, r.file)
		return nil
	}
	text, ok := cm.Data[path.Base(file)]
	if !ok || len(p.volumes[vm.Name].ConfigMap.Items) > 0 {
		r.add("%s: ConfigMap %s has no key %s (items are not supported by this check)", name, cmName, path.Base(file))
		return nil
	}
	p.org, p.schema, p.cfg = r.checkConfig(filepath.Join(dir, strings.ReplaceAll(name, " ", "-")), name, text, p.env, fromSecret, apiCredentials)
	return p
}

// secretName matches variable names that hold secrets by their look.
var secretName = regexp.MustCompile(`(?i)token|key|dsn|password|secret|salt`)

// checkSecurity: the container runs as a non-root user without privileges,
// capabilities or a writable root filesystem.
func (r *report) checkSecurity(name string, pod *corev1.PodSecurityContext, c *corev1.SecurityContext) {
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	if c == nil {
		r.add("%s: no container securityContext", name)
		c = &corev1.SecurityContext{}
	}
	nonRoot := cmpOr(c.RunAsNonRoot, pod.RunAsNonRoot)
	if nonRoot == nil || !*nonRoot {
		r.add("%s: runAsNonRoot is not true", name)
	}
	if uid := cmpOr(c.RunAsUser, pod.RunAsUser); uid != nil && *uid == 0 {
		r.add("%s: runAsUser 0 is root", name)
	}
	if c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem {
		r.add("%s: readOnlyRootFilesystem is not true", name)
	}
	if c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation {
		r.add("%s: allowPrivilegeEscalation is not false", name)
	}
	if c.Privileged != nil && *c.Privileged {
		r.add("%s: privileged", name)
	}
	if c.Capabilities == nil || !slices.Contains(c.Capabilities.Drop, "ALL") || len(c.Capabilities.Add) > 0 {
		r.add("%s: capabilities: want drop ALL and add none", name)
	}
	if p := cmpOr(c.SeccompProfile, pod.SeccompProfile); p == nil || p.Type == corev1.SeccompProfileTypeUnconfined {
		r.add("%s: no seccompProfile (RuntimeDefault)", name)
	}
}

// checkResources: requests and a memory limit, with room over the peak
// measured in docs/PERFORMANCE.md.
func (r *report) checkResources(name string, res corev1.ResourceRequirements, peakMiB float64) {
	limit, ok := res.Limits[corev1.ResourceMemory]
	if !ok {
		r.add("%s: no memory limit", name)
		return
	}
	if limitMiB := float64(limit.Value()) / (1 << 20); peakMiB > 0 && limitMiB < 1.5*peakMiB {
		r.add("%s: memory limit %s leaves less than half again the measured peak of %.0f MiB (docs/PERFORMANCE.md, rss_mb_1m)", name, limit.String(), peakMiB)
	}
	req, ok := res.Requests[corev1.ResourceMemory]
	if !ok {
		r.add("%s: no memory request", name)
	} else if req.Cmp(limit) > 0 {
		r.add("%s: memory request %s above the limit %s", name, req.String(), limit.String())
	}
	if _, ok := res.Requests[corev1.ResourceCPU]; !ok {
		r.add("%s: no cpu request", name)
	}
}

// checkConfig loads the ConfigMap's oktasync.yaml with the project's own
// loader, with the container's environment, validates it, and checks that
// the secrets it reads from variables come from Secrets. It returns the org
// URL and the destination schema.
func (r *report) checkConfig(dir, name, text string, env map[string]string, fromSecret map[string]bool, apiCredentials bool) (org, schema string, cfg *connector.Config) {
	file := filepath.Join(dir, "oktasync.yaml")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.add("%v", err)
		return "", "", nil
	}
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		r.add("%v", err)
		return "", "", nil
	}
	cfg, err := connector.LoadConfig(file)
	if err != nil {
		r.add("%s: ConfigMap's oktasync.yaml: %v", name, err)
		return "", "", nil
	}
	if cfg.Token != "" {
		r.add("%s: an API token in the ConfigMap: give it in a Secret (OKTA_CLIENT_TOKEN or token_env)", name)
	}
	d := cfg.Destination
	if d.IsPostgres() {
		// Explicit: the default schema, okta, would be every org's.
		schema = d.Schema
		if !pgIdentifier.MatchString(schema) {
			r.add("%s: destination schema %q: want a lower-case Postgres identifier, okta_<org>", name, schema)
		}
		if !fromSecret[d.DSNVar()] {
			r.add("%s: destination dsn_env %s: the container should set it from a Secret", name, d.DSNVar())
		}
	} else {
		r.add("%s: destination type %q: a pod keeps no files, so the sync state must live in a database (type: postgres)", name, d.Type)
	}
	for _, v := range []string{connector.EnvToken, connector.EnvPrivateKey, cfg.TokenEnv, cfg.Auth.PrivateKeyEnv, cfg.Proxy.PasswordEnv, cfg.HashSaltEnv} {
		if _, set := env[v]; v != "" && set && !fromSecret[v] {
			r.add("%s: %s holds a secret and should come from a Secret", name, v)
		}
	}
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		r.add("%s: with the container's environment: %v", name, err)
		return "", schema, cfg
	}
	if apiCredentials && cfg.Token == "" && !cfg.Auth.OAuth() {
		cfg.Token = "sent-to-the-api" // oktasync serve takes them over its API
	}
	if err := cfg.Validate(); err != nil {
		r.add("%s: with the container's environment: %v", name, err)
	}
	return cfg.OrgURL, schema, cfg
}

var pgIdentifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// scheduleInterval parses a CronJob schedule as the CronJob controller does
// (robfig/cron's standard parser), insisting on five fields (no
// descriptors, no TZ= prefix: that is the timeZone field's job), and
// returns the shortest time between two runs over a year.
func scheduleInterval(schedule string, tz *string) (time.Duration, error) {
	if n := len(strings.Fields(schedule)); n != 5 {
		return 0, fmt.Errorf("%d fields; want 5 (minute hour day-of-month month day-of-week)", n)
	}
	s, err := cron.ParseStandard(schedule)
	if err != nil {
		return 0, err
	}
	loc := time.UTC
	if tz != nil {
		if loc, err = time.LoadLocation(*tz); err != nil {
			return 0, fmt.Errorf("timeZone: %v", err)
		}
	}
	var shortest time.Duration
	t := s.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, loc))
	for end := t.AddDate(1, 0, 0); t.Before(end); {
		next := s.Next(t)
		if d := next.Sub(t); shortest == 0 || d < shortest {
			shortest = d
		}
		t = next
	}
	return shortest, nil
}

// measuredPeakMiB reads rss_mb_1m, the peak RSS of a sync of a million System
// Log events, from the newest BENCH line of docs/PERFORMANCE.md.
func measuredPeakMiB() (float64, error) {
	const doc = "../docs/PERFORMANCE.md"
	data, err := os.ReadFile(doc)
	if err != nil {
		return 0, err
	}
	_, latest, ok := strings.Cut(string(data), "\n## Latest numbers")
	if !ok {
		return 0, fmt.Errorf("%s: no section Latest numbers", doc)
	}
	for line := range strings.Lines(latest) {
		if !strings.HasPrefix(line, "BENCH ") {
			continue
		}
		for _, kv := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(kv, "rss_mb_1m="); ok {
				return strconv.ParseFloat(v, 64)
			}
		}
	}
	return 0, fmt.Errorf("%s: no rss_mb_1m in the first BENCH line of Latest numbers", doc)
}

// flagValue is the value of flag in args ("--flag v" or "--flag=v").
func flagValue(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
	}
	return ""
}

func cmpOr[T any](ps ...*T) *T {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}
