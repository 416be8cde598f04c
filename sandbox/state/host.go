package state

// Names and addresses on the host. Everything glassbox creates there says
// so (see DESIGN.md, "Names on the host"), and what reads the host (inspect,
// the leak check) finds it by these names.

// DefaultHostIP is where a published port listens unless the user names
// another address. Docker's default is 0.0.0.0, which publishes a sandbox
// to the whole network (and past the firewall); glassbox only publishes to
// this machine unless told otherwise.
const DefaultHostIP = "127.0.0.1"

// ForwardTablePrefix names the nftables tables (family ip) that hold each
// sandbox's port forwarding: glassbox-<id>.
const ForwardTablePrefix = "glassbox-"

// ForwardTable is the nftables table of sandbox id's port forwarding:
// `nft list table ip glassbox-<id>` shows it.
func ForwardTable(id string) string { return ForwardTablePrefix + id }
