// Package network attaches sandboxes to the network and publishes their
// ports.
//
// A sandbox is in one of three network modes (sandbox.Config.Network):
//
//   - bridge (the default): its own network namespace with an eth0 on the
//     host bridge glassbox0, an address from the bridge's subnet, and a
//     default route via the bridge (the gateway, the subnet's .1);
//   - none: its own network namespace with only loopback, up;
//   - host: the host's network namespace (the runtime does not unshare it).
//
// # What exists on the host
//
// The bridge glassbox0 is created on first use, with the gateway address on
// it, and it stays after the last sandbox has gone, like docker0: it costs
// nothing and its address marks the subnet as taken. `ip link del glassbox0`
// removes it when no sandbox is attached. Each sandbox in bridge mode has a
// veth pair: the host end is named gb-<id> (the sandbox id, 12 hex digits,
// which fits the kernel's 15-character limit), the other end is eth0 inside
// the sandbox. Its alias (`ip -d link show gb-<id>`) says which sandbox,
// address, bridge and state root it belongs to. Addresses are leased from a
// JSON file below Roots.Run/network, under a file lock.
//
// A sandbox with published ports also has an nftables table of its own,
// glassbox-<id> (`nft list table ip glassbox-<id>`), whose DNAT rules send
// this host's connections to a published port straight to the sandbox
// (ForwardInKernel). Connections to 127.0.0.1 need route_localnet on the
// bridge; the table glassbox holds the one rule that makes that safe, and
// stays with the bridge.
//
// Outbound access (NAT) is not set up: sandboxes reach the host and each
// other only (NATHelp).
//
// # Two ways a published port is carried
//
// The supervisor binds every published port before the sandbox starts (a
// port in use is a clear error, and no other program can take it later)
// and runs a userland proxy on it. Connections made on this host — a
// browser, curl, wrk — never reach that proxy: the DNAT rule in the output
// hook rewrites them on their first packet, and the kernel routes them
// over the bridge like any other packet. Connections from the sandboxes
// on the bridge are rewritten the same way in the prerouting hook, which
// needs the bridge to forward: where the host does not (ip_forward 0),
// glassbox turns forwarding on for its bridge alone, behind a rule that
// drops whatever the bridge would forward elsewhere (hairpin.go; the
// global ip_forward is never changed). The proxy serves what the rules do
// not see: connections from other machines (when the port is published
// on 0.0.0.0 or a public address), and from sandboxes where the bridge
// cannot forward. Where
// nftables is missing, or for an IPv6 host address, the proxy carries
// everything; the record says which (state.Port.Via).
//
// # Where it fits in the start protocol
//
//	step                                   who          call
//	1. parse -p; check the request         CLI, engine  ParsePort; CheckPorts (lifecycle.Request)
//	2. bind the published ports            supervisor   Listen (port in use: clear error, nothing started)
//	3. clone the sandbox's init, with      runtime      sandbox.Config.Network
//	   CLONE_NEWNET unless host mode
//	4. child exists in its netns, waits    runtime      Attach(roots, id, initPID, mode)
//	   on the start pipe; attach it                     → state.Network, record it in the state
//	5. let the workload start              runtime
//	6. forward the ports to Network.IP     supervisor   Forward(listeners, ports, ip), then
//	                                                    ForwardInKernel(roots, id, net, ports)
//	7. sandbox ended                       supervisor   Proxy.Close, then Detach(roots, id, net), which unforwards
//	8. crash recovery / prune              lifecycle    under the sandbox's lock: Detach from the
//	                                                    record (it unforwards too); Leftovers(roots)
//	                                                    and Forget(roots, id) for what has no record
//
// Rollback is each call's own business: a failed Attach leaves no veth and
// no lease behind.
package network
