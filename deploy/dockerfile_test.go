package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestDockerfile checks what deploy/Dockerfile must keep, without Docker: a
// cgo build of cmd/oktasync with -trimpath on the Go of go.mod, a runtime
// stage of the same Debian release holding the binary only, run by a numeric
// non-root user, and an ignore file that leaves the build what it needs.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkDockerfile(data, goModVersion(t)) {
		t.Error(p)
	}
	ignore, err := os.ReadFile("Dockerfile.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkIgnore(ignore, buildDirs(t)) {
		t.Error(p)
	}
}

func TestDockerfileCatchesMistakes(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ old, new, want string }{
		{"ENV CGO_ENABLED=1", "ENV CGO_ENABLED=0", "CGO_ENABLED"},
		{"USER 65532:65532", "USER oktasync", "numeric"},
		{"USER 65532:65532", "USER 0", "root"},
		{"go build -trimpath", "go build", "-trimpath"},
		{"ARG GO_VERSION=1.26", "ARG GO_VERSION=1.25", "go.mod"},
		{"FROM debian:bookworm-slim", "FROM debian:trixie-slim", "Debian release"},
		{`ENTRYPOINT ["oktasync"]`, `ENTRYPOINT oktasync`, "ENTRYPOINT"},
		{"COPY --from=build /out/oktasync", "COPY . /src\nCOPY --from=build /out/oktasync", "the binary only"},
	} {
		t.Run(m.new, func(t *testing.T) {
			if !bytes.Contains(data, []byte(m.old)) {
				t.Fatalf("the Dockerfile no longer has %q: update this case", m.old)
			}
			problems := strings.Join(checkDockerfile(bytes.ReplaceAll(data, []byte(m.old), []byte(m.new)), "1.26"), "\n")
			if !strings.Contains(problems, m.want) {
				t.Errorf("%q -> %q: want a problem containing %q, got:\n%s", m.old, m.new, m.want, problems)
			}
		})
	}
	if p := checkIgnore([]byte("/internal\n"), []string{"internal/connector"}); len(p) == 0 {
		t.Error("an ignore file leaving out internal/ passed")
	}
}

type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
	line int
}

type stage struct {
	image, tag, name string
	ins              []instruction
}

// parseDockerfile splits a Dockerfile into stages of instructions: lines
// continued by a backslash are joined, comments dropped, and ${ARG}s
// declared before the first FROM substituted in FROM lines.
func parseDockerfile(data []byte) (stages []stage, problems []string) {
	args := map[string]string{}
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		text := cur.String()
		cur.Reset()
		cmd, rest, _ := strings.Cut(text, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(rest), start}
		switch {
		case in.cmd == "ARG" && len(stages) == 0:
			k, v, _ := strings.Cut(in.args, "=")
			args[k] = v
		case in.cmd == "FROM":
			from := os.Expand(in.args, func(k string) string { return args[k] })
			f := strings.Fields(from)
			s := stage{}
			s.image, s.tag, _ = strings.Cut(f[0], ":")
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
		case len(stages) == 0:
			problems = append(problems, fmt.Sprintf("Dockerfile:%d: %s before the first FROM", in.line, in.cmd))
		default:
			stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		}
	}
	return stages, problems
}

var goBuild = regexp.MustCompile(`\bgo build\b(.*)`)

// checkDockerfile lists what is wrong with a Dockerfile; goVersion is
// go.mod's (1.26).
func checkDockerfile(data []byte, goVersion string) []string {
	stages, problems := parseDockerfile(data)
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(stages) < 2 {
		add("Dockerfile: %d stages; want a build stage and a runtime stage", len(stages))
		return problems
	}
	if bytes.Contains(data, []byte("CGO_ENABLED=0")) {
		add("Dockerfile: CGO_ENABLED=0: DuckDB is C++ linked through cgo")
	}
	build, final := stages[0], stages[len(stages)-1]

	// The build stage: golang:<go.mod's Go>-<release>, cgo on, -trimpath.
	ver, release, _ := strings.Cut(build.tag, "-")
	if build.image != "golang" || release == "" {
		add("Dockerfile: the build stage is %s:%s; want golang:<version>-<Debian release>", build.image, build.tag)
	}
	if ver != goVersion {
		add("Dockerfile: the build stage's Go is %q; go.mod asks for %s", ver, goVersion)
	}
	if build.name == "" {
		add("Dockerfile: the build stage has no name (FROM ... AS build)")
	}
	cgo := false
	binary := ""
	for _, in := range build.ins {
		if in.cmd == "ENV" && slices.Contains(strings.Fields(in.args), "CGO_ENABLED=1") {
			cgo = true
		}
		if m := goBuild.FindStringSubmatch(in.args); in.cmd == "RUN" && m != nil {
			flags := strings.Fields(m[1])
			if !slices.Contains(flags, "-trimpath") {
				add("Dockerfile:%d: go build without -trimpath", in.line)
			}
			if !slices.Contains(flags, "./cmd/oktasync") {
				add("Dockerfile:%d: go build does not build ./cmd/oktasync", in.line)
			}
			if i := slices.Index(flags, "-o"); i >= 0 && i+1 < len(flags) {
				binary = flags[i+1]
			}
		}
	}
	if !cgo {
		add("Dockerfile: the build stage does not set ENV CGO_ENABLED=1")
	}
	if binary == "" {
		add("Dockerfile: no go build -o FILE in the build stage")
	}

	// The runtime stage: debian:<same release>-slim, the binary only, a
	// numeric non-root user, ENTRYPOINT ["oktasync"].
	if final.image != "debian" || final.tag != release+"-slim" {
		add("Dockerfile: the runtime stage is %s:%s; want debian:%s-slim, the Debian release the binary was built on (it links libstdc++ and glibc)", final.image, final.tag, release)
	}
	var user, entrypoint string
	certs := false
	for _, in := range final.ins {
		switch in.cmd {
		case "RUN":
			certs = certs || strings.Contains(in.args, "apt-get install") && strings.Contains(in.args, "ca-certificates")
		case "COPY", "ADD":
			f := strings.Fields(in.args)
			if in.cmd == "ADD" || len(f) != 3 || f[0] != "--from="+build.name || f[1] != binary {
				add("Dockerfile:%d: %s %s: the runtime stage takes the binary only (COPY --from=%s %s DEST)", in.line, in.cmd, in.args, build.name, binary)
				continue
			}
			if dir := path.Dir(f[2]); path.Base(f[2]) != "oktasync" || !slices.Contains([]string{"/usr/local/bin", "/usr/bin", "/bin"}, dir) {
				add("Dockerfile:%d: the binary goes to %s; want oktasync on the PATH, e.g. /usr/local/bin/oktasync", in.line, f[2])
			}
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		}
	}
	if !certs {
		add("Dockerfile: the runtime stage does not install ca-certificates")
	}
	uid, _, _ := strings.Cut(user, ":")
	switch n, err := strconv.Atoi(uid); {
	case user == "":
		add("Dockerfile: the runtime stage has no USER: it would run as root")
	case err != nil:
		add("Dockerfile: USER %s: want a numeric uid, which Kubernetes' runAsNonRoot can check", user)
	case n == 0:
		add("Dockerfile: USER %s is root", user)
	}
	var ep []string
	if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil || !slices.Equal(ep, []string{"oktasync"}) {
		add(`Dockerfile: ENTRYPOINT %s; want the exec form ["oktasync"] (signals reach the process)`, entrypoint)
	}
	return problems
}

// checkIgnore lists the directories the build needs that an ignore file
// leaves out of the build context. Patterns are matched as Docker does for
// the simple forms the file uses (/path, name, **/name); ! lines are not
// followed.
func checkIgnore(data []byte, dirs []string) []string {
	var problems []string
	need := append([]string{"go.mod", "go.sum"}, dirs...)
	for _, line := range strings.Split(string(data), "\n") {
		pat := strings.TrimSpace(line)
		if pat == "" || strings.HasPrefix(pat, "#") || strings.HasPrefix(pat, "!") {
			continue
		}
		anywhere := strings.HasPrefix(pat, "**/")
		pat = strings.TrimPrefix(strings.TrimPrefix(pat, "**/"), "/")
		for _, d := range need {
			parts := strings.Split(d, "/")
			for i := range parts {
				p := strings.Join(parts[:i+1], "/")
				if anywhere {
					p = parts[i]
				}
				if ok, _ := filepath.Match(pat, p); ok {
					problems = append(problems, fmt.Sprintf("Dockerfile.dockerignore: %s leaves out %s, which the build needs", line, d))
					break
				}
			}
		}
	}
	return problems
}

// buildDirs lists the directories of this module's packages that
// cmd/oktasync is built from, relative to the module's root.
func buildDirs(t *testing.T) []string {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Module.Path}} {{.Dir}}{{end}}", "./cmd/oktasync")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		mod, dir, _ := strings.Cut(line, " ")
		if mod != "oktasync" {
			continue
		}
		rel, err := filepath.Rel(root, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf("package directory %s outside %s", dir, root)
		}
		dirs = append(dirs, filepath.ToSlash(rel))
	}
	if len(dirs) == 0 {
		t.Fatal("go list found none of this module's packages in cmd/oktasync's build")
	}
	return dirs
}

// goModVersion is go.mod's go version as major.minor (1.26).
func goModVersion(t *testing.T) string {
	data, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod: no go line")
	}
	return string(m[1])
}
