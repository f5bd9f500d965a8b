// Package deploy_test checks the deployment files against the code: what the
// manifests and the Dockerfile claim of contentd must be true of it. (Docker and
// Kubernetes do not run here; the files are read, not applied.)
package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/educacao-continuada/content-transfer/internal/backup"
)

// manifest is a Kubernetes object, read as plain data.
type manifest map[string]any

// get walks a path of keys and indexes ("spec.template.spec.containers.0").
func (m manifest) get(path string) any {
	var cur any = map[string]any(m)
	for _, k := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

func (m manifest) str(path string) string { s, _ := m.get(path).(string); return s }

func readManifests(t *testing.T) map[string]manifest {
	t.Helper()
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]manifest{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m manifest
		if err := yaml.UnmarshalStrict(raw, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = m
	}
	return out
}

// helpTexts is what contentd says of its environment, command by command.
func helpTexts(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "contentd")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/contentd").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var all bytes.Buffer
	for _, cmd := range []string{"serve", "backup", "migrate"} {
		out, _ := exec.Command(bin, cmd, "-help").CombinedOutput()
		all.Write(out)
	}
	return all.String()
}

// containers are the containers of a workload, wherever its pod template is.
func containers(m manifest) []manifest {
	var list []any
	for _, path := range []string{"spec.template.spec.containers", "spec.jobTemplate.spec.template.spec.containers"} {
		if l, ok := m.get(path).([]any); ok {
			list = l
		}
	}
	var out []manifest
	for _, c := range list {
		out = append(out, manifest(c.(map[string]any)))
	}
	return out
}

// External variables: read by libraries (the AWS SDK) or the system, not by contentd's flags.
var external = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL_S3", "TZ", "TMPDIR"}

func TestManifestsSayWhatContentdDoes(t *testing.T) {
	ms := readManifests(t)
	help := helpTexts(t)

	// kustomization lists every manifest, and only those.
	var listed []string
	for _, r := range ms["kustomization.yaml"].get("resources").([]any) {
		listed = append(listed, r.(string))
	}
	var present []string
	for name := range ms {
		if name != "kustomization.yaml" {
			present = append(present, name)
		}
	}
	slices.Sort(listed)
	slices.Sort(present)
	if !slices.Equal(listed, present) {
		t.Errorf("kustomization lists %v, the folder has %v", listed, present)
	}

	// Every variable set is one contentd (or a library it uses) reads.
	config := ms["configmap.yaml"].get("data").(map[string]any)
	names := map[string]string{}
	for k := range config {
		names[k] = "configmap.yaml"
	}
	for file, m := range ms {
		for _, c := range containers(m) {
			envs, _ := c.get("env").([]any)
			for _, e := range envs {
				names[e.(map[string]any)["name"].(string)] = file
			}
		}
	}
	for name, file := range names {
		if !slices.Contains(external, name) && !regexp.MustCompile(`\b`+name+`\b`).MatchString(help) {
			t.Errorf("%s sets %s, which no contentd -help mentions", file, name)
		}
	}

	// serve: the probes and ports of the code, a grace period longer than the drain.
	d := ms["deployment.yaml"]
	c := containers(d)[0]
	if c.str("args.0") != "serve" || c.str("livenessProbe.httpGet.path") != "/healthz" || c.str("readinessProbe.httpGet.path") != "/readyz" ||
		c.str("startupProbe.httpGet.path") != "/healthz" {
		t.Errorf("serve container: args %v, probes %v %v", c.get("args"), c.get("livenessProbe"), c.get("readinessProbe"))
	}
	ports := map[string]float64{}
	for _, p := range c.get("ports").([]any) {
		pm := p.(map[string]any)
		ports[pm["name"].(string)] = pm["containerPort"].(float64)
	}
	if fmt.Sprintf(":%v", ports["http"]) != config["HTTP_ADDR"] || fmt.Sprintf(":%v", ports["grpc"]) != config["GRPC_ADDR"] {
		t.Errorf("container ports %v, HTTP_ADDR %v, GRPC_ADDR %v", ports, config["HTTP_ADDR"], config["GRPC_ADDR"])
	}
	drain, err := time.ParseDuration(config["SHUTDOWN_TIMEOUT"].(string))
	if err != nil {
		t.Fatal(err)
	}
	grace := time.Duration(d.get("spec.template.spec.terminationGracePeriodSeconds").(float64)) * time.Second
	pause := time.Duration(c.get("lifecycle.preStop.sleep.seconds").(float64)) * time.Second
	if grace <= drain+pause {
		t.Errorf("terminationGracePeriodSeconds %v is not longer than SHUTDOWN_TIMEOUT %v plus the preStop pause %v", grace, drain, pause)
	}

	// The weekly backup: a schedule contentd's own parser reads, through the direct connection.
	cj := ms["cronjob-backup.yaml"]
	if _, err := backup.ParseSchedule(cj.str("spec.schedule"), cj.str("spec.timeZone")); err != nil {
		t.Errorf("CronJob schedule: %v", err)
	}
	if bc := containers(cj)[0]; bc.str("args.0") != "backup" || names["BACKUP_DATABASE_URL"] == "" || config["BACKUP_KEEP"] != "4" {
		t.Errorf("backup container %v", bc)
	}
	if mc := containers(ms["job-migrate.yaml"])[0]; strings.Join([]string{mc.str("args.0"), mc.str("args.1")}, " ") != "migrate -backup-first" {
		t.Errorf("migrate job args %v", mc.get("args"))
	}

	// Nothing runs as root.
	for file, m := range ms {
		for _, path := range []string{"spec.template.spec.securityContext.runAsNonRoot", "spec.jobTemplate.spec.template.spec.securityContext.runAsNonRoot"} {
			if v := m.get(path); v != nil && v != true {
				t.Errorf("%s: %s = %v", file, path, v)
			}
		}
	}
}

func TestDockerfileBuildsThisModule(t *testing.T) {
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(string(mod))[1]
	if !strings.Contains(df, "ARG GO_VERSION="+goVersion) {
		t.Errorf("the Dockerfile's GO_VERSION is not go.mod's %s", goVersion)
	}
	if !strings.Contains(df, "-X main.version=${VERSION}") || !strings.Contains(df, "./cmd/contentd") || !strings.Contains(df, "CGO_ENABLED=0") {
		t.Error("the build stage does not build a static contentd with its version")
	}
	// Every final stage runs as a non-root user.
	stages := regexp.MustCompile(`(?m)^FROM .* AS (\w+)$`).FindAllStringSubmatchIndex(df, -1)
	for i, s := range stages {
		name := df[s[2]:s[3]]
		end := len(df)
		if i+1 < len(stages) {
			end = stages[i+1][0]
		}
		body := df[s[0]:end]
		if name != "build" && !regexp.MustCompile(`(?m)^USER [1-9]\d*:`).MatchString(body) {
			t.Errorf("stage %s does not switch to a non-root user", name)
		}
	}
	// The build context holds every package the binary needs.
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "../cmd/contentd").Output()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	copied := regexp.MustCompile(`(?m)^COPY (\w+) \./\w+$`).FindAllStringSubmatch(df, -1)
	for _, dir := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a module dependency
		}
		top := strings.Split(rel, string(filepath.Separator))[0]
		if !slices.ContainsFunc(copied, func(c []string) bool { return c[1] == top }) {
			t.Errorf("the binary needs %s, which the Dockerfile does not copy", rel)
		}
	}
}
