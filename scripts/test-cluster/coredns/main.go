// CoreDNS with only the plugins the test cluster's Corefile uses (control-plane.sh), the way CoreDNS documents
// building with an external main: the full build compiles every plugin (route53, azure, clouddns, etcd, dnstap,
// ...) and their SDKs, minutes of a fresh machine's CI for code the cluster never runs.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
)

// The chain order of CoreDNS's plugin.cfg, reduced to the plugins above.
var directives = []string{"bind", "errors", "cache", "kubernetes"}

func init() {
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}
