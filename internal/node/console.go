package node

import (
	"github.com/vigil-soc/vigil/internal/web"
)

// mountConsole serves the web console from the API server, for every path
// the API does not own. The console reads its data through the API.
func (n *Node) mountConsole() error {
	c, err := web.New(web.Config{API: n.API.Handler(), Log: n.Log, Version: n.Opts.Version})
	if err != nil {
		return err
	}
	n.API.Console = c.Handler()
	return nil
}
