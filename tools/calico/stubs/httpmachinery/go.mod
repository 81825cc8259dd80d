// Stub: calico's go.mod requires lib/httpmachinery (used only by whisker/goldmane, not by calicoctl
// or confd), and the module proxy does not serve it at the pinned calico commit. A build that
// really imports it fails loudly.
module github.com/projectcalico/calico/lib/httpmachinery

go 1.24
