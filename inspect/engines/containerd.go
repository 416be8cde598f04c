package engines

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"glassbox/inspect"
)

// containerdNamespace lists the task bundles of one containerd namespace
// (STATE/io.containerd.runtime.v2.task/NS/ID: config.json, the OCI spec
// with the CRI's annotations; init.pid, the container's first process).
// With containerd's socket reachable, its labels and image are added.
func containerdNamespace(ctx context.Context, p Places, dir, address string) ([]*inspect.Container, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	ns := filepath.Base(dir)
	var out []*inspect.Container
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		bundle := filepath.Join(dir, e.Name())
		s, err := bundleSpec(bundle)
		if err != nil {
			continue // a task being created or deleted
		}
		c := &inspect.Container{
			Engine: inspect.EngineContainerd, Namespace: ns, ID: e.Name(), Name: e.Name(),
			Bundle: bundle, RootFS: specRoot(s, bundle), Hostname: s.Hostname,
			Limits: specLimits(s), Annotations: s.Annotations,
			Source: filepath.Join(bundle, "config.json"),
		}
		if fi, err := os.Stat(filepath.Join(bundle, "config.json")); err == nil {
			c.Created = fi.ModTime()
		}
		c.PID = readPID(filepath.Join(bundle, "init.pid"))
		switch {
		case c.PID == 0:
			c.Status = "created"
		case alive(p.ProcRoot, c.PID, 0):
			c.Status = "running"
		default:
			c.PID, c.Status = 0, "stopped"
		}
		out = append(out, c)
	}
	var apiErr error
	if address != "" {
		var taskless []*inspect.Container
		taskless, apiErr = containerdAPI(ctx, p, address, ns, out)
		out = append(out, taskless...)
	}
	criNames(ns, out)
	if apiErr != nil && !absent(apiErr) {
		return out, fmt.Errorf("labels from %s: %w (names come from the bundles' annotations)", address, apiErr)
	}
	return out, nil
}

// criNames names the containers of containerd's k8s.io namespace by their
// pods, as the CRI labelled (or annotated) them.
func criNames(ns string, cs []*inspect.Container) {
	if ns != "k8s.io" {
		return
	}
	for _, c := range cs {
		if pod := podOf(c.Labels, c.Annotations); pod != nil {
			c.Engine, c.Pod, c.Name = inspect.EngineKubernetes, pod, pod.Container
			if c.Image == "" {
				c.Image = c.Annotations["io.kubernetes.cri.image-name"]
			}
		}
	}
}

// containerdSocket lists, through containerd's API at address, the
// containers of the namespaces no shim showed (seen): those without a
// task. An absent socket is no containerd.
func containerdSocket(ctx context.Context, p Places, address string, seen map[string]bool) ([]*inspect.Container, error) {
	nss, err := containerdNamespaces(ctx, p, address)
	if err != nil {
		return nil, err
	}
	var out []*inspect.Container
	for _, ns := range nss {
		if seen[ns] {
			continue
		}
		cs, err := containerdAPI(ctx, p, address, ns, nil)
		if err != nil {
			return out, err
		}
		criNames(ns, cs)
		out = append(out, cs...)
	}
	return out, nil
}

// podOf names a Kubernetes container from the CRI's labels (containerd
// sets io.kubernetes.pod.name, io.kubernetes.pod.namespace and
// io.kubernetes.container.name on the containers it makes for the kubelet,
// and so did dockershim; CRI-O sets them as annotations) or, failing those,
// from containerd's CRI annotations in the OCI spec.
func podOf(labels, annotations map[string]string) *Pod {
	get := func(keys ...string) string {
		for _, k := range keys {
			if v := labels[k]; v != "" {
				return v
			}
			if v := annotations[k]; v != "" {
				return v
			}
		}
		return ""
	}
	p := &Pod{
		Name:      get("io.kubernetes.pod.name", "io.kubernetes.cri.sandbox-name"),
		Namespace: get("io.kubernetes.pod.namespace", "io.kubernetes.cri.sandbox-namespace"),
		Container: get("io.kubernetes.container.name", "io.kubernetes.cri.container-name"),
		UID:       get("io.kubernetes.pod.uid", "io.kubernetes.cri.sandbox-uid"),
	}
	if p.Name == "" || p.Namespace == "" {
		return nil
	}
	if p.Container == "" {
		p.Container = "POD" // the pod's sandbox (pause) container, as docker named it
	}
	return p
}

// Pod is inspect's Pod.
type Pod = inspect.Pod

// podSandbox says whether a container is a Kubernetes pod's sandbox (the
// pause container that holds its namespaces), which kubectl does not list.
func podSandbox(c *inspect.Container) bool {
	for _, kv := range [][2]string{
		{"io.kubernetes.cri.container-type", "sandbox"},
		{"io.cri-containerd.kind", "sandbox"},
		{"io.kubernetes.cri-o.ContainerType", "sandbox"},
		{"io.kubernetes.docker.type", "podsandbox"},
	} {
		if strings.EqualFold(c.Labels[kv[0]], kv[1]) || strings.EqualFold(c.Annotations[kv[0]], kv[1]) {
			return true
		}
	}
	return false
}
