// Command etcd is etcd's own main (etcdmain.Main), built at the version k8s pins,
// for the integration tests (see docs/test-cluster.md). Test tooling only.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
