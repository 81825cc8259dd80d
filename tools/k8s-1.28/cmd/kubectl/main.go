// Command kubectl is upstream's cmd/kubectl/kubectl.go at v1.28, built from Go modules
// for the integration tests (see docs/test-cluster.md). Test tooling only.
// (No cmd.GetLogVerbosity / logs.GlogSetter before 1.34.)
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"

	// Import to initialize client auth plugins.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		// Pretty-print the error and exit with an error.
		util.CheckErr(err)
	}
}
