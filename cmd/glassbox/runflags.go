package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	units "github.com/docker/go-units"

	"glassbox/sandbox"
	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/network"
	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// The pflag.Values of run flags whose text needs parsing: each parses its
// flag into the lifecycle.Request field it is bound to, once, as the flag
// is read. What the value means together with the rest of the request is
// checked once, by the engine (lifecycle.Request).

// memoryFlag is --memory: a docker-style size, powers of 1024.
type memoryFlag struct{ bytes *int64 }

func (f memoryFlag) Set(s string) error {
	n, err := cgroup.ParseMemory(s)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("0 is no limit: give at least %s, or leave --memory out", units.BytesSize(cgroup.MinMemory))
	}
	if n < cgroup.MinMemory && strings.Trim(s, "0123456789") == "" {
		// A bare number is bytes, as docker reads it: 256 meant 256m.
		return errors.New(words.MemoryWithoutUnit(s, units.BytesSize(cgroup.MinMemory)))
	}
	*f.bytes = n
	return nil
}

func (f memoryFlag) String() string {
	if f.bytes == nil || *f.bytes == 0 {
		return ""
	}
	return units.BytesSize(float64(*f.bytes))
}

func (memoryFlag) Type() string { return "bytes" }

// cpusFlag is --cpus: cores, turned into a CFS quota and period.
type cpusFlag struct{ res *cgroup.Resources }

func (f cpusFlag) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return errors.New("not a number of cores (0.5 = half a core)")
	}
	if v <= 0 {
		return errors.New("must be more than 0")
	}
	f.res.CPUQuotaUS, f.res.CPUPeriodUS = cgroup.CPUs(v)
	return nil
}

func (f cpusFlag) String() string {
	if f.res == nil || f.res.CPUs() == 0 {
		return ""
	}
	return strconv.FormatFloat(f.res.CPUs(), 'g', -1, 64)
}

func (cpusFlag) Type() string { return "decimal" }

// positiveFlag is a count that must be at least 1 (--pids-limit).
type positiveFlag struct{ n *int64 }

func (f positiveFlag) Set(s string) error {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return errors.New("not a whole number")
	}
	if v <= 0 {
		return errors.New("must be more than 0")
	}
	*f.n = v
	return nil
}

func (f positiveFlag) String() string {
	if f.n == nil || *f.n == 0 {
		return ""
	}
	return strconv.FormatInt(*f.n, 10)
}

func (positiveFlag) Type() string { return "int" }

// notFlag is a boolean flag stored negated: --init=false sets NoInit.
type notFlag struct{ not *bool }

func (f notFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	*f.not = !v
	return nil
}

func (f notFlag) String() string { return strconv.FormatBool(f.not == nil || !*f.not) }
func (notFlag) Type() string     { return "bool" }
func (notFlag) IsBoolFlag() bool { return true }

// portsFlag is -p, repeatable: each spec parsed as it comes (that two
// specs want the same host port is the engine's check, as a whole).
type portsFlag struct{ ports *[]state.Port }

func (f portsFlag) Set(s string) error {
	p, err := network.ParsePort(s)
	if err != nil {
		return err
	}
	*f.ports = append(*f.ports, p)
	return nil
}

func (f portsFlag) String() string {
	if f.ports == nil || len(*f.ports) == 0 {
		return ""
	}
	return fmt.Sprint(*f.ports)
}

func (portsFlag) Type() string { return "port" }

// policyFlag is --restart.
type policyFlag struct{ p *lifecycle.Policy }

func (f policyFlag) Set(s string) error {
	p, err := lifecycle.ParsePolicy(s)
	if err != nil {
		return err
	}
	*f.p = p
	return nil
}

func (f policyFlag) String() string {
	if f.p == nil || *f.p == (lifecycle.Policy{}) {
		return ""
	}
	return f.p.String()
}

func (policyFlag) Type() string { return "policy" }

// logOptFlag is --log-opt, repeatable: max-size=SIZE, max-file=N (or
// both, comma-separated).
type logOptFlag struct{ c *lifecycle.LogConfig }

func (f logOptFlag) Set(s string) error { return f.c.Apply(s) }

func (f logOptFlag) String() string {
	if f.c == nil || *f.c == (lifecycle.LogConfig{}) {
		return ""
	}
	return f.c.String()
}

func (logOptFlag) Type() string { return "option" }

// securityOptFlag is --security-opt, repeatable: seccomp=unconfined,
// seccomp=PROFILE.json (the file is read as the flag is), no-new-privileges.
type securityOptFlag struct{ sec *sandbox.Security }

func (f securityOptFlag) Set(s string) error { return f.sec.SecurityOpt(s) }

func (f securityOptFlag) String() string {
	if f.sec == nil {
		return ""
	}
	return f.sec.Seccomp
}

func (securityOptFlag) Type() string { return "option" }
